"""A plain p-median on arrays: the same model and solver as the planner's scenarios.

Used by the benchmarks against PySAL spopt and by anyone who wants the classic
problem: choose ``p`` of the sites to minimise the weighted distance from each
demand point to its nearest chosen site.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .metrics import objective_value
from .model import Instance
from .solve import SolverSettings, optimise

__all__ = ["PMedianResult", "solve_pmedian"]


@dataclass(frozen=True, eq=False)
class PMedianResult:
    """Chosen sites, the objective (weight × metres), bound, status and timings."""

    open_sites: np.ndarray
    objective: float
    solver_objective: float
    best_bound: float
    status: str
    build_seconds: float
    solve_seconds: float
    rounds: int
    model_size: dict


def solve_pmedian(
    demand_xy: np.ndarray,
    weights: np.ndarray,
    sites_xy: np.ndarray,
    p: int,
    *,
    detour: float = 1.0,
    settings: SolverSettings = SolverSettings(tie_break=False),
) -> PMedianResult:
    """Solve a p-median on projected coordinates (metres).

    Distances are Euclidean × ``detour`` rounded to whole metres; weights must
    be whole numbers (e.g. inhabitants) for exact objective values.
    """
    demand_xy = np.asarray(demand_xy, float)
    sites_xy = np.asarray(sites_xy, float)
    w = np.asarray(weights, np.int64)
    n, m = len(sites_xy), len(demand_xy)
    if not 1 <= p <= n:
        raise ValueError(f"p must be between 1 and the number of sites ({n}); got {p}")
    zeros_n = np.zeros(n)
    inst = Instance(
        office_ids=tuple(str(i) for i in range(n)),
        ox=sites_xy[:, 0], oy=sites_xy[:, 1], dx=demand_xy[:, 0], dy=demand_xy[:, 1],
        population=w, propensity=np.zeros(m), detour=detour, floor=1.0, decay_km=1.0,
        fixed_full_sek=zeros_n, fixed_flex_sek=zeros_n, staff_per_visit_sek=0.0,
        flex_capacity_visits=0.0, baseline_visits=zeros_n, baseline_dist_m=np.zeros(m, np.int64),
        fa_of_office=np.full(n, -1), n_fa=0, muni_of_office=np.zeros(n, np.int64),
        budgets_sek=(1e18,), allowances_sek=(0.0,), objective="distance",
        flex_allowed=np.zeros(n, bool), cover_fa=False, open_count=int(p),
    )
    opt = optimise(inst, settings)
    from .geometry import nearest_open

    modes = opt.modes[0]
    _, dist = nearest_open(inst.dx, inst.dy, inst.ox, inst.oy, modes > 0, detour)
    return PMedianResult(
        open_sites=np.flatnonzero(modes > 0),
        objective=objective_value(inst, dist),
        solver_objective=opt.solver_objective,
        best_bound=opt.best_bound,
        status=opt.status,
        build_seconds=opt.build_seconds,
        solve_seconds=opt.solve_seconds,
        rounds=opt.rounds,
        model_size=opt.model_size,
    )
