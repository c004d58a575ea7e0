"""Independent evaluation of a plan: every metric from the decisions alone.

:func:`evaluate_stage` takes the mode of every office (0 closed, 1 flexible,
2 kept) and recomputes nearest offices by brute force, visits, costs and access
metrics, without looking at the optimiser. The optimiser's objective must equal
:func:`objective_value` of its decisions (tests check it on every solved case).
Metric names carry their units.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import geometry
from .instance import Instance

__all__ = ["StageResult", "evaluate_stage", "objective_value", "weighted_quantile"]

CLOSED, FLEXIBLE, KEPT = 0, 1, 2


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """Smallest value v with at least share q of the weight at values ≤ v."""
    order = np.argsort(values, kind="stable")
    cw = np.cumsum(weights[order])
    if cw[-1] <= 0:
        return float("nan")
    k = int(np.searchsorted(cw, q * cw[-1], side="left"))
    return float(values[order][min(k, len(order) - 1)])


def objective_value(inst: Instance, dist_m: np.ndarray) -> float:
    """The objective of one stage from nearest distances (exact for integers)."""
    w = inst.population.astype(np.int64)
    if inst.objective == "distance":
        return float(int(np.sum(w * dist_m.astype(np.int64))))
    if inst.objective == "coverage":
        return float(int(np.sum(w[dist_m > inst.coverage_m])))
    return float(np.sum(inst.propensity * inst.g(inst.baseline_dist_m)) - np.sum(inst.propensity * inst.g(dist_m)))


@dataclass(frozen=True, eq=False)
class StageResult:
    """Everything a plan does in one stage (arrays indexed like the offices / demand points)."""

    modes: np.ndarray
    nearest: np.ndarray
    dist_m: np.ndarray
    visits_after: np.ndarray
    cost_after_sek: np.ndarray
    receiver: np.ndarray  # office receiving most of a closed office's visitors, -1 otherwise
    receiver_dist_m: np.ndarray
    objective: float
    metrics: dict


def evaluate_stage(inst: Instance, modes: np.ndarray, stage: int) -> StageResult:
    """Recompute one stage of a plan from the office modes.

    Args:
      inst: the problem.
      modes: int array, one per office: 0 closed, 1 flexible, 2 kept.
      stage: index into ``inst.budgets_sek``.
    """
    modes = np.asarray(modes, dtype=np.int64)
    open_ = modes > 0
    near, dist = inst.nearest_open(open_)
    visits_j = inst.propensity * inst.g(dist)
    visits_after = np.bincount(near, weights=visits_j, minlength=inst.n)
    base_j = inst.propensity * inst.g(inst.baseline_dist_m)
    fixed = np.where(modes == KEPT, inst.fixed_full_sek, np.where(modes == FLEXIBLE, inst.fixed_flex_sek, 0.0))
    cost = np.where(open_, fixed + inst.staff_per_visit_sek * visits_after, 0.0)
    flex_spend = float(np.sum(np.where(modes == FLEXIBLE, inst.fixed_flex_sek, 0.0)))
    allowance = min(float(inst.allowances_sek[stage]), flex_spend)
    existing = inst.existing_mask
    baseline_cost = float(np.sum(inst.fixed_full_sek[existing]) + inst.staff_per_visit_sek * np.sum(inst.baseline_visits))
    total = float(cost.sum())

    # where each closed office's visitors go: baseline catchments follow the demand points
    base_near, _ = inst.nearest_open(existing)
    receiver = np.full(inst.n, -1)
    receiver_d = np.full(inst.n, -1, dtype=np.int64)
    for i in np.flatnonzero(~open_ & existing):
        js = np.flatnonzero(base_near == i)
        if js.size == 0:
            continue
        share = np.bincount(near[js], weights=base_j[js], minlength=inst.n)
        r = int(np.argmax(share))
        receiver[i] = r
        receiver_d[i] = int(geometry.distance_m(inst.ox[i], inst.oy[i], inst.ox[r], inst.oy[r], inst.detour))

    w = inst.population.astype(float)
    W = max(w.sum(), 1.0)  # inhabitants (guards an empty instance)
    fa_total = inst.n_fa
    served = np.unique(inst.fa_of_office[open_ & (inst.fa_of_office >= 0)])
    served_before = np.unique(inst.fa_of_office[existing & (inst.fa_of_office >= 0)])
    cap_violations = int(np.sum((modes == FLEXIBLE) & (visits_after > inst.flex_capacity_visits + 1e-6)))
    metrics = {
        "baseline_cost_msek": baseline_cost / 1e6,
        "cost_msek": total / 1e6,
        "savings_msek": (baseline_cost - total) / 1e6,
        "flexible_allowance_used_msek": allowance / 1e6,
        "budget_msek": float(inst.budgets_sek[stage]) / 1e6,
        "meets_budget": bool(total - allowance <= inst.budgets_sek[stage] + 1.0),
        "offices_open": int(np.sum(modes == KEPT)),
        "offices_flexible": int(np.sum(modes == FLEXIBLE)),
        "offices_closed": int(np.sum((modes == CLOSED) & existing)),
        "candidate_sites_opened": int(np.sum((modes > CLOSED) & ~existing)),
        "fa_regions_served": int(served.size),
        "fa_regions_served_before": int(served_before.size),
        "fa_regions_total": int(fa_total),
        "population": int(W),
        "population_mean_distance_km": float(np.sum(w * dist) / W / 1000.0),
        "population_mean_distance_km_before": float(np.sum(w * inst.baseline_dist_m) / W / 1000.0),
        "population_p90_distance_km": weighted_quantile(dist.astype(float), w, 0.9) / 1000.0,
        "population_p90_distance_km_before": weighted_quantile(inst.baseline_dist_m.astype(float), w, 0.9) / 1000.0,
        "population_max_distance_km": float(dist.max()) / 1000.0,
        "population_share_within_30km": float(np.sum(w[dist <= 30000]) / W),
        "population_share_within_30km_before": float(np.sum(w[inst.baseline_dist_m <= 30000]) / W),
        "population_within_coverage": int(np.sum(w[dist <= inst.coverage_m])),
        "visits_before": float(base_j.sum()),
        "visits_after": float(visits_j.sum()),
        "visits_lost": float(base_j.sum() - visits_j.sum()),
        "flexible_over_capacity": cap_violations,
    }
    if inst.max_growth is not None:
        metrics["growth_violations"] = int(np.sum(visits_after > (1 + inst.max_growth) * inst.baseline_visits + 1e-3))
    return StageResult(
        modes=modes,
        nearest=near,
        dist_m=dist,
        visits_after=visits_after,
        cost_after_sek=cost,
        receiver=receiver,
        receiver_dist_m=receiver_d,
        objective=objective_value(inst, dist),
        metrics=metrics,
    )
