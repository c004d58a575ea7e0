/* netopt map helpers: build the office, region and line layers from the
 * JSON data that netopt.maps embeds, and wire up the office search box.
 * Every string in the data is already HTML-escaped in Python; popups and
 * tooltips receive it as HTML.  No network access is needed. */
(function (global) {
  "use strict";
  var registry = {groups: [], offices: {}, polygons: [], lineGroups: []};
  global.netoptRegistry = registry;

  function bindInfo(layer, popup, tooltip, sticky) {
    if (popup) { layer.bindPopup(popup, {maxWidth: 340}); }
    if (tooltip) { layer.bindTooltip(tooltip, {sticky: !!sticky}); }
  }

  /* Office markers: one L.circleMarker (SVG path, class netopt-office). */
  global.netoptAddOffices = function (group, planKey, offices) {
    var byId = registry.offices[planKey] || (registry.offices[planKey] = {});
    registry.groups.push({key: planKey, group: group});
    offices.forEach(function (o) {
      var m = L.circleMarker([o.lat, o.lon], {
        pane: "netoptOffices", radius: o.radius, color: o.stroke, weight: 1.2, opacity: 1,
        fillColor: o.fill, fillOpacity: 0.9,
        className: "netopt-office netopt-office-" + o.decision
      });
      m.netoptId = o.id;
      bindInfo(m, o.popup, o.tooltip, false);
      m.addTo(group);
      byId[o.id] = m;
    });
  };

  /* Polygons from a GeoJSON FeatureCollection whose features carry
   * properties.style (Leaflet path options incl. className), .popup, .tooltip. */
  global.netoptAddPolygons = function (group, collection) {
    var added = L.geoJSON(collection, {
      style: function (f) { return f.properties.style; },
      onEachFeature: function (f, layer) {
        bindInfo(layer, f.properties.popup, f.properties.tooltip, true);
      }
    }).addTo(group);
    registry.polygons.push({group: group, layer: added});
  };

  /* Straight lines from a closed office to the office receiving its visitors. */
  global.netoptAddLines = function (group, lines) {
    registry.lineGroups.push({group: group});
    lines.forEach(function (l) {
      var line = L.polyline([[l.lat1, l.lon1], [l.lat2, l.lon2]], l.style);
      bindInfo(line, null, l.tooltip, true);
      line.addTo(group);
    });
  };

  /* The <select id="netopt-search"> pans to an office and opens its popup,
   * in the first plan whose office layer is visible (else the first plan). */
  global.netoptInitSearch = function (map) {
    var select = document.getElementById("netopt-search");
    if (!select) { return; }
    select.addEventListener("change", function () {
      var id = select.value;
      if (!id) { return; }
      var chosen = null;
      registry.groups.forEach(function (g) {
        var m = (registry.offices[g.key] || {})[id];
        if (!chosen && m && map.hasLayer(g.group)) { chosen = m; }
      });
      if (!chosen) {
        registry.groups.forEach(function (g) {
          var m = (registry.offices[g.key] || {})[id];
          if (!chosen && m) { chosen = {marker: m, group: g.group}; }
        });
        if (!chosen) { return; }
        chosen.group.addTo(map);
        chosen = chosen.marker;
      }
      // no animation: a popup opened during a pan animation stops it half-way
      map.setView(chosen.getLatLng(), Math.max(map.getZoom(), 9), {animate: false});
      chosen.openPopup();
    });
  };
})(window);
