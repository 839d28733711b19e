// The online application form: show the fields of the chosen delivery method and load the
// issuing halls of a county without a page reload. Without JavaScript the form still works
// (every field is visible and the "查找大厅" button reloads the hall list).
(function () {
  "use strict";
  var form = document.getElementById("apply-form");
  if (!form) return;
  var hallRegion = document.getElementById("hall_region");
  var hallSelect = document.getElementById("delivery_hall");
  var jurisdiction = document.getElementById("jurisdiction");
  var findButton = document.getElementById("find-halls");
  var regionTouched = false;

  function showDelivery() {
    var checked = form.querySelector("input[name=delivery_method]:checked");
    var method = checked ? checked.value : "";
    form.querySelectorAll(".delivery").forEach(function (el) {
      el.hidden = !el.classList.contains("delivery-" + method);
    });
  }

  function loadHalls(region) {
    if (!region) return;
    var url = form.dataset.hallsUrl + "?region=" + encodeURIComponent(region);
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        hallSelect.innerHTML = "";
        (data.halls || []).forEach(function (h) {
          var opt = document.createElement("option");
          opt.value = h.code;
          opt.textContent = h.name + (h.address ? " · " + h.address : "");
          hallSelect.appendChild(opt);
        });
        if (!hallSelect.options.length) {
          var none = document.createElement("option");
          none.value = "";
          none.textContent = hallSelect.dataset.empty || "";
          hallSelect.appendChild(none);
        }
      });
  }

  if (findButton) findButton.remove(); // JavaScript refreshes the list itself
  form.querySelectorAll("input[name=delivery_method]").forEach(function (el) {
    el.addEventListener("change", showDelivery);
  });
  hallRegion.addEventListener("change", function () {
    regionTouched = true;
    loadHalls(hallRegion.value);
  });
  // Until the applicant picks a county for pickup, follow the jurisdiction (就近 by default).
  jurisdiction.addEventListener("change", function () {
    var opt = jurisdiction.options[jurisdiction.selectedIndex];
    if (regionTouched || !opt || opt.dataset.level !== "county") return;
    hallRegion.value = opt.value;
    loadHalls(opt.value);
  });
  showDelivery();
})();
