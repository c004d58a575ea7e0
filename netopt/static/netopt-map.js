/* netopt map helpers: build the office, region, line, point and place-name
 * layers from the JSON data that netopt.maps embeds, and wire up the panels
 * (collapse buttons, "go to" buttons, office search) and the labels.
 * Every string in the data is already HTML-escaped in Python; popups, tooltips
 * and labels receive it as HTML. No network access is needed.
 *
 * window.netopt holds what a page (or a script driving it) can use:
 *   netopt.map        the Leaflet map (set by netoptInitPage)
 *   netopt.registry   {groups: [{key, group}], offices: {planKey: {officeId: marker}},
 *                      polygons: [{group, layer}], lineGroups: [{group}],
 *                      points: [marker] (point markers with a popup: the areas)}
 *   netopt.data       JSON payloads of page extensions, by name
 *   netopt.layoutLabels()  re-run the label placement (after a change of labels)
 *   netopt.ShapeMarker     the marker class of offices (circle, diamond, cross)
 *   netopt.styleOffice(marker, look)        restyle an office marker
 *   netopt.setOfficeLabel(marker, label, priority)  give it a permanent label, or none
 * Page extensions add to the same object: the what-if's API (setDecision,
 * summary, reset ...; netopt/static/netopt-whatif.js, docs/map.md).
 */
