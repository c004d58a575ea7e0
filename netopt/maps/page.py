"""Page assembly: one self-contained, offline HTML document per map.

* **Offline.** Leaflet 1.9.4 (``netopt/static/``, from the npm package
  ``leaflet``) and netopt's own CSS/JS are embedded inline; there is no
  ``<script src>`` or ``<link href>``. The only online resource is an optional
  OpenStreetMap tile layer, off by default; the offline base layer is the
  place names.
* **Escaped.** Text from data reaches the page through autoescaped templates
  or as escaped JSON (:func:`~netopt.maps.layers.js`).
* **Deterministic.** Rows are sorted by their ids, floats are rounded and
  folium's random element ids are replaced by a per-render counter: the same
  inputs give a byte-identical string.
* **Fits a projector.** The view is fitted to the FA-regions between the
  summary panel (left) and the legend (right); on a small screen (such as
  1024×768) both start collapsed to their headlines, and the layer list is a
  button, so no panel covers Sweden.

Extensions (:class:`PageExtension`) add CSS, JavaScript, JSON data,
panels and layers of their own to a page without touching netopt's layers
(the what-if, :mod:`netopt.maps.whatif`, and the robustness layer,
:mod:`netopt.maps.robustness`, use this).
"""

from __future__ import annotations

import base64
import itertools
from dataclasses import dataclass, field
from importlib import resources
from typing import Iterable

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from branca.element import Element, Figure, MacroElement
from folium.map import CustomPane
from jinja2 import Template

from ..errors import DataError, Problem
from ..i18n import Texts, texts as texts_of
from ..templating import Markup, escape
from . import layers, panels, style

__all__ = ["PageExtension", "plan_map_html", "comparison_map_html", "OFFICE_COLUMNS", "FA_COLUMNS", "MUNICIPALITY_COLUMNS"]

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

#: Widths (px) of the summary panel and the legend (netopt-map.css); the view
#: is fitted to the FA-regions in the space between them.
PANEL_WIDTH_PX = 300
LEGEND_WIDTH_PX = 230
PADDING_TOP_LEFT = [PANEL_WIDTH_PX + 30, 20]
PADDING_BOTTOM_RIGHT = [LEGEND_WIDTH_PX + 30, 20]
#: Below this window size (px) the panels start collapsed to their headlines.
SMALL_SCREEN = (1200, 850)

#: Panes, bottom to top: regions < municipalities < place names < lines < offices < labels.
PANES = (("netoptRegions", 410, True), ("netoptMunicipalities", 420, False), ("netoptPlaces", 430, False),
         ("netoptLines", 440, True), ("netoptOffices", 450, True), ("netoptLabels", 460, False))

_PATTERNS = (
    '<svg width="0" height="0" style="position:absolute" aria-hidden="true"><defs>'
    '<pattern id="netopt-hatch" patternUnits="userSpaceOnUse" width="8" height="8" patternTransform="rotate(45)">'
    f'<line x1="0" y1="0" x2="0" y2="8" stroke="{style.UNSERVED_COLOUR}" stroke-width="3"/></pattern>'
    '<pattern id="netopt-dots" patternUnits="userSpaceOnUse" width="6" height="6">'
    f'<circle cx="3" cy="3" r="1.1" fill="{style.NEVER_SERVED_COLOUR}"/></pattern>'
    "</defs></svg>"
)


@dataclass(frozen=True)
class PageExtension:
    """Something a map page embeds besides netopt's own layers.

    Attributes:
      name: identifier (its data is ``window.netopt.data[name]`` in the page).
      css: CSS appended to netopt's style sheet.
      js: JavaScript appended to netopt's script (inline; must not contain ``</script``).
      data: JSON-serialisable data, embedded escaped.
      panels: HTML fragments (``Markup``, escaped by their maker) added to the page body
        (its ``init`` may move them: the what-if puts its section into the summary panel).
      init: name of a global JS function called as ``init(map, data)`` after every layer is built.
      layers: map layers (folium ``FeatureGroup``s) added after netopt's own, each
        listed in the layer control (the robustness layer, :mod:`netopt.maps.robustness`).
    """

    name: str
    css: str = ""
    js: str = ""
    data: object = None
    panels: tuple = field(default_factory=tuple)
    init: str | None = None
    layers: tuple = field(default_factory=tuple)


