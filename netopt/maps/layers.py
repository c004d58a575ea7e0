"""Map layers: each function returns a folium ``FeatureGroup``.

A layer's data (rows sorted by their ids, floats rounded, popups rendered
from templates) is embedded as JSON and built in the browser by the small
functions of ``netopt/static/netopt-map.js`` (``netoptAddOffices`` …), so
thousands of features cost one call each. JSON in the page has ``<``, ``>``
and ``&`` written as ``\\u003c`` etc.; every text in it is HTML-escaped.

CSS classes a browser test can count (SVG paths): ``netopt-fa`` (one per
FA-region), ``netopt-fa-unserved`` (an FA-region that loses its last office
in the plan, hatched red), ``netopt-fa-never`` (an FA-region that had no
office before either, grey dots), ``netopt-municipality``, ``netopt-office``
(plus ``netopt-office-keep|flexible|close``, ``-receiving``, ``-conflict``,
``-differs``), ``netopt-closure-line``, ``netopt-area``; labels are
``.netopt-label`` tooltips and place names ``.netopt-place``.
"""

from __future__ import annotations

import html
import json
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from branca.element import MacroElement
from jinja2 import Template

from ..i18n import Texts, texts
from . import panels, style
from .geometry import SIMPLIFY_TOLERANCE_M, geojson_geometry, simplify_for_display

__all__ = [
    "Call",
    "js",
    "feature_group",
    "fa_region_layer",
    "municipality_layer",
    "office_layer",
    "closure_line_layer",
    "area_layer",
    "place_layer",
    "osm_layer",
]

_OSM_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
_OSM_ATTR = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'


class Call(MacroElement):
    """Emits ``fn(<parent layer>, args...)`` into the map script (``args`` are JS literals)."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "{{ this.fn }}({{ this._parent.get_name() }}{% for a in this.args %}, {{ a }}{% endfor %});\n"
        "{% endmacro %}"
    )

    def __init__(self, fn: str, *args: str):
        super().__init__()
        self._name = "NetoptCall"
        self.fn = fn
        self.args = list(args)


def js(obj: Any) -> str:
    """JSON for embedding in a <script>: sorted keys, no NaN, ``<>&`` escaped."""
    s = json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return s.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def feature_group(name: str, *, show: bool = True) -> folium.FeatureGroup:
    """A layer group; ``name`` is shown by Leaflet's layer control as HTML, so it is escaped."""
    return folium.FeatureGroup(name=html.escape(name, quote=True), overlay=True, control=True, show=show)


def _float_or_none(x: Any, decimals: int) -> float | None:
    if panels.missing(x):
        return None
    v = float(x)
    return round(v, decimals) if np.isfinite(v) else None


def _sorted_offices(offices: pd.DataFrame) -> pd.DataFrame:
    out = offices.copy()
    out["_key"] = out["office_id"].astype(str)
    return out.sort_values("_key", kind="mergesort").reset_index(drop=True)


def _tx(texts_: Texts | None) -> Texts:
    return texts_ if texts_ is not None else texts("en")


