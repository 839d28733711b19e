/* Live board: follows /ws/halls/<code>/queue/ and redraws the call screen or the console.
 * Every text goes through textContent, never innerHTML. Reconnects with backoff; the server sends
 * the current state on every (re)connect, so a board that was offline is never stale. */
(function () {
  "use strict";
  var root = document.querySelector("[data-ws-path]");
  if (!root) { return; }
  var conn = document.getElementById("conn");
  // Texts come translated from the server (json_script), so the board speaks the page's language.
  var labelsEl = document.getElementById("board-labels");
  var labels = labelsEl ? JSON.parse(labelsEl.textContent) : {};
  var delay = 500;
  var listeners = [];
  window.TongbanBoard = { onUpdate: function (fn) { listeners.push(fn); }, last: null };

  function setConn(state, text) {
    if (!conn) { return; }
    conn.dataset.state = state;
    conn.textContent = text;
  }

  function render(msg) {
    var waiting = document.getElementById("waiting");
    if (waiting) { waiting.textContent = String(msg.waiting); }
    var body = document.getElementById("called");
    if (body) {
      while (body.firstChild) { body.removeChild(body.firstChild); }
      (msg.called || []).forEach(function (c) {
        var tr = document.createElement("tr");
        var a = document.createElement("td"); a.textContent = c.ticket;
        var b = document.createElement("td"); b.textContent = c.window;
        tr.appendChild(a); tr.appendChild(b); body.appendChild(tr);
      });
    }
    var latestT = document.getElementById("latest-ticket");
    var latestW = document.getElementById("latest-window");
    if (latestT && latestW) {
      var first = (msg.called || [])[0];
      latestT.textContent = first ? first.ticket : "—";
      latestW.textContent = first ? first.window : "—";
    }
    var cats = document.querySelectorAll("#by-category li[data-category]");
    Array.prototype.forEach.call(cats, function (li) {
      var n = (msg.waiting_by_category || {})[li.dataset.category] || 0;
      li.querySelector(".n").textContent = String(n);
    });
    document.body.dataset.updatedAt = msg.at || "";
    window.TongbanBoard.last = msg;
    listeners.forEach(function (fn) { fn(msg); });
  }

  function connect() {
    var proto = window.location.protocol === "https:" ? "wss://" : "ws://";
    var ws = new WebSocket(proto + window.location.host + root.dataset.wsPath);
    ws.onopen = function () { delay = 500; setConn("open", labels.live || "●"); };
    ws.onmessage = function (ev) {
      var msg;
      try { msg = JSON.parse(ev.data); } catch (e) { return; }
      if (msg && msg.type === "queue.updated") { render(msg); }
    };
    ws.onclose = function () {
      setConn("closed", labels.reconnecting || "○");
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 15000);
    };
    ws.onerror = function () { ws.close(); };
  }
  connect();
})();