# --------------------------------------------------------------------------- checks


def _check_columns(frame: pd.DataFrame, required: Iterable[str], what: str) -> None:
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise DataError([
            Problem(file=what, row=None, column=c, value=None, message="column missing from the map input", fix=f"pass a {what} table with column '{c}'")
            for c in missing
        ])
    if what == "offices":
        bad = sorted({str(d) for d in frame["decision"] if d not in style.DECISION_COLOURS})
        if bad:
            raise DataError([Problem(file=what, row=None, column="decision", value=b, message="unknown decision", fix="use keep, flexible or close") for b in bad])
    if what == "candidates":
        bad = sorted({str(d) for d in frame["decision"] if d != "not opened"})
        if bad:
            raise DataError([Problem(file=what, row=None, column="decision", value=b, message="a candidate site of the map must be one the plan does not open",
                                     fix="pass opened candidate sites with the offices, and only rows with decision 'not opened' as candidates") for b in bad])


def _checked(offices: pd.DataFrame, fa_regions: gpd.GeoDataFrame) -> None:
    _check_columns(offices, OFFICE_COLUMNS, "offices")
    _check_columns(fa_regions, FA_COLUMNS, "fa_regions")


# --------------------------------------------------------------------------- assets


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
    return "\n".join(ln for ln in js.splitlines() if not ln.startswith("//# sourceMappingURL="))


def _inline_script(js: str) -> str:
    if "</script" in js.lower():
        raise ValueError("inline script contains '</script'")
    return f"<script>\n{js}\n</script>"


# --------------------------------------------------------------------------- folium elements


class _Script(MacroElement):
    """A line of JavaScript in the map script, with the map's variable as ``{map}``."""

    _template = Template("{% macro script(this, kwargs) %}{{ this.code.replace('{map}', this._parent.get_name()) }}\n{% endmacro %}")

    def __init__(self, code: str):
        super().__init__()
        self._name = "NetoptScript"
        self.code = code


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


def _new_map(fa_regions: gpd.GeoDataFrame, title: str, extensions: tuple, tx: Texts) -> tuple[folium.Map, Figure]:
    figure = Figure()
    # the zoom buttons are added below with their titles in the page's language
    m = folium.Map(location=[62.5, 16.5], zoom_start=5, tiles=None, zoom_snap=0.25, zoom_delta=0.5, zoom_control=False)
    # No CDN links: Leaflet is inlined below, nothing else is needed.
    m.default_js = []
    m.default_css = []
    figure.add_child(m)
    header = figure.header
    css = _static_text("netopt-map.css") + "".join("\n" + e.css for e in extensions if e.css)
    script = _static_text("netopt-map.js") + "".join("\n" + e.js for e in extensions if e.js)
    header.add_child(Element('<meta charset="utf-8">'), name="netopt_charset")
    header.add_child(Element(f"<title>{escape(title)}</title>"), name="netopt_title")
    header.add_child(Element(f"<style>\n{_leaflet_css()}\n</style>"), name="netopt_leaflet_css")
    header.add_child(Element(_inline_script(_leaflet_js())), name="netopt_leaflet_js")
    header.add_child(Element(f"<style>\n{css}\n</style>"), name="netopt_css")
    header.add_child(Element(_inline_script(script)), name="netopt_js")
    for pane, z, pointer in PANES:
        m.add_child(CustomPane(pane, z_index=z, pointer_events=pointer), name=f"netopt_pane_{pane}")
    zoom = layers.js({"zoomInTitle": tx("map.zoom_in"), "zoomOutTitle": tx("map.zoom_out")})
    m.add_child(_Script(f"L.control.zoom({zoom}).addTo({{map}});"), name="netopt_zoom")
    m.add_child(_Script("L.control.scale({imperial: false}).addTo({map});"), name="netopt_scale")  # metric only
    bounds = fa_regions.to_crs("EPSG:4326").total_bounds if len(fa_regions) else None
    if bounds is not None and np.all(np.isfinite(bounds)):
        w, s, e, n = (round(float(b), 4) for b in bounds)
        m.location = [round((s + n) / 2, 4), round((w + e) / 2, 4)]
        fit = folium.FitBounds([[s, w], [n, e]], padding_top_left=PADDING_TOP_LEFT, padding_bottom_right=PADDING_BOTTOM_RIGHT)
        fit.options["animate"] = False
        m.add_child(fit, name="netopt_fit")
    return m, figure


