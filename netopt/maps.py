"""Interactive HTML maps of an office plan, for decision meetings.

:func:`plan_map_html` draws one plan, :func:`comparison_map_html` two plans as
layer groups that can be switched on and off.  Both return one self-contained
HTML document:

* **Offline.** Leaflet 1.9.4 (``netopt/static/``, from the npm package
  ``leaflet``) and netopt's own small CSS/JS are embedded inline; there is no
  ``<script src>`` or ``<link href>``.  The only online resource is an optional
  OpenStreetMap tile layer, off by default; the default background is plain.
* **Escaped.** Every text taken from data is HTML-escaped in Python and the
  JSON embedded in ``<script>`` has ``<``, ``>`` and ``&`` written as ``\\u003c``
  etc., so a name such as ``<script>alert(1)</script>`` shows as text.
* **Deterministic.** Rows are sorted by their ids, floats are rounded to fixed
  decimals and folium's random element ids are replaced by a per-render
  counter: the same inputs give a byte-identical string.
* **Small.** Polygons are simplified in SWEREF 99 TM (EPSG:3006) with
  :data:`SIMPLIFY_TOLERANCE_M` metres, parts smaller than
  :data:`MIN_PART_AREA_KM2` are dropped and coordinates are rounded to
  :data:`COORD_DECIMALS` decimals (about 10 m), which keeps a national map
  (60 FA-regions, 290 municipalities, ~115 offices) well under 3 MB.

What is drawn, and the CSS classes a browser test can count (SVG paths):

* ``path.netopt-fa``: one per FA-region, filled by the change in the
  population-weighted mean distance to the nearest open office (km, after -
  before, :func:`distance_change_colour`);
  ``path.netopt-fa-unserved``: a hatched, red dashed overlay for each FA-region
  with no office after the plan.
* ``path.netopt-municipality``: municipality borders (thin, not interactive).
* ``path.netopt-office`` (plus ``netopt-office-keep|flexible|close``): one
  circle marker per office, coloured by decision (:func:`decision_colour`),
  area proportional to visits per year (:func:`visits_radius`).
* ``path.netopt-closure-line``: closed office -> receiving office.
* with the what-if (``plan_map_html(..., whatif=...)``, ``docs/map.md``):
  ``path.netopt-candidate`` for each candidate site the plan does not open,
  and the panel section ``#netopt-whatif``; changing a decision redraws the
  paths above.

In a comparison map the layers of plan B are hidden at start, so only plan
A's paths are in the DOM until B is switched on.
"""

from __future__ import annotations

import base64
import html
import itertools
import json
import math
from importlib import resources
from typing import Any, Iterable

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, Figure, MacroElement
from jinja2 import Template

from netopt.errors import DataError, Problem

__all__ = [
    "plan_map_html",
    "comparison_map_html",
    "decision_colour",
    "distance_change_colour",
    "visits_radius",
    "DECISION_COLOURS",
    "DISTANCE_CHANGE_BINS",
    "SIMPLIFY_TOLERANCE_M",
]

# --------------------------------------------------------------------------
# Styles (pure functions, unit-tested)
# --------------------------------------------------------------------------

#: Decision -> marker fill colour (Okabe-Ito palette, colour-blind safe).
DECISION_COLOURS: dict[str, str] = {
    "keep": "#0072B2",  # blue
    "flexible": "#E69F00",  # orange
    "close": "#D55E00",  # vermillion
}
DECISION_LABELS: dict[str, str] = {
    "keep": "Keep",
    "flexible": "Flexible office",
    "close": "Close",
}
_DECISION_ORDER = ("keep", "flexible", "close")

#: Bins of the change in mean distance (km, after - before): (upper bound
#: exclusive, colour, legend label).  A sequential purple scale (ColorBrewer
#: "Purples") for longer distances, green for shorter.  Changes within
#: +-0.05 km count as no change.
DISTANCE_CHANGE_BINS: tuple[tuple[float, str, str], ...] = (
    (-0.05, "#a6dba0", "shorter"),
    (0.05, "#f2f0f7", "no change (\u00b10.05)"),
    (1.0, "#dadaeb", "+0.05 to 1"),
    (2.5, "#bcbddc", "+1 to 2.5"),
    (5.0, "#9e9ac8", "+2.5 to 5"),
    (10.0, "#756bb1", "+5 to 10"),
    (math.inf, "#54278f", "+10 or more"),
)
NO_DATA_COLOUR = "#bdbdbd"
UNSERVED_COLOUR = "#b2182b"

#: Marker radius range, pixels.
MIN_RADIUS_PX = 3.0
MAX_RADIUS_PX = 13.0

