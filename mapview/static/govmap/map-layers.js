/* 政务数字地图 — layers: county boundaries (base), coverage and satisfaction choropleths with
 * their legends, and place names (the reference layer when there are no tiles). Part of the map
 * client; loaded after map.js (see its header). */
(function () {
  "use strict";

  var TM = window.TongbanMap;
  var App = TM.App, escapeHtml = TM.escapeHtml, getJSON = TM.getJSON;

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

  Object.assign(App, {
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
    }
  });
})();
