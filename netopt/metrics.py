"""Independent evaluation of a plan: every metric from the decisions alone.

:func:`evaluate_stage` takes the mode of every office (0 closed, 1 flexible,
2 kept) and recomputes nearest offices by brute force, visits, costs and access
metrics, without looking at the optimiser. The optimiser's objective must equal
:func:`objective_value` of its decisions (tests check it on every solved case).
Metric names carry their units.

How the figures are written (summary.json and every table built from the
metrics), so that none carries binary noise such as ``1003.0999999999999``:

* money, ``*_msek``: to the krona: the sum in SEK is rounded once to whole
  SEK and divided once by 10⁶, which gives the correctly rounded decimal (at
  most six decimals; the 2024 network's 1 003.1 MSEK is ``1003.1``);
  :func:`msek`;
* visits, ``visits_*``: to a tenth of a visit a year, as plan.csv
  (``visits_lost`` is ``visits_before`` minus ``visits_after`` in tenths, so
  the three add up); :func:`tenths`;
* distances, ``*_distance_km`` other than means: whole metres / 1000 (exact
  to three decimals);
* means and shares of inhabitants (``population_mean_*``, ``*_share_*``): an
  exact integer (inhabitant-metres, inhabitants) divided once by an exact
  integer: the correctly rounded ratio, the double nearest the exact value.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import geometry
from .instance import Instance

__all__ = ["StageResult", "evaluate_stage", "msek", "tenths", "ratio", "mean_km_difference", "objective_value", "weighted_quantile", "receiving_office", "office_distance_m", "access_shares", "floor_met", "offices_used"]

CLOSED, FLEXIBLE, KEPT = 0, 1, 2


def msek(sek: float) -> float:
    """Million SEK to the krona: ``sek`` rounded to whole SEK (half to even), divided once by 10⁶.

    The division of an exact integer by 10⁶ is correctly rounded, so the result
    prints with at most six decimals (``msek(1_003_099_999.9999999) == 1003.1``).
    """
    return int(round(float(sek))) / 1e6


def tenths(x: float) -> int:
    """``x`` in whole tenths (half to even): visits are written to a tenth of a visit a year."""
    return int(round(float(x) * 10))


def ratio(numerator: int, denominator: int) -> float:
    """``numerator / denominator`` of two exact integers, divided once: the correctly rounded ratio."""
    return int(numerator) / int(denominator)


def mean_km_difference(a_km: float, b_km: float, population: int) -> float:
    """``a_km − b_km`` of two population-weighted mean distances (km) over the same inhabitants.

    Each mean is a correctly rounded ratio of inhabitant-metres to
    ``population`` × 1000 (:func:`ratio`); the integers are recovered (exact
    while inhabitants × metres stay below 10¹⁴, a country's scale),
    subtracted, and divided once, so the difference is the correctly rounded
    one and not the noise of subtracting two rounded means.
    """
    d = max(int(population), 1) * 1000
    return (int(round(float(a_km) * d)) - int(round(float(b_km) * d))) / d


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """Smallest value v with at least share q of the weight at values ≤ v."""
    order = np.argsort(values, kind="stable")
    cw = np.cumsum(weights[order])
    if cw[-1] <= 0:
        return float("nan")
    k = int(np.searchsorted(cw, q * cw[-1], side="left"))
    return float(values[order][min(k, len(order) - 1)])


def offices_used(inst: Instance, modes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(office used, travel distance, equivalent distance) of every demand point, in
    whole metres, for office modes (0 closed, 1 flexible, 2 kept), by brute force.

    A demand point uses the open office with the smallest *equivalent distance*:
    the travel distance, plus ``inst.flexible_extra_m`` (δ) when the office is
    flexible; ties go to the lower office index. With δ = 0 both distances are
    the travel distance to the nearest open office.

    Raises:
      ValueError: no office is open.
    """
    modes = np.asarray(modes, np.int64)
    near, eq = inst.nearest_by_modes(modes)
    dist = eq - np.where(modes[near] == FLEXIBLE, int(inst.flexible_extra_m), 0)
    return near, dist.astype(np.int64), eq.astype(np.int64)


def objective_value(inst: Instance, dist_m: np.ndarray) -> float:
    """The objective of one stage from the distances to the offices used (exact for
    integers): the equivalent distances when flexible offices count as farther."""
    w = inst.population.astype(np.int64)
    if inst.objective == "distance":
        return float(int(np.sum(w * dist_m.astype(np.int64))))
    if inst.objective == "coverage":
        return float(int(np.sum(w[dist_m > inst.coverage_m])))
    return float(np.sum(inst.propensity * inst.g(inst.baseline_dist_m)) - np.sum(inst.propensity * inst.g(dist_m)))


def access_shares(inst: Instance, dist_m: np.ndarray) -> np.ndarray:
    """Share of the inhabitants within the access floor's distance
    (``inst.access_floor_m``) of their nearest open office. ``dist_m``: the *equivalent* distance of :func:`offices_used` (a
    flexible office counts ``flexible_extra_m`` farther, as in the model's
    candidate lists; equal to the travel distance when that is 0); one share
    per group of the floor (:meth:`Instance.floor_groups`: one national share, or one per
    FA-region); NaN for a group without inhabitants."""
    group, n_groups = inst.floor_groups()
    w = inst.population.astype(float)
    ok = group >= 0
    total = np.bincount(group[ok], weights=w[ok], minlength=n_groups)
    near = ok & (np.asarray(dist_m) <= inst.access_floor_m)
    within = np.bincount(group[near], weights=w[near], minlength=n_groups)
    return np.divide(within, total, out=np.full(n_groups, np.nan), where=total > 0)


def floor_met(inst: Instance, shares: np.ndarray) -> np.ndarray:
    """Per group of the access floor: whether its share meets ``inst.access_floor_share``
    (groups without inhabitants meet it). Tolerance: one part in 10^9."""
    return ~(shares < inst.access_floor_share - 1e-9)


def office_distance_m(inst: Instance, i: int, targets: np.ndarray) -> np.ndarray:
    """Travel distance (whole metres) from office ``i`` to each office in ``targets``,
    measured as the optimisation measures distances.

    Without a planner's matrix: straight line × detour factor between the two
    offices. With one (``inst.dist_matrix_m``, demand points × offices): the
    matrix distance from the demand point nearest office ``i`` (straight line;
    ties to the lower point index) to each target, since the matrix holds no
    office-to-office distances.
    """
    targets = np.asarray(targets, dtype=np.int64)
    if inst.dist_matrix_m is None:
        return geometry.distance_m(inst.ox[i], inst.oy[i], inst.ox[targets], inst.oy[targets], inst.detour_factor)
    j = int(np.argmin(np.hypot(inst.dx - inst.ox[i], inst.dy - inst.oy[i])))
    return np.asarray(inst.dist_matrix_m[j, targets], dtype=np.int64)


def receiving_office(inst: Instance, i: int, open_: np.ndarray, near: np.ndarray, base_near: np.ndarray, base_visits: np.ndarray) -> int:
    """The open office that receives most of closed office ``i``'s visitors.

    Its catchment (the demand points for which ``i`` was the nearest office)
    is followed to the offices they use in the plan, weighted by the visits
    they made (``base_visits``, per demand point); when they made none (a
    register giving the office 0 visits), by inhabitants; when the catchment
    has no inhabitants, the open office nearest to ``i``
    (:func:`office_distance_m`). Ties go to the lower office index. Never a
    closed office, never ``i`` itself; -1 only when no office is open.
    """
    js = np.flatnonzero(base_near == i)
    for weights in (base_visits[js], inst.population[js].astype(float)):
        if js.size and float(weights.sum()) > 0:
            share = np.bincount(near[js], weights=weights, minlength=inst.n)
            return int(np.argmax(share))  # only open offices receive a positive share
    others = np.flatnonzero(open_)
    if others.size == 0:
        return -1
    d = office_distance_m(inst, i, others)
    return int(others[np.lexsort((others, d))[0]])


@dataclass(frozen=True, eq=False)
class StageResult:
    """Everything a plan does in one stage (arrays indexed like the offices / demand points)."""

    modes: np.ndarray
    nearest: np.ndarray
    dist_m: np.ndarray
    visits_after: np.ndarray
    cost_after_sek: np.ndarray
    receiver: np.ndarray  # office receiving most of a closed office's visitors (receiving_office), -1 otherwise
    receiver_dist_m: np.ndarray  # travel distance to it, whole metres (office_distance_m), -1 otherwise
    objective: float
    metrics: dict
    equivalent_dist_m: np.ndarray | None = None  # dist_m + δ where the office used is flexible (offices_used)


def evaluate_stage(inst: Instance, modes: np.ndarray, stage: int) -> StageResult:
    """Recompute one stage of a plan from the office modes.

    Args:
      inst: the problem.
      modes: int array, one per office: 0 closed, 1 flexible, 2 kept.
      stage: index into ``inst.budgets_sek``.
    """
    modes = np.asarray(modes, dtype=np.int64)
    open_ = modes > 0
    near, dist, eq = offices_used(inst, modes)
    visits_j = inst.propensity * inst.g(eq)  # a flexible office is visited as an office δ farther
    visits_after = np.bincount(near, weights=visits_j, minlength=inst.n)
    base_j = inst.propensity * inst.g(inst.baseline_dist_m)
    fixed = np.where(modes == KEPT, inst.fixed_full_sek, np.where(modes == FLEXIBLE, inst.fixed_flex_sek, 0.0))
    cost = np.where(open_, fixed + inst.staff_per_visit_sek * visits_after, 0.0)
    flex_spend = float(np.sum(np.where(modes == FLEXIBLE, inst.fixed_flex_sek, 0.0)))
    allowance = min(float(inst.allowances_sek[stage]), flex_spend)
    existing = inst.existing_mask
    # office by office, as the plan's cost: an unchanged plan saves exactly 0 (not -1e-13)
    cost_before = np.where(existing, inst.fixed_full_sek + inst.staff_per_visit_sek * inst.baseline_visits, 0.0)
    baseline_cost = float(cost_before.sum())
    total = float(cost.sum())

    # where each closed office's visitors go: baseline catchments follow the demand points
    base_near, _ = inst.nearest_open(existing)
    receiver = np.full(inst.n, -1)
    receiver_d = np.full(inst.n, -1, dtype=np.int64)
    for i in np.flatnonzero(~open_ & existing):
        r = receiving_office(inst, i, open_, near, base_near, base_j)
        receiver[i] = r
        receiver_d[i] = int(office_distance_m(inst, i, np.array([r]))[0])

    w = inst.population.astype(float)
    W = max(w.sum(), 1.0)  # inhabitants (guards an empty instance)
    wi = inst.population.astype(np.int64)
    Wi = max(int(wi.sum()), 1)
    # whole SEK and tenths of a visit: the figures below are one division of these integers
    base_sek, total_sek, allowance_sek = int(round(baseline_cost)), int(round(total)), int(round(allowance))
    visits_before_t, visits_after_t = tenths(base_j.sum()), tenths(visits_j.sum())
    fa_total = inst.n_fa
    served = np.unique(inst.fa_of_office[open_ & (inst.fa_of_office >= 0)])
    served_before = np.unique(inst.fa_of_office[existing & (inst.fa_of_office >= 0)])
    cap_violations = int(np.sum((modes == FLEXIBLE) & (visits_after > inst.flex_capacity_visits + 1e-6)))
    metrics = {
        "baseline_cost_msek": base_sek / 1e6,
        "cost_msek": total_sek / 1e6,
        "savings_msek": (base_sek - total_sek) / 1e6,
        "flexible_allowance_used_msek": allowance_sek / 1e6,
        "budget_msek": msek(inst.budgets_sek[stage]),
        "meets_budget": bool(total - allowance <= inst.budgets_sek[stage] + 1.0),
        "offices_kept": int(np.sum(modes == KEPT)),  # with placed staff (candidate sites opened so included)
        "offices_flexible": int(np.sum(modes == FLEXIBLE)),
        "offices_open": int(np.sum(modes > CLOSED)),  # kept + flexible
        "offices_closed": int(np.sum((modes == CLOSED) & existing)),
        "candidate_sites_opened": int(np.sum((modes > CLOSED) & ~existing)),
        "fa_regions_served": int(served.size),
        "fa_regions_served_before": int(served_before.size),
        "fa_regions_total": int(fa_total),
        "population": int(W),
        "population_mean_distance_km": ratio(np.sum(wi * dist.astype(np.int64)), Wi * 1000),
        "population_mean_distance_km_before": ratio(np.sum(wi * inst.baseline_dist_m.astype(np.int64)), Wi * 1000),
        "population_p90_distance_km": weighted_quantile(dist.astype(float), w, 0.9) / 1000.0,
        "population_p90_distance_km_before": weighted_quantile(inst.baseline_dist_m.astype(float), w, 0.9) / 1000.0,
        "population_max_distance_km": float(dist.max()) / 1000.0,
        "population_share_within_30km": float(np.sum(w[dist <= 30000]) / W),
        "population_share_within_30km_before": float(np.sum(w[inst.baseline_dist_m <= 30000]) / W),
        "population_within_coverage": int(np.sum(w[dist <= inst.coverage_m])),
        "visits_before": visits_before_t / 10,
        "visits_after": visits_after_t / 10,
        "visits_lost": (visits_before_t - visits_after_t) / 10,
        "flexible_over_capacity": cap_violations,
    }
    if inst.flexible_extra_m > 0:  # only then: with δ = 0 the figures and files are as before
        metrics["flexible_extra_distance_km"] = inst.flexible_extra_m / 1000.0
        metrics["population_mean_equivalent_distance_km"] = ratio(np.sum(wi * eq.astype(np.int64)), Wi * 1000)
    if inst.max_growth is not None:
        metrics["growth_violations"] = int(np.sum(visits_after > (1 + inst.max_growth) * inst.baseline_visits + 1e-3))
    if inst.access_floor_m is not None:
        shares = access_shares(inst, eq)  # a flexible office counts δ farther, as in the model (and max_distance)
        before = access_shares(inst, inst.baseline_dist_m)
        metrics["access_floor_km"] = inst.access_floor_m / 1000.0
        metrics["access_floor_scope"] = inst.access_floor_scope
        metrics["access_floor_share_required"] = inst.access_floor_share
        # national: the share; fa_region: the lowest FA-region's share
        metrics["access_floor_share_achieved"] = float(np.nanmin(shares)) if np.isfinite(shares).any() else float("nan")
        metrics["access_floor_share_before"] = float(np.nanmin(before)) if np.isfinite(before).any() else float("nan")
        if inst.access_floor_share is not None:
            metrics["access_floor_met"] = bool(floor_met(inst, shares).all())
            metrics["access_floor_groups_below"] = int((~floor_met(inst, shares)).sum())
    return StageResult(
        modes=modes,
        nearest=near,
        dist_m=dist,
        visits_after=visits_after,
        cost_after_sek=cost,
        receiver=receiver,
        receiver_dist_m=receiver_d,
        objective=objective_value(inst, eq),
        metrics=metrics,
        equivalent_dist_m=eq,
    )