#: Simplification tolerance (metres, in EPSG:3006) per polygon layer.
SIMPLIFY_TOLERANCE_M: dict[str, float] = {"fa": 400.0, "municipality": 400.0}
#: Polygon parts (islands) smaller than this (km², after simplification) are
#: dropped, except the largest part of each region.
MIN_PART_AREA_KM2 = 1.0
#: Decimals of longitude/latitude in the HTML (1e-4 degrees is about 11 m).
COORD_DECIMALS = 4

_DISPLAY_CRS = "EPSG:3006"
_OSM_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
_OSM_ATTR = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'


def decision_colour(decision: str) -> str:
    """Marker fill colour (hex) for a decision: ``keep``, ``flexible`` or ``close``."""
    try:
        return DECISION_COLOURS[decision]
    except KeyError:
        raise ValueError(
            f"unknown decision {decision!r}; expected one of {sorted(DECISION_COLOURS)}"
        ) from None


def distance_change_colour(delta_km: float) -> str:
    """Fill colour (hex) for a change in mean travel distance, km (after - before).

    NaN or None gives :data:`NO_DATA_COLOUR`; see :data:`DISTANCE_CHANGE_BINS`.
    """
    if delta_km is None or not math.isfinite(float(delta_km)):
        return NO_DATA_COLOUR
    delta = float(delta_km)
    for upper, colour, _label in DISTANCE_CHANGE_BINS:
        if delta < upper:
            return colour
    return DISTANCE_CHANGE_BINS[-1][1]  # pragma: no cover (last bound is inf)


def visits_radius(
    visits: float,
    max_visits: float,
    *,
    min_px: float = MIN_RADIUS_PX,
    max_px: float = MAX_RADIUS_PX,
) -> float:
    """Circle radius in pixels for ``visits`` per year: area proportional to visits.

    ``radius = max_px * sqrt(visits / max_visits)``, at least ``min_px`` (also
    for NaN, zero or negative visits), rounded to 0.01 px.
    """
    try:
        v = float(visits)
        vmax = float(max_visits)
    except (TypeError, ValueError):
        return round(min_px, 2)
    if not (math.isfinite(v) and math.isfinite(vmax)) or v <= 0 or vmax <= 0:
        return round(min_px, 2)
    r = max_px * math.sqrt(min(v, vmax) / vmax)
    return round(max(min_px, r), 2)


# --------------------------------------------------------------------------
# Formatting and escaping
# --------------------------------------------------------------------------

_NBSP = "\u00a0"
_DASH = "\u2013"
_ARROW = " \u2192 "


def _missing(x: Any) -> bool:
    if x is None:
        return True
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


def _esc(x: Any) -> str:
    """HTML-escape any value (quotes too); missing values become an en dash."""
    if _missing(x):
        return _DASH
    return html.escape(str(x), quote=True)


def _num(x: Any, decimals: int = 1) -> str:
    """Fixed-decimal number with a no-break space as thousands separator."""
    if _missing(x):
        return _DASH
    try:
        v = float(x)
    except (TypeError, ValueError):
        return _esc(x)
    if not math.isfinite(v):
        return _DASH
    v = round(v, decimals)
    if v == 0:
        v = 0.0  # no "-0.0" (also for -0.04 shown with one decimal)
    return f"{v:,.{decimals}f}".replace(",", _NBSP)


def _signed(x: Any, decimals: int = 1) -> str:
    s = _num(x, decimals)
    if s != _DASH and not s.startswith("-") and float(x) > 0:
        s = "+" + s
    return s


def _pct(share: Any, decimals: int = 1) -> str:
    """A share (fraction 0-1) as a percentage string."""
    if _missing(share):
        return _DASH
    return _num(float(share) * 100.0, decimals) + _NBSP + "%"


