"""Interactive HTML maps of an office plan, for decision meetings.

A small package, read top to bottom:

* :mod:`~netopt.maps.style`: pure style rules (colours, shapes, sizes, bins);
* :mod:`~netopt.maps.geometry`: polygons simplified for display;
* :mod:`~netopt.maps.panels`: popups, labels, the summary panel and the legend
  from autoescaped Jinja2 templates (``templates/``), in the page's language;
* :mod:`~netopt.maps.layers`: one function per layer, each returning a folium
  ``FeatureGroup``;
* :mod:`~netopt.maps.page`: page assembly (assets inlined, panes, fit to
  Sweden, layer control last, deterministic ids) and :class:`PageExtension`;
* :mod:`~netopt.maps.whatif`: the what-if, a :class:`PageExtension`
  (:func:`whatif_extension`).

:func:`map_html` draws the tables of a plan (:class:`~netopt.tables.PlanTables`);
:func:`plan_map_html` and :func:`comparison_map_html` draw plain tables.
Every page is offline, escaped and byte-identical on rerun.
"""

from __future__ import annotations

from ..i18n import Texts, texts as texts_of
from ..memo import caveat, caveat_texts, conflict_texts
from .geometry import COORD_DECIMALS, MIN_PART_AREA_KM2, SIMPLIFY_TOLERANCE_M, simplify_for_display
from .layers import Call as _Call
from .layers import area_layer, change_year_layers, closure_line_layer, fa_region_layer, municipality_layer, office_layer, osm_layer, place_layer
from .page import FA_COLUMNS, MUNICIPALITY_COLUMNS, OFFICE_COLUMNS, PageExtension, comparison_map_html, plan_map_html
from .whatif import whatif_extension
from .style import (
    DECISION_COLOURS,
    DECISION_SHAPES,
    DISTANCE_CHANGE_BINS,
    MAX_RADIUS_PX,
    MIN_RADIUS_PX,
    NO_DATA_COLOUR,
    UNSERVED_COLOUR,
    decision_colour,
    decision_shape,
    distance_change_colour,
    fa_coverage,
    office_style,
    place_min_zoom,
    visits_radius,
)

__all__ = [
    "map_html",
    "comparison_html",
    "map_inputs",
    "plan_offices",
    "candidate_sites",
    "growth_threshold",
    "plan_map_html",
    "comparison_map_html",
    "PageExtension",
    "whatif_extension",
    "decision_colour",
    "decision_shape",
    "distance_change_colour",
    "fa_coverage",
    "office_style",
    "place_min_zoom",
    "visits_radius",
    "DECISION_COLOURS",
    "DECISION_SHAPES",
    "DISTANCE_CHANGE_BINS",
    "NO_DATA_COLOUR",
    "UNSERVED_COLOUR",
    "MIN_RADIUS_PX",
    "MAX_RADIUS_PX",
    "SIMPLIFY_TOLERANCE_M",
    "MIN_PART_AREA_KM2",
    "COORD_DECIMALS",
    "simplify_for_display",
    "fa_region_layer",
    "municipality_layer",
    "office_layer",
    "change_year_layers",
    "closure_line_layer",
    "area_layer",
    "place_layer",
    "osm_layer",
    "OFFICE_COLUMNS",
    "FA_COLUMNS",
    "MUNICIPALITY_COLUMNS",
]


def _num(x, decimals: int = 1) -> str:
    """A number as the English map writes it (no-break space between thousands, no "-0.0")."""
    return texts_of("en").num(x, decimals)


def map_inputs(tables):
    """(offices, FA-regions with polygons, municipality polygons, summary) of a
    plan's tables, as :func:`plan_map_html` takes them. With an access floor
    per FA-region the summary adds ``access_floor_below``: the FA-regions
    below the floor in the stage shown, ``("code name", share)``, as the plan's
    breaks (:func:`netopt.consult.plan_breaks`) name them."""
    offices = tables.offices[tables.offices["decision"] != "not opened"].reset_index(drop=True)
    gfa = tables.fa_geometry.merge(tables.fa_regions, on="fa_code")
    summary = dict(tables.summary)
    if summary.get("access_floor_scope") == "fa_region":
        summary["access_floor_below"] = [(str(item), float(share)) for b in tables.breaks if b["kind"] == "access_floor" and b["year"] == tables.year
                                         for item, share in zip(b["items"], b["details"])]
    return offices, gfa, tables.municipality_geometry, summary


def title(tables, tx: Texts) -> str:
    """The page title of a plan: scenario, year and cut."""
    s = tables.summary
    return tx("map.title", scenario=tables.context["scenario_name"], year=str(s["stage_year"]), cut=tx.localize(f"{s['cut_msek']:g}"), msek=tx("unit.msek"))


def plan_offices(tables, texts: Texts | None = None):
    """The offices a plan's map draws (:func:`map_inputs`), with
    ``public_figure_conflict`` and ``public_figure_caveat`` (an estimate that
    meets its figure only in the figure's year) in the map's language."""
    tx = texts or texts_of("en")
    offices = map_inputs(tables)[0]
    conflicts = conflict_texts(tables, tx)
    offices["public_figure_conflict"] = [conflicts.get(o, "") for o in offices["office_id"]]
    caveats = caveat_texts(tables, tx)
    offices["public_figure_caveat"] = [caveats.get(o, "") for o in offices["office_id"]]
    return offices


def growth_threshold(tables) -> float:
    """The growth (share) above which a receiving office is marked: the
    scenario's ``max_growth``, else :data:`netopt.tables.RECEIVING_GROWTH_FLAG`."""
    from ..tables import RECEIVING_GROWTH_FLAG

    limit = tables.context.get("max_growth")
    return RECEIVING_GROWTH_FLAG if limit is None else limit


def map_html(tables, texts: Texts | None = None, *, extensions=()) -> str:
    """``map.html`` of a plan's tables (:func:`netopt.tables.plan_tables`), in the
    language of ``texts``; ``extensions`` (:class:`PageExtension`) add to the
    page, such as the what-if (:func:`netopt.maps.whatif.whatif_extension`)."""
    tx = texts or texts_of("en")
    _, gfa, munis, summary = map_inputs(tables)
    offices = plan_offices(tables, tx)
    received = dict(zip(tables.receiving["office_id"], tables.receiving["from_offices"]))
    from ..tables import NEARBY_KM

    return plan_map_html(
        offices, gfa, munis, summary, title=title(tables, tx), texts=tx, places=tables.places, areas=tables.areas,
        nearby_km=NEARBY_KM, notes=caveat(tables, tx), received_from=received,
        growth_threshold=growth_threshold(tables), extensions=extensions, candidates=candidate_sites(tables),
    )


def candidate_sites(tables):
    """The candidate sites a plan's map draws without opening them (decision
    ``not opened``), as :func:`plan_map_html` takes them (``candidates``)."""
    out = tables.offices[tables.offices["decision"] == "not opened"].reset_index(drop=True).copy()
    out["public_figure_conflict"] = ""
    return out


def comparison_html(tables_a, tables_b, *, label_a: str, label_b: str, texts: Texts | None = None) -> str:
    """The comparison map of two plans' tables (both plans at once)."""
    tx = texts or texts_of("en")
    oa, fa, munis, sa = map_inputs(tables_a)
    ob, fb, _, sb = map_inputs(tables_b)
    return comparison_map_html(oa, ob, fa, fb, munis, sa, sb, label_a=label_a, label_b=label_b, title=tx("compare.title", a=label_a, b=label_b), texts=tx, places=tables_a.places)
