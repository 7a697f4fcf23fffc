// The ranking chart on the supervisor board (ECharts served by the app itself).
window.addEventListener("load", () => {
  const el = document.getElementById("rank-chart");
  const data = JSON.parse(document.getElementById("rank-data").textContent);
  if (!el || !window.echarts) return;
  if (!data.units.length) { el.outerHTML = '<p class="muted">该周期内没有可排名的单位。</p>'; return; }
  const chart = echarts.init(el);
  const bar = (name, values) => ({ name, type: "bar", data: values, barMaxWidth: 14 });
  chart.setOption({
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
    legend: { top: 0 },
    grid: { left: 8, right: 24, top: 32, bottom: 8, containLabel: true },
    xAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}" } },
    yAxis: { type: "category", data: data.units, axisLabel: { width: 140, overflow: "truncate" } },
    series: [bar("综合得分", data.score), bar("响应率%", data.response), bar("解决率%", data.solve), bar("满意率%", data.satisfy)],
  });
  window.addEventListener("resize", () => chart.resize());
});
