// "使用我的位置": only offered when the browser has geolocation; the halls are then sorted from there.
(function () {
  "use strict";
  var btn = document.getElementById("use-location");
  if (!btn || !navigator.geolocation) return;
  btn.hidden = false;
  btn.addEventListener("click", function () {
    navigator.geolocation.getCurrentPosition(function (pos) {
      var lat = document.getElementById("lat"), lon = document.getElementById("lon");
      lat.value = pos.coords.latitude.toFixed(5); lon.value = pos.coords.longitude.toFixed(5);
      lat.disabled = false; lon.disabled = false;
      document.getElementById("site").disabled = true;
      document.getElementById("where").submit();
    });
  });
})();