def _js(obj: Any) -> str:
    """JSON for embedding in a <script>: sorted keys, no NaN, ``<>&`` escaped."""
    s = json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return (
        s.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def _float_or_none(x: Any, decimals: int) -> float | None:
    if _missing(x):
        return None
    v = float(x)
    return round(v, decimals) if math.isfinite(v) else None


# --------------------------------------------------------------------------
# Input checks
# --------------------------------------------------------------------------

OFFICE_COLUMNS = (
    "office_id", "office_name", "municipality", "fa_code", "fa_name", "lat", "lon",
    "decision", "visits_before", "visits_after", "cost_msek_before", "cost_msek_after",
    "cost_per_visit_sek", "receiver_id", "receiver_name", "receiver_distance_km", "estimated",
)
FA_COLUMNS = (
    "fa_code", "fa_name", "population", "offices_before", "offices_after",
    "mean_distance_km_before", "mean_distance_km_after", "geometry",
)
MUNICIPALITY_COLUMNS = ("municipality_code", "municipality", "geometry")


def _check_columns(frame: pd.DataFrame, required: Iterable[str], what: str) -> None:
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise DataError([
            Problem(file=what, row=None, column=c, value=None,
                    message="column missing from the map input",
                    fix=f"pass a {what} table with column '{c}'")
            for c in missing
        ])
    if what == "offices":
        bad = sorted({str(d) for d in frame["decision"] if d not in DECISION_COLOURS})
        if bad:
            raise DataError([
                Problem(file=what, row=None, column="decision", value=b,
                        message="unknown decision",
                        fix="use keep, flexible or close") for b in bad
            ])


# --------------------------------------------------------------------------
# Geometry for display
# --------------------------------------------------------------------------

def simplify_for_display(geoms: gpd.GeoSeries, tolerance_m: float) -> list:
    """Simplify polygons for display; returns shapely geometries in EPSG:4326.

    Simplified with ``tolerance_m`` metres in EPSG:3006 (topology-preserving
    per polygon); parts under :data:`MIN_PART_AREA_KM2` dropped except the
    largest part of each geometry.  Missing/empty geometries give ``None``.
    """
    if geoms.crs is None:
        geoms = geoms.set_crs("EPSG:4326")
    projected = geoms.to_crs(_DISPLAY_CRS)
    out_parts = []
    min_area = MIN_PART_AREA_KM2 * 1e6
    for geom in projected.values:
        if geom is None or geom.is_empty:
            out_parts.append(None)
            continue
        simple = shapely.simplify(geom, tolerance_m, preserve_topology=True)
        parts = [p for p in shapely.get_parts(simple) if p.geom_type == "Polygon" and not p.is_empty]
        if not parts:
            out_parts.append(None)
            continue
        largest = max(parts, key=lambda p: p.area)
        kept = [p for p in parts if p is largest or p.area >= min_area]
        out_parts.append(shapely.MultiPolygon(kept) if len(kept) > 1 else kept[0])
    back = gpd.GeoSeries(out_parts, crs=_DISPLAY_CRS).to_crs("EPSG:4326")
    return [None if g is None or g.is_empty else g for g in back.values]


def _ring(coords: np.ndarray) -> list:
    rounded = np.round(np.asarray(coords)[:, :2], COORD_DECIMALS)
    out = []
    prev = None
    for x, y in rounded.tolist():
        pt = [x, y]
        if pt != prev:  # rounding can make consecutive points equal
            out.append(pt)
        prev = pt
    return out


def _geojson_geometry(geom) -> dict | None:
    """GeoJSON dict with coordinates rounded to :data:`COORD_DECIMALS`."""
    if geom is None or geom.is_empty:
        return None
    polys = []
    for p in shapely.get_parts(geom):
        if p.geom_type != "Polygon":
            continue
        rings = [_ring(p.exterior.coords)] + [_ring(r.coords) for r in p.interiors]
        rings = [r for r in rings if len(r) >= 4]
        if rings:
            polys.append(rings)
    if not polys:
        return None
    if len(polys) == 1:
        return {"type": "Polygon", "coordinates": polys[0]}
    return {"type": "MultiPolygon", "coordinates": polys}


# --------------------------------------------------------------------------
# folium elements
# --------------------------------------------------------------------------

class _Call(MacroElement):
    """Emits ``fn(<parent layer>, args...)`` into the map script."""

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


def _feature_group(name: str, *, show: bool = True) -> folium.FeatureGroup:
    # name is shown by Leaflet's layer control as HTML: escape it.
    return folium.FeatureGroup(name=html.escape(name, quote=True), overlay=True, control=True, show=show)


def _region_popup(row: pd.Series) -> str:
    before = row["mean_distance_km_before"]
    after = row["mean_distance_km_after"]
    delta = (float(after) - float(before)) if not (_missing(before) or _missing(after)) else None
    warn = ""
    if not _missing(row["offices_after"]) and int(row["offices_after"]) == 0:
        warn = f'<p style="color:{UNSERVED_COLOUR};margin:4px 0 0 0"><b>No office in this FA-region after the plan</b></p>'
    return (
        '<div class="netopt-popup">'
        f"<h3>{_esc(row['fa_name'])} (FA {_esc(row['fa_code'])})</h3><table>"
        f"<tr><th>Population</th><td>{_num(row['population'], 0)}</td></tr>"
        f"<tr><th>Offices (open + flexible)</th><td>{_num(row['offices_before'], 0)}{_ARROW}{_num(row['offices_after'], 0)}</td></tr>"
        f"<tr><th>Mean distance to office</th><td>{_num(before)}{_ARROW}{_num(after)} km ({_signed(delta)} km)</td></tr>"
        f"</table>{warn}</div>"
    )


def _region_tooltip(row: pd.Series) -> str:
    before, after = row["mean_distance_km_before"], row["mean_distance_km_after"]
    delta = (float(after) - float(before)) if not (_missing(before) or _missing(after)) else None
    return f"{_esc(row['fa_name'])}: {_signed(delta)} km"


def fa_region_layer(fa_regions: gpd.GeoDataFrame, *, name: str, show: bool = True) -> folium.FeatureGroup:
    """FA-regions filled by distance change (km); unserved regions hatched on top.

    Paths: ``netopt-fa`` (one per region), ``netopt-fa-unserved`` (regions with
    ``offices_after == 0``).
    """
    regions = fa_regions.sort_values("fa_code", kind="mergesort").reset_index(drop=True)
    geoms = simplify_for_display(regions.geometry, SIMPLIFY_TOLERANCE_M["fa"])
    features, unserved = [], []
    for (_, row), geom in zip(regions.iterrows(), geoms):
        gj = _geojson_geometry(geom)
        if gj is None:
            continue
        before, after = row["mean_distance_km_before"], row["mean_distance_km_after"]
        delta = (float(after) - float(before)) if not (_missing(before) or _missing(after)) else float("nan")
        popup, tooltip = _region_popup(row), _region_tooltip(row)
        features.append({
            "type": "Feature",
            "geometry": gj,
            "properties": {
                "fa_code": str(row["fa_code"]), "popup": popup, "tooltip": tooltip,
                "style": {
                    "pane": "netoptRegions", "className": "netopt-fa",
                    "fillColor": distance_change_colour(delta), "fillOpacity": 0.7,
                    "color": "#555555", "weight": 1.2, "opacity": 1,
                },
            },
        })
        if not _missing(row["offices_after"]) and int(row["offices_after"]) == 0:
            unserved.append({
                "type": "Feature",
                "geometry": gj,
                "properties": {
                    "fa_code": str(row["fa_code"]), "popup": popup, "tooltip": tooltip,
                    "style": {
                        "pane": "netoptRegions", "className": "netopt-fa-unserved",
                        "fillColor": f"url(#netopt-hatch) {UNSERVED_COLOUR}", "fillOpacity": 0.9,
                        "color": UNSERVED_COLOUR, "weight": 3, "opacity": 1, "dashArray": "6 4",
                    },
                },
            })
    group = _feature_group(name, show=show)
    group.add_child(_Call("netoptAddPolygons", _js({"type": "FeatureCollection", "features": features})))
    if unserved:
        group.add_child(_Call("netoptAddPolygons", _js({"type": "FeatureCollection", "features": unserved})))
    return group


def municipality_layer(municipalities: gpd.GeoDataFrame, *, name: str, show: bool = True) -> folium.FeatureGroup:
    """Municipality borders: thin grey lines, no fill, not interactive (paths ``netopt-municipality``)."""
    munis = municipalities.sort_values("municipality_code", kind="mergesort").reset_index(drop=True)
    geoms = simplify_for_display(munis.geometry, SIMPLIFY_TOLERANCE_M["municipality"])
    features = []
    for geom in geoms:
        gj = _geojson_geometry(geom)
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
    group = _feature_group(name, show=show)
    group.add_child(_Call("netoptAddPolygons", _js({"type": "FeatureCollection", "features": features})))
    return group


def _estimate_note(row: pd.Series) -> str:
    return ' <span class="netopt-est">(estimate)</span>' if bool(row["estimated"]) else ""


def _with_unit(text: str, unit: str, suffix: str = "") -> str:
    return _DASH if text == _DASH else f"{text} {unit}{suffix}"


def _office_popup(row: pd.Series) -> str:
    est = _estimate_note(row)
    decision = row["decision"]
    rows = [
        ("Decision", f'<b style="color:{decision_colour(decision)}">{_esc(DECISION_LABELS[decision])}</b>'),
        ("Municipality", _esc(row["municipality"])),
        ("FA-region", f"{_esc(row['fa_name'])} ({_esc(row['fa_code'])})"),
        ("Visits per year", f"{_num(row['visits_before'], 0)}{_ARROW}{_num(row['visits_after'], 0)}{est}"),
        ("Annual cost", f"{_num(row['cost_msek_before'], 2)}{_ARROW}{_num(row['cost_msek_after'], 2)} MSEK{est}"),
        ("Cost per visit", _with_unit(_num(row["cost_per_visit_sek"], 0), "SEK", est)),
    ]
    if decision == "close":
        rows.append((
            "Visitors go to",
            f"{_esc(row['receiver_name'])} ({_num(row['receiver_distance_km'])} km)",
        ))
    body = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
    return f'<div class="netopt-popup"><h3>{_esc(row["office_name"])}</h3><table>{body}</table></div>'


def _sorted_offices(offices: pd.DataFrame) -> pd.DataFrame:
    out = offices.copy()
    out["_key"] = out["office_id"].astype(str)
    return out.sort_values("_key", kind="mergesort").reset_index(drop=True)


def _office_size_visits(row: pd.Series) -> float:
    """Visits used for the marker size: after the plan, or before for a closed office."""
    return row["visits_before"] if row["decision"] == "close" else row["visits_after"]


def _max_visits(*frames: pd.DataFrame) -> float:
    values = []
    for f in frames:
        for col in ("visits_before", "visits_after"):
            v = pd.to_numeric(f[col], errors="coerce").to_numpy(dtype=float)
            values.extend(v[np.isfinite(v)].tolist())
    return max(values) if values else 1.0


def office_layer(offices: pd.DataFrame, *, name: str, plan_key: str, max_visits: float,
                 show: bool = True) -> folium.FeatureGroup:
    """Office circle markers (paths ``netopt-office``), coloured by decision.

    Radius from :func:`visits_radius` of the visits after the plan (before, for
    a closed office) relative to ``max_visits`` (visits per year).
    """
    data = []
    for _, row in _sorted_offices(offices).iterrows():  # sorted by id, then by size below
        lat, lon = _float_or_none(row["lat"], 5), _float_or_none(row["lon"], 5)
        if lat is None or lon is None:
            continue
        decision = row["decision"]
        tooltip = f"{_esc(row['office_name'])} ({_esc(DECISION_LABELS[decision].lower())})"
        data.append({
            "id": str(row["office_id"]),
            "lat": lat, "lon": lon,
            "radius": visits_radius(_office_size_visits(row), max_visits),
            "fill": decision_colour(decision),
            "stroke": "#1a1a1a",
            "decision": decision,
            "popup": _office_popup(row),
            "tooltip": tooltip,
        })
    # Large circles first so that small ones stay on top and clickable.
    data.sort(key=lambda o: -o["radius"])
    group = _feature_group(name, show=show)
    group.add_child(_Call("netoptAddOffices", _js(plan_key), _js(data)))
    return group


def closure_line_layer(offices: pd.DataFrame, *, name: str, show: bool = True) -> folium.FeatureGroup:
    """Dashed lines from each closed office to its receiving office (paths ``netopt-closure-line``)."""
    frame = _sorted_offices(offices)
    where = {str(r["office_id"]): (r["lat"], r["lon"]) for _, r in frame.iterrows()}
    lines = []
    for _, row in frame.iterrows():
        if row["decision"] != "close" or _missing(row["receiver_id"]):
            continue
        target = where.get(str(row["receiver_id"]))
        if target is None:
            continue
        pts = [_float_or_none(v, 5) for v in (row["lat"], row["lon"], target[0], target[1])]
        if any(p is None for p in pts):
            continue
        lines.append({
            "lat1": pts[0], "lon1": pts[1], "lat2": pts[2], "lon2": pts[3],
            "tooltip": (f"{_esc(row['office_name'])}{_ARROW}{_esc(row['receiver_name'])} "
                        f"({_num(row['receiver_distance_km'])} km)"),
            "style": {"pane": "netoptLines", "className": "netopt-closure-line",
                      "color": "#333333", "weight": 2, "opacity": 0.85, "dashArray": "5 5"},
        })
    group = _feature_group(name, show=show)
    group.add_child(_Call("netoptAddLines", _js(lines)))
    return group


def osm_layer() -> folium.TileLayer:
    """Optional online OpenStreetMap background; off by default (needs network)."""
    return folium.TileLayer(
        tiles=_OSM_URL, attr=_OSM_ATTR, name="OpenStreetMap background (online)",
        overlay=True, control=True, show=False, max_zoom=19,
    )


# --------------------------------------------------------------------------
# Panels (plain HTML, every data text escaped)
# --------------------------------------------------------------------------

def _search_box(offices_frames: list[pd.DataFrame]) -> str:
    seen: dict[str, tuple[str, str]] = {}
    for frame in offices_frames:
        for _, row in _sorted_offices(frame).iterrows():
            oid = str(row["office_id"])
            seen.setdefault(oid, (str(row["office_name"]), str(row["municipality"])))
    items = sorted(seen.items(), key=lambda kv: (kv[1][0].casefold(), kv[0]))
    options = "".join(
        f'<option value="{_esc(oid)}">{_esc(name)} ({_esc(muni)})</option>' for oid, (name, muni) in items
    )
    return (
        '<label for="netopt-search">Find an office</label>'
        f'<select id="netopt-search"><option value="">Choose an office\u2026</option>{options}</select>'
    )


def _summary_rows(s: dict) -> list[tuple[str, str]]:
    g = s.get
    gap = g("gap")
    gap_txt = _DASH if _missing(gap) else _num(float(gap) * 100.0, 2) + _NBSP + "%"
    return [
        ("Budget cut (target)", f"{_num(g('cut_msek'))} MSEK"),
        ("Saving achieved", f"{_num(g('savings_msek'))} MSEK"),
        ("Annual cost", f"{_num(g('baseline_cost_msek'))}{_ARROW}{_num(g('cost_msek'))} MSEK"),
        ("Offices kept / flexible / closed",
         f"{_num(g('offices_kept'), 0)} / {_num(g('offices_flexible'), 0)} / {_num(g('offices_closed'), 0)}"),
        ("Mean distance, population-weighted",
         f"{_num(g('population_mean_distance_km_before'))}{_ARROW}{_num(g('population_mean_distance_km'))} km"),
        ("Population within 30 km",
         f"{_pct(g('population_share_within_30km_before'))}{_ARROW}{_pct(g('population_share_within_30km'))}"),
        ("FA-regions with an office", f"{_num(g('fa_regions_served'), 0)} of {_num(g('fa_regions_total'), 0)}"),
        ("Solver", f"{_esc(g('status'))}, gap {gap_txt}"),
    ]


def _plan_panel(title: str, summary: dict, offices: pd.DataFrame) -> str:
    rows = "".join(f'<tr><th>{k}</th><td class="num">{v}</td></tr>' for k, v in _summary_rows(summary))
    return (
        '<div class="netopt-panel netopt-summary" id="netopt-summary">'
        f"<h1>{_esc(title)}</h1>"
        f'<div class="netopt-scenario">Scenario: {_esc(summary.get("scenario"))}</div>'
        f"<table>{rows}</table>{_search_box([offices])}</div>"
    )


def _comparison_panel(title: str, label_a: str, label_b: str, summary_a: dict, summary_b: dict,
                      offices_a: pd.DataFrame, offices_b: pd.DataFrame) -> str:
    ra, rb = _summary_rows(summary_a), _summary_rows(summary_b)
    body = "".join(
        f'<tr><th>{ka}</th><td class="num">{va}</td><td class="num">{vb}</td></tr>'
        for (ka, va), (_kb, vb) in zip(ra, rb)
    )
    head = f'<tr><th></th><th class="num">A: {_esc(label_a)}</th><th class="num">B: {_esc(label_b)}</th></tr>'
    scen = (f'<tr><th>Scenario</th><td class="num">{_esc(summary_a.get("scenario"))}</td>'
            f'<td class="num">{_esc(summary_b.get("scenario"))}</td></tr>')
    return (
        '<div class="netopt-panel netopt-summary netopt-compare" id="netopt-summary">'
        f"<h1>{_esc(title)}</h1>"
        '<div class="netopt-scenario">Switch plans A and B in the layer list (top right).</div>'
        f"<table>{head}{scen}{body}</table>{_search_box([offices_a, offices_b])}</div>"
    )


def _legend_html() -> str:
    dots = "".join(
        f'<div class="row"><span class="netopt-dot" style="background:{DECISION_COLOURS[d]}"></span>'
        f"{DECISION_LABELS[d]}</div>"
        for d in _DECISION_ORDER
    )
    bins = "".join(
        f'<div class="row"><span class="netopt-swatch" style="background:{colour}"></span>{html.escape(label)}</div>'
        for _upper, colour, label in DISTANCE_CHANGE_BINS
    )
    return (
        '<div class="netopt-panel netopt-legend" id="netopt-legend">'
        f"<h2>Offices (decision)</h2>{dots}"
        '<div class="row" style="color:#444">Circle area \u221d visits per year (after the plan; before, if closed)</div>'
        '<div class="row"><span class="netopt-line"></span>Closed office \u2192 receiving office</div>'
        "<h2>FA-region: change in population-weighted mean distance to nearest open office (km, after \u2212 before)</h2>"
        f"{bins}"
        f'<div class="row"><span class="netopt-swatch" style="background:{NO_DATA_COLOUR}"></span>no data</div>'
        '<div class="row"><span class="netopt-swatch netopt-hatch"></span>No office in the FA-region after the plan</div>'
        '<div class="row"><span class="netopt-line" style="border-top:1px solid #7a7a7a"></span>Municipality border</div>'
        "</div>"
    )


_HATCH_SVG = (
    '<svg width="0" height="0" style="position:absolute" aria-hidden="true"><defs>'
    '<pattern id="netopt-hatch" patternUnits="userSpaceOnUse" width="8" height="8" '
    'patternTransform="rotate(45)">'
    f'<line x1="0" y1="0" x2="0" y2="8" stroke="{UNSERVED_COLOUR}" stroke-width="3"/>'
    "</pattern></defs></svg>"
)


# --------------------------------------------------------------------------
# Static assets
# --------------------------------------------------------------------------

def _static_text(name: str) -> str:
    return (resources.files("netopt") / "static" / name).read_text(encoding="utf-8")


def _static_data_uri(name: str) -> str:
    data = (resources.files("netopt") / "static" / name).read_bytes()
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def _leaflet_css() -> str:
    css = _static_text("leaflet.css")
    for img in ("layers.png", "layers-2x.png", "marker-icon.png", "marker-icon-2x.png", "marker-shadow.png"):
        css = css.replace(f"url(images/{img})", f"url({_static_data_uri('leaflet-' + img)})")
    return css


def _leaflet_js() -> str:
    js = _static_text("leaflet.js")
    # drop the source-map comment (it would point at a file that is not shipped)
    lines = [ln for ln in js.splitlines() if not ln.startswith("//# sourceMappingURL=")]
    return "\n".join(lines)


def _inline_script(js: str) -> str:
    if "</script" in js.lower():  # pragma: no cover (guards the vendored files)
        raise ValueError("inline script contains '</script'")
    return f"<script>\n{js}\n</script>"


# --------------------------------------------------------------------------
# Assembly
# --------------------------------------------------------------------------

def _new_map(fa_regions: gpd.GeoDataFrame, title: str) -> tuple[folium.Map, Figure]:
    figure = Figure()
    m = folium.Map(location=[62.5, 16.5], zoom_start=5, tiles=None,
                   zoom_snap=0.25, zoom_delta=0.5)
    # No CDN links: Leaflet is inlined below, nothing else is needed.
    m.default_js = []
    m.default_css = []
    figure.add_child(m)
    header = figure.header
    header.add_child(Element('<meta charset="utf-8">'), name="netopt_charset")
    header.add_child(Element(f"<title>{_esc(title)}</title>"), name="netopt_title")
    header.add_child(Element(f"<style>\n{_leaflet_css()}\n</style>"), name="netopt_leaflet_css")
    header.add_child(Element(_inline_script(_leaflet_js())), name="netopt_leaflet_js")
    header.add_child(Element(f"<style>\n{_static_text('netopt-map.css')}\n</style>"), name="netopt_css")
    header.add_child(Element(_inline_script(_static_text("netopt-map.js"))), name="netopt_js")
    m.add_child(_MapInit(), name="netopt_init")
    bounds = fa_regions.to_crs("EPSG:4326").total_bounds if len(fa_regions) else None
    if bounds is not None and np.all(np.isfinite(bounds)):
        w, s, e, n = (round(float(b), 4) for b in bounds)
        m.location = [round((s + n) / 2, 4), round((w + e) / 2, 4)]
        m.add_child(_FitBounds([[s, w], [n, e]]), name="netopt_fit")
    return m, figure


class _FitBounds(MacroElement):
    """Fits the view to the FA-regions at once (no animation), leaving room for the panels."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "{{ this._parent.get_name() }}.fitBounds({{ this.bounds }}, "
        "{paddingTopLeft: [350, 20], paddingBottomRight: [240, 20], animate: false});\n"
        "{% endmacro %}"
    )

    def __init__(self, bounds: list):
        super().__init__()
        self._name = "NetoptFitBounds"
        self.bounds = _js(bounds)


class _MapInit(MacroElement):
    """Creates netopt's panes: regions < municipalities < lines < offices."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "(function (map) {"
        "[['netoptRegions', 410], ['netoptMunicipalities', 420], ['netoptLines', 440], ['netoptOffices', 450]]"
        ".forEach(function (p) { map.createPane(p[0]).style.zIndex = p[1]; });"
        "L.control.scale({imperial: false}).addTo(map);"
        "})({{ this._parent.get_name() }});\n"
        "{% endmacro %}"
    )

    def __init__(self):
        super().__init__()
        self._name = "NetoptInit"


