"""A plain p-median on arrays: the same model and solver as the planner's scenarios.

Used by the benchmarks against PySAL spopt and by anyone who wants the classic
problem: choose ``p`` of the sites to minimise the weighted distance from each
demand point to its nearest chosen site.

How it stays fast on large instances (``10^5`` demand points × ``2·10^3`` sites):

1. Candidate lists: each demand point's max(16, ⌈5n/p⌉) nearest sites.
2. A numpy heuristic (lazy greedy on the lists, locate–allocate polishing,
   then a fast interchange local search) gives a good plan in seconds. Its
   exact objective (brute-force evaluator) is an upper bound.
3. A Lagrangian lower bound (:mod:`netopt.lagrangian`) on the same lists,
   alternating with interchange searches started from the relaxed problem's
   sites (Lagrangian-guided), until plan and bound meet the requested gap. For
   1 % on the largest instances this is all that is needed: no MIP is built.
4. Otherwise reduced-cost fixing removes the sites no optimal plan opens,
   locks those every optimal plan opens, and drops the demand points such a
   site serves whatever the plan. The MIP solves what is left.
5. The candidate lists of the MIP are sized from the plan: demand point j
   gets its sites up to (and a margin past) the rank of the plan's nearest
   open site, at least ``min_k``. Most demand points of a clustered instance
   need only a handful, so the model stays small.
6. The sorted-distance MIP (:func:`netopt.model.build_model`) is solved by
   the shared optimisation loop (:func:`netopt.solver.optimise`, the
   scenario's backend), warm-started from the plan; where the optimum leaves
   a demand point with all candidates closed its list is doubled and the
   model re-solved, so the result is exact (or within the requested gap,
   measured exactly).
7. If the solver stops without a plan (or with a worse one), the best plan
   found so far is the answer, labelled ``TIME_LIMIT`` with the best bound.

Every reported objective is the brute-force evaluator's; the reported bound is
the better of the Lagrangian bound and the solver's (plus the cost of the
demand points settled by fixing), both valid for the full problem. Statuses are
:class:`~netopt.solver.SolveStatus` values: ``OPTIMAL``, ``WITHIN_GAP``,
``TIME_LIMIT``; with no plan at all, :class:`~netopt.errors.InfeasibleError`
(status ``NO_PLAN``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np

from . import geometry
from .errors import InfeasibleError
from .geometry import Candidates
from .instance import Instance
from .metrics import objective_value
from .scenario import SolverSettings
from .solver import SolveStatus, optimise
from .solver.result import relative_gap

CLOSED, KEPT = 0, 2

__all__ = ["PMedianResult", "solve_pmedian", "uses_lagrangian", "pmedian_instance", "heuristic_pmedian", "Interchange", "default_list_size"]


@dataclass(frozen=True, eq=False)
class PMedianResult:
    """Chosen sites, the objective (weight × metres), bound, status and timings.

    ``objective`` is recomputed by the brute-force evaluator; ``best_bound`` is
    the best proven lower bound (the Lagrangian bound or HiGHS's, whichever is
    higher); ``gap`` is ``(objective − best_bound) / objective`` (0 when proven
    optimal). ``status`` (a :class:`~netopt.solver.SolveStatus`): ``OPTIMAL``
    (proven optimal: the bound reaches the objective), ``WITHIN_GAP`` (proven
    within a requested ``settings.relative_gap`` > 0, not proven optimal),
    ``TIME_LIMIT`` (the time limit stopped the solve; the plan and its bound
    and gap are reported). ``lagrangian_bound`` is the bound of
    :mod:`netopt.lagrangian` (None when not used), ``sites_fixed_open`` /
    ``sites_fixed_closed`` the sites its reduced-cost fixing settled before the
    MIP; ``rounds`` counts the MIP's widening rounds (0: the bound and the plan
    sufficed).
    """

    open_sites: np.ndarray
    objective: float
    solver_objective: float | None
    best_bound: float | None
    gap: float | None
    status: SolveStatus
    build_seconds: float
    solve_seconds: float
    heuristic_seconds: float
    heuristic_objective: float
    rounds: int
    model_size: dict
    lagrangian_bound: int | None = None
    lagrangian_seconds: float = 0.0
    lagrangian_iterations: int = 0
    sites_fixed_open: int = 0
    sites_fixed_closed: int = 0

    @property
    def total_seconds(self) -> float:
        return self.heuristic_seconds + self.lagrangian_seconds + self.build_seconds + self.solve_seconds


def pmedian_instance(demand_xy, weights, sites_xy, p: int, detour: float = 1.0) -> Instance:
    """The :class:`~netopt.instance.Instance` of a plain p-median.

    Args:
      demand_xy: (m, 2) projected coordinates of the demand points (metres).
      weights: (m,) whole numbers ≥ 0 (e.g. inhabitants).
      sites_xy: (n, 2) projected coordinates of the candidate sites (metres).
      p: number of sites to open, 1 ≤ p ≤ n.
      detour: factor on the straight-line distance (> 0).
    Raises ValueError naming the argument and the first offending row.
    """
    demand_xy = np.asarray(demand_xy, float)
    sites_xy = np.asarray(sites_xy, float)
    raw_w = np.asarray(weights)
    for name, xy in (("demand_xy", demand_xy), ("sites_xy", sites_xy)):
        if xy.ndim != 2 or xy.shape[1] != 2 or len(xy) == 0:
            raise ValueError(f"{name} must be a non-empty (rows, 2) array of x, y in metres; got shape {xy.shape}")
        bad = np.flatnonzero(~np.isfinite(xy).all(axis=1))
        if bad.size:
            raise ValueError(f"{name} row {bad[0]}: coordinates {xy[bad[0]].tolist()} are not finite numbers")
    n, m = len(sites_xy), len(demand_xy)
    if raw_w.shape != (m,):
        raise ValueError(f"weights must have one entry per demand point ({m}); got shape {raw_w.shape}")
    if not np.issubdtype(raw_w.dtype, np.number) or raw_w.dtype == bool:
        raise ValueError(f"weights must be numbers; got {raw_w.dtype}")
    bad = np.flatnonzero(~np.isfinite(raw_w) | (raw_w < 0) | (raw_w != np.round(raw_w)))
    if bad.size:
        raise ValueError(f"weights row {bad[0]}: {raw_w[bad[0]]!r} is not a whole number ≥ 0 (weights count inhabitants; round them first)")
    w = raw_w.astype(np.int64)
    if not (np.isfinite(detour) and detour > 0):
        raise ValueError(f"detour must be a positive number; got {detour!r}")
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
    d = geometry.distance_m(inst.dx[:, None], inst.dy[:, None], inst.ox[sites], inst.oy[sites], inst.detour_factor)
    best = np.argmin(d * (inst.n + 1) + sites, axis=1)  # rounding ties: lowest index
    r = np.arange(inst.m)
    return sites[r, best], d[r, best]


def _transpose(cand: Candidates, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Site → list entries that name it: ``entries[tptr[i]:tptr[i+1]]`` (CSR by site)."""
    entries = np.argsort(cand.office, kind="stable")
    tptr = np.searchsorted(cand.office[entries], np.arange(n + 1))
    return entries, tptr