def _finish(m: folium.Map, figure: Figure, page_panels: list, tx: Texts, extensions: tuple) -> str:
    for i, panel in enumerate(page_panels):
        figure.html.add_child(Element(str(panel)), name=f"netopt_panel_{i}")
    for e in extensions:
        for j, panel in enumerate(e.panels):
            figure.html.add_child(Element(str(panel)), name=f"netopt_ext_{e.name}_{j}")
    figure.html.add_child(Element(_PATTERNS), name="netopt_patterns")
    for e in extensions:
        for j, layer in enumerate(e.layers):
            m.add_child(layer, name=f"netopt_layer_{e.name}_{j}")
    m.add_child(layers.osm_layer(tx))
    m.add_child(layers.Call("netoptInitSearch"), name="netopt_search")
    for e in extensions:
        if e.data is not None:
            m.add_child(layers.Call("netoptExtensionData", layers.js(e.name), layers.js(e.data)), name=f"netopt_data_{e.name}")
    m.add_child(folium.LayerControl(collapsed=True, position="topright"))  # the last layer element
    options = {"smallWidth": SMALL_SCREEN[0], "smallHeight": SMALL_SCREEN[1], "paddingTopLeft": PADDING_TOP_LEFT, "paddingBottomRight": PADDING_BOTTOM_RIGHT,
               "closePopup": tx("map.close_popup"), "layers": tx("map.layers"), "leaflet": tx("map.leaflet")}
    m.add_child(layers.Call("netoptInitPage", layers.js(options)), name="netopt_page")
    for e in extensions:
        if e.init:
            m.add_child(_Script(f"{e.init}({{map}}, window.netopt.data[{layers.js(e.name)}]);"), name=f"netopt_init_{e.name}")
    _freeze_ids(figure)
    return figure.render()


def _lang_attr(figure_html: str, tx: Texts) -> str:
    return figure_html.replace("<html>", f'<html lang="{tx.lang}">', 1)


def _gotos(offices: pd.DataFrame, tx: Texts, top: int = 3) -> list[tuple[str, list]]:
    """"Go to" buttons: the FA-regions with most changed offices (two or more), and the whole country."""
    changed = offices[offices["decision"].isin(["close", "flexible"])]
    if changed.empty:
        return []
    counts = changed.groupby(["fa_code", "fa_name"]).size().reset_index(name="n")
    counts = counts[counts["n"] >= 2].sort_values(["n", "fa_code"], ascending=[False, True], kind="mergesort").head(top)
    out = []
    for _, r in counts.iterrows():
        sub = changed[changed["fa_code"] == r["fa_code"]]
        s, n = float(sub["lat"].min()), float(sub["lat"].max())
        w, e = float(sub["lon"].min()), float(sub["lon"].max())
        pad = 0.06
        out.append((tx("panel.goto", name=str(r["fa_name"]), n=str(int(r["n"]))), [[round(s - pad, 4), round(w - 2 * pad, 4)], [round(n + pad, 4), round(e + 2 * pad, 4)]]))
    return out


