r"""The optimisation model, built from arrays.

Sets: offices :math:`i \in I`, demand points :math:`j \in J`, stages
:math:`s \in S` (e.g. 2025, 2026, 2027). For each demand point, its candidate
offices sorted by travel distance :math:`D_{j1} \le D_{j2} \le \dots \le D_{jK_j}`
(office :math:`i_{jk}`), and :math:`D_{j,K_j+1}` the distance to the first office
not in the list.

Variables (per stage s):
  :math:`y_{is} \in \{0,1\}` office i kept with placed staff;
  :math:`f_{is} \in \{0,1\}` office i turned into a flexible office;
  :math:`u_{jks} \in [0,1]` = 1 iff none of j's k nearest offices is open
  (the sorted-distance variables of Elloumi, 2010; integral at any integral y, f);
  :math:`a_s \ge 0` the extra allowance for flexible offices actually used.

Any function :math:`h` of the distance to the nearest open office is linear in u:

.. math:: h(d_j) = h(D_{j1}) + \sum_k \big(h(D_{j,k+1}) - h(D_{jk})\big)\, u_{jk}

Constraints (per stage):
  * mode:            :math:`y_i + f_i \le 1`
  * nearest office:  :math:`u_{j1} \ge 1 - o_{i_{j1}}`, :math:`u_{jk} \ge u_{j,k-1} - o_{i_{jk}}`,
    :math:`u_{jk} \le 1 - o_{i_{jk}}`, :math:`u_{jk} \le u_{j,k-1}` with :math:`o = y + f`
    (both directions, because the budget would otherwise push u up: farther
    offices mean fewer visits and less staff cost)
  * budget:          :math:`\sum_i F_i y_i + \Phi_i f_i + c \sum_j \pi_j g(d_j) - a \le B_s`,
    :math:`a \le A_s`, :math:`a \le \sum_i \Phi_i f_i`
  * FA coverage:     :math:`\sum_{i \in r} o_i \ge 1` for every FA-region r with an office
  * optional:        municipality kept, maximum closures, maximum distance,
    flexible capacity :math:`V_i \le C + M_i y_i`, growth :math:`V_i \le (1+G) V^0_i`,
    where :math:`V_i = \sum_{k: i_{jk} = i} \pi_j g(D_{jk}) (u_{j,k-1} - u_{jk})`
  * stages nested:   :math:`y_{i,s+1} \le y_{is}`, :math:`o_{i,s+1} \le o_{is}`
  * locks:           bounds on y and f.

Objective (summed over stages, minimised): population × distance (default),
population beyond the coverage distance, or visits lost.

Truncated candidate lists make a *relaxation*: when all of j's candidates are
closed, u at the tail stands for "farther than :math:`D_{j,K_j+1}`", valued
optimistically (that distance for the objective, the floor visit rate for the
budget). If an optimal solution uses no tail, it is optimal for the full model;
otherwise the lists of the points concerned are widened and the model re-solved
(:mod:`netopt.solve`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from .geometry import Candidates

__all__ = ["Instance", "BuiltModel", "build_model", "OBJECTIVES"]

OBJECTIVES = ("distance", "coverage", "visits_lost")
INF = np.inf


@dataclass(frozen=True, eq=False)
class Instance:
    """The numeric core of a planning problem (no geometry objects, no pandas).

    Distances are whole metres, costs SEK per year, visits per year.
    """

    office_ids: tuple
    ox: np.ndarray
    oy: np.ndarray
    dx: np.ndarray
    dy: np.ndarray
    population: np.ndarray  # int, inhabitants per demand point
    propensity: np.ndarray  # visits per year per demand point at distance 0
    detour: float
    floor: float
    decay_km: float
    fixed_full_sek: np.ndarray
    fixed_flex_sek: np.ndarray
    staff_per_visit_sek: float
    flex_capacity_visits: float
    baseline_visits: np.ndarray
    baseline_dist_m: np.ndarray
    fa_of_office: np.ndarray  # int index into fa codes, -1 if none
    n_fa: int
    muni_of_office: np.ndarray  # int index
    budgets_sek: tuple  # one per stage
    allowances_sek: tuple  # one per stage
    objective: str = "distance"
    coverage_m: int = 30000
    lock_open: np.ndarray | None = None
    lock_closed: np.ndarray | None = None
    flex_allowed: np.ndarray | None = None
    max_growth: float | None = None
    max_distance_m: int | None = None
    keep_municipalities: bool = False
    max_closures: int | None = None
    cover_fa: bool = True
    open_count: int | None = None  # exactly this many offices open (p-median); None = free
    existing: np.ndarray | None = None  # offices open today; None = all (False: extra candidate sites)
    dist_matrix_m: np.ndarray | None = None  # planner's travel distances (m × n, whole metres); None = straight line × detour

    def candidates(self, k) -> Candidates:
        """Each demand point's ``k`` nearest offices (k may vary per point)."""
        from . import geometry

        if self.dist_matrix_m is not None:
            return geometry.candidates_from_matrix(self.dist_matrix_m, k)
        return geometry.nearest_candidates(self.dx, self.dy, self.ox, self.oy, k, self.detour)

    def nearest_open(self, is_open: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(office index, distance in m) of every demand point's nearest open office."""
        from . import geometry

        if self.dist_matrix_m is not None:
            return geometry.nearest_open_matrix(self.dist_matrix_m, is_open)
        return geometry.nearest_open(self.dx, self.dy, self.ox, self.oy, is_open, self.detour)

    @property
    def existing_mask(self) -> np.ndarray:
        return np.ones(self.n, bool) if self.existing is None else np.asarray(self.existing, bool)

    @property
    def n(self) -> int:
        return len(self.ox)

    @property
    def m(self) -> int:
        return len(self.dx)

    @property
    def n_stages(self) -> int:
        return len(self.budgets_sek)

    def g(self, dist_m) -> np.ndarray:
        """Visit-rate decay g(d) for distances in metres."""
        return self.floor + (1.0 - self.floor) * np.exp(-np.asarray(dist_m, float) / 1000.0 / self.decay_km)


@dataclass(frozen=True, eq=False)
class BuiltModel:
    """A built, not yet solved, model: the matrix and where each variable sits."""

    helper: object  # ortools ModelBuilderHelper
    cand: Candidates
    n_vars: int
    n_constraints: int
    n_nonzeros: int
    n_integer: int
    y: np.ndarray  # (S, n) variable indices
    f: np.ndarray
    u: np.ndarray  # (S, E)
    a: np.ndarray  # (S,) or -1
    objective_offset: float
    stage_rows: dict = field(default_factory=dict)

    def sizes(self) -> dict:
        return {
            "variables": self.n_vars,
            "integer_variables": self.n_integer,
            "constraints": self.n_constraints,
            "nonzeros": self.n_nonzeros,
            "candidate_pairs": self.cand.n_entries,
        }


class _Rows:
    """Accumulates constraint rows as COO triplets."""

    def __init__(self):
        self.r, self.c, self.v, self.lo, self.hi = [], [], [], [], []
        self.count = 0

    def add(self, n_rows, lo, hi, *terms):
        """Add ``n_rows`` rows; each term is (row offsets, columns, values)."""
        base = self.count
        for rows, cols, vals in terms:
            rows = np.asarray(rows, np.int64)
            self.r.append(base + rows)
            self.c.append(np.asarray(cols, np.int64))
            self.v.append(np.broadcast_to(np.asarray(vals, float), rows.shape).astype(float))
        self.lo.append(np.broadcast_to(np.asarray(lo, float), (n_rows,)).astype(float))
        self.hi.append(np.broadcast_to(np.asarray(hi, float), (n_rows,)).astype(float))
        self.count += n_rows
        return base

    def matrix(self, n_vars):
        r = np.concatenate(self.r) if self.r else np.zeros(0, np.int64)
        c = np.concatenate(self.c) if self.c else np.zeros(0, np.int64)
        v = np.concatenate(self.v) if self.v else np.zeros(0)
        a = sp.csr_matrix((v, (r, c)), shape=(self.count, n_vars))
        a.sum_duplicates()
        return a, np.concatenate(self.lo) if self.lo else np.zeros(0), np.concatenate(self.hi) if self.hi else np.zeros(0)


#: Weight (SEK) of one changed office in the tie-break objective: larger than any
#: network's annual cost, so fewer changes always win before a larger saving.
CHANGE_WEIGHT_SEK = 1e10


def build_model(
    inst: Instance,
    cand: Candidates,
    *,
    cost_objective: bool = False,
    change_objective: bool = False,
    fixed_open: list | None = None,
) -> BuiltModel:
    """Build the MIP for ``inst`` over the candidate lists ``cand``.

    ``cost_objective`` replaces the objective by the total cost of all stages
    (used to find the largest saving possible); with ``change_objective`` too,
    the number of offices not kept comes first (tie-break: fewest changes, then
    the largest saving); ``fixed_open`` (one boolean array per stage) fixes which offices are
    open, leaving only keep-or-flexible to choose (the tie-break phase).
    """
    from ortools.linear_solver.python import model_builder_helper as mbh

    n, S = inst.n, inst.n_stages
    E = cand.n_entries
    row_of, first, last, d, d_next = _layout(inst, cand)
    office = cand.office
    closed_tail = last & (cand.next_m[row_of] < 0)  # list holds every office: u must be 0
    pi = inst.propensity

    # ---- variable layout: per stage [y (n) | f (n) | u (E) | a (1)]
    per = 2 * n + E + 1
    nv = S * per
    y = np.array([s * per + np.arange(n) for s in range(S)]).reshape(S, n)
    f = y + n
    u = np.array([s * per + 2 * n + np.arange(E) for s in range(S)]).reshape(S, E)
    a = np.array([s * per + 2 * n + E for s in range(S)])
    lb = np.zeros(nv)
    ub = np.ones(nv)
    integer = np.zeros(nv, bool)
    obj = np.zeros(nv)

    lock_open = inst.lock_open if inst.lock_open is not None else np.zeros(n, bool)
    lock_closed = inst.lock_closed if inst.lock_closed is not None else np.zeros(n, bool)
    flex_ok = inst.flex_allowed if inst.flex_allowed is not None else np.ones(n, bool)
    for s in range(S):
        integer[y[s]] = True
        integer[f[s]] = True
        lb[y[s][lock_open]] = 1.0
        ub[y[s][lock_closed]] = 0.0
        ub[f[s][lock_closed | lock_open | ~flex_ok]] = 0.0
        ub[u[s][closed_tail]] = 0.0
        lb[a[s]] = 0.0
        ub[a[s]] = float(inst.allowances_sek[s])
        if fixed_open is not None:
            shut = ~np.asarray(fixed_open[s], bool)
            ub[y[s][shut]] = 0.0
            ub[f[s][shut]] = 0.0

    # ---- value of functions of the nearest distance: h(D1) + Σ (h(D_{k+1}) − h(D_k)) u
    g_k = inst.g(d)
    g_next_opt = np.where(last, inst.floor, inst.g(d_next))  # budget: optimistic tail = floor rate
    if inst.max_distance_m is not None:
        # Demand points within the maximum distance today must stay within it:
        # the last candidate within the distance must not be "all closed".
        within = cand.dist_m <= inst.max_distance_m
        # entry index of the last candidate within the distance, per demand point
        has = np.zeros(inst.m, bool)
        np.logical_or.at(has, row_of, within)
        last_within = np.full(inst.m, -1)
        np.maximum.at(last_within, row_of[within], np.flatnonzero(within))
        for s in range(S):
            ub[u[s][last_within[has]]] = 0.0

    # The upper-bound families are needed only when something other than the
    # objective depends on the distance (budget, capacity, growth); a plain
    # p-median keeps the classic lower-bound-only formulation.
    finite_budget = any(b < 1e17 for b in inst.budgets_sek)
    need_cap_any = bool((flex_ok & ~lock_closed & ~lock_open).any())
    exact = finite_budget or need_cap_any or inst.max_growth is not None or cost_objective
    rows = _Rows()
    stage_rows = {}
    ar = np.arange(E)
    e_prev = ar - 1
    nf = ~first
    for s in range(S):
        ys, fs, us = y[s], f[s], u[s]
        # nearest-office linking (3 families)
        rows.add(E, np.where(first, 1.0, 0.0), INF, (ar, us, 1.0), (ar, ys[office], 1.0), (ar, fs[office], 1.0), (ar[nf], us[e_prev[nf]], -1.0))
        if exact:
            rows.add(E, -INF, 1.0, (ar, us, 1.0), (ar, ys[office], 1.0), (ar, fs[office], 1.0))
            k = int(nf.sum())
            rows.add(k, -INF, 0.0, (np.arange(k), us[nf], 1.0), (np.arange(k), us[e_prev[nf]], -1.0))
        if inst.open_count is not None:
            rows.add(1, inst.open_count, inst.open_count, (np.zeros(n), ys, 1.0), (np.zeros(n), fs, 1.0))
        # mode (and, with fixed_open, open offices stay open)
        lo_mode = np.asarray(fixed_open[s], float) if fixed_open is not None else 0.0
        rows.add(n, lo_mode, 1.0, (np.arange(n), ys, 1.0), (np.arange(n), fs, 1.0))
        # budget: fixed costs + staff cost of visits − allowance ≤ B
        const_visits = float(np.sum(pi[row_of[first]] * g_k[first]))
        coef_u = inst.staff_per_visit_sek * pi[row_of] * (g_next_opt - g_k)
        cols = np.concatenate([ys, fs, us, [a[s]]])
        vals = np.concatenate([inst.fixed_full_sek, inst.fixed_flex_sek, coef_u, [-1.0]])
        if finite_budget or cost_objective:
            stage_rows[("budget", s)] = rows.add(1, -INF, inst.budgets_sek[s] - inst.staff_per_visit_sek * const_visits, (np.zeros(len(cols)), cols, vals))
        # allowance only against flexible spending
        if inst.allowances_sek[s] > 0:
            rows.add(1, -INF, 0.0, (np.zeros(n + 1), np.concatenate([[a[s]], fs]), np.concatenate([[1.0], -inst.fixed_flex_sek])))
        else:
            ub[a[s]] = 0.0
        # FA coverage
        if inst.cover_fa:
            has_fa = inst.fa_of_office >= 0
            regions = np.unique(inst.fa_of_office[has_fa])
            r_idx = np.searchsorted(regions, inst.fa_of_office[has_fa])
            offs = np.flatnonzero(has_fa)
            stage_rows[("fa", s)] = rows.add(len(regions), 1.0, INF, (r_idx, ys[offs], 1.0), (r_idx, fs[offs], 1.0))
        ex = inst.existing_mask
        if inst.keep_municipalities:
            # every municipality with an office today keeps one (kept, flexible or a new site)
            munis = np.unique(inst.muni_of_office[ex])
            inm = np.isin(inst.muni_of_office, munis)
            m_idx = np.searchsorted(munis, inst.muni_of_office[inm])
            rows.add(len(munis), 1.0, INF, (m_idx, ys[inm], 1.0), (m_idx, fs[inm], 1.0))
        if inst.max_closures is not None:
            k_ex = int(ex.sum())
            rows.add(1, k_ex - inst.max_closures, INF, (np.zeros(k_ex), ys[ex], 1.0), (np.zeros(k_ex), fs[ex], 1.0))
        # visits at each office: V_i = c_i + Σ_e coef_e u_e
        vg = pi[row_of] * g_k
        need_cap = flex_ok & ~lock_closed & ~lock_open
        if inst.max_growth is not None or need_cap.any():
            const_i = np.bincount(office[first], weights=vg[first], minlength=n)
            terms_r = [office, office[nf]]
            terms_c = [us, us[e_prev[nf]]]
            terms_v = [-vg, vg[nf]]
            vr = np.concatenate(terms_r)
            vc = np.concatenate(terms_c)
            vv = np.concatenate(terms_v)
            big_m = np.bincount(office, weights=vg, minlength=n)
            if need_cap.any():
                sel = need_cap[vr]
                ids = np.flatnonzero(need_cap)
                remap = np.full(n, -1)
                remap[ids] = np.arange(len(ids))
                rows.add(len(ids), -INF, inst.flex_capacity_visits - const_i[ids], (remap[vr[sel]], vc[sel], vv[sel]), (np.arange(len(ids)), ys[ids], -big_m[ids]))
            if inst.max_growth is not None:
                rows.add(n, -INF, (1.0 + inst.max_growth) * inst.baseline_visits - const_i + 1e-6, (vr, vc, vv))
        # nesting with the previous stage
        if s > 0:
            yp, fp = y[s - 1], f[s - 1]
            rows.add(n, -INF, 0.0, (np.arange(n), ys, 1.0), (np.arange(n), yp, -1.0))
            rows.add(n, -INF, 0.0, (np.arange(n), ys, 1.0), (np.arange(n), fs, 1.0), (np.arange(n), yp, -1.0), (np.arange(n), fp, -1.0))

        if cost_objective:
            obj[ys] += inst.fixed_full_sek
            obj[fs] += inst.fixed_flex_sek
            obj[us] += coef_u
            if change_objective:
                # changes = offices not kept + candidate sites opened
                ex = inst.existing_mask
                obj[ys[ex]] -= CHANGE_WEIGHT_SEK
                obj[ys[~ex]] += CHANGE_WEIGHT_SEK
                obj[fs[~ex]] += CHANGE_WEIGHT_SEK

    if cost_objective:
        offset = inst.n_stages * inst.staff_per_visit_sek * float(np.sum(pi[row_of[first]] * g_k[first]))
        if change_objective:
            offset += inst.n_stages * int(inst.existing_mask.sum()) * CHANGE_WEIGHT_SEK
    else:
        obj, offset = build_objective_vector(inst, cand, u, y, f, nv)

    A, clo, chi = rows.matrix(nv)
    helper = mbh.ModelBuilderHelper()
    helper.fill_model_from_sparse_data(lb, ub, obj, clo, chi, A)
    helper.set_objective_offset(offset)
    ids = inst.office_ids
    for s in range(S):
        for i in range(n):
            helper.set_var_integrality(int(y[s, i]), True)
            helper.set_var_integrality(int(f[s, i]), True)
            helper.set_var_name(int(y[s, i]), f"keep[{ids[i]},{s}]")
            helper.set_var_name(int(f[s, i]), f"flexible[{ids[i]},{s}]")
        helper.set_var_name(int(a[s]), f"allowance[{s}]")
    return BuiltModel(
        helper=helper,
        cand=cand,
        n_vars=nv,
        n_constraints=A.shape[0],
        n_nonzeros=A.nnz,
        n_integer=int(integer.sum()),
        y=y,
        f=f,
        u=u,
        a=a,
        objective_offset=offset,
        stage_rows=stage_rows,
    )


def _layout(inst: Instance, cand: Candidates):
    """Per candidate entry: its demand point, whether it is the first or last of
    the point's list, its distance D_k and the next distance D_{k+1} (m; for the
    last entry, the first office not in the list)."""
    sizes = cand.sizes
    row_of = np.repeat(np.arange(inst.m), sizes)
    pos = np.arange(cand.n_entries) - cand.ptr[row_of]
    first = pos == 0
    last = pos == sizes[row_of] - 1
    d = cand.dist_m.astype(float)
    d_next = np.where(last, cand.next_m[row_of].astype(float), np.roll(d, -1))
    return row_of, first, last, d, d_next


def build_objective_vector(inst: Instance, cand: Candidates, u, y, f, nv):
    """The original objective as (coefficients, offset) over the same variables."""
    row_of, first, last, d, d_next = _layout(inst, cand)
    w = inst.population.astype(float)
    pi = inst.propensity
    vec = np.zeros(nv)
    off = 0.0
    for s in range(inst.n_stages):
        if inst.objective == "distance":
            vec[u[s]] += w[row_of] * (d_next - d)
            off += float(np.sum(w[row_of[first]] * d[first]))
        elif inst.objective == "coverage":
            T = inst.coverage_m
            vec[u[s]] += w[row_of] * ((d_next > T).astype(float) - (d > T).astype(float))
            off += float(np.sum(w[row_of[first]] * (d[first] > T)))
        else:
            g_k = inst.g(d)
            vec[u[s]] += -pi[row_of] * (inst.g(d_next) - g_k)
            off += float(np.sum(pi * inst.g(inst.baseline_dist_m))) - float(np.sum(pi[row_of[first]] * g_k[first]))
    return vec, off
