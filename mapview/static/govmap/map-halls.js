/* 政务数字地图 — hall points: per-type marker clusters from the GeoJSON endpoint, popups filled
 * by the server's (autoescaped) Django template, live figures and opening a hall. Part of the map
 * client; loaded after map.js (see its header). */
(function () {
  "use strict";

  var TM = window.TongbanMap;
  var App = TM.App, escapeHtml = TM.escapeHtml, getJSON = TM.getJSON, withParams = TM.withParams;

  Object.assign(App, {
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
    }
  });
})();