def _whole(fa_regions: gpd.GeoDataFrame, tx: Texts) -> list[tuple[str, list]]:
    w, s, e, n = (round(float(b), 4) for b in fa_regions.to_crs("EPSG:4326").total_bounds)
    return [(tx("panel.goto_all"), [[s, w], [n, e]])]


def plan_map_html(offices: pd.DataFrame, fa_regions: gpd.GeoDataFrame, municipalities: gpd.GeoDataFrame,
                  summary: dict, *, title: str, texts: Texts | None = None, places: pd.DataFrame | None = None,
                  areas: pd.DataFrame | None = None, nearby_km: float = 3.0, notes: Iterable[str] = (),
                  received_from: dict | None = None, growth_threshold: float | None = None,
                  extensions: Iterable[PageExtension] = (), candidates: pd.DataFrame | None = None) -> str:
    """One plan as a self-contained, offline HTML map (str).

    Layers: FA-regions (change in mean distance, km; hatched where the plan
    leaves an FA-region without an office, dotted where it had none),
    municipality borders, place names (offline), closure lines, areas with
    high social exclusion (``areas``), offices (shape and colour by decision,
    labels on changed offices), optional online OpenStreetMap (off). A summary
    panel (the cut, the saving, the allowance used and whether the cut is met,
    then the details, ``notes`` such as the register caveat, "go to" buttons
    and an office search) and a legend. Distances km, costs MSEK/year, visits/year.

    ``offices`` needs :data:`OFFICE_COLUMNS`; optional columns: ``history``,
    ``changed_in``, ``existing``, ``receiving_growth``, ``receiving_flag``,
    ``public_figure_conflict``. ``candidates``: candidate sites the plan does
    not open (the same columns, decision ``not opened``), drawn as small
    dashed circles in the office layer (the what-if can open them) and listed
    in the office search as candidate sites; a candidate site the plan opens
    is one of ``offices`` (``existing`` False). Raises
    :class:`~netopt.errors.DataError` when a required column is missing or a
    decision is unknown.
    """
    tx = texts or texts_of("en")
    extensions = tuple(extensions)
    _checked(offices, fa_regions)
    _check_columns(municipalities, MUNICIPALITY_COLUMNS, "municipalities")
    candidates = candidates if candidates is not None and len(candidates) else None
    if candidates is not None:
        _check_columns(candidates, OFFICE_COLUMNS, "candidates")
    drawn = offices if candidates is None else pd.concat([offices, candidates], ignore_index=True)
    m, figure = _new_map(fa_regions, title, extensions, tx)
    top = layers.max_visits(offices)
    m.add_child(layers.fa_region_layer(fa_regions, name=tx("layer.fa"), texts=tx))
    m.add_child(layers.municipality_layer(municipalities, name=tx("layer.municipalities")))
    if places is not None and len(places):
        m.add_child(layers.place_layer(places, name=tx("layer.places")))
    m.add_child(layers.closure_line_layer(offices, name=tx("layer.closure_lines"), texts=tx))
    if areas is not None and len(areas):
        m.add_child(layers.area_layer(areas, name=tx("layer.areas"), nearby_km=nearby_km, texts=tx))
    m.add_child(layers.office_layer(drawn, name=tx("layer.offices"), plan_key="plan", max_visits=top, texts=tx, received_from=received_from))
    year_layers = layers.change_year_layers(offices, max_visits=top, texts=tx)
    for group in year_layers:
        m.add_child(group)
    years = tuple(sorted({int(y) for h in offices["history"] if isinstance(h, dict) for y in h})) if year_layers else ()
    gotos = _gotos(offices, tx)
    if gotos:
        gotos += _whole(fa_regions, tx)
    page_panels = [
        panels.plan_panel(title, summary, panels.search_box([drawn], tx), tx, notes=list(notes), gotos=gotos),
        panels.legend(tx, areas=areas is not None and len(areas) > 0, places=places is not None and len(places) > 0, growth_threshold=growth_threshold,
                      years=years, candidates=candidates is not None),
    ]
    return _lang_attr(_finish(m, figure, page_panels, tx, extensions), tx)