class _SearchInit(MacroElement):
    _template = Template(
        "{% macro script(this, kwargs) %}"
        "netoptInitSearch({{ this._parent.get_name() }});\n"
        "{% endmacro %}"
    )

    def __init__(self):
        super().__init__()
        self._name = "NetoptSearch"


def _freeze_ids(root: Element) -> None:
    """Replace folium's random element ids with a depth-first counter."""
    counter = itertools.count()

    def visit(el: Element) -> None:
        containers = [el]
        if isinstance(el, Figure):
            containers += [el.header, el.html, el.script]
        for container in containers:
            if container is not el:
                container._id = f"{next(counter):04d}"
            renamed = {}
            for key, child in container._children.items():
                old = child.get_name()
                child._id = f"{next(counter):04d}"
                renamed[child.get_name() if key == old else key] = child
                visit(child)
            container._children = type(container._children)(renamed)

    root._id = f"{next(counter):04d}"
    visit(root)


def _finish(m: folium.Map, figure: Figure, panels: list[str]) -> str:
    for i, panel in enumerate(panels):
        figure.html.add_child(Element(panel), name=f"netopt_panel_{i}")
    figure.html.add_child(Element(_HATCH_SVG), name="netopt_hatch")
    m.add_child(osm_layer())
    m.add_child(_SearchInit(), name="netopt_search")
    m.add_child(folium.LayerControl(collapsed=False, position="topright"))  # last
    _freeze_ids(figure)
    return figure.render()


