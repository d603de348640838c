// The live map: open trips with their corridors, then positions pushed over Server-Sent Events.
(function () {
  var el = document.getElementById("map");
  if (!el || !window.L) return;
  var map = L.map(el, { attributionControl: false }).setView([13.2, 101.0], 8);
  var status = document.getElementById("live-status");
  var markers = {};
  fetch(el.dataset.estates, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (fc) {
    L.geoJSON(fc, { style: { color: "#0b6e4f", weight: 1, fillOpacity: 0.1 } }).addTo(map);
  });
  function place(key, lat, lon, label, inCorridor) {
    var colour = inCorridor === false ? "#b3261e" : "#1f4f99";
    if (!markers[key]) {
      markers[key] = L.circleMarker([lat, lon], { radius: 7, color: colour, fillOpacity: 0.9, className: "vehicle" })
        .bindTooltip(label, { permanent: false }).addTo(map);
    } else {
      markers[key].setLatLng([lat, lon]).setStyle({ color: colour });
    }
  }
  fetch(el.dataset.state, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (s) {
    var bounds = [];
    s.trips.forEach(function (t) {
      if (t.corridor) L.geoJSON(t.corridor, { style: { color: "#1f4f99", weight: 1, fillOpacity: 0.08, className: "corridor" } }).addTo(map);
      if (t.route) L.geoJSON(t.route, { style: { color: "#1f4f99", weight: 2, dashArray: "4 4" } }).addTo(map);
      if (t.last) { place(t.device_id, t.last.lat, t.last.lon, t.plate + " · " + t.manifest); bounds.push([t.last.lat, t.last.lon]); }
    });
    if (bounds.length) map.fitBounds(bounds, { padding: [40, 40], maxZoom: 12 });
  });
  var source = new EventSource(el.dataset.stream);
  window.wastelinkLive = { map: map, source: source };  // for the page's other layers (alerts)
  source.onopen = function () { status.textContent = "live"; status.className = "tag state-active"; };
  source.onerror = function () { status.textContent = "reconnecting"; status.className = "tag HM"; };
  source.addEventListener("position", function (e) {
    var p = JSON.parse(e.data);
    place(p.device_id, p.lat, p.lon, (p.manifest || p.device_id), p.in_corridor);
  });
})();
