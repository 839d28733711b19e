/* 政务数字地图 — popup actions: take a number, book a slot, straight-line route from the chosen
 * point. Part of the map client; loaded after map.js (see its header). */
(function () {
  "use strict";

  var TM = window.TongbanMap;
  var App = TM.App, getJSON = TM.getJSON, withParams = TM.withParams, formatDistance = TM.formatDistance;

  function csrfToken() {
    var el = document.querySelector("#tb-csrf input[name=csrfmiddlewaretoken]");
    return el ? el.value : "";
  }

  function postJSON(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Accept": "application/json", "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        if (!r.ok) {
          var err = new Error((data && data.detail) || ("HTTP " + r.status));
          err.status = r.status;
          throw err;
        }
        return data;
      });
    });
  }

  function fill(template, values) {
    return Object.keys(values).reduce(function (t, k) { return t.split("%(" + k + ")s").join(String(values[k])); }, template);
  }

  function isoDay(d) {
    return d.getFullYear() + "-" + String(d.getMonth() + 1).padStart(2, "0") + "-" + String(d.getDate()).padStart(2, "0");
  }

  Object.assign(App, {
    // --- popup actions: take a number, book, straight-line route --------------------------------
    bindPopupActions: function (popup) {
      var self = this;
      var el = popup && popup.getElement();
      if (!el || el.dataset.tbBound) { return; }
      el.dataset.tbBound = "1";
      el.addEventListener("click", function (ev) {
        var btn = ev.target.closest ? ev.target.closest("[data-act],[data-slot]") : null;
        if (!btn) { return; }
        var box = btn.closest(".tb-popup-actions");
        if (!box) { return; }
        ev.preventDefault();
        if (btn.dataset.slot) { self.book(box, btn.dataset.slot); return; }
        var act = btn.dataset.act;
        if (act === "ticket") { self.takeTicket(box); }
        else if (act === "book") { self.showSlots(box); }
        else if (act === "route") { self.route(box); }
      });
    },

    actionResult: function (box, text, link) {
      var out = box.querySelector(".tb-act-result");
      while (out.firstChild) { out.removeChild(out.firstChild); }
      out.appendChild(document.createTextNode(text));
      if (link) {
        var a = document.createElement("a");
        a.href = link.href;
        a.textContent = link.text;
        a.className = "tb-signin";
        out.appendChild(document.createTextNode(" "));
        out.appendChild(a);
      }
    },

    takeTicket: function (box) {
      var self = this;
      var select = box.querySelector(".tb-ticket-category");
      var url = this.cfg.ticketUrl.replace("{code}", encodeURIComponent(box.dataset.code));
      postJSON(url, { category: select ? select.value : "A" }).then(function (t) {
        self.actionResult(box, fill(self.labels.ticketTaken, {
          number: t.number, ahead: Math.max(0, t.position - 1), min: Math.round(t.estimated_wait_s / 60)
        }));
        box.dataset.ticket = t.number;
      }).catch(function (e) { self.actionResult(box, e.message); });
    },

    signedIn: function () {
      var panel = document.getElementById("tb-panel");
      return !!(panel && panel.dataset.signedIn);
    },

    showSlots: function (box) {
      var self = this;
      var code = box.dataset.code;
      if (!this.signedIn()) {
        var back = window.location.pathname + "?hall=" + encodeURIComponent(code);
        this.actionResult(box, this.labels.signInToBook, {
          href: this.cfg.loginUrl + "?next=" + encodeURIComponent(back), text: this.labels.signIn
        });
        return;
      }
      var select = box.querySelector(".tb-ticket-category");
      var category = select ? select.value : "";
      var slotsBox = box.querySelector(".tb-slots");
      while (slotsBox.firstChild) { slotsBox.removeChild(slotsBox.firstChild); }
      this.actionResult(box, this.labels.loadingSlots);
      // The server's service day (not the browser's clock) is where the days ahead start.
      var start = new Date((box.dataset.today || isoDay(new Date())) + "T12:00:00");
      var url = this.cfg.slotsUrl.replace("{code}", encodeURIComponent(code));
      var offset = 1;
      var horizon = Number(box.dataset.horizon || 14);
      function tryDay() {
        if (offset > horizon) { self.actionResult(box, self.labels.noSlots); return; }
        var day = new Date(start.getTime() + offset * 86400000);
        offset++;
        getJSON(withParams(url, { date: isoDay(day), category: category })).then(function (slots) {
          var free = slots.filter(function (s) { return s.free > 0; });
          if (!free.length) { tryDay(); return; }
          self.actionResult(box, fill(self.labels.slotsOn, { date: free[0].date }));
          free.slice(0, 8).forEach(function (s) {
            var b = document.createElement("button");
            b.type = "button";
            b.className = "tb-slot";
            b.dataset.slot = String(s.id);
            b.textContent = s.start.slice(0, 5) + "-" + s.end.slice(0, 5) + "（" + s.free + "）";
            slotsBox.appendChild(b);
          });
        }).catch(function (e) { self.actionResult(box, e.message); });
      }
      tryDay();
    },

    book: function (box, slotId) {
      var self = this;
      postJSON(this.cfg.appointmentsUrl, { slot: Number(slotId) }).then(function (a) {
        var slotsBox = box.querySelector(".tb-slots");
        while (slotsBox.firstChild) { slotsBox.removeChild(slotsBox.firstChild); }
        self.actionResult(box, fill(self.labels.booked, { date: a.date, start: a.start.slice(0, 5), end: a.end.slice(0, 5) }));
        box.dataset.booked = String(a.id);
      }).catch(function (e) { self.actionResult(box, e.message); });
    },

    route: function (box) {
      if (!this.here) { this.actionResult(box, this.labels.routeNeedsPoint); return; }
      var to = L.latLng(Number(box.dataset.lat), Number(box.dataset.lon));
      if (this.routeLine) { this.map.removeLayer(this.routeLine); }
      var metres = this.map.distance(this.here, to);
      var text = fill(this.labels.route, { d: formatDistance(metres, this.labels) });
      this.routeLine = L.polyline([this.here, to], { color: "#ff6f00", weight: 3, dashArray: "6 6", interactive: false, className: "tb-route" })
        .addTo(this.map);
      this.routeLine.bindTooltip(text, { permanent: true, direction: "center", className: "tb-route-label" }).openTooltip();
      this.actionResult(box, text);
      document.body.dataset.routeMetres = String(Math.round(metres));
    }
  });
})();
