// 办件查询 result page: poll the case's state (this browser found it by number + ID) and update the
// state badge in place; stops at a terminal state and pauses while the tab is hidden.
(function () {
  "use strict";
  var root = document.getElementById("public-case");
  if (!root || !window.fetch) return;
  var url = root.dataset.statusUrl;
  var every = Math.max(1, parseInt(root.dataset.poll || "10", 10)) * 1000;
  var badge = document.getElementById("case-state");
  var state = badge.className.replace(/.*state-/, "");
  var timer = null;

  function schedule() { if (!document.hidden && timer === null) timer = setTimeout(poll, every); }

  function poll() {
    timer = null;
    fetch(url, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (data) {
        if (data.state !== state) {
          state = data.state;
          badge.textContent = data.label;
          badge.className = "state state-" + data.state;
          badge.dataset.state = data.state;
        }
        if (!data.terminal) schedule();
      })
      .catch(function () { schedule(); });
  }

  document.addEventListener("visibilitychange", schedule);
  schedule();
})();