def fa_region_layer(fa_regions: gpd.GeoDataFrame, *, name: str, show: bool = True, texts: Texts | None = None) -> folium.FeatureGroup:
    """FA-regions filled by the change in mean distance (km), with overlays for coverage.

    Paths: ``netopt-fa`` (one per region); ``netopt-fa-unserved`` over each
    region that had an office and has none after the plan (red hatching);
    ``netopt-fa-never`` over each region that had none before either (grey dots)
    (:func:`~netopt.maps.style.fa_overlay_style`). Each feature carries its
    ``fa_code``, by which the what-if finds the region to redraw.
    """
    tx = _tx(texts)
    regions = fa_regions.sort_values("fa_code", kind="mergesort").reset_index(drop=True)
    geoms = simplify_for_display(regions.geometry, SIMPLIFY_TOLERANCE_M["fa"])
    features, lost, never = [], [], []
    for (_, row), geom in zip(regions.iterrows(), geoms):
        gj = geojson_geometry(geom)
        if gj is None:
            continue
        before, after = row["mean_distance_km_before"], row["mean_distance_km_after"]
        delta = (float(after) - float(before)) if not (panels.missing(before) or panels.missing(after)) else float("nan")
        popup, tooltip = str(panels.region_popup(row, tx)), str(panels.region_tooltip(row, tx))
        code = str(row["fa_code"])
        features.append({
            "type": "Feature",
            "geometry": gj,
            "properties": {
                "fa_code": code, "popup": popup, "tooltip": tooltip,
                "style": {
                    "pane": "netoptRegions", "className": "netopt-fa",
                    "fillColor": style.distance_change_colour(delta), "fillOpacity": 0.7,
                    "color": "#555555", "weight": 1.2, "opacity": 1,
                },
            },
        })
        coverage = style.fa_coverage(row["offices_before"], row["offices_after"])
        overlay = style.fa_overlay_style(coverage)
        if overlay is not None:
            (lost if coverage == "lost" else never).append(
                {"type": "Feature", "geometry": gj, "properties": {"fa_code": code, "popup": popup, "tooltip": tooltip, "style": overlay}}
            )
    group = feature_group(name, show=show)
    group.add_child(Call("netoptAddPolygons", js({"type": "FeatureCollection", "features": features})))
    if lost:
        group.add_child(Call("netoptAddPolygons", js({"type": "FeatureCollection", "features": lost})))
    if never:
        group.add_child(Call("netoptAddPolygons", js({"type": "FeatureCollection", "features": never})))
    return group


def municipality_layer(municipalities: gpd.GeoDataFrame, *, name: str, show: bool = True) -> folium.FeatureGroup:
    """Municipality borders: thin grey lines, no fill, not interactive (paths ``netopt-municipality``)."""
    munis = municipalities.sort_values("municipality_code", kind="mergesort").reset_index(drop=True)
    geoms = simplify_for_display(munis.geometry, SIMPLIFY_TOLERANCE_M["municipality"])
    features = []
    for geom in geoms:
        gj = geojson_geometry(geom)
        if gj is None:
            continue
        features.append({
            "type": "Feature",
            "geometry": gj,
            "properties": {"style": {
                "pane": "netoptMunicipalities", "className": "netopt-municipality",
                "fill": False, "color": "#7a7a7a", "weight": 0.6, "opacity": 0.8,
                "interactive": False,
            }},
        })
    group = feature_group(name, show=show)
    group.add_child(Call("netoptAddPolygons", js({"type": "FeatureCollection", "features": features})))
    return group


def office_size_visits(row) -> float:
    """Visits used for the marker size: after the plan, or before for a closed office."""
    return row["visits_before"] if row["decision"] == "close" else row["visits_after"]


def max_visits(*frames: pd.DataFrame) -> float:
    """The largest visits figure (per year) of the frames: the top of the size scale."""
    values = []
    for f in frames:
        for col in ("visits_before", "visits_after"):
            v = pd.to_numeric(f[col], errors="coerce").to_numpy(dtype=float)
            values.extend(v[np.isfinite(v)].tolist())
    return max(values) if values else 1.0