def _checked(offices: pd.DataFrame, fa_regions: gpd.GeoDataFrame) -> None:
    _check_columns(offices, OFFICE_COLUMNS, "offices")
    _check_columns(fa_regions, FA_COLUMNS, "fa_regions")


def plan_map_html(offices: pd.DataFrame, fa_regions: gpd.GeoDataFrame, municipalities: gpd.GeoDataFrame,
                  summary: dict, *, title: str, whatif: dict | None = None) -> str:
    """One plan as a self-contained, offline HTML map (str).

    Layers: FA-regions (distance change, km), municipality borders, offices,
    closure lines, optional online OpenStreetMap (off); a summary panel, a
    legend and an office search box.  Distances km, costs MSEK/year, visits/year.

    ``whatif`` (from :func:`netopt.whatif.whatif_payload`) adds the what-if
    panel: click an office to change its decision and the page recomputes the
    plan's figures (``netopt/static/netopt-whatif.js``, API ``window.netopt``).
    """
    _checked(offices, fa_regions)
    _check_columns(municipalities, MUNICIPALITY_COLUMNS, "municipalities")
    m, figure = _new_map(fa_regions, title)
    max_visits = _max_visits(offices)
    m.add_child(fa_region_layer(fa_regions, name="FA-regions: change in mean distance (km)"))
    m.add_child(municipality_layer(municipalities, name="Municipality borders"))
    m.add_child(closure_line_layer(offices, name="Closed office \u2192 receiving office"))
    m.add_child(office_layer(offices, name="Offices", plan_key="plan", max_visits=max_visits))
    if whatif is not None:
        _add_whatif(m, figure, whatif, max_visits)
    return _finish(m, figure, [_plan_panel(title, summary, offices), _legend_html()])


