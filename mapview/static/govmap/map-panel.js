/* 政务数字地图 — the side panel: item filter, "nearest to me" (geolocation) and the pick mode
 * that always picks. Part of the map client; loaded after map.js (see its header). */
(function () {
  "use strict";

  var TM = window.TongbanMap;
  var App = TM.App, getJSON = TM.getJSON, withParams = TM.withParams, formatDistance = TM.formatDistance;

  Object.assign(App, {
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
  });
})();
