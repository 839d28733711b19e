/* Window clerk's console: call next, start, finish, no-show, transfer — through the REST API. */
(function () {
  "use strict";
  function csrf() {
    var m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }
  var errorBox = document.getElementById("console-error");
  // Status names and messages come translated from the server (json_script in console.html).
  var labelsEl = document.getElementById("console-labels");
  var labels = labelsEl ? JSON.parse(labelsEl.textContent) : {};
  var statusNames = labels.status || {};
  function statusText(status) {
    return (labels.statusFormat || "(%(status)s)").replace("%(status)s", statusNames[status] || status);
  }
  function showError(text) {
    if (!errorBox) { return; }
    errorBox.textContent = text || "";
    errorBox.hidden = !text;
  }
  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf() },
      body: JSON.stringify(body || {})
    }).then(function (r) {
      if (r.status === 204) { return null; }
      return r.json().then(function (data) {
        if (!r.ok) { throw new Error(data.detail || ("HTTP " + r.status)); }
        return data;
      });
    });
  }
  Array.prototype.forEach.call(document.querySelectorAll(".window-card"), function (card) {
    var current = null;
    var ticketEl = card.querySelector(".current-ticket");
    var statusEl = card.querySelector(".current-status");
    function show(t) {
      current = t;
      ticketEl.textContent = t ? t.number : "—";
      statusEl.textContent = t ? statusText(t.status) : "";
      Array.prototype.forEach.call(card.querySelectorAll(".act"), function (b) {
        b.disabled = !t || (t.allowed_transitions || []).indexOf(b.dataset.transition) < 0;
      });
    }
    card.querySelector(".call-next").addEventListener("click", function () {
      showError("");
      post("/api/v1/windows/" + card.dataset.window + "/call-next/").then(function (t) {
        if (t === null) { showError(labels.noneWaiting || ""); }
        show(t);
      }).catch(function (e) { showError(e.message); });
    });
    Array.prototype.forEach.call(card.querySelectorAll(".act"), function (b) {
      b.addEventListener("click", function () {
        if (!current) { return; }
        showError("");
        var body = b.dataset.transition === "transfer" ? { category: card.querySelector(".transfer-to").value } : {};
        post("/api/v1/tickets/" + current.id + "/" + b.dataset.transition + "/", body)
          .then(show).catch(function (e) { showError(e.message); });
      });
    });
  });
})();
