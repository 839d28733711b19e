/* 政务数字地图: hall points from the GeoJSON endpoint into per-type marker clusters, county base
 * layer and coverage choropleth, live figures, item filter and "nearest to me"; place names (no
 * tiles: cities, counties, townships and, close in, hall names), legends, popup actions (take a
 * number, book, straight-line route from the chosen point) and a pick mode that always picks.
 *
 * Safety: names and every other database text reach the DOM through textContent or escapeHtml();
 * popup HTML is rendered (and escaped) by the server's Django template. */
(function () {
  "use strict";

  function escapeHtml(s) {
    return String(s === null || s === undefined ? "" : s)
      .replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;").replace(/'/g, "&#39;");
  }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) {
        return r.json().then(function (data) {
          if (!r.ok) { throw new Error((data && data.detail) || ("HTTP " + r.status)); }
          return data;
        });
      });
  }

  function withParams(url, params) {
    var q = Object.keys(params).filter(function (k) { return params[k] !== null && params[k] !== undefined && params[k] !== ""; })
      .map(function (k) { return encodeURIComponent(k) + "=" + encodeURIComponent(params[k]); }).join("&");
    return q ? url + (url.indexOf("?") < 0 ? "?" : "&") + q : url;
  }

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

  // One colour scale per choropleth, shared by the layer and its legend: [lower bound, colour, text].
  var COVERAGE_STEPS = [
    [0.9, "#1a9850", "≥ 90%"], [0.75, "#91cf60", "75–90%"], [0.6, "#d9ef8b", "60–75%"],
    [0.45, "#fee08b", "45–60%"], [0.3, "#fc8d59", "30–45%"], [-Infinity, "#d73027", "< 30%"]
  ];
  var RATING_STEPS = [
    [4.8, "#1a9850", "≥ 4.8"], [4.5, "#91cf60", "4.5–4.8"], [4, "#fee08b", "4.0–4.5"],
    [3, "#fc8d59", "3.0–4.0"], [-Infinity, "#d73027", "< 3.0"]
  ];
  var NO_DATA = "#cccccc";
  function stepColor(steps, v) {
    if (v === null || v === undefined) { return NO_DATA; }
    for (var i = 0; i < steps.length; i++) { if (v >= steps[i][0]) { return steps[i][1]; } }
    return NO_DATA;
  }

  // Hall names appear from this zoom on (below it the clusters and place names are enough).
  var HALL_LABEL_ZOOM = 14;
  var MAX_LABELS = 400;

  function formatDistance(m, labels) {
    return m < 1000 ? Math.round(m) + " " + labels.metres : (m / 1000).toFixed(m < 10000 ? 2 : 1) + " " + labels.km;
  }

  var App = {
    state: { item: "", props: {}, markers: {}, openCode: null, loaded: false, firstClustersAt: null },

    init: function (opts) {
      this.map = opts.map;
      this.clusters = opts.clusters;
      this.layerControl = opts.layerControl;
      this.cfg = opts.config;
      this.labels = this.cfg.labels;
      window.TongbanMapApp = this;
      this.picking = false;
      this.here = null;
      this.loadCounties();
      this.loadLabels();
      this.loadHalls();
      this.bindPanel();
      this.bindPick();
      this.initLegend();
      var self = this;
      this.timer = setInterval(function () { self.refresh(); }, this.cfg.refreshMs);
      this.map.on("popupclose", function () { self.state.openCode = null; });
    },

    // --- county boundaries (base) and coverage / satisfaction choropleths ---------------------------
    loadCounties: function () {
      var self = this;
      getJSON(this.cfg.countiesUrl).then(function (fc) {
        var base = L.geoJSON(fc, {
          interactive: false,
          style: { color: "#7a8b99", weight: 1, fillColor: "#ffffff", fillOpacity: 0.6 }
        });
        base.addTo(self.map);
        base.bringToBack();
        self.countyBase = base;
        function coverageColor(c) { return stepColor(COVERAGE_STEPS, c); }
        function ratingColor(r) { return stepColor(RATING_STEPS, r); }
        function tooltip(p, text) { return escapeHtml(p.name) + "：" + escapeHtml(text); }
        var coverage = L.geoJSON(fc, {
          style: function (f) { return { color: "#555", weight: 1, fillColor: coverageColor(f.properties.coverage), fillOpacity: 0.55 }; },
          onEachFeature: function (f, layer) {
            var p = f.properties;
            var text = p.coverage === null ? self.labels.noCoverage : Math.round(p.coverage * 100) + "%";
            layer.bindTooltip(tooltip(p, text), { sticky: true });
          }
        });
        var rating = L.geoJSON(fc, {
          style: function (f) { return { color: "#555", weight: 1, fillColor: ratingColor(f.properties.rating_avg), fillOpacity: 0.55 }; },
          onEachFeature: function (f, layer) {
            var p = f.properties;
            var text = p.rating_avg === null ? "—" : p.rating_avg.toFixed(2) + " / 5（" + p.rating_count + "）";
            layer.bindTooltip(tooltip(p, text), { sticky: true });
          }
        });
        var first = fc.features.find(function (f) { return f.properties.coverage_distance_m; });
        var km = first ? (first.properties.coverage_distance_m / 1000).toString() : "—";
        self.layerControl.addOverlay(coverage, escapeHtml(self.labels.coverage.replace("%(km)s", km)));
        self.layerControl.addOverlay(rating, escapeHtml(self.labels.satisfaction));
        self.coverageLayer = coverage;
        self.ratingLayer = rating;
        self.coverageKm = km;
        var computed = fc.features.filter(function (f) { return f.properties.coverage !== null && f.properties.coverage !== undefined; });
        document.body.dataset.coverageCounties = String(computed.length);
      }).catch(function (e) { self.status(e.message); });
    },

    // --- place names: the reference layer when there are no tiles --------------------------------
    loadLabels: function () {
      var self = this;
      var pane = this.map.createPane("tbLabels");
      pane.style.zIndex = 450;  // above the county fills, below markers and popups
      pane.style.pointerEvents = "none";
      this.labelLayer = L.layerGroup().addTo(this.map);
      this.layerControl.addOverlay(this.labelLayer, escapeHtml(this.labels.placeNames));
      this.placeLabels = [];
      getJSON(this.cfg.labelsUrl).then(function (fc) {
        self.placeLabels = fc.features.map(function (f) {
          var c = f.geometry.coordinates;
          return { name: f.properties.name, kind: f.properties.kind, minZoom: f.properties.min_zoom,
                   maxZoom: f.properties.max_zoom, latlng: L.latLng(c[1], c[0]) };
        });
        document.body.dataset.labelsLoaded = String(self.placeLabels.length);
        self.drawLabels();
      }).catch(function (e) { self.status(e.message); });
      this.map.on("zoomend moveend overlayadd", function () { self.drawLabels(); });
      Object.keys(this.clusters).forEach(function (t) {
        self.clusters[t].on("animationend", function () { self.drawLabels(); });
      });
    },

    makeLabel: function (text, kind, latlng) {
      var span = document.createElement("span");
      span.textContent = text;  // names from the database never become markup
      return L.marker(latlng, {
        icon: L.divIcon({ className: "tb-label tb-label-" + kind, html: span, iconSize: null }),
        pane: "tbLabels", interactive: false, keyboard: false
      });
    },

    drawLabels: function () {
      var self = this;
      if (!this.labelLayer || !this.map.hasLayer(this.labelLayer)) { return; }
      this.labelLayer.clearLayers();
      var z = this.map.getZoom();
      var bounds = this.map.getBounds().pad(0.1);
      var n = 0;
      this.placeLabels.forEach(function (p) {
        if (n >= MAX_LABELS || z < p.minZoom || (p.maxZoom && z > p.maxZoom) || !bounds.contains(p.latlng)) { return; }
        self.labelLayer.addLayer(self.makeLabel(p.name, p.kind, p.latlng));
        n++;
      });
      if (z >= HALL_LABEL_ZOOM) {
        // Only halls standing on their own (not inside a cluster) get their name written next to them.
        Object.keys(this.state.markers).forEach(function (code) {
          var m = self.state.markers[code];
          var p = self.state.props[code] || {};
          var cluster = self.clusters[p.type];
          if (n >= MAX_LABELS || !cluster || !self.map.hasLayer(cluster) || !bounds.contains(m.getLatLng())) { return; }
          if (cluster.getVisibleParent(m) !== m) { return; }
          self.labelLayer.addLayer(self.makeLabel(p.name, "hall", m.getLatLng()));
          n++;
        });
      }
      document.body.dataset.labelsShown = String(n);
    },

    // --- legends of the choropleths ---------------------------------------------------------------
    initLegend: function () {
      var self = this;
      var phone = window.matchMedia && window.matchMedia("(max-width: 640px)").matches;
      var Legend = L.Control.extend({
        onAdd: function () {
          var div = L.DomUtil.create("div", "tb-map-legend");
          div.id = "tb-map-legend";
          div.hidden = true;
          L.DomEvent.disableClickPropagation(div);
          return div;
        }
      });
      // On a phone the panel sits at the bottom: the legend goes under the layer switch instead.
      this.legend = new Legend({ position: phone ? "topright" : "bottomright" });
      this.legend.addTo(this.map);
      this.map.on("overlayadd overlayremove", function () { self.renderLegend(); });
    },

    renderLegend: function () {
      var el = document.getElementById("tb-map-legend");
      if (!el) { return; }
      while (el.firstChild) { el.removeChild(el.firstChild); }
      var self = this;
      function section(id, title, steps) {
        var box = document.createElement("div");
        box.className = "tb-legend-section";
        box.id = id;
        var h = document.createElement("div");
        h.className = "tb-legend-title";
        h.textContent = title;
        box.appendChild(h);
        steps.concat([[null, NO_DATA, self.labels.noData]]).forEach(function (s) {
          var row = document.createElement("div");
          var sw = document.createElement("span");
          sw.className = "tb-swatch";
          sw.style.background = s[1];
          row.appendChild(sw);
          row.appendChild(document.createTextNode(s[2]));
          box.appendChild(row);
        });
        el.appendChild(box);
      }
      if (this.coverageLayer && this.map.hasLayer(this.coverageLayer)) {
        section("tb-legend-coverage", this.labels.legendCoverage + "（" + this.coverageKm + " " + this.labels.km + "）", COVERAGE_STEPS);
      }
      if (this.ratingLayer && this.map.hasLayer(this.ratingLayer)) {
        section("tb-legend-satisfaction", this.labels.legendSatisfaction, RATING_STEPS);
      }
      el.hidden = !el.firstChild;
    },

    // --- hall points ----------------------------------------------------------------------------
    hallsUrl: function () { return withParams(this.cfg.hallsUrl, { item: this.state.item }); },

    tooltipText: function (p) {
      return escapeHtml(p.name) + " · " + escapeHtml(this.labels.waiting) + " " + p.queue_waiting + " " + escapeHtml(this.labels.people);
    },

    makeMarker: function (f) {
      var self = this;
      var p = f.properties;
      var c = f.geometry.coordinates;
      var size = p.type === "comprehensive" ? 16 : 12;
      var marker = L.marker([c[1], c[0]], {
        icon: L.divIcon({ className: "tb-pin tb-pin-" + p.type, iconSize: [size, size] }),
        title: p.name,
        keyboard: false
      });
      marker.tbCode = p.code;
      marker.bindTooltip(function () { return self.tooltipText(self.state.props[marker.tbCode] || p); }, { direction: "top" });
      marker.bindPopup("…", { maxWidth: 320 });
      marker.on("popupopen", function (ev) {
        self.state.openCode = marker.tbCode;
        self.bindPopupActions(ev.popup);
        self.fillPopup(marker);
      });
      return marker;
    },

    fillPopup: function (marker) {
      var self = this;
      var url = this.cfg.popupUrl.replace("{code}", encodeURIComponent(marker.tbCode));
      getJSON(url).then(function (data) {
        // data.html comes from an autoescaped Django template.
        marker.setPopupContent(data.html);
        if (self.state.props[marker.tbCode]) {
          self.state.props[marker.tbCode].queue_waiting = data.queue_waiting;
          self.state.props[marker.tbCode].appointments_today = data.appointments_today;
        }
      }).catch(function (e) { marker.setPopupContent(escapeHtml(e.message)); });
    },

    loadHalls: function () {
      var self = this;
      var started = performance.now();
      getJSON(this.hallsUrl()).then(function (fc) {
        Object.keys(self.clusters).forEach(function (t) { self.clusters[t].clearLayers(); });
        self.state.markers = {};
        self.state.props = {};
        var byType = {};
        fc.features.forEach(function (f) {
          var m = self.makeMarker(f);
          self.state.markers[f.properties.code] = m;
          self.state.props[f.properties.code] = f.properties;
          (byType[f.properties.type] = byType[f.properties.type] || []).push(m);
        });
        Object.keys(byType).forEach(function (t) {
          if (self.clusters[t]) { self.clusters[t].addLayers(byType[t]); }
        });
        self.state.loaded = true;
        self.state.firstClustersAt = performance.now() - started;
        document.body.dataset.hallsLoaded = String(fc.features.length);
        var count = document.getElementById("tb-count");
        if (count) { count.textContent = self.labels.count.replace("%(n)s", String(fc.features.length)); }
        self.drawLabels();
        // /map/?hall=<code> (e.g. back from signing in to book) opens that hall's popup once.
        var wanted = new URLSearchParams(window.location.search).get("hall");
        if (wanted && !self.openedFromQuery && self.state.markers[wanted]) {
          self.openedFromQuery = true;
          self.openHall(wanted);
        }
      }).catch(function (e) { self.status(e.message); });
    },

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
    },

    // Live figures: refresh the numbers (tooltips read them lazily) and the open popup.
    refresh: function () {
      var self = this;
      getJSON(this.hallsUrl()).then(function (fc) {
        fc.features.forEach(function (f) { self.state.props[f.properties.code] = f.properties; });
        if (self.state.openCode && self.state.markers[self.state.openCode]) {
          self.fillPopup(self.state.markers[self.state.openCode]);
        }
      }).catch(function () { /* keep the last figures; try again next tick */ });
    },

    openHall: function (code) {
      var marker = this.state.markers[code];
      if (!marker) { return; }
      var me = this;
      // Mid-zoom or mid-pan (e.g. the nearest results are still being framed) the cluster cannot
      // unfold the marker: try again once the map has come to rest.
      var busy = this.map._animatingZoom || (this.map._panAnim && this.map._panAnim._inProgress);
      if (busy) { this.map.once("moveend", function () { me.openHall(code); }); return; }
      var cluster = this.clusters[(this.state.props[code] || {}).type];
      var self = this;
      if (cluster) {
        cluster.zoomToShowLayer(marker, function () { marker.openPopup(); });
      } else {
        self.map.setView(marker.getLatLng(), 15);
        marker.openPopup();
      }
    },

    // --- panel: item filter and nearest --------------------------------------------------------
    status: function (text) {
      var el = document.getElementById("tb-status");
      if (el) { el.textContent = text || ""; }
    },

    setItem: function (code, label) {
      this.state.item = code || "";
      var el = document.getElementById("tb-filter-state");
      if (el) { el.textContent = code ? this.labels.onlyItem.replace("%(item)s", label || code) : ""; }
      this.loadHalls();
    },

    bindPanel: function () {
      var self = this;
      var input = document.getElementById("tb-item");
      var list = document.getElementById("tb-item-list");
      var known = {};
      var pending = null;
      if (input) {
        input.addEventListener("input", function () {
          var q = input.value.trim();
          if (known[q]) { self.setItem(known[q].code, known[q].name); return; }
          clearTimeout(pending);
          if (q.length < 1) { return; }
          pending = setTimeout(function () {
            getJSON(withParams(self.cfg.itemsUrl, { q: q })).then(function (page) {
              while (list.firstChild) { list.removeChild(list.firstChild); }
              (page.results || []).slice(0, 20).forEach(function (it) {
                var opt = document.createElement("option");
                opt.value = it.name + "（" + it.code + "）";
                known[opt.value] = it;
                list.appendChild(opt);
              });
            }).catch(function () {});
          }, 250);
        });
        input.addEventListener("change", function () {
          var q = input.value.trim();
          if (known[q]) { self.setItem(known[q].code, known[q].name); }
          else if (/^[A-Za-z0-9_.-]+$/.test(q)) { self.setItem(q, q); }
        });
      }
      var clear = document.getElementById("tb-item-clear");
      if (clear) { clear.addEventListener("click", function () { input.value = ""; self.setItem(""); }); }
      var locate = document.getElementById("tb-locate");
      if (locate) {
        locate.addEventListener("click", function () {
          if (!navigator.geolocation) { self.status(self.labels.noGeo); return; }
          self.status(self.labels.locating);
          navigator.geolocation.getCurrentPosition(
            function (pos) { self.nearest(pos.coords.latitude, pos.coords.longitude); },
            function () { self.status(self.labels.noGeo); },
            { timeout: 10000, maximumAge: 60000 }
          );
        });
      }
      var pick = document.getElementById("tb-pick");
      if (pick) {
        pick.addEventListener("click", function () {
          self.picking = true;
          self.map.getContainer().classList.add("tb-picking");
          document.body.dataset.picking = "1";
          self.status(self.labels.pickPoint);
        });
      }
      var toggle = document.getElementById("tb-panel-toggle");
      var panel = document.getElementById("tb-panel");
      if (toggle && panel) {
        toggle.addEventListener("click", function () {
          var collapsed = panel.classList.toggle("tb-collapsed");
          toggle.setAttribute("aria-expanded", collapsed ? "false" : "true");
          toggle.textContent = collapsed ? self.labels.expand : self.labels.collapse;
        });
      }
    },

    // Pick mode always picks: a click anywhere on the map (on a cluster, a marker or the ground) is
    // the chosen point. The listener runs in the capture phase, before Leaflet's own handler on the
    // container, so a cluster never gets the click that would zoom it, nor a marker its popup.
    bindPick: function () {
      var self = this;
      var container = this.map.getContainer();
      var down = null;
      container.addEventListener("pointerdown", function (ev) { down = [ev.clientX, ev.clientY]; }, true);
      container.addEventListener("click", function (ev) {
        if (!self.picking) { return; }
        var t = ev.target;
        if (t && t.closest && (t.closest(".leaflet-control") || t.closest(".leaflet-popup"))) { return; }
        // A drag of the map ends in a click too: that one moved the map, it chose nothing.
        if (down && Math.abs(ev.clientX - down[0]) + Math.abs(ev.clientY - down[1]) > 6) { return; }
        ev.stopPropagation();
        ev.preventDefault();
        self.picking = false;
        container.classList.remove("tb-picking");
        delete document.body.dataset.picking;
        var ll = self.map.mouseEventToLatLng(ev);
        self.nearest(ll.lat, ll.lng);
      }, true);
    },

    nearest: function (lat, lon) {
      var self = this;
      this.here = L.latLng(lat, lon);
      document.body.dataset.here = lat.toFixed(6) + "," + lon.toFixed(6);
      if (this.routeLine) { this.map.removeLayer(this.routeLine); this.routeLine = null; }
      if (this.hereMarker) { this.map.removeLayer(this.hereMarker); }
      this.hereMarker = L.marker([lat, lon], {
        icon: L.divIcon({ className: "tb-here", iconSize: [14, 14] }), title: this.labels.you, zIndexOffset: 1000
      }).addTo(this.map);
      var url = withParams(this.cfg.nearestUrl, { lat: lat.toFixed(6), lon: lon.toFixed(6), k: 5, item: this.state.item });
      getJSON(url).then(function (rows) {
        var ol = document.getElementById("tb-nearest");
        while (ol.firstChild) { ol.removeChild(ol.firstChild); }
        self.status(rows.length ? self.labels.nearestTitle : self.labels.none);
        rows.forEach(function (h) {
          var li = document.createElement("li");
          li.dataset.code = h.code;
          li.textContent = h.name + "（" + (self.cfg.types[h.type] || h.type) + "）" + formatDistance(h.distance_m, self.labels) +
            " · " + self.labels.waiting + " " + h.queue_waiting + " " + self.labels.people;
          li.addEventListener("click", function () { self.openHall(h.code); });
          ol.appendChild(li);
        });
        document.body.dataset.nearest = rows.length ? rows[0].code : "";
        if (rows.length) {
          var bounds = L.latLngBounds([[lat, lon]].concat(rows.map(function (h) { return [h.lat, h.lon]; })));
          self.map.fitBounds(bounds.pad(0.3), { maxZoom: 14 });
        }
      }).catch(function (e) { self.status(e.message); });
    }
  };

  window.TongbanMap = { init: function (opts) { App.init(opts); }, escapeHtml: escapeHtml };
})();
