"""Pure style rules of netopt's maps: colours, shapes and sizes (unit-tested).

Nothing here draws; layer functions (:mod:`netopt.maps.layers`) ask these
functions how a decision, a change in distance or an FA-region's coverage
looks, and the legend is built from the same tables, so the two cannot
disagree. Colours are the Okabe-Ito palette (colour-blind safe); decisions
also differ by shape, so they are told apart without colour.
"""

from __future__ import annotations

import math

__all__ = [
    "DECISION_COLOURS",
    "DECISION_SHAPES",
    "DECISIONS",
    "DISTANCE_CHANGE_BINS",
    "NO_DATA_COLOUR",
    "UNSERVED_COLOUR",
    "NEVER_SERVED_COLOUR",
    "RECEIVING_COLOUR",
    "DIFFERS_COLOUR",
    "AREA_COLOUR",
    "MIN_RADIUS_PX",
    "MAX_RADIUS_PX",
    "CLOSE_MIN_RADIUS_PX",
    "OUTLINE_COLOUR",
    "OUTLINE_WEIGHT",
    "RING_WEIGHT",
    "CONFLICT_DASH",
    "CLOSURE_LINE_COLOUR",
    "YEAR_RING_STYLES",
    "year_ring_style",
    "decision_colour",
    "decision_shape",
    "distance_change_colour",
    "distance_change_bin",
    "fa_coverage",
    "visits_radius",
    "office_style",
    "fa_overlay_style",
    "closure_line_style",
    "candidate_style",
    "page_style",
    "place_min_zoom",
]

#: Decisions in legend order.
DECISIONS = ("keep", "flexible", "close")

#: Decision -> marker fill colour (Okabe-Ito palette, colour-blind safe).
DECISION_COLOURS: dict[str, str] = {
    "keep": "#0072B2",  # blue
    "flexible": "#E69F00",  # orange
    "close": "#D55E00",  # vermillion
}
#: Decision -> marker shape: a kept office is a circle, a flexible office a
#: diamond, a closed office a cross, so decisions differ without colour too.
DECISION_SHAPES: dict[str, str] = {"keep": "circle", "flexible": "diamond", "close": "cross"}

#: Bins of the change in mean distance (km, after - before): (upper bound
#: exclusive, colour, legend key).  A sequential purple scale (ColorBrewer
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
#: An FA-region that loses its last office in the plan: red hatching, dashed red border.
UNSERVED_COLOUR = "#b2182b"
#: An FA-region that had no office before the plan either: grey dots, no blame on the plan.
NEVER_SERVED_COLOUR = "#4d4d4d"
#: Ring around a receiving office whose visits grow a lot (Okabe-Ito reddish purple).
RECEIVING_COLOUR = "#CC79A7"
#: Ring around an office whose decision differs between two compared plans.
DIFFERS_COLOUR = "#000000"
#: Areas with high social exclusion (Okabe-Ito bluish green).
AREA_COLOUR = "#009E73"

#: Marker radius range, pixels.
MIN_RADIUS_PX = 3.0
MAX_RADIUS_PX = 13.0
#: A closed office's cross is at least this large (px), to read as a cross.
CLOSE_MIN_RADIUS_PX = 5.0
#: Marker outline: colour and width (px); a ring (receiving office, differing
#: decision) is :data:`RING_WEIGHT` px wide; a contradicted estimate dashed.
OUTLINE_COLOUR = "#1a1a1a"
OUTLINE_WEIGHT = 1.2
RING_WEIGHT = 3.5
CONFLICT_DASH = "3 2"
#: Closure lines (closed office -> receiving office).
CLOSURE_LINE_COLOUR = "#333333"
#: Rings around the offices that change in each year of a staged plan: told
#: apart by lightness and by dash pattern (not by hue), so the years read in
#: grey scale and for colour-blind readers; beyond the fourth year the styles repeat.
YEAR_RING_STYLES: tuple[tuple[str, str | None], ...] = (
    ("#000000", None),
    ("#555555", "6 3"),
    ("#8c8c8c", "2 3"),
    ("#000000", "8 3 2 3"),
)


