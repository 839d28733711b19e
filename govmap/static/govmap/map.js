/* 政务数字地图: hall points from the GeoJSON endpoint into per-type marker clusters, county base
 * layer and coverage choropleth, live figures, item filter and "nearest to me".
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
      this.loadCounties();
      this.loadHalls();
      this.bindPanel();
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
        function coverageColor(c) {
          if (c === null || c === undefined) { return "#cccccc"; }
          return c >= 0.9 ? "#1a9850" : c >= 0.75 ? "#91cf60" : c >= 0.6 ? "#d9ef8b" : c >= 0.45 ? "#fee08b" : c >= 0.3 ? "#fc8d59" : "#d73027";
        }
        function ratingColor(r) {
          if (r === null || r === undefined) { return "#cccccc"; }
          return r >= 4.8 ? "#1a9850" : r >= 4.5 ? "#91cf60" : r >= 4 ? "#fee08b" : r >= 3 ? "#fc8d59" : "#d73027";
        }
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
      }).catch(function (e) { self.status(e.message); });
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
      marker.on("popupopen", function () { self.state.openCode = marker.tbCode; self.fillPopup(marker); });
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
          self.status(self.labels.pickPoint);
          self.map.getContainer().style.cursor = "crosshair";
          self.map.once("click", function (ev) {
            self.map.getContainer().style.cursor = "";
            self.nearest(ev.latlng.lat, ev.latlng.lng);
          });
        });
      }
    },

    nearest: function (lat, lon) {
      var self = this;
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
