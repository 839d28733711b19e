// Live tracking of one case: poll the small status endpoint (ETag / If-None-Match → 304 while
// nothing changed) and, when the case moved, swap in the fresh live sections of the page.
// Polling pauses while the tab is hidden and stops once the case reached a terminal state.
(function () {
  "use strict";
  var root = document.getElementById("case-page");
  if (!root || !window.fetch) return;
  var statusUrl = root.dataset.statusUrl;
  var liveUrl = root.dataset.liveUrl;
  var etag = root.dataset.etag || "";
  var every = Math.max(1, parseInt(root.dataset.poll || "10", 10)) * 1000;
  var timer = null;
  var note = document.getElementById("live-note");

  function refreshSections() {
    return fetch(liveUrl, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.text(); })
      .then(function (html) {
        var tpl = document.createElement("template");
        tpl.innerHTML = html;
        tpl.content.querySelectorAll("[data-live]").forEach(function (fresh) {
          var old = root.querySelector('[data-live="' + fresh.dataset.live + '"]');
          if (old) old.replaceWith(fresh);
        });
      });
  }

  function poll() {
    timer = null;
    var headers = { Accept: "application/json" };
    if (etag) headers["If-None-Match"] = etag;
    // no-store: the browser's own cache must not answer for us; we send If-None-Match ourselves.
    fetch(statusUrl, { credentials: "same-origin", cache: "no-store", headers: headers })
      .then(function (r) {
        if (r.status === 304) return null;
        if (!r.ok) throw new Error(r.status);
        etag = r.headers.get("ETag") || "";
        return r.json();
      })
      .then(function (data) {
        if (!data) return null;
        root.dataset.terminal = data.terminal ? "1" : "0";
        return refreshSections().then(function () {
          if (note) note.textContent = (note.dataset.updated || "") + data.label;
        });
      })
      .catch(function () { /* offline for a moment: try again at the next tick */ })
      .then(schedule);
  }

  function schedule() {
    if (timer !== null || document.hidden || root.dataset.terminal === "1") return;
    timer = window.setTimeout(poll, every);
  }

  document.addEventListener("visibilitychange", function () {
    if (document.hidden) {
      if (timer !== null) { window.clearTimeout(timer); timer = null; }
    } else {
      poll(); // catch up at once when the citizen comes back to the tab
    }
  });
  schedule();
})();
