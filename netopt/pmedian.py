"""A plain p-median on arrays: the same model and solver as the planner's scenarios.

Used by the benchmarks against PySAL spopt and by anyone who wants the classic
problem: choose ``p`` of the sites to minimise the weighted distance from each
demand point to its nearest chosen site.

How it stays fast on large instances (``10^5`` demand points × ``2·10^3`` sites):

1. A numpy heuristic (greedy on truncated candidate lists, then
   locate–allocate polishing) gives a good plan in seconds. Its exact
   objective (brute-force evaluator) is an upper bound.
2. The candidate lists of the MIP are sized from that plan: demand point j
   gets its sites up to (and a margin past) the rank of the heuristic's nearest
   open site, at least ``min_k``. Most demand points of a clustered instance
   need only a handful, so the model stays small.
3. The sorted-distance MIP (:func:`netopt.model.build_model`) is solved by
   the shared optimisation loop (:func:`netopt.solver.optimise`), warm-started
   from the heuristic plan; where the optimum leaves a demand point with all
   candidates closed its list is doubled and the model re-solved, so the
   result is exact (or within the requested gap, measured exactly).
4. If the solver stops without a plan, the heuristic plan is the answer,
   labelled ``TIME_LIMIT`` with the solver's bound when it has one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from . import geometry
from .errors import InfeasibleError
from .instance import Instance
from .metrics import objective_value
from .scenario import SolverSettings
from .solver import SolveStatus, optimise
from .solver.result import relative_gap

__all__ = ["PMedianResult", "solve_pmedian", "pmedian_instance", "heuristic_pmedian"]


@dataclass(frozen=True, eq=False)
class PMedianResult:
    """Chosen sites, the objective (weight × metres), bound, status and timings.

    ``objective`` is recomputed by the brute-force evaluator; ``gap`` is
    ``(objective − best_bound) / objective`` (0 when proven optimal).
    """

    open_sites: np.ndarray
    objective: float
    solver_objective: float | None
    best_bound: float | None
    gap: float | None
    status: str
    build_seconds: float
    solve_seconds: float
    heuristic_seconds: float
    heuristic_objective: float
    rounds: int
    model_size: dict

    @property
    def total_seconds(self) -> float:
        return self.heuristic_seconds + self.build_seconds + self.solve_seconds


def pmedian_instance(demand_xy, weights, sites_xy, p: int, detour: float = 1.0) -> Instance:
    """The :class:`~netopt.model.Instance` of a plain p-median."""
    demand_xy = np.asarray(demand_xy, float)
    sites_xy = np.asarray(sites_xy, float)
    w = np.asarray(weights, np.int64)
    n, m = len(sites_xy), len(demand_xy)
    if not 1 <= p <= n:
        raise ValueError(f"p must be between 1 and the number of sites ({n}); got {p}")
    zeros_n = np.zeros(n)
    return Instance(
        office_ids=tuple(str(i) for i in range(n)),
        ox=sites_xy[:, 0], oy=sites_xy[:, 1], dx=demand_xy[:, 0], dy=demand_xy[:, 1],
        population=w, propensity=np.zeros(m), detour_factor=detour, floor=1.0, decay_km=1.0,
        fixed_full_sek=zeros_n, fixed_flex_sek=zeros_n, staff_per_visit_sek=0.0,
        flex_capacity_visits=0.0, baseline_visits=zeros_n, baseline_dist_m=np.zeros(m, np.int64),
        fa_of_office=np.full(n, -1), n_fa=0, muni_of_office=np.zeros(n, np.int64),
        budgets_sek=(1e18,), allowances_sek=(0.0,), objective="distance",
        flex_allowed=np.zeros(n, bool), cover_fa=False, open_count=int(p),
    )


# --------------------------------------------------------------------------- heuristic


def _assign(inst: Instance, is_open: np.ndarray):
    """Nearest open site and whole-metre distance of every demand point (KD-tree on open sites)."""
    from scipy.spatial import cKDTree

    idx = np.flatnonzero(is_open)
    tree = cKDTree(np.column_stack([inst.ox[idx], inst.oy[idx]]))
    kq = min(4, len(idx))
    _, nb = tree.query(np.column_stack([inst.dx, inst.dy]), k=kq)
    nb = np.asarray(nb).reshape(inst.m, kq)
    sites = idx[nb]
    d = geometry.distance_m(inst.dx[:, None], inst.dy[:, None], inst.ox[sites], inst.oy[sites], inst.detour)
    best = np.argmin(d * (inst.n + 1) + sites, axis=1)  # rounding ties: lowest index
    r = np.arange(inst.m)
    return sites[r, best], d[r, best]


def heuristic_pmedian(inst: Instance, p: int, *, list_size: int | None = None, max_rounds: int = 30) -> np.ndarray:
    """A good p-median plan fast: greedy on truncated lists + locate–allocate.

    Greedy: open, one at a time, the site with the largest weighted saving over
    each demand point's ``list_size`` nearest sites (a demand point with none
    of them open counts at twice the distance to its first unlisted site).
    Locate–allocate: assign each demand point to its nearest open site; move
    each open site to the site minimising its cluster's weighted distance
    (searched among the sites in the cluster members' lists); repeat until no
    move improves. Returns the open mask (length n).
    """
    n, m = inst.n, inst.m
    if p >= n:
        return np.ones(n, bool)
    K = min(n, list_size or max(16, int(np.ceil(3.0 * n / p))))
    cand = geometry.nearest_candidates(inst.dx, inst.dy, inst.ox, inst.oy, K, inst.detour)
    row = np.repeat(np.arange(m), cand.sizes)
    w = inst.population.astype(float)
    d = cand.dist_m.astype(float)
    far = np.where(cand.next_m >= 0, 2.0 * cand.next_m, d[cand.ptr[1:] - 1] + 1.0).astype(float)
    cur = far.copy()
    is_open = np.zeros(n, bool)
    wr = w[row]
    for _ in range(p):
        gain = np.bincount(cand.office, weights=wr * np.maximum(cur[row] - d, 0.0), minlength=n)
        gain[is_open] = -1.0
        i = int(np.argmax(gain))
        is_open[i] = True
        hit = cand.office == i
        np.minimum.at(cur, row[hit], d[hit])

    # locate–allocate
    best_obj = None
    for _ in range(max_rounds):
        near, dist = _assign(inst, is_open)
        obj = float(np.sum(inst.population * dist))
        if best_obj is not None and obj >= best_obj:
            break
        best_obj, best_open = obj, is_open.copy()
        new_open = np.zeros(n, bool)
        order = np.argsort(near, kind="stable")
        bounds = np.searchsorted(near[order], np.arange(n + 1))
        for c in np.flatnonzero(is_open):
            members = order[bounds[c] : bounds[c + 1]]
            if members.size == 0:
                new_open[c] = True
                continue
            # candidate sites: those in the members' lists (and c itself)
            ent = np.concatenate([cand.office[cand.ptr[j] : cand.ptr[j + 1]] for j in members[:200]] + [[c]])
            sites = np.unique(ent)
            sites = sites[~new_open[sites] & (~is_open[sites] | (sites == c))]
            dd = geometry.distance_m(inst.dx[members, None], inst.dy[members, None], inst.ox[sites][None, :], inst.oy[sites][None, :], inst.detour)
            cost = inst.population[members] @ dd
            new_open[sites[int(np.argmin(cost))]] = True
        if new_open.sum() < p:  # collisions: refill greedily by index (rare)
            new_open[np.flatnonzero(~new_open)[: p - int(new_open.sum())]] = True
        is_open = new_open
    return best_open


# --------------------------------------------------------------------------- exact solve


def solve_pmedian(
    demand_xy: np.ndarray,
    weights: np.ndarray,
    sites_xy: np.ndarray,
    p: int,
    *,
    detour: float = 1.0,
    settings: SolverSettings = SolverSettings(tie_break=False),
    use_heuristic: bool | None = None,
    min_k: int = 8,
    margin: int = 2,
) -> PMedianResult:
    """Solve a p-median on projected coordinates (metres), exactly (or to ``settings.relative_gap``).

    Distances are Euclidean × ``detour`` rounded to whole metres; weights must
    be whole numbers (e.g. inhabitants) for exact objective values.
    ``use_heuristic`` (default: when there are at least 5,000 demand points or
    fewer than n/2 sites open) sizes the candidate lists from a heuristic plan,
    starts the solver from it and keeps it as the answer when the solver stops
    without a better plan; otherwise every list starts at ``min_k``.

    Raises:
      ValueError: p is not between 1 and the number of sites.
      InfeasibleError: the solver stopped without a plan and there is no heuristic plan.
    """
    inst = pmedian_instance(demand_xy, weights, sites_xy, p, detour)
    n, m = inst.n, inst.m
    t_start = time.perf_counter()
    deadline = t_start + settings.time_limit_s
    if use_heuristic is None:
        use_heuristic = m >= 5000 or p < n / 2
    heur_open = None
    heur_obj = float("nan")
    k = np.full(m, min(min_k, n), np.int64)
    if use_heuristic:
        heur_open = heuristic_pmedian(inst, p)
        _, hd = geometry.nearest_open(inst.dx, inst.dy, inst.ox, inst.oy, heur_open, detour)
        heur_obj = objective_value(inst, hd)
        # rank of the heuristic's nearest open site = number of sites strictly nearer
        kk = max(min_k, int(np.ceil(2.0 * n / p)))
        c0 = geometry.nearest_candidates(inst.dx, inst.dy, inst.ox, inst.oy, min(n, 4 * kk), detour)
        ranks = np.add.reduceat((c0.dist_m < np.repeat(hd, c0.sizes)).astype(np.int64), c0.ptr[:-1])
        k = np.minimum(np.maximum(ranks + 1 + margin, min_k), n)
    heur_s = time.perf_counter() - t_start

    start = (np.where(heur_open, 2, 0),) if heur_open is not None else None
    opt = optimise(inst, settings, sizes=k, start=start, deadline=deadline)
    if opt.modes is not None and opt.status.has_plan:
        is_open, obj, status = opt.modes[0] > 0, float(opt.objective), opt.status
    elif heur_open is not None:
        is_open, obj, status = heur_open, heur_obj, SolveStatus.TIME_LIMIT
    else:
        raise InfeasibleError(f"the solver stopped ({opt.status}) after {opt.solve_seconds:.0f} s without a plan", {"status": str(opt.status)})
    if heur_open is not None and heur_obj < obj:  # the solver stopped early with a worse plan
        is_open, obj = heur_open, heur_obj
    bound = opt.bound
    gap = None if bound is None else relative_gap(obj, bound)
    if bound is not None and obj - bound < 1.0:
        status, gap = SolveStatus.OPTIMAL, 0.0
    elif status == SolveStatus.OPTIMAL:
        status = SolveStatus.TIME_LIMIT  # a fallback plan that is not the proven one
    if status != SolveStatus.OPTIMAL and gap is not None and settings.relative_gap > 0 and gap <= settings.relative_gap + 1e-12:
        status = SolveStatus.WITHIN_GAP
    return PMedianResult(
        open_sites=np.flatnonzero(is_open),
        objective=obj,
        solver_objective=opt.solver_objective,
        best_bound=bound,
        gap=gap,
        status=str(status),
        build_seconds=opt.build_seconds,
        solve_seconds=opt.solve_seconds,
        heuristic_seconds=heur_s,
        heuristic_objective=heur_obj,
        rounds=opt.rounds,
        model_size=opt.model_size,
    )