def _add_whatif(m: folium.Map, figure: Figure, payload: dict, max_visits: float) -> None:
    """Embed the what-if script and its data, with the map's own styles (after the layers)."""
    style = {
        "colours": DECISION_COLOURS,
        "bins": [[None if math.isinf(upper) else upper, colour] for upper, colour, _label in DISTANCE_CHANGE_BINS],
        "no_data_colour": NO_DATA_COLOUR,
        "unserved_colour": UNSERVED_COLOUR,
        "max_visits": float(max_visits),
        "min_radius_px": MIN_RADIUS_PX,
        "max_radius_px": MAX_RADIUS_PX,
    }
    figure.header.add_child(Element(f"<style>\n{_static_text('netopt-whatif.css')}\n</style>"), name="netopt_whatif_css")
    figure.header.add_child(Element(_inline_script(_static_text("netopt-whatif.js"))), name="netopt_whatif_js")
    m.add_child(_Call("netoptWhatifInit", _js(dict(payload, style=style))), name="netopt_whatif")


def comparison_map_html(offices_a: pd.DataFrame, offices_b: pd.DataFrame, fa_regions_a: gpd.GeoDataFrame,
                        fa_regions_b: gpd.GeoDataFrame, municipalities: gpd.GeoDataFrame, summary_a: dict,
                        summary_b: dict, *, label_a: str, label_b: str, title: str) -> str:
    """Two plans on one offline HTML map: plan A's layers shown, plan B's hidden.

    Marker sizes share one visits scale across both plans.  A panel lists both
    summaries side by side.  Units as in :func:`plan_map_html`.
    """
    _checked(offices_a, fa_regions_a)
    _checked(offices_b, fa_regions_b)
    _check_columns(municipalities, MUNICIPALITY_COLUMNS, "municipalities")
    m, figure = _new_map(fa_regions_a, title)
    max_visits = _max_visits(offices_a, offices_b)
    for key, label, offices, regions, show in (
        ("A", label_a, offices_a, fa_regions_a, True),
        ("B", label_b, offices_b, fa_regions_b, False),
    ):
        prefix = f"{key}: {label}"
        m.add_child(fa_region_layer(regions, name=f"{prefix} \u2013 FA-regions (km change)", show=show))
        m.add_child(closure_line_layer(offices, name=f"{prefix} \u2013 closed \u2192 receiving", show=show))
        m.add_child(office_layer(offices, name=f"{prefix} \u2013 offices", plan_key=key,
                                 max_visits=max_visits, show=show))
    m.add_child(municipality_layer(municipalities, name="Municipality borders"))
    panel = _comparison_panel(title, label_a, label_b, summary_a, summary_b, offices_a, offices_b)
    return _finish(m, figure, [panel, _legend_html()])