def comparison_map_html(offices_a: pd.DataFrame, offices_b: pd.DataFrame, fa_regions_a: gpd.GeoDataFrame,
                        fa_regions_b: gpd.GeoDataFrame, municipalities: gpd.GeoDataFrame, summary_a: dict,
                        summary_b: dict, *, label_a: str, label_b: str, title: str, texts: Texts | None = None,
                        places: pd.DataFrame | None = None, extensions: Iterable[PageExtension] = ()) -> str:
    """Two plans on one offline HTML map, both at once.

    Offices are drawn once, with plan A's decision (plan B's where A lacks the
    office); an office whose decision differs between the plans has a black
    ring and a label giving both decisions. Both plans' closure lines are
    drawn (A dark, B purple). The FA-regions of A are shown and those of B can
    be switched on. The panel gives both plans' figures side by side, each
    with its own solver status and whether its cut is met. Units as in
    :func:`plan_map_html`.
    """
    tx = texts or texts_of("en")
    extensions = tuple(extensions)
    _checked(offices_a, fa_regions_a)
    _checked(offices_b, fa_regions_b)
    _check_columns(municipalities, MUNICIPALITY_COLUMNS, "municipalities")
    m, figure = _new_map(fa_regions_a, title, extensions, tx)
    top = layers.max_visits(offices_a, offices_b)
    a = offices_a.set_index(offices_a["office_id"].astype(str))
    b = offices_b.set_index(offices_b["office_id"].astype(str))
    ids = sorted(set(a.index) | set(b.index))
    combined = pd.concat([a, b.loc[[i for i in ids if i not in a.index]]]).reset_index(drop=True)
    differs = {}
    for oid in ids:
        da = a.at[oid, "decision"] if oid in a.index else None
        db = b.at[oid, "decision"] if oid in b.index else None
        if da != db:
            name = (a if oid in a.index else b).at[oid, "office_name"]
            words = [tx("decision." + d).lower() if d else "\u2013" for d in (da, db)]
            differs[oid] = escape(name) + Markup(": ") + escape(tx("compare.label", a=words[0], b=words[1]))
    m.add_child(layers.fa_region_layer(fa_regions_a, name=f"A: {label_a} \u2013 {tx('layer.fa_short')}", texts=tx))
    m.add_child(layers.fa_region_layer(fa_regions_b, name=f"B: {label_b} \u2013 {tx('layer.fa_short')}", show=False, texts=tx))
    m.add_child(layers.municipality_layer(municipalities, name=tx("layer.municipalities")))
    if places is not None and len(places):
        m.add_child(layers.place_layer(places, name=tx("layer.places")))
    m.add_child(layers.closure_line_layer(offices_a, name=f"A: {label_a} \u2013 {tx('layer.closure_lines_short')}", texts=tx))
    m.add_child(layers.closure_line_layer(offices_b, name=f"B: {label_b} \u2013 {tx('layer.closure_lines_short')}", colour=style.RECEIVING_COLOUR, texts=tx))
    m.add_child(layers.office_layer(combined, name=tx("layer.offices_both"), plan_key="A", max_visits=top, texts=tx, labels=False, differs=differs))
    page_panels = [
        panels.comparison_panel(title, label_a, label_b, summary_a, summary_b, panels.search_box([offices_a, offices_b], tx), tx, differ=len(differs)),
        panels.legend(tx, areas=False, places=places is not None and len(places) > 0, compare=True),
    ]
    return _lang_attr(_finish(m, figure, page_panels, tx, extensions), tx)
