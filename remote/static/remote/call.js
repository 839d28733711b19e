/* Remote video verification: WebRTC between two browsers, signalled over /ws/remote/<id>/.
 * The server relays offers, answers and ICE candidates; media goes peer to peer and is never
 * stored. The browser that joins second makes the offer (the server says so in "welcome").
 * States (shown in #call-state, data-state): starting, media-failed, waiting, connecting,
 * connected, peer-left, ice-failed, signalling-failed, refused, expired, ended, replaced. */
(function () {
  "use strict";
  var root = document.getElementById("remote-call");
  if (!root) return;
  var config = JSON.parse(document.getElementById("remote-config").textContent);
  var labels = JSON.parse(document.getElementById("remote-labels").textContent);
  var stateEl = document.getElementById("call-state");
  var countdownEl = document.getElementById("call-countdown");
  var localVideo = document.getElementById("local-video");
  var remoteVideo = document.getElementById("remote-video");
  var shareBtn = document.getElementById("share-screen");
  var hangBtn = document.getElementById("hang-up");
  var form = document.getElementById("outcome-form");
  var log = document.getElementById("outcome-log");
  var csrf = document.querySelector("input[name=csrfmiddlewaretoken]");

  var FINAL = { refused: 1, expired: 1, ended: 1, replaced: 1 };
  var state = "";
  var ws = null;
  var pc = null;
  var localStream = null;
  var cameraTrack = null;
  var iceServers = [];
  var opened = false;
  var pendingCandidates = [];
  var timer = null;
  // Timings for whoever measures the page (the browser test reads them).
  window.tongbanCall = { loadedAt: performance.now(), connectedAt: null, state: "" };

  function setState(name) {
    if (FINAL[state] && !FINAL[name]) return; // an ended call stays ended
    state = name;
    root.dataset.state = name;
    stateEl.dataset.state = name;
    stateEl.textContent = labels[name] || name;
    window.tongbanCall.state = name;
    var live = name === "connected";
    if (form) {
      Array.prototype.forEach.call(form.querySelectorAll("button[name=outcome]"), function (b) {
        // Outcomes need a call that connected; after it connected once they stay available.
        b.disabled = !(live || window.tongbanCall.connectedAt !== null) || !!FINAL[name];
      });
    }
    shareBtn.disabled = !live;
    hangBtn.disabled = !!FINAL[name];
    if (name !== "waiting") stopCountdown();
    if (FINAL[name]) teardown(true);
  }

  function send(message) {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message));
  }

  function stopCountdown() {
    if (timer) { clearInterval(timer); timer = null; }
    countdownEl.textContent = "";
  }

  function startCountdown(deadline) {
    stopCountdown();
    var end = Date.parse(deadline);
    if (isNaN(end)) return;
    function tick() {
      var left = Math.max(0, Math.round((end - Date.now()) / 1000));
      countdownEl.textContent = Math.floor(left / 60) + ":" + ("0" + (left % 60)).slice(-2);
      if (left <= 0) { stopCountdown(); setState("expired"); }
    }
    tick();
    timer = setInterval(tick, 1000);
  }

  function teardown(closeSocket) {
    if (pc) { pc.onicecandidate = null; pc.ontrack = null; pc.onconnectionstatechange = null; pc.close(); pc = null; }
    remoteVideo.srcObject = null;
    if (closeSocket) {
      if (localStream) localStream.getTracks().forEach(function (t) { t.stop(); });
      if (ws) { var w = ws; ws = null; w.onclose = null; w.close(); }
    }
  }

  function newPeerConnection() {
    if (pc) teardown(false);
    pc = new RTCPeerConnection({ iceServers: iceServers });
    pendingCandidates = [];
    if (localStream) {
      localStream.getTracks().forEach(function (t) { pc.addTrack(t, localStream); });
    } else {
      pc.addTransceiver("video", { direction: "recvonly" });
      pc.addTransceiver("audio", { direction: "recvonly" });
    }
    pc.onicecandidate = function (e) {
      if (e.candidate) send({ type: "signal", data: { candidate: e.candidate.toJSON() } });
    };
    pc.ontrack = function (e) {
      if (remoteVideo.srcObject !== e.streams[0]) remoteVideo.srcObject = e.streams[0];
    };
    pc.onconnectionstatechange = function () {
      if (!pc) return;
      var s = pc.connectionState;
      if (s === "connected") {
        if (window.tongbanCall.connectedAt === null) window.tongbanCall.connectedAt = performance.now();
        setState("connected");
        send({ type: "connected" });
      } else if (s === "failed") {
        setState("ice-failed");
      } else if (s === "disconnected" && state === "connected") {
        setState("peer-left");
      }
    };
    return pc;
  }

  function makeOffer() {
    setState("connecting");
    var conn = newPeerConnection();
    conn.createOffer()
      .then(function (offer) { return conn.setLocalDescription(offer); })
      .then(function () { send({ type: "signal", data: { sdp: conn.localDescription.toJSON() } }); })
      .catch(function () { setState("signalling-failed"); });
  }

  function flushCandidates() {
    var list = pendingCandidates;
    pendingCandidates = [];
    list.forEach(function (c) { pc.addIceCandidate(c).catch(function () {}); });
  }

  function onSignal(data) {
    if (data.sdp && data.sdp.type === "offer") {
      setState("connecting");
      var conn = newPeerConnection();
      conn.setRemoteDescription(data.sdp)
        .then(function () { flushCandidates(); return conn.createAnswer(); })
        .then(function (answer) { return conn.setLocalDescription(answer); })
        .then(function () { send({ type: "signal", data: { sdp: conn.localDescription.toJSON() } }); })
        .catch(function () { setState("signalling-failed"); });
    } else if (data.sdp && data.sdp.type === "answer" && pc) {
      pc.setRemoteDescription(data.sdp).then(flushCandidates).catch(function () { setState("signalling-failed"); });
    } else if (data.candidate) {
      if (pc && pc.remoteDescription) pc.addIceCandidate(data.candidate).catch(function () {});
      else pendingCandidates.push(data.candidate);
    }
  }

  function onMessage(event) {
    var msg;
    try { msg = JSON.parse(event.data); } catch (e) { return; }
    switch (msg.type) {
      case "welcome":
        iceServers = Array.isArray(msg.ice_servers) ? msg.ice_servers : [];
        if (msg.offer) { makeOffer(); } else { setState("waiting"); if (msg.state === "waiting") startCountdown(msg.deadline); }
        break;
      case "peer-joined":
        if (state !== "connected") setState("connecting"); // the newcomer sends the offer
        break;
      case "signal":
        if (msg.data) onSignal(msg.data);
        break;
      case "peer-left":
        teardown(false);
        setState("peer-left");
        break;
      case "outcome":
        addOutcome(msg.outcome, msg.label, msg.reason);
        break;
      case "closed":
        setState(msg.state === "expired" ? "expired" : "ended");
        break;
      case "replaced":
        setState("replaced");
        break;
    }
  }

  function connectSocket() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    ws = new WebSocket(scheme + location.host + config.ws);
    ws.onopen = function () { opened = true; };
    ws.onmessage = onMessage;
    ws.onclose = function (e) {
      ws = null;
      if (FINAL[state]) return;
      if (e.code === 4410) { setState("ended"); return; }
      if (e.code === 4409) { setState("replaced"); return; }
      // Refused at the handshake (not a side of this session) never opens; a drop after opening
      // is a signalling failure.
      setState(opened ? "signalling-failed" : "refused");
      teardown(true);
    };
  }

  function addOutcome(outcome, label, reason) {
    if (log.querySelector('[data-outcome="' + outcome + '"]')) return;
    var li = document.createElement("li");
    li.dataset.outcome = outcome;
    li.textContent = label + (reason ? "：" + reason : "");
    log.appendChild(li);
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf ? csrf.value : "" },
      body: JSON.stringify(body || {}),
    });
  }

  if (form) {
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var button = e.submitter;
      if (!button) return;
      var reason = document.getElementById("outcome-reason").value;
      button.disabled = true;
      post(config.outcome_url, { outcome: button.value, reason: reason }).then(function (r) {
        return r.json().then(function (body) {
          if (r.status === 201) {
            addOutcome(body.outcome, button.textContent, body.reason);
          } else {
            button.disabled = false;
            var li = document.createElement("li");
            li.className = "error";
            li.textContent = labels["record-failed"] + (body.detail || r.status);
            log.appendChild(li);
          }
        });
      });
    });
  }

  hangBtn.addEventListener("click", function () {
    post(config.end_url).finally(function () { setState("ended"); });
  });

  shareBtn.addEventListener("click", function () {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getDisplayMedia || !pc) return;
    navigator.mediaDevices.getDisplayMedia({ video: true }).then(function (screen) {
      var track = screen.getVideoTracks()[0];
      var sender = pc.getSenders().find(function (s) { return s.track && s.track.kind === "video"; });
      if (!sender) return;
      sender.replaceTrack(track);
      localVideo.srcObject = screen;
      stateEl.textContent = labels.sharing;
      track.onended = function () {
        if (sender && cameraTrack) sender.replaceTrack(cameraTrack);
        localVideo.srcObject = localStream;
        setState(state);
      };
    }).catch(function () {});
  });

  if (FINAL[config.state] || config.state === "expired" || config.state === "ended") {
    setState(config.state);
    return;
  }
  setState("starting");
  var media = navigator.mediaDevices && navigator.mediaDevices.getUserMedia
    ? navigator.mediaDevices.getUserMedia({ video: true, audio: true })
    : Promise.reject(new Error("no media devices"));
  media.then(function (stream) {
    localStream = stream;
    cameraTrack = stream.getVideoTracks()[0] || null;
    localVideo.srcObject = stream;
  }).catch(function () {
    // Without a camera the call still connects to show the other side (receive only).
    setState("media-failed");
  }).then(connectSocket);
})();
