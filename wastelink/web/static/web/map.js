// Estates on a Leaflet map from the API's GeoJSON. No tile server: boundaries on a plain background, so the
// page works offline and inside closed office networks.
(function () {
  var el = document.getElementById("map");
  if (!el || !window.L) return;
  var map = L.map(el, { zoomSnap: 0.25, attributionControl: false }).setView([13.5, 100.9], 7);
  var lang = el.dataset.lang || "th";
  var focus = el.dataset.focus;
  fetch(el.dataset.geojson, { credentials: "same-origin" })
    .then(function (r) { return r.json(); })
    .then(function (fc) {
      var focused = null;
      var layer = L.geoJSON(fc, {
        style: function (f) {
          var mine = f.properties.code === focus;
          return { color: mine ? "#b3261e" : "#0b6e4f", weight: mine ? 3 : 2, fillOpacity: 0.25,
                   className: "estate-boundary",
                   dashArray: f.properties.boundary_source === "generated" ? "4 4" : null };
        },
        onEachFeature: function (f, l) {
          var name = lang === "th" ? f.properties.name_th : f.properties.name_en;
          l.bindTooltip(name);
          l.on("click", function () { window.location = "/estates/" + f.properties.code + "/"; });
          if (f.properties.code === focus) focused = l;
          // A boundary is a speck at national zoom: mark its centre too, with its name.
          L.circleMarker(l.getBounds().getCenter(), { radius: 5, color: "#0b6e4f", weight: 1, fillOpacity: 0.8,
                                                       className: "estate-marker" })
            .bindTooltip(name).on("click", function () { window.location = "/estates/" + f.properties.code + "/"; })
            .addTo(map);
        }
      }).addTo(map);
      if (focused) map.fitBounds(focused.getBounds(), { padding: [30, 30] });
      else if (fc.features.length) map.fitBounds(layer.getBounds(), { padding: [20, 20] });
    });
})();