def decision_colour(decision: str) -> str:
    """Marker fill colour (hex) for a decision: ``keep``, ``flexible`` or ``close``."""
    try:
        return DECISION_COLOURS[decision]
    except KeyError:
        raise ValueError(f"unknown decision {decision!r}; expected one of {sorted(DECISION_COLOURS)}") from None


def decision_shape(decision: str) -> str:
    """Marker shape for a decision: ``circle`` (keep), ``diamond`` (flexible), ``cross`` (close)."""
    try:
        return DECISION_SHAPES[decision]
    except KeyError:
        raise ValueError(f"unknown decision {decision!r}; expected one of {sorted(DECISION_SHAPES)}") from None


def distance_change_bin(delta_km: float | None) -> int | None:
    """Index into :data:`DISTANCE_CHANGE_BINS` for a change in km; None when missing."""
    if delta_km is None:
        return None
    try:
        delta = float(delta_km)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(delta):
        return None
    for k, (upper, _colour, _label) in enumerate(DISTANCE_CHANGE_BINS):
        if delta < upper:
            return k
    return len(DISTANCE_CHANGE_BINS) - 1  # pragma: no cover (last bound is inf)


def distance_change_colour(delta_km: float | None) -> str:
    """Fill colour (hex) for a change in mean travel distance, km (after - before).

    NaN or None gives :data:`NO_DATA_COLOUR`; see :data:`DISTANCE_CHANGE_BINS`.
    """
    k = distance_change_bin(delta_km)
    return NO_DATA_COLOUR if k is None else DISTANCE_CHANGE_BINS[k][1]


def fa_coverage(offices_before, offices_after) -> str:
    """``"served"`` (an office after the plan), ``"lost"`` (had one, has none
    after: the plan's doing) or ``"never"`` (had none before either)."""
    def count(v) -> int:
        try:
            x = float(v)
        except (TypeError, ValueError):
            return 0
        return int(x) if math.isfinite(x) else 0

    if count(offices_after) > 0:
        return "served"
    return "lost" if count(offices_before) > 0 else "never"