def office_layer(offices: pd.DataFrame, *, name: str, plan_key: str, max_visits: float, show: bool = True,
                 texts: Texts | None = None, labels: bool = True, received_from: dict | None = None,
                 differs: dict | None = None) -> folium.FeatureGroup:
    """Office markers (paths ``netopt-office``): shape and colour by decision
    (:func:`~netopt.maps.style.office_style`), area proportional to visits per year
    (after the plan; before, for a closed office) relative to ``max_visits``.
    A candidate site the plan does not open (decision ``not opened``) is a
    small dashed circle (path ``netopt-candidate``,
    :func:`~netopt.maps.style.candidate_style`), without a label.

    With ``labels``, changed offices and receiving offices that grow a lot carry
    a permanent label. ``received_from``: office_id → where its new visitors
    come from (popup). ``differs``: office_id → label text for offices whose
    decision differs between two plans (a black ring and that label).
    """
    tx = _tx(texts)
    received_from = received_from or {}
    differs = differs or {}
    data = []
    for _, row in _sorted_offices(offices).iterrows():  # sorted by id, then by size below
        lat, lon = _float_or_none(row["lat"], 5), _float_or_none(row["lon"], 5)
        if lat is None or lon is None:
            continue
        oid = str(row["office_id"])
        decision = row["decision"]
        if decision == "not opened":  # a candidate site the plan does not open
            c = style.candidate_style()
            look = {"radius": c["radius"], "shape": c["shape"], "fill": c["fillColor"], "stroke": c["color"], "weight": c["weight"],
                    "dash": c["dashArray"], "className": c["className"]}
        else:
            look = style.office_style(
                decision, office_size_visits(row), max_visits,
                receiving_flag=bool(panels._get(row, "receiving_flag", False)),
                conflict=bool(panels._get(row, "public_figure_conflict", "")),
                differs=oid in differs,
            )
        label = differs.get(oid) if oid in differs else (panels.office_label(row, tx) if labels else None)
        item = {
            "id": oid,
            "lat": lat, "lon": lon,
            "radius": look["radius"],
            "shape": look["shape"],
            "fill": look["fill"],
            "stroke": look["stroke"],
            "weight": look["weight"],
            "dash": look["dash"],
            "className": look["className"],
            "decision": decision,
            "popup": str(panels.office_popup(row, tx, received_from=received_from.get(oid))),
            "tooltip": str(panels.office_tooltip(row, tx)),
        }
        if label is not None:
            item["label"] = str(label)
            # changed offices first, then receiving offices; larger first
            kind = 1 if decision == "keep" and oid not in differs and bool(panels._get(row, "existing", True)) else 0
            item["priority"] = (kind, -float(_float_or_none(office_size_visits(row), 1) or 0.0), oid)
        data.append(item)
    ranked = sorted((o for o in data if "priority" in o), key=lambda o: o["priority"])
    for k, o in enumerate(ranked):
        o["priority"] = k  # label placement order: 0 first
    # Large markers first so that small ones stay on top and clickable.
    data.sort(key=lambda o: -o["radius"])
    group = feature_group(name, show=show)
    group.add_child(Call("netoptAddOffices", js(plan_key), js(data)))
    return group


def closure_line_layer(offices: pd.DataFrame, *, name: str, show: bool = True, colour: str = style.CLOSURE_LINE_COLOUR,
                       texts: Texts | None = None) -> folium.FeatureGroup:
    """Dashed lines from each closed office to its receiving office (paths ``netopt-closure-line``)."""
    tx = _tx(texts)
    frame = _sorted_offices(offices)
    where = {str(r["office_id"]): (r["lat"], r["lon"]) for _, r in frame.iterrows()}
    lines = []
    for _, row in frame.iterrows():
        if row["decision"] != "close" or panels.missing(row["receiver_id"]):
            continue
        target = where.get(str(row["receiver_id"]))
        if target is None:
            continue
        pts = [_float_or_none(v, 5) for v in (row["lat"], row["lon"], target[0], target[1])]
        if any(p is None for p in pts):
            continue
        tooltip = panels.escape(row["office_name"]) + panels.Markup(panels.ARROW) + panels.escape(row["receiver_name"]) + panels.escape(f" ({tx.num(row['receiver_distance_km'])} km)")
        lines.append({
            "lat1": pts[0], "lon1": pts[1], "lat2": pts[2], "lon2": pts[3],
            "tooltip": str(tooltip),
            "style": style.closure_line_style(colour),
        })
    group = feature_group(name, show=show)
    group.add_child(Call("netoptAddLines", js(lines)))
    return group


