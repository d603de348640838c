// Trip replay: the recorded track with a time slider; points outside the corridor in red.
(function () {
  var el = document.getElementById("map");
  if (!el || !window.L) return;
  var map = L.map(el, { attributionControl: false }).setView([13.2, 101.0], 9);
  var slider = document.getElementById("slider"), label = document.getElementById("slider-time");
  fetch(el.dataset.track, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (t) {
    if (t.corridor) L.geoJSON(t.corridor, { style: { color: "#1f4f99", weight: 1, fillOpacity: 0.08 } }).addTo(map);
    var pts = t.points;
    if (!pts.length && t.simplified) { L.geoJSON(t.simplified, { style: { color: "#555" } }).addTo(map); return; }
    var line = L.polyline(pts.map(function (p) { return [p.lat, p.lon]; }), { color: "#555", weight: 3 }).addTo(map);
    pts.forEach(function (p) { if (p.in === false) L.circleMarker([p.lat, p.lon], { radius: 3, color: "#b3261e" }).addTo(map); });
    if (pts.length) map.fitBounds(line.getBounds(), { padding: [30, 30] });
    var marker = pts.length ? L.circleMarker([pts[0].lat, pts[0].lon], { radius: 8, color: "#0b6e4f", fillOpacity: 1 }).addTo(map) : null;
    slider.max = Math.max(pts.length - 1, 0);
    function show(i) {
      var p = pts[i]; if (!p) return;
      marker.setLatLng([p.lat, p.lon]);
      label.textContent = new Date(p.t).toLocaleString("th-TH", { timeZone: "Asia/Bangkok" }) + (p.speed != null ? " · " + Math.round(p.speed) + " km/h" : "");
    }
    slider.addEventListener("input", function () { show(+slider.value); });
    show(0);
  });
})();
