// Daily counts of one hotspot: the previous window in grey, the current one in blue (ECharts served by the app).
window.addEventListener("load", () => {
  const el = document.getElementById("hotspot-trend");
  const source = document.getElementById("hotspot-trend-data");
  if (!el || !source || !window.echarts) return;
  const data = JSON.parse(source.textContent);
  const cut = data.days.length - data.split;
  const chart = echarts.init(el);
  chart.setOption({
    tooltip: { trigger: "axis" },
    grid: { left: 8, right: 16, top: 24, bottom: 8, containLabel: true },
    xAxis: { type: "category", data: data.days.map((d) => d.slice(5)) },
    yAxis: { type: "value", minInterval: 1 },
    series: [{
      name: "件数", type: "bar", barMaxWidth: 22,
      data: data.counts.map((n, i) => ({ value: n, itemStyle: { color: i < cut ? "#98a2b3" : "#1d5bd6" } })),
      markLine: { silent: true, symbol: "none", label: { formatter: "本期" }, data: [{ xAxis: Math.max(cut, 0) }] },
    }],
  });
  window.addEventListener("resize", () => chart.resize());
});
