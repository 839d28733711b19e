// The remote ticket's live position: polls the ticket API (the holder may read it) every 5 s.
(function () {
  "use strict";
  var root = document.getElementById("ticket");
  if (!root || !window.fetch) return;
  var labels = { waiting: "等候中", called: "请到窗口", serving: "办理中", done: "已办结", no_show: "过号", transferred: "已转移" };
  function poll() {
    fetch(root.dataset.url, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (d) {
        document.getElementById("ticket-position").textContent = d.position;
        document.getElementById("ticket-wait").textContent = Math.round((d.estimated_wait_s || 0) / 60);
        document.getElementById("ticket-status").textContent = labels[d.status] || d.status;
        if (d.status === "waiting" || d.status === "called") setTimeout(poll, 5000);
      })
      .catch(function () { setTimeout(poll, 10000); });
  }
  setTimeout(poll, 5000);
})();