def change_year_layers(offices: pd.DataFrame, *, max_visits: float, texts: Texts | None = None) -> list[folium.FeatureGroup]:
    """For a staged plan (offices with a ``history`` of more than one year), one
    layer per year ("Changes in 2026") ringing each office that changes in that
    year (:func:`~netopt.maps.style.year_ring_style`, paths ``netopt-year-ring``);
    an office that changes twice is ringed in both years. [] for a one-stage plan
    or one without ``history``."""
    tx = _tx(texts)
    if "history" not in offices.columns:
        return []
    frame = _sorted_offices(offices)
    histories = [h if isinstance(h, dict) else {} for h in frame["history"]]
    years = sorted({int(y) for h in histories for y in h})
    if len(years) < 2:
        return []
    rings: dict[int, list] = {y: [] for y in years}
    for (_, row), history in zip(frame.iterrows(), histories):
        lat, lon = _float_or_none(row["lat"], 5), _float_or_none(row["lon"], 5)
        if lat is None or lon is None or not history:
            continue
        before = "keep" if bool(panels._get(row, "existing", True)) else "not opened"
        radius = style.office_style(row["decision"], office_size_visits(row), max_visits)["radius"]
        for year in sorted(int(y) for y in history):
            decision = history.get(year, history.get(str(year)))
            if decision != before:
                rings[year].append({"lat": lat, "lon": lon, "popup": None, "tooltip": None,
                                    "style": style.year_ring_style(years.index(year), radius)})
            before = decision
    out = []
    for year in years:
        group = feature_group(tx("layer.changes_in", year=str(year)))
        group.add_child(Call("netoptAddPoints", js(rings[year])))
        out.append(group)
    return out


def area_layer(areas: pd.DataFrame, *, name: str, nearby_km: float, show: bool = True, texts: Texts | None = None) -> folium.FeatureGroup:
    """Areas with high social exclusion at their centroids (paths ``netopt-area``):
    hollow green circles, thicker where the distance to an office grows."""
    tx = _tx(texts)
    points = []
    frame = areas.sort_values(["municipality_code", "area_name"], kind="mergesort")
    for _, row in frame.iterrows():
        lat, lon = _float_or_none(row["lat"], 5), _float_or_none(row["lon"], 5)
        if lat is None or lon is None:
            continue
        grows = bool(panels._get(row, "distance_grows", False))
        points.append({
            "lat": lat, "lon": lon,
            "popup": str(panels.area_popup(row, tx, nearby_km)),
            "tooltip": str(panels.escape(row["area_name"])),
            "style": {"pane": "netoptOffices", "shape": "circle", "radius": 5 if grows else 4, "color": style.AREA_COLOUR,
                      "weight": 2.5 if grows else 1.5, "fillColor": "#ffffff", "fillOpacity": 0.6, "opacity": 1,
                      "className": "netopt-area" + (" netopt-area-farther" if grows else "")},
        })
    group = feature_group(name, show=show)
    group.add_child(Call("netoptAddPoints", js(points)))
    return group


def place_layer(places: pd.DataFrame, *, name: str, show: bool = True) -> folium.FeatureGroup:
    """An offline base layer of place names (``.netopt-place`` labels), shown by
    zoom level (:func:`~netopt.maps.style.place_min_zoom`) where they do not overlap."""
    data = []
    for _, row in places.sort_values("rank", kind="mergesort").iterrows():
        data.append({
            "name": html.escape(str(row["name"]), quote=True),
            "lat": round(float(row["lat"]), 4), "lon": round(float(row["lon"]), 4),
            "seat": bool(row["seat"]),
            "zoom": style.place_min_zoom(int(row["rank"]), bool(row["seat"]), float(row["population"])),
        })
    group = feature_group(name, show=show)
    group.add_child(Call("netoptAddPlaces", js(data)))
    return group


def osm_layer(texts: Texts | None = None) -> folium.TileLayer:
    """Optional online OpenStreetMap background; off by default (needs network)."""
    return folium.TileLayer(
        tiles=_OSM_URL, attr=_OSM_ATTR, name=html.escape(_tx(texts)("layer.osm"), quote=True),
        overlay=True, control=True, show=False, max_zoom=19,
    )