def _ragged(ptr: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The list entries of ``rows`` (concatenated) and, per entry, its position in ``rows``."""
    lens = ptr[rows + 1] - ptr[rows]
    total = int(lens.sum())
    offsets = np.concatenate([[0], np.cumsum(lens)[:-1]])
    idx = np.repeat(ptr[rows] - offsets, lens) + np.arange(total)
    return idx, np.repeat(np.arange(len(rows)), lens)


def _greedy(cand: Candidates, w: np.ndarray, n: int, p: int) -> np.ndarray:
    """Open, one at a time, the site with the largest weighted saving (ties: lowest index).

    Savings are computed on the candidate lists; a demand point with none of
    its listed sites open counts at twice the distance to its first unlisted
    site. Savings only shrink as sites open (the objective is submodular), so
    a stale saving is an upper bound and only the best site's is recomputed
    ("lazy greedy"): the same choices as recomputing every saving each time.
    """
    import heapq

    row = np.repeat(np.arange(len(cand.sizes)), cand.sizes)
    d = cand.dist_m.astype(float)
    wr = w.astype(float)[row]
    cur = np.where(cand.next_m >= 0, 2.0 * cand.next_m, d[cand.ptr[1:] - 1] + 1.0).astype(float)
    entries, tptr = _transpose(cand, n)
    gain = np.bincount(cand.office, weights=wr * np.maximum(cur[row] - d, 0.0), minlength=n)
    heap = [(-float(g), i) for i, g in enumerate(gain)]
    heapq.heapify(heap)
    is_open = np.zeros(n, bool)
    for _ in range(p):
        while True:
            _, i = heapq.heappop(heap)
            e = entries[tptr[i] : tptr[i + 1]]
            key = (-float(np.sum(wr[e] * np.maximum(cur[row[e]] - d[e], 0.0))), i)
            if not heap or key <= heap[0]:
                break
            heapq.heappush(heap, key)
        is_open[i] = True
        np.minimum.at(cur, row[e], d[e])
    return is_open


def _locate_allocate(inst: Instance, cand: Candidates, is_open: np.ndarray, p: int, max_rounds: int) -> np.ndarray:
    """Move each open site to the best site of its catchment until nothing improves.

    Assign each demand point to its nearest open site; move each open site to
    the site minimising its catchment's weighted distance (searched among the
    sites in the members' lists); repeat while the objective falls.
    """
    n = inst.n
    best_obj, best_open = None, is_open
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
            dd = geometry.distance_m(inst.dx[members, None], inst.dy[members, None], inst.ox[sites][None, :], inst.oy[sites][None, :], inst.detour_factor)
            cost = inst.population[members] @ dd
            new_open[sites[int(np.argmin(cost))]] = True
        if new_open.sum() < p:  # collisions: refill greedily by index (rare)
            new_open[np.flatnonzero(~new_open)[: p - int(new_open.sum())]] = True
        is_open = new_open
    return best_open


class Interchange:
    """Fast interchange local search for the p-median on candidate lists.

    Swap one open site r for one closed site i while that lowers the objective,
    always taking the best swap (Whitaker 1983, with the bookkeeping of Resende
    & Werneck, J. Heuristics 2007). For every demand point j with nearest open
    site φ₁(j) at distance d₁ and second-nearest at d₂, and cost c = w·d:

    * gain(i) = Σ_j w_j max(0, d₁(j) − d_ij): what opening i alone saves;
    * loss(r) = Σ_{φ₁(j)=r} w_j (d₂(j) − d₁(j)): what closing r alone costs;
    * extra(i, r) = Σ_{φ₁(j)=r, d_ij<d₂(j)} w_j (d₂(j) − max(d_ij, d₁(j))),

    and the swap saves gain(i) − loss(r) + extra(i, r) exactly. After a swap
    only the demand points whose two nearest open sites change are
    re-counted (those listing i before their second-nearest, or served by r).

    Distances come from the candidate lists: a point with no (second) open
    site in its list counts at the distance to its first unlisted site
    (``next_m``), an optimistic surrogate; callers evaluate the plan found
    with the brute-force evaluator. All sums are of whole numbers below 2⁵³,
    so they are exact; each swap lowers the surrogate objective by at least 1,
    so the search ends.

    Args:
      cand: candidate lists of the demand points.
      weights: whole-number weights (m,).
      n: number of sites; p: number of open sites.
    """

    #: beyond this many (site, open site) pairs the dense extra table is too large
    MAX_PAIRS = 30_000_000

    def __init__(self, cand: Candidates, weights: np.ndarray, n: int, p: int):
        self.cand, self.n, self.p = cand, int(n), int(p)
        self.m = len(cand.sizes)
        self.w = np.asarray(weights, np.int64).astype(float)
        self.row = np.repeat(np.arange(self.m), cand.sizes)
        self.d = cand.dist_m.astype(float)
        last = self.d[cand.ptr[1:] - 1]
        # distance of "no open site in the list": the first unlisted site, or
        # (a list holding every site) anything beyond the last one
        self.none = np.where(cand.next_m >= 0, cand.next_m.astype(float), last + 1.0)
        self.entries, self.tptr = _transpose(cand, n)
        self.usable = 1 <= p < n and n * p <= self.MAX_PAIRS

    def _state(self, rows: np.ndarray, is_open: np.ndarray):
        """Entry of the first and second open site in each row's list (−1: none), and d₁, d₂."""
        c = self.cand
        idx, loc = _ragged(c.ptr, rows)
        op = is_open[c.office[idx]]
        cs = np.cumsum(op)
        seg0 = np.concatenate([[0], np.cumsum(c.ptr[rows + 1] - c.ptr[rows])[:-1]])  # each row's first entry in idx
        k = cs - np.concatenate([[0], cs])[seg0][loc]  # open sites so far in the row, this entry included
        e1 = np.full(len(rows), -1)
        e2 = np.full(len(rows), -1)
        first = op & (k == 1)
        second = op & (k == 2)
        e1[loc[first]] = idx[first]
        e2[loc[second]] = idx[second]
        none = self.none[rows]
        d1 = np.where(e1 >= 0, self.d[np.maximum(e1, 0)], none)
        d2 = np.where(e2 >= 0, self.d[np.maximum(e2, 0)], none)
        return e1, e2, d1, d2

    def _count(self, rows: np.ndarray, sign: float) -> None:
        """Add (sign = 1) or remove (−1) the rows' terms of gain, loss and extra."""
        c = self.cand
        e1, e2, d1, d2 = self.e1[rows], self.e2[rows], self.d1[rows], self.d2[rows]
        w = self.w[rows]
        idx, loc = _ragged(c.ptr, rows)
        pos = idx - c.ptr[rows][loc]
        size = c.ptr[rows + 1] - c.ptr[rows]
        p1 = np.where(e1 >= 0, e1 - c.ptr[rows], size)
        p2 = np.where(e2 >= 0, e2 - c.ptr[rows], size)
        dd = self.d[idx]
        # gain: the closed sites listed before the nearest open one
        g = pos < p1[loc]
        np.add.at(self.gain, c.office[idx[g]], sign * w[loc[g]] * (d1[loc[g]] - dd[g]))
        has = e1 >= 0
        f1 = c.office[np.maximum(e1, 0)]
        np.add.at(self.loss, f1[has], sign * w[has] * (d2[has] - d1[has]))
        x = (pos < p2[loc]) & has[loc] & (dd < d2[loc])
        lx = loc[x]
        np.add.at(self.extra, c.office[idx[x]] * self.p + self.slot[f1[lx]], sign * w[lx] * (d2[lx] - np.maximum(dd[x], d1[lx])))

    def surrogate(self, is_open: np.ndarray) -> float:
        """Σ_j w_j × (distance to the nearest open listed site, else to the first unlisted site).

        Never above the plan's true objective (the surrogate is optimistic), so
        a plan whose surrogate is no better than a known objective is no better.
        """
        _, _, d1, _ = self._state(np.arange(self.m), np.asarray(is_open, bool))
        return float(self.w @ d1)

    def improve(self, is_open: np.ndarray, *, deadline: float | None = None, max_swaps: int | None = None) -> tuple[np.ndarray, int]:
        """Best-improvement swaps from ``is_open`` (n bools, p of them True) to a local optimum.

        Returns the new open mask and the number of swaps made; ``last_surrogate``
        holds the plan's :meth:`surrogate` objective. Stops early at ``deadline``
        (``time.perf_counter()``) or after ``max_swaps``.
        """
        is_open = np.asarray(is_open, bool).copy()
        if not self.usable or int(is_open.sum()) != self.p:
            self.last_surrogate = self.surrogate(is_open)
            return is_open, 0
        n, p = self.n, self.p
        self.slot = np.full(n, -1)
        site_of_slot = np.flatnonzero(is_open)
        self.slot[site_of_slot] = np.arange(p)
        rows = np.arange(self.m)
        self.e1, self.e2, self.d1, self.d2 = self._state(rows, is_open)
        self.gain, self.loss, self.extra = np.zeros(n), np.zeros(n), np.zeros(n * p)
        self._count(rows, 1.0)
        swaps = 0
        c = self.cand
        while max_swaps is None or swaps < max_swaps:
            if deadline is not None and time.perf_counter() >= deadline:
                break
            closed = np.flatnonzero(~is_open)
            saving = self.gain[closed][:, None] - self.loss[site_of_slot][None, :] + self.extra.reshape(n, p)[closed]
            k = int(np.argmax(saving))
            if saving.flat[k] <= 0.0:
                break
            i, s = int(closed[k // p]), k % p
            r = int(site_of_slot[s])
            ti = self.entries[self.tptr[i] : self.tptr[i + 1]]
            ri = self.row[ti]
            tr = self.entries[self.tptr[r] : self.tptr[r + 1]]
            rr = self.row[tr]
            hit = np.unique(np.concatenate([ri[self.d[ti] <= self.d2[ri]], rr[(self.e1[rr] == tr) | (self.e2[rr] == tr)]]))
            self._count(hit, -1.0)
            is_open[i], is_open[r] = True, False
            self.slot[i], self.slot[r] = s, -1
            site_of_slot[s] = i
            self.e1[hit], self.e2[hit], self.d1[hit], self.d2[hit] = self._state(hit, is_open)
            self._count(hit, 1.0)
            swaps += 1
        self.last_surrogate = float(self.w @ self.d1)
        return is_open, swaps


def heuristic_pmedian(
    inst: Instance,
    p: int,
    *,
    list_size: int | None = None,
    max_rounds: int = 30,
    local_search: bool = True,
    candidates: Candidates | None = None,
    deadline: float | None = None,
) -> np.ndarray:
    """A good p-median plan fast: greedy, locate–allocate, then fast interchange.

    Greedy (:func:`_greedy`) on each demand point's ``list_size`` nearest sites
    (default :func:`default_list_size`; or the given ``candidates``), then up to
    ``max_rounds`` rounds of locate–allocate, then (``local_search``) the
    best-improvement swap search of :class:`Interchange` until no swap helps or
    ``deadline`` passes. Returns the open mask (n bools, p of them True).
    Deterministic.
    """
    n = inst.n
    if p >= n:
        return np.ones(n, bool)
    if candidates is None:
        K = min(n, list_size or default_list_size(n, p, inst.m))
        candidates = geometry.nearest_candidates(inst.dx, inst.dy, inst.ox, inst.oy, K, inst.detour_factor)
    is_open = _greedy(candidates, inst.population, n, p)
    if max_rounds > 0:
        is_open = _locate_allocate(inst, candidates, is_open, p, max_rounds)
    if local_search:
        is_open, _ = Interchange(candidates, inst.population, n, p).improve(is_open, deadline=deadline)
    return is_open


#: at most this many candidate-list entries for the heuristic and the bound
#: (memory: about 60 bytes each); shorter lists keep the bound valid, only weaker
MAX_LIST_ENTRIES = 10_000_000


def default_list_size(n: int, p: int, m: int = 0) -> int:
    """Candidate-list length for the heuristic and the bound of m demand points.

    max(16, ⌈5n/p⌉): a demand point then usually lists its two nearest open
    sites; at most n, and at most max(16, MAX_LIST_ENTRIES / m).
    """
    k = max(16, int(np.ceil(5.0 * n / p)))
    if m > 0:
        k = min(k, max(16, MAX_LIST_ENTRIES // m))
    return int(min(n, k))


# --------------------------------------------------------------------------- bound and fixing


@dataclass(frozen=True, eq=False)
class _Screen:
    """What the Lagrangian stage leaves for the MIP.

    ``plan``/``objective``/``dist_m``: the best plan found (full instance) and
    its evaluated objective and distances; ``bound``: the Lagrangian bound;
    ``instance``: the p-median left after reduced-cost fixing (sites ``sites``
    of the full instance, the fixed-open ones locked open; demand points
    ``demand``; the others are served by a fixed-open site whatever the plan
    and add ``offset`` to every objective), or None when the bound and plan
    already meet the requested gap or the time is up.
    """

    plan: np.ndarray
    objective: float
    dist_m: np.ndarray
    bound: int
    iterations: int
    seconds: float
    list_entries: int
    fixed_open: np.ndarray
    fixed_closed: np.ndarray
    instance: Instance | None = None
    sites: np.ndarray | None = None
    demand: np.ndarray | None = None
    offset: int = 0

    def full_plan(self, sub_open: np.ndarray) -> np.ndarray:
        """An open mask of the reduced instance as a mask over the full instance's sites."""
        out = np.zeros(len(self.plan), bool)
        out[self.sites[np.asarray(sub_open, bool)]] = True
        return out

    def full_bound(self, sub_bound: float | None) -> float:
        """The better of the Lagrangian bound and a bound of the reduced instance (+ offset)."""
        return float(self.bound) if sub_bound is None else max(float(self.bound), float(sub_bound) + self.offset)


#: HiGHS (1.12, in OR-Tools 9.15) was not interrupted promptly inside the root LP
#: of a large model: a 60 s limit ran to 83–119 s at 8·10^5 columns. A reduced
#: instance whose MIP would have more list entries than this is not handed to
#: HiGHS; the ascent and the guided search use the time instead.
MAX_MIP_ENTRIES = 300_000


class _Ascent:
    """The Lagrangian ascent and the best plan, improved in blocks (see :func:`_screen`)."""

    def __init__(self, inst: Instance, cand: Candidates, p: int, plan: np.ndarray, dist_m: np.ndarray, target: float):
        from .lagrangian import DualLists

        self.inst, self.p, self.target = inst, p, target
        self.lists = DualLists(cand, inst.population, inst.n)
        self.search = Interchange(cand, inst.population, inst.n, p)
        self.plan, self.dist_m, self.objective = plan, dist_m, objective_value(inst, dist_m)
        self.result = None
        self.iterations = 0

    def met(self, bound) -> bool:
        return self.objective - bound <= self.target * self.objective

    def run(self, until: float) -> None:
        """Blocks of 100 subgradient iterations, each followed by a fast interchange
        started from the relaxed problem's sites, until the gap is met, the ascent
        stalls (a block gains < 2 % of the gap and the plan did not improve) or ``until``."""
        from .lagrangian import lagrangian_bound

        inst = self.inst
        while time.perf_counter() < until:
            before = None if self.result is None else self.result.bound
            start = self.result if self.result is not None else inst.population.astype(float) * self.dist_m  # λ_j = w_j × plan distance
            self.result = lagrangian_bound(self.lists, self.p, self.objective, start=start, max_iterations=100, stop_gap=self.target, deadline=until)
            self.iterations += self.result.iterations
            if self.met(self.result.bound) or self.result.step_scale < 1e-3 or self.result.iterations == 0:
                return
            # the surrogate objective never exceeds the true one: evaluate only a plan that may be better
            cand_open, _ = self.search.improve(self.result.relaxed_open, deadline=until)
            improved = False
            if self.search.last_surrogate < self.objective:
                _, d = geometry.nearest_open(inst.dx, inst.dy, inst.ox, inst.oy, cand_open, inst.detour_factor)
                improved = objective_value(inst, d) < self.objective
                if improved:
                    self.plan, self.dist_m, self.objective = cand_open, d, objective_value(inst, d)
            if not improved and before is not None and self.result.bound - before < 0.02 * (self.objective - self.result.bound):
                return

    def bound_and_fixing(self):
        from .lagrangian import dual_value, reduced_cost_fixing

        if self.result is None:  # no time at all: the trivial bound Σ w_j D_j1
            none = np.zeros(self.inst.n, bool)
            return dual_value(self.lists, self.p, self.lists.lo)[0], none, none
        return (self.result.bound, *reduced_cost_fixing(self.result, self.p, self.objective))


def _screen(inst: Instance, cand: Candidates, p: int, plan: np.ndarray, dist_m: np.ndarray, settings: SolverSettings, deadline: float, ascent_deadline: float | None = None) -> _Screen:
    """Lagrangian bound, Lagrangian-guided local search, then reduced-cost fixing.

    Alternates blocks of subgradient ascent (:func:`netopt.lagrangian.lagrangian_bound`,
    Polyak target = the best plan's objective) with a fast-interchange search
    started from the relaxed problem's p sites; a better plan sharpens the
    step. Stops once the gap meets ``settings.relative_gap``, the ascent has
    stalled, or at ``ascent_deadline`` (default ``deadline``). Then fixes sites
    by reduced cost and, if ``deadline`` has not passed, builds the smaller
    instance the MIP must still solve. If that MIP would have more than
    :data:`MAX_MIP_ENTRIES` list entries, the ascent goes on until ``deadline``
    instead and no instance is returned.
    """
    t0 = time.perf_counter()
    asc = _Ascent(inst, cand, p, plan, dist_m, settings.relative_gap)
    asc.run(deadline if ascent_deadline is None else min(deadline, ascent_deadline))
    scr = _reduce(inst, asc, p, cand.n_entries, deadline, t0)
    if scr.instance is not None and scr.demand.size * min(8, scr.sites.size) > MAX_MIP_ENTRIES:
        asc.run(deadline)
        scr = _reduce(inst, asc, p, cand.n_entries, -np.inf, t0)
    return scr


def _reduce(inst: Instance, asc: _Ascent, p: int, list_entries: int, deadline: float, t0: float) -> _Screen:
    """Fix sites by reduced cost; unless the gap is met or ``deadline`` has passed,
    build the instance left for the MIP."""
    w = inst.population
    bound, fixed_open, fixed_closed = asc.bound_and_fixing()
    out = dict(plan=asc.plan, objective=asc.objective, dist_m=asc.dist_m, bound=bound, iterations=asc.iterations, list_entries=list_entries, fixed_open=fixed_open, fixed_closed=fixed_closed)
    if asc.met(bound) or bound >= asc.objective or time.perf_counter() >= deadline:
        return _Screen(**out, seconds=time.perf_counter() - t0)
    # the instance left for the MIP: no fixed-closed sites; demand points whose
    # nearest remaining site is fixed open cost the same in every plan
    sites = np.flatnonzero(~fixed_closed)
    c1 = geometry.nearest_candidates(inst.dx, inst.dy, inst.ox[sites], inst.oy[sites], 1, inst.detour_factor)
    settled = fixed_open[sites[c1.office]]
    demand = np.flatnonzero(~settled)
    offset = int(np.sum(w[settled].astype(np.int64) * c1.dist_m[settled]))
    if demand.size == 0:  # every demand point settled: the plan is optimal
        return _Screen(**{**out, "bound": max(bound, offset)}, seconds=time.perf_counter() - t0)
    sub = pmedian_instance(np.column_stack([inst.dx[demand], inst.dy[demand]]), w[demand], np.column_stack([inst.ox[sites], inst.oy[sites]]), p, inst.detour_factor)
    sub = replace(sub, lock_open=fixed_open[sites])
    return _Screen(**out, seconds=time.perf_counter() - t0, instance=sub, sites=sites, demand=demand, offset=offset)


# --------------------------------------------------------------------------- exact solve


def uses_lagrangian(n_sites: int, p: int) -> bool:
    """Whether :func:`solve_pmedian` computes the Lagrangian bound by default: when
    fewer than half the candidate sites open (``p < n / 2``). Measured on one
    machine (benchmarks/instances.py's clustered instances, gap 0): with p/n = 0.2 the
    bound pays (3,000 × 300, p = 60: 0.39 s against 1.86 s for the MIP alone;
    10,000 × 1,000 at 1 %: 0.38 s against 1.05 s; 100,000 × 2,000 is out of the
    MIP's reach without it); with p/n >= 0.5 the MIP alone is faster (4,000 ×
    120, p = 90: 0.06 s against 0.82 s; 20,000 × 150, p = 100: 0.44 s against
    7.5 s; the shipped 4,081 × 121 instance: 0.09 s against 0.87 s)."""
    return p < n_sites / 2


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
    lagrangian: bool | None = None,
    deadline: float | None = None,
) -> PMedianResult:
    """Solve a p-median on projected coordinates (metres), exactly (or to ``settings.relative_gap``).

    Distances are Euclidean × ``detour`` rounded to whole metres; weights must
    be whole numbers (e.g. inhabitants) for exact objective values.
    ``lagrangian`` computes the Lagrangian bound of
    :mod:`netopt.lagrangian` with Lagrangian-guided local search after the
    heuristic (default: when fewer than half the sites open, ``p < n / 2``, see
    :func:`uses_lagrangian`); when plan and bound meet ``settings.relative_gap`` no MIP is
    solved, otherwise the sites settled by reduced-cost fixing are removed and
    the MIP solves what is left. ``use_heuristic`` (default: with the
    Lagrangian bound, else when there are at least 5,000 demand points or
    fewer than n/2 sites open) sizes the candidate lists from a heuristic plan
    and keeps it as a fallback; otherwise every list starts at ``min_k``
    (``use_heuristic=False`` also skips the bound, which needs a plan).
    The MIP runs in the shared optimisation loop (:func:`netopt.solver.optimise`)
    with ``settings`` (time limit, threads, seed, relative gap, backend),
    warm-started from the best plan. ``deadline``: a ``time.perf_counter()``
    value by which everything ends (default: now + ``settings.time_limit_s``),
    for a sequence of solves that shares one time limit.

    Returns a :class:`PMedianResult`. Raises ValueError for p outside 1..n or
    bad arrays, and :class:`~netopt.errors.InfeasibleError` (status
    ``NO_PLAN``) when the solver stops without any plan and there is no
    heuristic plan.
    """
    inst = pmedian_instance(demand_xy, weights, sites_xy, p, detour)
    n, m = inst.n, inst.m
    t_start = time.perf_counter()
    deadline = t_start + settings.time_limit_s if deadline is None else float(deadline)
    if lagrangian is None:
        lagrangian = uses_lagrangian(n, p)
    if use_heuristic is None:
        use_heuristic = lagrangian or m >= 5000 or p < n / 2
    heur_open = None
    heur_obj = float("nan")
    k = np.full(m, min(min_k, n), np.int64)
    full, screen, requested = inst, None, settings  # [lagrangian] the MIP may solve a reduced instance
    if use_heuristic:
        cand_h = geometry.nearest_candidates(inst.dx, inst.dy, inst.ox, inst.oy, default_list_size(n, p, m), detour)
        heur_open = heuristic_pmedian(inst, p, candidates=cand_h, deadline=deadline)
        _, hd = geometry.nearest_open(inst.dx, inst.dy, inst.ox, inst.oy, heur_open, detour)
        heur_obj = objective_value(inst, hd)
        heur_s = time.perf_counter() - t_start
        # [lagrangian] bound, guided local search and fixing; done if the gap is met
        if lagrangian:  # the ascent may take 60 % of the time limit, the MIP gets the rest
            screen = _screen(inst, cand_h, p, heur_open, hd, settings, deadline, t_start + 0.6 * max(deadline - t_start, 0.0))
            if screen.instance is None:
                return _screened_result(screen, settings, heur_s, heur_obj)
            heur_open = screen.plan[screen.sites]
            inst, n, m = screen.instance, screen.instance.n, screen.instance.m
            # the gap on the reduced instance that gives the requested one on the full instance
            # (at most the largest a scenario may ask for: a smaller one is only stricter)
            settings = replace(settings, relative_gap=min(0.5, settings.relative_gap * screen.objective / max(screen.objective - screen.offset, 1.0)))
            _, hd = geometry.nearest_open(inst.dx, inst.dy, inst.ox, inst.oy, heur_open, detour)
            k = np.full(m, min(min_k, n), np.int64)
        # rank of the heuristic's nearest open site = number of sites strictly nearer
        kk = max(min_k, int(np.ceil(2.0 * n / p)))
        c0 = geometry.nearest_candidates(inst.dx, inst.dy, inst.ox, inst.oy, min(n, 4 * kk, max(min_k, MAX_LIST_ENTRIES // max(m, 1))), detour)  # [lagrangian] memory cap
        ranks = np.add.reduceat((c0.dist_m < np.repeat(hd, c0.sizes)).astype(np.int64), c0.ptr[:-1])
        k = np.minimum(np.maximum(ranks + 1 + margin, min_k), n)
    if screen is None:
        heur_s = time.perf_counter() - t_start

    # the MIP, through the shared optimisation loop (widening, warm start from the plan)
    start = (np.where(heur_open, KEPT, CLOSED),) if heur_open is not None else None
    opt = optimise(inst, settings, sizes=k, start=start, deadline=deadline)
    if opt.modes is not None and opt.status.has_plan:
        is_open, sobj = opt.modes[0] > 0, opt.solver_objective
    elif heur_open is not None:  # stopped without a plan (or with one that breaks a rule): keep the heuristic's
        is_open, sobj = heur_open, None
    else:
        raise InfeasibleError(f"the solver stopped ({opt.status}) after {opt.solve_seconds:.0f} s without a plan", {"status": str(opt.status)})
    bound = opt.bound
    best_open, best_obj = heur_open, heur_obj
    if screen is not None:  # [lagrangian] back to the full instance
        is_open, inst, settings = screen.full_plan(is_open), full, requested
        best_open, best_obj = screen.plan, screen.objective
        sobj = None if sobj is None else sobj + screen.offset
        bound = screen.full_bound(bound)
    _, dist = inst.nearest_open(is_open)
    obj = objective_value(inst, dist)
    if best_open is not None and best_obj < obj:  # the solver stopped early with a worse plan
        is_open, obj = best_open, best_obj
    status = _status(obj, bound, settings)
    return PMedianResult(
        open_sites=np.flatnonzero(is_open),
        objective=obj,
        solver_objective=sobj,
        best_bound=bound,
        gap=_gap(obj, bound, status),
        status=status,
        build_seconds=opt.build_seconds,
        solve_seconds=opt.solve_seconds,
        heuristic_seconds=heur_s,
        heuristic_objective=heur_obj,
        rounds=opt.rounds,
        model_size=opt.model_size,
        **({} if screen is None else _screen_fields(screen)),
    )


def _status(objective: float, bound: float | None, settings: SolverSettings) -> SolveStatus:
    """The plan's status from its evaluated objective and the proven bound (both
    valid for the full instance): ``OPTIMAL`` when the bound is above objective − 1
    (the objective is a whole number), ``WITHIN_GAP`` when a requested relative gap
    (> 0) is met, else ``TIME_LIMIT`` (a plan, not proven within the requested gap)."""
    if bound is not None and objective - bound < 1.0:
        return SolveStatus.OPTIMAL
    if bound is not None and settings.relative_gap > 0 and relative_gap(objective, bound) <= settings.relative_gap + 1e-12:
        return SolveStatus.WITHIN_GAP
    return SolveStatus.TIME_LIMIT


def _gap(objective: float, bound: float | None, status: SolveStatus) -> float | None:
    """(objective − bound) / objective; 0 when proven optimal; None without a bound."""
    if bound is None:
        return None
    return 0.0 if status == SolveStatus.OPTIMAL else relative_gap(objective, bound)


def _screen_fields(screen: _Screen) -> dict:
    return {
        "lagrangian_bound": screen.bound,
        "lagrangian_seconds": screen.seconds,
        "lagrangian_iterations": screen.iterations,
        "sites_fixed_open": int(screen.fixed_open.sum()),
        "sites_fixed_closed": int(screen.fixed_closed.sum()),
    }


def _screened_result(screen: _Screen, settings: SolverSettings, heur_s: float, heur_obj: float) -> PMedianResult:
    """The result when the Lagrangian stage alone settled the solve (gap met, or no time left)."""
    obj, bound = screen.objective, float(screen.bound)
    status = _status(obj, bound, settings)
    return PMedianResult(
        open_sites=np.flatnonzero(screen.plan),
        objective=obj,
        solver_objective=None,
        best_bound=bound,
        gap=_gap(obj, bound, status),
        status=status,
        build_seconds=0.0,
        solve_seconds=0.0,
        heuristic_seconds=heur_s,
        heuristic_objective=heur_obj,
        rounds=0,
        model_size={"candidate_pairs": screen.list_entries},
        **_screen_fields(screen),
    )