def visits_radius(visits: float, max_visits: float, *, min_px: float = MIN_RADIUS_PX, max_px: float = MAX_RADIUS_PX) -> float:
    """Marker radius in pixels for ``visits`` per year: area proportional to visits.

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


def office_style(decision: str, visits: float, max_visits: float, *, receiving_flag: bool = False, conflict: bool = False, differs: bool = False) -> dict:
    """How an office marker looks: ``shape, radius`` (px), ``fill``, ``stroke``,
    ``weight`` (px), ``dash`` (SVG dash array or None) and ``className``.

    A receiving office whose visits grow a lot gets a thick
    :data:`RECEIVING_COLOUR` ring; an office whose estimate contradicts a
    public figure a dashed outline; an office whose decision differs between
    two plans a thick :data:`DIFFERS_COLOUR` ring. (The what-if redraws
    markers by the same rule in the page, ``officeStyle`` in
    ``netopt/static/netopt-whatif.js``, with the constants of :func:`page_style`.)
    """
    classes = ["netopt-office", f"netopt-office-{decision}"]
    stroke, weight, dash = OUTLINE_COLOUR, OUTLINE_WEIGHT, None
    if receiving_flag:
        stroke, weight = RECEIVING_COLOUR, RING_WEIGHT
        classes.append("netopt-office-receiving")
    if differs:
        stroke, weight = DIFFERS_COLOUR, RING_WEIGHT
        classes.append("netopt-office-differs")
    if conflict:
        dash = CONFLICT_DASH
        classes.append("netopt-office-conflict")
    radius = visits_radius(visits, max_visits)
    if decision == "close":
        radius = max(radius, CLOSE_MIN_RADIUS_PX)  # a cross needs room to read as a cross
    return {
        "shape": decision_shape(decision),
        "radius": round(radius, 2),
        "fill": decision_colour(decision),
        "stroke": stroke,
        "weight": weight,
        "dash": dash,
        "className": " ".join(classes),
    }


def fa_overlay_style(coverage: str) -> dict | None:
    """Leaflet path options of the overlay drawn over an FA-region with this
    coverage (:func:`fa_coverage`): red hatching for ``"lost"``, grey dots for
    ``"never"``, None for ``"served"``. The fills are SVG patterns of the page."""
    if coverage == "lost":
        return {
            "pane": "netoptRegions", "className": "netopt-fa-unserved",
            "fillColor": f"url(#netopt-hatch) {UNSERVED_COLOUR}", "fillOpacity": 0.9,
            "color": UNSERVED_COLOUR, "weight": 3, "opacity": 1, "dashArray": "6 4",
        }
    if coverage == "never":
        return {
            "pane": "netoptRegions", "className": "netopt-fa-never",
            "fillColor": f"url(#netopt-dots) {NEVER_SERVED_COLOUR}", "fillOpacity": 0.8,
            "color": NEVER_SERVED_COLOUR, "weight": 1.5, "opacity": 1, "dashArray": "1 3",
        }
    if coverage == "served":
        return None
    raise ValueError(f"unknown coverage {coverage!r}; expected served, lost or never")


def closure_line_style(colour: str = CLOSURE_LINE_COLOUR) -> dict:
    """Leaflet path options of a closure line (closed office -> receiving office), dashed."""
    return {"pane": "netoptLines", "className": "netopt-closure-line", "color": colour, "weight": 2, "opacity": 0.85, "dashArray": "5 5"}


def candidate_style() -> dict:
    """Leaflet path options of a candidate site the plan does not open (drawn by
    the what-if, which can open it): a small white dashed circle."""
    return {
        "pane": "netoptOffices", "shape": "circle", "radius": MIN_RADIUS_PX, "color": OUTLINE_COLOUR,
        "weight": OUTLINE_WEIGHT, "opacity": 1, "fillColor": "#ffffff", "fillOpacity": 0.6, "dashArray": "2 2",
        "className": "netopt-candidate",
    }


def page_style() -> dict:
    """The style rules above as JSON for a page that redraws the map itself
    (the what-if): decision colours and shapes, marker sizes and outlines,
    distance-change bins (upper bound in km, None for the last; colour),
    FA-region overlays, closure lines and candidate sites."""
    return {
        "decision_colours": dict(DECISION_COLOURS),
        "decision_shapes": dict(DECISION_SHAPES),
        "min_radius_px": MIN_RADIUS_PX,
        "max_radius_px": MAX_RADIUS_PX,
        "close_min_radius_px": CLOSE_MIN_RADIUS_PX,
        "outline_colour": OUTLINE_COLOUR,
        "outline_weight": OUTLINE_WEIGHT,
        "ring_weight": RING_WEIGHT,
        "receiving_colour": RECEIVING_COLOUR,
        "conflict_dash": CONFLICT_DASH,
        "bins": [[None if math.isinf(upper) else upper, colour] for upper, colour, _label in DISTANCE_CHANGE_BINS],
        "no_data_colour": NO_DATA_COLOUR,
        "overlays": {c: fa_overlay_style(c) for c in ("lost", "never")},
        "closure_line": closure_line_style(),
        "candidate": candidate_style(),
    }


def place_min_zoom(rank: int, seat: bool, population: float) -> float:
    """The zoom level from which a place name shows on the map's base layer.

    The ten largest municipal seats show from zoom 6 (Sweden whole is about
    zoom 5, where the office labels need the room), the next 30 from zoom 6.5, every seat from zoom 7, localities of
    5 000 or more from zoom 8, of 1 000 or more from 9, the rest from 10.
    Names that would overlap a higher-ranked one stay hidden anyway.
    """
    if seat:
        return 6 if rank < 10 else 6.5 if rank < 40 else 7
    if population >= 5000:
        return 8
    return 9 if population >= 1000 else 10


def year_ring_style(k: int, radius: float) -> dict:
    """Leaflet path options of the ring around an office that changes in the
    ``k``-th year (0-based) of a staged plan; ``radius``: the office marker's, px."""
    colour, dash = YEAR_RING_STYLES[k % len(YEAR_RING_STYLES)]
    return {"pane": "netoptOffices", "shape": "circle", "radius": round(float(radius) + 4.0, 1), "color": colour,
            "weight": 2.5, "dashArray": dash, "fill": False, "opacity": 1, "interactive": False,
            "className": f"netopt-year-ring netopt-year-{k}"}
