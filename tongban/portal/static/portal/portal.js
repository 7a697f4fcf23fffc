// 群众门户: the location button of the submit form, and the receipt's print button.
"use strict";
(function () {
  var button = document.getElementById("locate");
  if (button) {
    var status = document.getElementById("locate-status");
    var lat = document.getElementById("id_latitude"), lon = document.getElementById("id_longitude");
    button.addEventListener("click", function () {
      if (!navigator.geolocation) { status.textContent = "您的浏览器不支持定位，请填写地点。"; return; }
      status.textContent = "正在获取位置…";
      navigator.geolocation.getCurrentPosition(function (pos) {
        lat.value = pos.coords.latitude.toFixed(6); lon.value = pos.coords.longitude.toFixed(6);
        status.textContent = "已获取位置 " + lat.value + ", " + lon.value;
      }, function () { status.textContent = "未能获取位置（可能未授权），请填写地点。"; }, {enableHighAccuracy: true, timeout: 10000});
    });
  }
  document.addEventListener("click", function (e) {
    if (e.target.closest && e.target.closest("[data-print]")) window.print();
  });
})();