(function (global) {
  "use strict";
  var netopt = global.netopt = global.netopt || {};
  var registry = netopt.registry = {groups: [], offices: {}, polygons: [], lineGroups: [], points: []};
  var labelled = [];  /* office markers with a permanent label */
  netopt.data = netopt.data || {};
  global.netoptRegistry = registry;  /* older name */

  function bindInfo(layer, popup, tooltip, sticky) {
    if (popup) { layer.bindPopup(popup, {maxWidth: 360}); }
    if (tooltip) { layer.bindTooltip(tooltip, {sticky: !!sticky}); }
  }

  /* Marker outlines in pixels around (0, 0) for radius r: a diamond and a
   * cross of about the area of a circle of radius r (netopt.maps.style). */
  function shapePath(shape, p, r) {
    var pts;
    if (shape === "diamond") {
      var d = r * 1.25;
      pts = [[0, -d], [d, 0], [0, d], [-d, 0]];
    } else if (shape === "cross") {
      var s = r * 1.15, w = r * 0.38, k = Math.SQRT1_2;
      var plus = [[-w, -s], [w, -s], [w, -w], [s, -w], [s, w], [w, w], [w, s], [-w, s], [-w, w], [-s, w], [-s, -w], [-w, -w]];
      pts = plus.map(function (q) { return [(q[0] - q[1]) * k, (q[0] + q[1]) * k]; });
    } else {
      return null;
    }
    return "M" + pts.map(function (q) {
      return (p.x + q[0]).toFixed(2) + "," + (p.y + q[1]).toFixed(2);
    }).join("L") + "z";
  }

  /* A circle marker drawn as a circle, a diamond or a cross (SVG path). */
  var ShapeMarker = L.CircleMarker.extend({
    options: {shape: "circle"},
    _updatePath: function () {
      var d = shapePath(this.options.shape, this._point, this._radius);
      if (d === null || !this._renderer._setPath) {
        L.CircleMarker.prototype._updatePath.call(this);
      } else {
        this._renderer._setPath(this, d);
      }
    }
  });
  netopt.ShapeMarker = ShapeMarker;

  /* A permanent label on an office marker (class netopt-label), or none
   * (label null: the marker gets back its hover tooltip). Labels are placed
   * in ``priority`` order, 0 first (layoutLabels). */
  function setOfficeLabel(m, label, priority) {
    if (m.getTooltip()) { m.unbindTooltip(); }
    var k = labelled.indexOf(m);
    if (k >= 0) { labelled.splice(k, 1); }
    m.netoptLabel = label || null;
    if (label) {
      m.bindTooltip(label, {
        permanent: true, direction: "right", offset: [m.getRadius() + 2, 0],
        className: "netopt-label netopt-label-office", pane: "netoptLabels", interactive: false
      });
      m.netoptPriority = priority || 0;
      labelled.push(m);
    } else if (m.netoptTooltip) {
      m.bindTooltip(m.netoptTooltip, {sticky: false});
    }
  }
  netopt.setOfficeLabel = setOfficeLabel;

  /* Restyle an office marker: look = {shape, radius, fill, stroke, weight,
   * dash, className} as netopt.maps.style.office_style gives it. The class
   * is kept in the options too, for when Leaflet draws the marker again. */
  function styleOffice(m, look) {
    var op = m.options, dash = look.dash || null;
    if (op.shape === look.shape && op.className === look.className && op.fillColor === look.fill && op.color === look.stroke &&
        op.weight === look.weight && (op.dashArray || null) === dash && op.radius === look.radius) {
      return;  /* unchanged: no redraw, no relayout of its label */
    }
    var moved = op.radius !== look.radius;
    op.shape = look.shape;
    op.className = look.className;
    m.setStyle({fillColor: look.fill, color: look.stroke, weight: look.weight, dashArray: dash});
    m.setRadius(look.radius);  /* redraws the path in its (new) shape */
    var el = m.getElement ? m.getElement() : null;
    if (el) { el.setAttribute("class", look.className + " leaflet-interactive"); }
    var t = m.getTooltip();
    if (moved && t && m.netoptLabel) { t.options.offset = L.point(look.radius + 2, 0); if (t.isOpen && t.isOpen()) { t.update(); } }
  }
  netopt.styleOffice = styleOffice;

  /* Office markers: one ShapeMarker per office (SVG path, class netopt-office);
   * offices with o.label carry a permanent label (class netopt-label). */
  global.netoptAddOffices = function (group, planKey, offices) {
    var byId = registry.offices[planKey] || (registry.offices[planKey] = {});
    registry.groups.push({key: planKey, group: group});
    offices.forEach(function (o) {
      var m = new ShapeMarker([o.lat, o.lon], {
        pane: "netoptOffices", radius: o.radius, shape: o.shape, color: o.stroke, weight: o.weight,
        opacity: 1, fillColor: o.fill, fillOpacity: 0.92, dashArray: o.dash || null,
        className: o.className
      });
      m.netoptId = o.id;
      m.netoptTooltip = o.tooltip || null;
      if (o.popup) { m.bindPopup(o.popup, {maxWidth: 360}); }
      setOfficeLabel(m, o.label || null, o.priority || 0);
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

  /* Point markers of fixed pixel size (areas with high social exclusion). */
  global.netoptAddPoints = function (group, points) {
    points.forEach(function (p) {
      var m = new ShapeMarker([p.lat, p.lon], p.style);
      bindInfo(m, p.popup, p.tooltip, false);
      if (p.popup) { registry.points.push(m); }
      m.addTo(group);
    });
  };

  /* Place names (an offline base layer): a name is shown from zoom level
   * p.zoom on, and only where it does not overlap a label of higher priority. */
  global.netoptAddPlaces = function (group, places) {
    var markers = places.map(function (p) {
      var m = L.marker([p.lat, p.lon], {
        pane: "netoptPlaces", interactive: false, keyboard: false,
        icon: L.divIcon({className: "netopt-place" + (p.seat ? " netopt-place-seat" : ""), html: "<span>" + p.name + "</span>", iconSize: null})
      });
      m.netoptMinZoom = p.zoom;
      return m;
    });
    function update(map) {
      var z = map.getZoom();
      markers.forEach(function (m) {
        var want = z >= m.netoptMinZoom;
        if (want && !group.hasLayer(m)) { group.addLayer(m); }
        if (!want && group.hasLayer(m)) { group.removeLayer(m); }
      });
    }
    group.netoptPlaces = update;
  };

  function overlaps(a, b) {
    return a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
  }

  /* Show labels in priority order (office labels first, then place names by
   * rank); a label that would overlap one already shown is hidden. */
  function layoutLabels() {
    var shown = [];
    var panels = Array.prototype.map.call(document.querySelectorAll(".netopt-panel, .leaflet-control"), function (el) {
      return el.getBoundingClientRect();
    });
    var labels = labelled.slice().sort(function (a, b) { return a.netoptPriority - b.netoptPriority; })
      .map(function (m) { var t = m.getTooltip(); return t && t.getElement ? t.getElement() : null; })
      .filter(function (el) { return el && el.isConnected; });
    var places = Array.prototype.slice.call(document.querySelectorAll(".netopt-place > span"));
    labels.forEach(function (el) { el.classList.remove("netopt-hidden"); });
    places.forEach(function (el) { el.classList.remove("netopt-hidden"); });
    var items = labels.map(function (el) { return {el: el, pri: 0}; })
      .concat(places.map(function (el) { return {el: el, pri: 1}; }));
    items.forEach(function (it) {
      var r = it.el.getBoundingClientRect();
      var hit = shown.some(function (s) { return overlaps(r, s); }) ||
        (it.pri === 1 && panels.some(function (s) { return overlaps(r, s); }));
      if (hit) { it.el.classList.add("netopt-hidden"); } else { shown.push(r); }
    });
  }
  netopt.layoutLabels = layoutLabels;

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

  /* Panels: collapse buttons (collapsed at start on small screens such as a
   * 1024x768 projector), "go to" buttons, label placement on every move. */
  global.netoptInitPage = function (map, options) {
    netopt.map = map;
    var small = global.innerWidth < options.smallWidth || global.innerHeight < options.smallHeight;
    Array.prototype.forEach.call(document.querySelectorAll(".netopt-panel"), function (panel) {
      var button = panel.querySelector(".netopt-toggle");
      if (!button) { return; }
      function set(collapsed) {
        panel.classList.toggle("netopt-collapsed", collapsed);
        button.setAttribute("aria-expanded", collapsed ? "false" : "true");
        button.textContent = collapsed ? button.getAttribute("data-show") : button.getAttribute("data-hide");
        global.setTimeout(layoutLabels, 0);
      }
      set(small);
      button.addEventListener("click", function () { set(!panel.classList.contains("netopt-collapsed")); });
      L.DomEvent.disableClickPropagation(panel);
      L.DomEvent.disableScrollPropagation(panel);
    });
    Array.prototype.forEach.call(document.querySelectorAll(".netopt-goto"), function (b) {
      b.addEventListener("click", function () {
        map.fitBounds(JSON.parse(b.getAttribute("data-bounds")), {
          paddingTopLeft: options.paddingTopLeft, paddingBottomRight: options.paddingBottomRight
        });
      });
    });
    function places() {
      map.eachLayer(function (layer) { if (layer.netoptPlaces) { layer.netoptPlaces(map); } });
    }
    // Leaflet 1.9 has no option for the texts of its layer button, its attribution's
    // link and its popups' close button: give them the page's language
    Array.prototype.forEach.call(document.querySelectorAll(".leaflet-control-layers-toggle"), function (a) {
      if (options.layers) { a.setAttribute("title", options.layers); a.setAttribute("aria-label", options.layers); }
    });
    if (map.attributionControl && options.leaflet) {
      var title = String(options.leaflet).replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
      map.attributionControl.setPrefix(String(map.attributionControl.options.prefix).replace(/title="[^"]*"/, "title=\"" + title + "\""));
    }
    map.on("popupopen", function (e) {
      var close = e.popup.getElement() ? e.popup.getElement().querySelector(".leaflet-popup-close-button") : null;
      if (close && options.closePopup) { close.setAttribute("aria-label", options.closePopup); close.setAttribute("title", options.closePopup); }
    });
    map.on("zoomend", places);
    map.on("overlayadd", function () { places(); global.setTimeout(layoutLabels, 0); });
    map.on("overlayremove", function () { global.setTimeout(layoutLabels, 0); });
    map.on("zoomend moveend", function () { global.setTimeout(layoutLabels, 0); });
    places();
    layoutLabels();
  };

  /* A page extension's JSON payload, by name (see netopt.maps.PageExtension). */
  global.netoptExtensionData = function (map, name, data) {
    netopt.data[name] = data;
  };
})(window);
