"""What-if in the map: the data a page needs to recompute a plan's figures exactly.

A decision meeting asks "and if we keep Kista after all?". ``map.html`` answers
at once: clicking an office changes its decision, and the page recomputes what
:func:`netopt.metrics.evaluate_stage` computes for the new decisions, offline
(``netopt/static/netopt-whatif.js``). :func:`whatif_payload` is the thin
adapter that turns a plan's :class:`~netopt.model.Instance` arrays and one
stage's modes into the JSON the page reads; nothing here computes a figure of
its own.

What the page needs, and how it is kept small (4,081 demand points × 121
offices, the shipped network):

* **Distances, the same as the optimisation's, in whole metres.** With the
  default source (straight line in SWEREF 99 TM × detour factor) the page gets
  the exact float64 coordinates of demand points and offices and computes
  ``rint(sqrt(dx·dx + dy·dy) · detour)`` itself; each of those operations is
  correctly rounded in IEEE arithmetic, so the result is the same in every
  browser and is simulated here bit for bit. numpy computes the optimisation's
  distance with ``hypot``, which may differ in the last bit; every pair where
  that changes the whole metre is listed in ``fix`` with the optimisation's
  value (none on the shipped network: with numpy 2.4 the float values differ
  in 83,032 of 493,801 pairs, but no rounded metre does). With a planner's own distance
  matrix (``--distances``) the page gets the matrix itself: per demand point
  the difference to the previous point's row, zigzag varint coded, base64
  (about 2.4 bytes per pair). Distances from each office to every other
  (the receiving office of a closed office) are embedded as
  :func:`netopt.metrics.office_distance_m` gives them (straight line × detour,
  or the matrix row of the demand point nearest the office), coded the same
  way.
* **Arrays** as base64 of little-endian typed arrays (float64 exactly as in
  Python; population int32; FA-region index int16).
* **Flexible offices valued below kept ones**: ``flexible_extra_m`` (δ, whole
  metres; present only when δ > 0): the page adds it to the distance of every
  flexible office when it picks the office a demand point uses, as
  :func:`netopt.metrics.offices_used` does.
* **The access floor** (``access_floor``: ``m``, whole metres; ``share``;
  ``scope``, ``"national"`` or ``"fa_region"``; present only with a floor in
  force): the page measures it as :func:`netopt.metrics.access_shares` does,
  on the equivalent distance (a flexible office δ farther), per FA-region by
  ``points.fa``, and judges it as :func:`netopt.metrics.floor_met` does.
* **Scalars** as JSON numbers (Python's shortest round-trip repr, read back to
  the same double by ``JSON.parse``).

Networks too large for a page (more than :data:`MAX_PAIRS` demand point ×
office and office × office pairs, or :data:`MAX_MATRIX_PAIRS` with a
planner's matrix) get ``{"available": False, "reason": ...}`` and the map says
so.

:func:`netopt.tables.plan_tables` computes the payload of the stage it
describes; :func:`netopt.maps.whatif.whatif_extension` puts it on the map.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING

import numpy as np

from . import geometry
from .metrics import CLOSED, FLEXIBLE, KEPT, office_distance_m

if TYPE_CHECKING:  # only for the annotation: the plan type may move between modules
    from .plan import Plan

__all__ = ["whatif_payload", "page_distance_m", "varint_row_deltas", "MAX_PAIRS", "MAX_MATRIX_PAIRS", "CHECK_KEYS"]

#: At most this many demand point × office pairs with computed distances
#: (the page holds them as one Int32Array: 4 bytes a pair).
MAX_PAIRS = 5_000_000
#: At most this many pairs with a planner's distance matrix (embedded: about 2.4 bytes a pair).
MAX_MATRIX_PAIRS = 2_000_000

#: The plan's figures (from the Python evaluator) that the page checks its own
#: evaluation of the plan against when it opens, at the precision it shows them.
CHECK_KEYS = (
    "savings_msek", "cost_msek", "flexible_allowance_used_msek", "meets_budget", "offices_kept", "offices_open", "offices_flexible",
    "offices_closed", "candidate_sites_opened", "fa_regions_served", "population_mean_distance_km",
    "population_p90_distance_km", "population_within_coverage", "visits_after", "visits_lost",
)

_CHUNK = 2048


def page_distance_m(ax, ay, bx, by, detour: float) -> np.ndarray:
    """The whole metres the page computes: ``rint(sqrt(a·a + b·b) · detour)``, a = ax − bx.

    Every step is one correctly rounded IEEE operation (numpy applies them one
    by one, as JavaScript does), so this equals the browser's value bit for bit;
    ``rint`` rounds halves to even, as the page does.
    """
    a = np.subtract(ax, bx)
    b = np.subtract(ay, by)
    return np.rint(np.sqrt(a * a + b * b) * detour).astype(np.int64)


def _fixes(ax, ay, bx, by, detour: float) -> list[list[int]]:
    """``[row, column, metres]`` wherever the page's distance differs from the optimisation's."""
    out = []
    for s in range(0, len(ax), _CHUNK):
        rows = slice(s, s + _CHUNK)
        truth = geometry.distance_m(ax[rows, None], ay[rows, None], bx[None, :], by[None, :], detour)
        page = page_distance_m(ax[rows, None], ay[rows, None], bx[None, :], by[None, :], detour)
        for r, c in zip(*np.nonzero(truth != page)):
            out.append([int(s + r), int(c), int(truth[r, c])])
    return out


def varint_row_deltas(matrix: np.ndarray) -> bytes:
    """An m × n matrix of non-negative integers as bytes: row j minus row j−1
    (row −1 = 0), zigzag coded (0, −1, 1, −2 … → 0, 1, 2, 3 …), each value an
    unsigned LEB128 varint (7 bits a byte, high bit set on all but the last
    byte), row-major."""
    m = np.asarray(matrix, dtype=np.int64)
    if m.size == 0:
        return b""
    d = np.diff(m, axis=0, prepend=np.zeros((1, m.shape[1]), np.int64)).ravel()
    z = np.where(d >= 0, 2 * d, -2 * d - 1).astype(np.uint64)
    nbytes = np.ones(z.shape, np.int64)
    for k in range(1, 10):
        nbytes += z >= np.uint64(1 << (7 * k))
    width = int(nbytes.max())
    cols = np.arange(width)
    groups = (z[:, None] >> (np.uint64(7) * cols.astype(np.uint64))[None, :]) & np.uint64(0x7F)
    more = cols[None, :] < (nbytes[:, None] - 1)
    groups = groups | np.where(more, np.uint64(0x80), np.uint64(0))
    used = cols[None, :] < nbytes[:, None]
    return groups[used].astype(np.uint8).tobytes()


def _b64(values, dtype: str) -> str:
    return base64.b64encode(np.ascontiguousarray(values, dtype=np.dtype(dtype)).tobytes()).decode("ascii")


def _plain(x):
    if isinstance(x, (np.bool_, bool)):
        return bool(x)
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.floating, float)):
        return float(x)
    return x


def whatif_payload(plan: Plan, stage: int = -1) -> dict:
    """The JSON-ready data with which ``map.html`` recomputes one stage of ``plan``
    for any decisions (see the module docstring).

    Returns a dict of plain JSON values. Units: metres, SEK per year, visits per
    year; ``budget_sek`` and ``allowance_sek`` are the stage's. Arrays indexed
    like ``plan.prepared.instance`` (offices in register order, then candidate
    sites; demand points in file order). ``{"available": False, "reason": str,
    "demand_points", "offices", "distances", "limit"}`` (the counts that make
    it too large) when the network is too large for a page.
    """
    prep = plan.prepared
    inst = prep.instance
    net = prep.network
    s = range(len(plan.stages))[stage]
    st = plan.stages[s]
    stage_def = prep.scenario.stages[s]
    matrix = inst.dist_matrix_m
    pairs = inst.m * inst.n + inst.n * inst.n
    limit = MAX_MATRIX_PAIRS if matrix is not None else MAX_PAIRS
    if pairs > limit:
        def count(x: int) -> str:
            return f"{x:,}".replace(",", " ")

        return {
            "available": False,
            "reason": f"the network has {count(inst.m)} demand points and {count(inst.n)} offices: {count(pairs)} distances, "
            f"more than the {count(limit)} a page can hold; use netopt evaluate",
            "demand_points": int(inst.m),
            "offices": int(inst.n),
            "distances": int(pairs),
            "limit": int(limit),
        }

    fa_codes = sorted(net.fa_regions["fa_code"])
    fa_index = {c: k for k, c in enumerate(fa_codes)}
    fa_names = dict(zip(net.fa_regions["fa_code"], net.fa_regions["fa_name"]))
    off = net.offices
    dem = net.demand
    ox, oy = np.asarray(inst.ox, float), np.asarray(inst.oy, float)

    offices_m = np.stack([office_distance_m(inst, i, np.arange(inst.n)) for i in range(inst.n)]) if inst.n else np.zeros((0, 0), np.int64)
    distances: dict = {"detour": float(inst.detour_factor), "offices": base64.b64encode(varint_row_deltas(offices_m)).decode("ascii")}
    points = {
        "population": _b64(inst.population, "<i4"),
        "propensity": _b64(inst.propensity, "<f8"),
        "fa": _b64([fa_index.get(c, -1) for c in dem["fa_code"]], "<i2"),
    }
    if matrix is None:
        dx, dy = np.asarray(inst.dx, float), np.asarray(inst.dy, float)
        distances.update(source="straight_line", fix=_fixes(dx, dy, ox, oy, inst.detour_factor))
        points.update(x=_b64(dx, "<f8"), y=_b64(dy, "<f8"))
    else:
        distances.update(source="matrix", rows=base64.b64encode(varint_row_deltas(matrix)).decode("ascii"))

    check = {k: _plain(st.metrics[k]) for k in CHECK_KEYS}
    check["objective"] = float(st.objective)
    optional: dict = {}
    if inst.flexible_extra_m > 0:  # only then, so that with δ = 0 the page is byte for byte as before
        optional = {"flexible_extra_m": int(inst.flexible_extra_m)}
        check["population_mean_equivalent_distance_km"] = _plain(st.metrics["population_mean_equivalent_distance_km"])
    if inst.has_access_floor:  # only with a floor in force, so that pages without one stay as they were
        optional["access_floor"] = {"m": int(inst.access_floor_m), "share": float(inst.access_floor_share), "scope": str(inst.access_floor_scope)}
        for key in ("access_floor_met", "access_floor_share_achieved", "access_floor_groups_below"):
            if not (key == "access_floor_share_achieved" and np.isnan(st.metrics[key])):  # NaN: nobody lives anywhere
                check[key] = _plain(st.metrics[key])
    return {
        "available": True,
        "scenario": str(prep.scenario.name),
        "stage": {
            "index": s,
            "stages": len(plan.stages),
            "year": int(stage_def.year),
            "cut_msek": float(stage_def.cut_msek),
            "budget_sek": float(inst.budgets_sek[s]),
            "allowance_sek": float(inst.allowances_sek[s]),
        },
        "objective": str(inst.objective),
        "coverage_m": int(inst.coverage_m),
        "floor": float(inst.floor),
        "decay_km": float(inst.decay_km),
        "staff_per_visit_sek": float(inst.staff_per_visit_sek),
        "flex_capacity_visits": float(inst.flex_capacity_visits),
        "max_growth": None if inst.max_growth is None else float(inst.max_growth),
        **optional,
        "m": int(inst.m),
        "n": int(inst.n),
        "offices": {
            "id": [str(x) for x in inst.office_ids],
            "name": [str(x) for x in off["office_name"]],
            "lat": [round(float(v), 5) for v in off["lat"]],
            "lon": [round(float(v), 5) for v in off["lon"]],
            "fa": [int(v) for v in inst.fa_of_office],
            "existing": [int(v) for v in inst.existing_mask],
            "plan_mode": [int(v) for v in st.modes],
            "x": _b64(ox, "<f8"),
            "y": _b64(oy, "<f8"),
            "fixed_full": _b64(inst.fixed_full_sek, "<f8"),
            "fixed_flex": _b64(inst.fixed_flex_sek, "<f8"),
            "baseline_visits": _b64(inst.baseline_visits, "<f8"),
        },
        "points": points,
        "distances": distances,
        "fa_regions": {"code": [str(c) for c in fa_codes], "name": [str(fa_names[c]) for c in fa_codes]},
        "modes": {"closed": CLOSED, "flexible": FLEXIBLE, "kept": KEPT},
        "check": check,
    }
