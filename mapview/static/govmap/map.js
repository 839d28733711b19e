/* 政务数字地图: hall points from the GeoJSON endpoint into per-type marker clusters, county base
 * layer and coverage choropleth, live figures, item filter and "nearest to me"; place names (no
 * tiles: cities, counties, townships and, close in, hall names), legends, popup actions (take a
 * number, book, straight-line route from the chosen point) and a pick mode that always picks.
 *
 * Safety: names and every other database text reach the DOM through textContent or escapeHtml();
 * popup HTML is rendered (and escaped) by the server's Django template.
 *
 * The client is split by responsibility into plain scripts (no build step) sharing the
 * window.TongbanMap namespace, loaded in this order by mapview/mappage.py (TongbanMapApp):
 *   map.js         shared helpers and the App object with its state and init (this file);
 *   map-layers.js  county base layer, coverage / satisfaction choropleths, place names, legends;
 *   map-halls.js   hall points in the clusters, their popups, live refresh, opening a hall;
 *   map-popup.js   popup actions: take a number, book, straight-line route;
 *   map-panel.js   the side panel: item filter, "nearest to me", pick mode.
 * Each later file adds its methods to App; TongbanMap.init runs once all are loaded. */
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
    }
  };

  window.TongbanMap = {
    init: function (opts) { App.init(opts); },
    escapeHtml: escapeHtml,
    // Shared with the map-*.js modules, which add their methods to App.
    App: App, getJSON: getJSON, withParams: withParams, formatDistance: formatDistance
  };
})();
