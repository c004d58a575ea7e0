r"""A Lagrangian lower bound for the p-median on truncated candidate lists, and
reduced-cost fixing of sites.

The problem (demand points :math:`j` with whole-number weights :math:`w_j`,
sites :math:`i`, whole-metre distances :math:`d_{ij}`, cost :math:`c_{ij} = w_j d_{ij}`):

.. math::

    \mathrm{OPT} = \min \sum_{ij} c_{ij} x_{ij} \quad\text{s.t.}\quad
    \sum_i x_{ij} = 1\ \forall j,\quad 0 \le x_{ij} \le y_i,\quad
    \sum_i y_i = p,\quad y \in \{0,1\}^n .

**The bound.** Relax the assignment rows :math:`\sum_i x_{ij} = 1` with
multipliers :math:`\lambda_j`. For every feasible :math:`(x, y)`,

.. math::

    \sum_{ij} c_{ij} x_{ij} = \sum_j \lambda_j + \sum_{ij} (c_{ij} - \lambda_j) x_{ij}
    \ \ge\ \sum_j \lambda_j + \sum_i y_i \rho_i,
    \qquad \rho_i = \sum_j \min(0,\ c_{ij} - \lambda_j),

because :math:`0 \le x_{ij} \le y_i`. With exactly :math:`p` sites open the right
side is at least :math:`L(\lambda) = \sum_j \lambda_j + (\text{sum of the } p
\text{ smallest } \rho_i)`, so :math:`L(\lambda) \le \mathrm{OPT}` for *every*
:math:`\lambda`. Its maximum over :math:`\lambda` equals the LP relaxation of the
model (the relaxed problem has the integrality property).

**Truncated lists.** Demand point j lists only its :math:`K_j` nearest sites
(:class:`netopt.geometry.Candidates`); every unlisted site is at least
:math:`D_{j,K_j+1}` (``next_m``) away. With the multipliers capped,
:math:`\lambda_j \le w_j D_{j,K_j+1}`, every unlisted pair has
:math:`c_{ij} - \lambda_j \ge 0`, contributes nothing to :math:`\rho_i`, and
:math:`\rho_i` summed over the listed pairs only is the exact :math:`\rho_i` of
the full problem: the bound stays valid for the full problem. Raising
:math:`\lambda_j` to :math:`w_j D_{j1}` never lowers :math:`L`, so the
multipliers live in :math:`[w_j D_{j1},\ w_j D_{j,K_j+1}]`.

**Exact arithmetic.** The ascent runs in floating point; the reported bound
is recomputed from the multipliers rounded down to whole numbers (still in the
box) with 64-bit integers, so it is an exact integer and valid to the last unit.

**The ascent.** Projected subgradient with a Polyak step towards an upper
bound :math:`U` (the objective of a known plan), scaled per demand point by its
weight (the multipliers are weight × metres, so this puts every point's step
in metres): :math:`\lambda \leftarrow \Pi(\lambda + t\, w \odot g)`,
:math:`t = \alpha (U - L) / \sum_j w_j g_j^2`, with the subgradient
:math:`g_j = 1 - |\{i \in S: c_{ij} < \lambda_j\}|` for the chosen set S;
:math:`\alpha` is halved after a run of iterations without a better bound.
(Beasley, "Lagrangean heuristics for location problems", EJOR 1993; the bound
is the one the radius formulation's LP gives, García, Labbé & Marín, INFORMS
JoC 2011.)

**Reduced-cost fixing.** Let :math:`S^*` be the p sites with the smallest
:math:`\rho` (ties by site index), :math:`\rho_{[p]}` the largest in it and
:math:`\rho_{[p+1]}` the smallest outside it. A plan that opens a site
:math:`i \notin S^*` costs at least :math:`L + \rho_i - \rho_{[p]}` (the bound
with i forced in), and a plan that leaves :math:`i \in S^*` closed at least
:math:`L - \rho_i + \rho_{[p+1]}`. When that exceeds :math:`U \ge \mathrm{OPT}`
strictly, no optimal plan opens (closes) i: fixing it never cuts off an optimum.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from .geometry import Candidates

__all__ = ["DualLists", "LagrangianBound", "lagrangian_bound", "dual_value", "reduced_cost_fixing"]


@dataclass(frozen=True, eq=False)
class LagrangianBound:
    """A valid lower bound on the p-median optimum and what it rests on.

    ``bound`` (weight × metres, an exact integer) is :math:`L(\\lambda)` at the
    whole-number multipliers ``multipliers`` (int64, one per demand point);
    ``site_cost`` is :math:`\\rho` (int64, one per site, ≤ 0) and
    ``relaxed_open`` (bool, one per site) the p sites of the relaxed problem.
    ``ascent`` (float, one per demand point) and ``step_scale`` let a later
    call resume the ascent where this one stopped; ``iterations`` and
    ``seconds`` count this call's work.
    """

    bound: int
    multipliers: np.ndarray
    site_cost: np.ndarray
    relaxed_open: np.ndarray
    ascent: np.ndarray
    step_scale: float
    iterations: int
    seconds: float


class DualLists:
    """The candidate lists as flat arrays for the dual: built once, used by every iteration.

    Args:
      cand: each demand point's nearest sites (:class:`~netopt.geometry.Candidates`).
      weights: whole-number weights (m,), ≥ 0.
      n_sites: the number of sites n (sites in no list have ρ = 0).
    Raises ValueError on negative weights or sums too large for exact 64-bit integers.
    """

    def __init__(self, cand: Candidates, weights: np.ndarray, n_sites: int):
        w = np.asarray(weights, np.int64)
        if (w < 0).any():
            raise ValueError("weights must be non-negative")
        sizes = cand.sizes
        if (sizes < 1).any():
            raise ValueError("every demand point needs at least one candidate site")
        self.n = int(n_sites)
        self.m = len(sizes)
        self.row = np.repeat(np.arange(self.m), sizes)
        self.office = cand.office
        self.cost_int = w[self.row] * cand.dist_m  # c_ij on the listed pairs
        self.lo_int = self.cost_int[cand.ptr[:-1]]  # w_j D_j1
        # the cap keeps unlisted pairs out of ρ; a list holding every site needs
        # none, and λ_j above its largest cost only lowers L (slope 1 − p)
        last = self.cost_int[cand.ptr[1:] - 1]
        self.cap_int = np.where(cand.next_m >= 0, w * cand.next_m, last)
        if float(np.sum(self.cap_int, dtype=float)) + float(np.sum(self.cost_int, dtype=float)) >= 2.0**62:
            raise ValueError("weights × distances are too large for exact 64-bit sums")
        self.w = w.astype(float)
        self.lo = self.lo_int.astype(float)
        self.cap = self.cap_int.astype(float)
        # site-major copy for the ascent: ρ_i is then a sum over a contiguous
        # segment, and the entries of the chosen sites are p segments
        order = np.argsort(self.office, kind="stable")
        self.row_s = self.row[order]
        self.cost_s = self.cost_int[order].astype(float)
        counts = np.bincount(self.office, minlength=self.n)
        self.site_ptr = np.concatenate([[0], np.cumsum(counts)])
        self.listed = np.flatnonzero(counts > 0)  # sites in some list (segments for reduceat)

    def project(self, lam: np.ndarray) -> np.ndarray:
        """The whole-number multipliers in the valid box nearest below ``lam`` (int64)."""
        lam = np.floor(np.nan_to_num(np.asarray(lam, float), nan=0.0, posinf=0.0, neginf=0.0))
        lam = np.clip(lam, self.lo, self.cap)
        return np.minimum(np.maximum(lam.astype(np.int64), self.lo_int), self.cap_int)

    def site_cost(self, lam_int: np.ndarray) -> np.ndarray:
        """ρ_i = −Σ_j max(0, λ_j − c_ij) over the listed pairs (int64, exact)."""
        r = lam_int[self.row] - self.cost_int
        np.maximum(r, 0, out=r)
        rho = np.zeros(self.n, np.int64)
        np.subtract.at(rho, self.office, r)
        return rho


def _p_smallest(rho: np.ndarray, p: int) -> np.ndarray:
    """Mask of the p sites with the smallest ρ, ties to the lower index."""
    order = np.argsort(rho, kind="stable")
    chosen = np.zeros(len(rho), bool)
    chosen[order[:p]] = True
    return chosen


def dual_value(lists: DualLists, p: int, multipliers: np.ndarray):
    """The exact Lagrangian bound at ``multipliers``.

    The multipliers (m,), weight × metres, are rounded down to whole numbers
    and projected onto the box that keeps the bound valid on truncated lists.
    Returns ``(bound, multipliers, site_cost, relaxed_open)``: the bound as a
    Python int (≤ the optimum of the full p-median), the int64 multipliers
    used, ρ per site (int64) and the p sites of the relaxed problem.
    """
    if not 1 <= p <= lists.n:
        raise ValueError(f"p must be between 1 and the number of sites ({lists.n}); got {p}")
    lam = lists.project(multipliers)
    rho = lists.site_cost(lam)
    chosen = _p_smallest(rho, p)
    bound = int(lam.sum()) + int(rho[chosen].sum())
    return bound, lam, rho, chosen


def lagrangian_bound(
    lists: DualLists,
    p: int,
    upper_bound: float,
    *,
    start: LagrangianBound | np.ndarray | None = None,
    max_iterations: int = 300,
    patience: int = 30,
    min_step_scale: float = 1e-4,
    stop_gap: float = 0.0,
    deadline: float | None = None,
) -> LagrangianBound:
    """Subgradient ascent on the Lagrangian dual; returns the best bound found.

    Args:
      lists: the candidate lists (:class:`DualLists`).
      p: number of sites to open.
      upper_bound: the objective of a known plan (weight × metres), the target
        of the Polyak step.
      start: a previous result to resume from, or starting multipliers (m,);
        default ``w_j D_j1``.
      max_iterations: iterations of this call.
      patience: iterations without a better bound before the step is halved.
      min_step_scale: stop once the step scale falls below this.
      stop_gap: stop once ``upper_bound − bound ≤ stop_gap · upper_bound``.
      deadline: ``time.perf_counter()`` value at which to stop.

    The returned bound is exact (:func:`dual_value` of the best multipliers)
    and ≤ the optimum of the full problem, whatever the arguments.
    """
    t0 = time.perf_counter()
    n = lists.n
    alpha = 1.0
    if isinstance(start, LagrangianBound):
        lam = start.ascent.astype(float, copy=True)
        alpha = start.step_scale
        best_lam = start.multipliers.astype(float)
        best = float(start.bound)
    else:
        lam = lists.lo.copy() if start is None else np.clip(np.asarray(start, float), lists.lo, lists.cap)
        best_lam, best = lam.copy(), -np.inf
    target = float(upper_bound)
    row_s, cost_s, w, ptr = lists.row_s, lists.cost_s, lists.w, lists.site_ptr
    starts = ptr[lists.listed]
    rho = np.zeros(n)
    since = 0
    it = 0
    while it < max_iterations and alpha >= min_step_scale:
        if deadline is not None and time.perf_counter() >= deadline:
            break
        it += 1
        r = lam[row_s]
        r -= cost_s
        np.maximum(r, 0.0, out=r)  # λ_j − c_ij where positive, site-major
        if len(starts):
            rho[lists.listed] = -np.add.reduceat(r, starts)
        sel = np.argpartition(rho, p - 1)[:p] if p < n else np.arange(n)
        value = float(lam.sum() + rho[sel].sum())
        if value > best:
            best, best_lam, since = value, lam.copy(), 0
            if target - best <= stop_gap * abs(target):
                break
        else:
            since += 1
            if since >= patience:
                alpha *= 0.5
                since = 0
        # g_j = 1 − (chosen sites i with c_ij < λ_j): count over the chosen sites' segments
        lens = ptr[sel + 1] - ptr[sel]
        seg = np.repeat(ptr[sel] - np.concatenate([[0], np.cumsum(lens)[:-1]]), lens) + np.arange(int(lens.sum()))
        seg = seg[r[seg] > 0.0]
        g = 1.0 - np.bincount(row_s[seg], minlength=len(lam))
        norm = float(np.dot(w * g, g))
        if norm == 0.0:  # λ is optimal: every demand point served exactly once
            break
        step = alpha * max(target - value, 0.0) / norm
        if step == 0.0:
            break
        lam += step * w * g
        np.maximum(lam, lists.lo, out=lam)  # (np.clip is several times slower)
        np.minimum(lam, lists.cap, out=lam)
    bound, lam_int, rho, relaxed = dual_value(lists, p, best_lam)
    if isinstance(start, LagrangianBound) and start.bound > bound:  # rounding can cost a few units
        bound, lam_int, rho, relaxed = start.bound, start.multipliers, start.site_cost, start.relaxed_open
    return LagrangianBound(
        bound=bound,
        multipliers=lam_int,
        site_cost=rho,
        relaxed_open=relaxed,
        ascent=lam,
        step_scale=alpha,
        iterations=it,
        seconds=time.perf_counter() - t0,
    )


def reduced_cost_fixing(result: LagrangianBound, p: int, upper_bound: float) -> tuple[np.ndarray, np.ndarray]:
    """Sites that every optimal plan opens, and sites that none opens.

    Args:
      result: a Lagrangian bound (its exact ρ and bound are used).
      p: number of sites to open.
      upper_bound: the objective of a known plan (≥ the optimum).

    Returns ``(fixed_open, fixed_closed)``, boolean masks over the sites. A site
    is fixed when forcing the opposite decision raises the bound strictly above
    ``upper_bound`` (see the module docstring), so no optimal plan is excluded.
    """
    rho = result.site_cost
    n = len(rho)
    fixed_open = np.zeros(n, bool)
    fixed_closed = np.zeros(n, bool)
    if p >= n:
        return np.ones(n, bool), fixed_closed
    order = np.argsort(rho, kind="stable")
    chosen = np.zeros(n, bool)
    chosen[order[:p]] = True
    L = result.bound
    rho_p, rho_p1 = int(rho[order[p - 1]]), int(rho[order[p]])
    ub = float(upper_bound)
    # Python ints: exact comparisons
    forced_in = np.array([L + int(r) - rho_p for r in rho], dtype=object)
    forced_out = np.array([L - int(r) + rho_p1 for r in rho], dtype=object)
    fixed_closed = ~chosen & (forced_in > ub).astype(bool)
    fixed_open = chosen & (forced_out > ub).astype(bool)
    return fixed_open, fixed_closed
