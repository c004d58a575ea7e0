r"""The optimisation model, built from arrays; one function per constraint family.

Sets: offices :math:`i \in I`, demand points :math:`j \in J`, stages
:math:`s \in S` (e.g. 2025, 2026, 2027). For each demand point, its candidate
offices sorted by travel distance :math:`D_{j1} \le D_{j2} \le \dots \le D_{jK_j}`
(office :math:`i_{jk}`), and :math:`D_{j,K_j+1}` the distance to the first office
not in the list. The *prefix set* :math:`P_{jk} = \{i_{j1}, \dots, i_{jk}\}`.

Variables (per stage s):
  :math:`y_{is} \in \{0,1\}` office i kept with placed staff;
  :math:`f_{is} \in \{0,1\}` office i turned into a flexible office;
  :math:`u_{Ps} \in [0,1]` for every distinct prefix set P: = 1 iff no office of
  P is open (the sorted-distance variables of Elloumi, 2010, shared by every
  demand point whose list starts with the same set of offices; integral at any
  integral y, f);
  :math:`a_s \ge 0` the extra allowance for flexible offices actually used.

Write :math:`o_i = y_i + f_i` (open) and :math:`u_{jk} = u_{P_{jk}}`,
:math:`u_{j0} = 1`. Any function :math:`h` of the distance to the nearest open
office is linear in u:

.. math:: h(d_j) = h(D_{j1}) + \sum_k \big(h(D_{j,k+1}) - h(D_{jk})\big)\, u_{jk}

Constraints (per stage; each is one function below, whose docstring repeats its line):
  * mode:                :math:`y_i + f_i \le 1`
  * nearest office:      :math:`u_{P} \ge u_{P \setminus c} - o_c` for every step
    :math:`P \setminus c \to P` some list takes (:math:`u_\emptyset = 1`)
  * nearest office, upper: :math:`u_{P} \le u_{P \setminus c}`, :math:`u_P \le 1 - o_c`
    (only when something besides the objective depends on the distance: the
    budget would otherwise push u up, since farther offices mean fewer visits)
  * p-median count:      :math:`\sum_i o_i = p` (a plain p-median only)
  * budget:              :math:`\sum_i F_i y_i + \Phi_i f_i + c \sum_j \pi_j g(d_j) - a \le B_s`
  * allowance:           :math:`a \le A_s`, :math:`a \le \sum_i \Phi_i f_i`
  * FA cover:            :math:`\sum_{i \in r} o_i \ge 1` for every FA-region r with an office *today*
    (candidate sites may keep a region served; a region without an office today need not get one)
  * municipalities kept: :math:`\sum_{i \in \mu} o_i \ge 1` for every municipality with an office today
  * maximum closures:    :math:`\sum_{i \text{ open today}} o_i \ge |I_0| - C`
  * maximum distance:    :math:`u_{P_j(R)} = 0` for every j within R of an office today,
    :math:`P_j(R)` = j's offices within R
  * access floor:        :math:`\sum_{j \in g,\, P_j(R_F) \ne \emptyset} w_j (1 - u_{P_j(R_F)}) \ge s\, W_g`
    for the nation (one group g) or every FA-region g with inhabitants: at least
    share s of the population :math:`W_g` lives within :math:`R_F` of an open office
  * flexible capacity:   :math:`V_i \le C + M_i y_i` with
    :math:`V_i = \sum_{(j,k): i_{jk} = i} \pi_j g(D_{jk}) (u_{j,k-1} - u_{jk})`
  * growth:              :math:`V_i \le (1+G) V^0_i`
  * stages nested:       :math:`y_{i,s+1} \le y_{is}`, :math:`o_{i,s+1} \le o_{is}`
  * locks:               bounds on y and f.
  * flexible presolve:   :math:`f_i = 0` where i as a flexible office is certainly over capacity (δ > 0 only)

Objective (summed over stages, minimised): population × distance (default),
population beyond the coverage distance, or visits lost; or, for the
diagnosis, the total cost, or the highest access floor that can be met
(:math:`\max t` with :math:`\sum_{j \in g} w_j (1 - u_{P_j(R_F)}) \ge t\, W_g`
in every group and stage); or, for the tie-break, the number of changed
offices first and then the cost.

Truncated candidate lists make a *relaxation*: when all of j's candidates are
closed, u at the tail stands for "farther than :math:`D_{j,K_j+1}`", valued
optimistically (that distance for the objective, the floor visit rate for the
budget). If an optimal solution uses no tail, it is optimal for the full model;
otherwise the lists of the points concerned are widened and the model re-solved
(:mod:`netopt.solver.loop`).

Flexible offices valued below kept ones (``Instance.flexible_extra_m`` = δ > 0):
the lists hold *pseudo-sites*. An office that may become flexible appears
twice, kept at :math:`D` (open iff :math:`y_i`) and flexible at :math:`D + δ`
(open iff :math:`f_i`); other offices once (open iff :math:`o_i`); the lists are
sorted by this *equivalent distance*, the prefix sets are sets of pseudo-sites,
and :math:`o_c` in the nearest-office rows is the pseudo-site's own variable.
The nearest open pseudo-site is then at :math:`\min(D \text{ kept}, D + δ \text{ flexible})`,
and every per-entry value above (objective, visits, budget, capacity, growth)
is taken at the equivalent distance, so a flexible office's visitors also visit
as often as at an office δ farther, and the maximum distance holds for the
equivalent distance (a flexible office within R − δ keeps a demand point
within R). With δ = 0 the lists are the office lists and the model is unchanged.

Extending the model: :func:`build_model` takes ``extra``, a sequence of
functions ``family(parts: ModelParts) -> None`` that add variables, rows and
objective terms over the same variables (see :class:`ModelParts`). A family
may carry two attributes the optimisation loop reads: ``radius_m`` (every
office within this distance of a demand point must be in its candidate list,
as for the maximum distance) and ``needs_exact_distances`` (the upper
nearest-office rows must be present because the family bounds u from above).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable, Sequence

import numpy as np
import scipy.sparse as sp

from .geometry import FLEXIBLE_ONLY, KEPT_ONLY, Candidates, entry_open
from .instance import Instance

__all__ = ["BuiltModel", "ModelParts", "build_model", "prefix_nodes", "access_at_most", "other_open_set", "OBJECTIVES", "CHANGE_WEIGHT_SEK"]

OBJECTIVES = ("distance", "coverage", "visits_lost")
INF = np.inf

#: Weight (SEK) of one changed office in the tie-break objective: larger than any
#: network's annual cost, so fewer changes always win before a larger saving.
CHANGE_WEIGHT_SEK = 1e10

#: Fixed keys of the offices for the exact-with-overwhelming-probability hash
#: of prefix sets (two independent 64-bit sums; a collision among 10^6 sets has
#: probability below 10^-26).
_KEY_SEED = 0x6E65746F7074


# --------------------------------------------------------------------------- prefix sets


@dataclass(frozen=True)
class PrefixNodes:
    """The distinct prefix sets of the candidate lists.

    ``node[e]`` is the prefix set of candidate entry e (an index < ``count``);
    ``depth[q]`` the size of set q; ``edges`` the distinct steps
    ``(parent, child, added office)`` the lists take; ``roots`` the one-office
    sets ``(node, office)``. With flexible offices valued below kept ones the
    lists hold *pseudo-sites* (an office kept or flexible, :attr:`Candidates.kind`),
    and ``edge_kind``/``root_kind`` say which (None: every entry is an office,
    open when kept or flexible).
    """

    node: np.ndarray
    count: int
    depth: np.ndarray
    edge_parent: np.ndarray
    edge_child: np.ndarray
    edge_office: np.ndarray
    root_node: np.ndarray
    root_office: np.ndarray
    edge_kind: np.ndarray | None = None
    root_kind: np.ndarray | None = None


def _unique_rows(a: np.ndarray):
    """``np.unique(a, axis=0, return_index=True, return_inverse=True)`` of a 2-D integer
    array: its distinct rows in lexicographic order, the index of each one's first
    occurrence, and each row's index among them. The same three arrays by one stable
    lexicographic sort, several times faster than ``np.unique`` with ``axis``."""
    order = np.lexsort(a.T[::-1])  # stable: equal rows keep their order, so the first of each run is its first occurrence
    s = a[order]
    new = np.ones(len(a), bool)
    new[1:] = (s[1:] != s[:-1]).any(axis=1)
    inverse = np.empty(len(a), np.int64)
    inverse[order] = np.cumsum(new) - 1
    return s[new], order[new], inverse


def prefix_nodes(cand: Candidates, n_offices: int) -> PrefixNodes:
    """Group the candidate entries by the set of offices (pseudo-sites) up to and including them."""
    E = cand.n_entries
    sizes = cand.sizes
    row = np.repeat(np.arange(len(sizes)), sizes)
    pos = np.arange(E) - cand.ptr[row]
    rng = np.random.Generator(np.random.PCG64(_KEY_SEED))
    # a site: the office, or with pseudo-sites office + n × kind
    site = cand.office if cand.kind is None else cand.office + n_offices * cand.kind
    n_sites = n_offices if cand.kind is None else 3 * n_offices
    keys = rng.bit_generator.random_raw((2, n_sites)).astype(np.uint64)
    start = cand.ptr[row]
    hashes = []
    for k in keys:
        c = np.cumsum(k[site], dtype=np.uint64)  # wraps modulo 2^64
        before = np.where(start > 0, c[np.maximum(start - 1, 0)], np.uint64(0))
        hashes.append(c - before)
    table = np.stack([pos.astype(np.uint64), hashes[0], hashes[1]], axis=1)
    _, first_at, inverse = _unique_rows(table)
    # number the sets in order of first appearance (readable, and independent of the hash values)
    order = np.argsort(first_at, kind="stable")
    rank = np.empty(len(order), np.int64)
    rank[order] = np.arange(len(order))
    node = rank[inverse]
    count = len(order)
    depth = np.zeros(count, np.int64)
    depth[node] = pos + 1
    first = pos == 0
    roots = _unique_rows(np.stack([node[first], site[first]], axis=1))[0]
    nf = np.flatnonzero(~first)
    steps = _unique_rows(np.stack([node[nf - 1], node[nf], site[nf]], axis=1))[0]
    if cand.kind is None:
        return PrefixNodes(node=node, count=count, depth=depth, edge_parent=steps[:, 0], edge_child=steps[:, 1], edge_office=steps[:, 2],
                           root_node=roots[:, 0], root_office=roots[:, 1])
    return PrefixNodes(node=node, count=count, depth=depth, edge_parent=steps[:, 0], edge_child=steps[:, 1],
                       edge_office=steps[:, 2] % n_offices, root_node=roots[:, 0], root_office=roots[:, 1] % n_offices,
                       edge_kind=steps[:, 2] // n_offices, root_kind=roots[:, 1] // n_offices)


# --------------------------------------------------------------------------- building blocks


class _Rows:
    """Accumulates constraint rows as COO triplets."""

    def __init__(self):
        self.r, self.c, self.v, self.lo, self.hi = [], [], [], [], []
        self.count = 0

    def add(self, n_rows, lo, hi, *terms) -> int:
        """Add ``n_rows`` rows; each term is (row offsets, columns, values). Returns the first row's index."""
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
        lo = np.concatenate(self.lo) if self.lo else np.zeros(0)
        hi = np.concatenate(self.hi) if self.hi else np.zeros(0)
        return a, lo, hi


class ModelParts:
    """The model while it is built: variables, bounds, rows and objective, and
    where each variable of the formulation sits.

    A constraint family (built in or passed as ``extra``) is a function of a
    ``ModelParts``. It reads ``inst``, ``cand``, ``nodes`` and the index arrays
    ``y``, ``f`` (stages × offices), ``u`` (stages × prefix sets), ``a``
    (stages), and adds to the model with :meth:`new_vars`, :meth:`add_rows`,
    :meth:`add_objective` and :meth:`fix`. Example, a "no-good" row excluding
    the open set of an earlier plan in stage 0::

        def exclude(parts):
            o = np.concatenate([parts.y[0], parts.f[0]])
            was = np.tile(earlier_open, 2)  # earlier_open: bool per office
            # Σ_{i open before} (1 - o_i) + Σ_{i closed before} o_i ≥ 1
            parts.add_rows(1, 1.0 - was[: parts.n].sum(), np.inf, (np.zeros(o.size), o, np.where(was, -1.0, 1.0)))
    """

    def __init__(self, inst: Instance, cand: Candidates, nodes: PrefixNodes, exact: bool):
        self.inst, self.cand, self.nodes, self.exact = inst, cand, nodes, exact
        self.n, self.S = inst.n, inst.n_stages
        per = 2 * self.n + nodes.count + 1
        self._lb, self._ub, self._obj, self._int, self._names = [], [], [], [], []
        self.n_vars = 0
        self.y = np.empty((self.S, self.n), np.int64)
        self.f = np.empty((self.S, self.n), np.int64)
        self.u = np.empty((self.S, nodes.count), np.int64)
        self.a = np.empty(self.S, np.int64)
        ids = inst.office_ids
        for s in range(self.S):
            self.y[s] = self.new_vars(self.n, 0.0, 1.0, integer=True, names=[f"keep[{i},{s}]" for i in ids])
            self.f[s] = self.new_vars(self.n, 0.0, 1.0, integer=True, names=[f"flexible[{i},{s}]" for i in ids])
            self.u[s] = self.new_vars(nodes.count, 0.0, 1.0, names=None, name_prefix=f"none_open[{s},")
            self.a[s] = self.new_vars(1, 0.0, float(inst.allowances_sek[s]), names=[f"allowance[{s}]"])[0]
        assert self.n_vars == self.S * per
        self.rows = _Rows()
        self.stage_rows: dict = {}
        self.offset = 0.0
        self._layout = _layout(inst, cand)

    # ---- the API for constraint families
    def new_vars(self, count: int, lb, ub, *, integer: bool = False, obj=0.0, names=None, name_prefix: str = "x[") -> np.ndarray:
        """Add ``count`` variables; returns their indices."""
        idx = np.arange(self.n_vars, self.n_vars + count)
        self._lb.append(np.broadcast_to(np.asarray(lb, float), (count,)).astype(float))
        self._ub.append(np.broadcast_to(np.asarray(ub, float), (count,)).astype(float))
        self._obj.append(np.broadcast_to(np.asarray(obj, float), (count,)).astype(float))
        self._int.append(np.full(count, bool(integer)))
        self._names.append(names if names is not None else (name_prefix, count))
        self.n_vars += count
        return idx

    def add_rows(self, n_rows: int, lo, hi, *terms) -> int:
        """Add rows ``lo ≤ Σ coefficient × variable ≤ hi``; each term is (row offsets 0..n_rows-1, variables, coefficients)."""
        return self.rows.add(n_rows, lo, hi, *terms)

    def add_objective(self, cols, vals, offset: float = 0.0) -> None:
        self._pending_obj.append((np.asarray(cols, np.int64), np.asarray(vals, float)))
        self.offset += offset

    def fix(self, cols, lb=None, ub=None) -> None:
        """Tighten bounds of variables (locks, fixed values)."""
        self._pending_bounds.append((np.asarray(cols, np.int64), lb, ub))

    # ---- per-entry layout and sums per prefix set
    @property
    def layout(self):
        """(row_of, first, last, d, d_next) per candidate entry (see :func:`_layout`)."""
        return self._layout

    def per_node(self, per_entry: np.ndarray) -> np.ndarray:
        """Sum a per-entry quantity over the entries of each prefix set."""
        return np.bincount(self.nodes.node, weights=per_entry, minlength=self.nodes.count)

    _pending_obj: list
    _pending_bounds: list

    def open_terms(self, s: int, offices: np.ndarray, rows: np.ndarray, coef: float = 1.0):
        """The terms ``coef × (y_i + f_i)`` for offices ``offices`` in rows ``rows``."""
        return (rows, self.y[s][offices], coef), (rows, self.f[s][offices], coef)

    def site_terms(self, s: int, offices: np.ndarray, kinds: np.ndarray | None, rows: np.ndarray, coef: float = 1.0):
        """The terms "site open" × ``coef`` for candidate sites (``offices``, ``kinds``)
        in rows ``rows``: y_i + f_i for an office (kind None or ANY), y_i for a kept
        pseudo-site, f_i for a flexible one (:data:`~netopt.geometry.KEPT_ONLY`,
        :data:`~netopt.geometry.FLEXIBLE_ONLY`)."""
        if kinds is None:
            return self.open_terms(s, offices, rows, coef)
        rows, offices = np.asarray(rows, np.int64), np.asarray(offices, np.int64)
        ky, kf = kinds != FLEXIBLE_ONLY, kinds != KEPT_ONLY
        return (rows[ky], self.y[s][offices[ky]], coef), (rows[kf], self.f[s][offices[kf]], coef)


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


# --------------------------------------------------------------------------- constraint families


def mode(p: ModelParts) -> None:
    """mode: y_i + f_i ≤ 1 (an office is kept, flexible or closed)."""
    n = p.n
    for s in range(p.S):
        p.add_rows(n, 0.0, 1.0, *p.open_terms(s, np.arange(n), np.arange(n)))


def nearest_office(p: ModelParts) -> None:
    """nearest office: u_P ≥ u_{P∖c} − o_c for every step a list takes (u_∅ = 1):
    a prefix set with no office open is "none open". With pseudo-sites o_c is
    y_i for office i kept and f_i for office i flexible."""
    nd = p.nodes
    r1 = np.arange(len(nd.root_node))
    r2 = np.arange(len(nd.edge_child))
    for s in range(p.S):
        p.add_rows(len(r1), 1.0, INF, (r1, p.u[s][nd.root_node], 1.0), *p.site_terms(s, nd.root_office, nd.root_kind, r1))
        p.add_rows(len(r2), 0.0, INF, (r2, p.u[s][nd.edge_child], 1.0), (r2, p.u[s][nd.edge_parent], -1.0), *p.site_terms(s, nd.edge_office, nd.edge_kind, r2))


def nearest_office_upper(p: ModelParts) -> None:
    """nearest office, upper: u_P ≤ u_{P∖c} and u_P ≤ 1 − o_c (so u is exactly
    "none of P open" whatever pushes it up, e.g. the budget)."""
    if not p.exact:
        return
    nd = p.nodes
    r1 = np.arange(len(nd.root_node))
    r2 = np.arange(len(nd.edge_child))
    kind = np.zeros(len(nd.edge_child), np.int64) if nd.edge_kind is None else nd.edge_kind
    cs = np.unique(np.stack([nd.edge_child, nd.edge_office, kind], axis=1), axis=0)
    cs_kind = None if nd.edge_kind is None else cs[:, 2]
    r3 = np.arange(len(cs))
    for s in range(p.S):
        p.add_rows(len(r1), -INF, 1.0, (r1, p.u[s][nd.root_node], 1.0), *p.site_terms(s, nd.root_office, nd.root_kind, r1))
        p.add_rows(len(r2), -INF, 0.0, (r2, p.u[s][nd.edge_child], 1.0), (r2, p.u[s][nd.edge_parent], -1.0))
        p.add_rows(len(r3), -INF, 1.0, (r3, p.u[s][cs[:, 0]], 1.0), *p.site_terms(s, cs[:, 1], cs_kind, r3))


def open_count(p: ModelParts) -> None:
    """p-median count: Σ_i o_i = p (a plain p-median only)."""
    if p.inst.open_count is None:
        return
    n = p.n
    for s in range(p.S):
        p.add_rows(1, p.inst.open_count, p.inst.open_count, *p.open_terms(s, np.arange(n), np.zeros(n, np.int64)))


def _budget_coefficients(p: ModelParts):
    """Staff cost of visits as a constant plus a coefficient per prefix set (tail at the floor rate)."""
    inst = p.inst
    row_of, first, last, d, d_next = p.layout
    pi = inst.propensity
    g_k = inst.g(d)
    g_next = np.where(last, inst.floor, inst.g(d_next))  # optimistic tail: the floor rate
    const = inst.staff_per_visit_sek * float(np.sum(pi[row_of[first]] * g_k[first]))
    coef = p.per_node(inst.staff_per_visit_sek * pi[row_of] * (g_next - g_k))
    return const, coef


def budget(p: ModelParts) -> None:
    """budget: Σ_i F_i y_i + Φ_i f_i + c Σ_j π_j g(d_j) − a_s ≤ B_s (skipped when there is no budget)."""
    inst = p.inst
    if not any(b < 1e17 for b in inst.budgets_sek):
        return
    const, coef = _budget_coefficients(p)
    n, Q = p.n, p.nodes.count
    for s in range(p.S):
        cols = np.concatenate([p.y[s], p.f[s], p.u[s], [p.a[s]]])
        vals = np.concatenate([inst.fixed_full_sek, inst.fixed_flex_sek, coef, [-1.0]])
        p.stage_rows[("budget", s)] = p.add_rows(1, -INF, inst.budgets_sek[s] - const, (np.zeros(2 * n + Q + 1, np.int64), cols, vals))


def allowance(p: ModelParts) -> None:
    """allowance: a_s ≤ A_s (a bound) and a_s ≤ Σ_i Φ_i f_i (only flexible spending)."""
    inst = p.inst
    n = p.n
    for s in range(p.S):
        if inst.allowances_sek[s] > 0:
            p.add_rows(1, -INF, 0.0, (np.zeros(n + 1, np.int64), np.concatenate([[p.a[s]], p.f[s]]), np.concatenate([[1.0], -inst.fixed_flex_sek])))
        else:
            p.fix([p.a[s]], ub=0.0)


def fa_cover(p: ModelParts) -> None:
    """FA cover: Σ_{i∈r} o_i ≥ 1 for every FA-region r with an office today
    (its candidate sites count; regions without an office today get no row)."""
    inst = p.inst
    regions = inst.fa_regions_to_cover
    if regions.size == 0:
        return
    offs = np.flatnonzero(np.isin(inst.fa_of_office, regions))
    r_idx = np.searchsorted(regions, inst.fa_of_office[offs])
    for s in range(p.S):
        p.stage_rows[("fa", s)] = p.add_rows(len(regions), 1.0, INF, *p.open_terms(s, offs, r_idx))


def keep_municipalities(p: ModelParts) -> None:
    """municipalities kept: Σ_{i∈μ} o_i ≥ 1 for every municipality μ with an office today."""
    inst = p.inst
    if not inst.keep_municipalities:
        return
    munis = np.unique(inst.muni_of_office[inst.existing_mask])
    inm = np.flatnonzero(np.isin(inst.muni_of_office, munis))
    m_idx = np.searchsorted(munis, inst.muni_of_office[inm])
    for s in range(p.S):
        p.add_rows(len(munis), 1.0, INF, *p.open_terms(s, inm, m_idx))


def max_closures(p: ModelParts) -> None:
    """maximum closures: Σ_{i open today} o_i ≥ |I_0| − C."""
    inst = p.inst
    if inst.max_closures is None:
        return
    ex = np.flatnonzero(inst.existing_mask)
    for s in range(p.S):
        p.add_rows(1, len(ex) - inst.max_closures, INF, *p.open_terms(s, ex, np.zeros(len(ex), np.int64)))


def max_distance(p: ModelParts) -> None:
    """maximum distance: u_{P_j(R)} = 0 for every demand point j within R of an
    office today, P_j(R) = j's offices within R (one of them stays open); with
    pseudo-sites, within R in equivalent distance."""
    inst = p.inst
    if inst.max_distance_m is None:
        return
    cand = p.cand
    row_of = p.layout[0]
    within = (cand.dist_m <= inst.max_distance_m) & (inst.baseline_dist_m[row_of] <= inst.max_distance_m)
    if not within.any():
        return
    last_within = np.full(inst.m, -1)
    np.maximum.at(last_within, row_of[within], np.flatnonzero(within))
    nodes = p.nodes.node[last_within[last_within >= 0]]
    for s in range(p.S):
        p.fix(p.u[s][nodes], ub=0.0)


def _floor_terms(p: ModelParts):
    """The access floor's coverage terms: for every demand point j with an office
    within R_F in its list, (group, prefix-set node P_j(R_F), w_j); and per group
    the inhabitants W_g and those with some office within R_F, R_g."""
    inst = p.inst
    cand = p.cand
    row_of = p.layout[0]
    group, n_groups = inst.floor_groups()
    w = inst.population.astype(float)
    within = cand.dist_m <= inst.access_floor_m
    last_within = np.full(inst.m, -1)
    np.maximum.at(last_within, row_of[within], np.flatnonzero(within))
    js = np.flatnonzero((last_within >= 0) & (group >= 0))
    total = np.bincount(group[group >= 0], weights=w[group >= 0], minlength=n_groups)
    reach = np.bincount(group[js], weights=w[js], minlength=n_groups)
    return group[js], p.nodes.node[last_within[js]], w[js], total, reach


def access_floor(p: ModelParts) -> None:
    """access floor: Σ_{j∈g, P_j(R_F)≠∅} w_j (1 − u_{P_j(R_F)}) ≥ s W_g for the nation or every
    FA-region g with inhabitants, written Σ w_j u_{P_j(R_F)} ≤ R_g − s W_g (R_g: the inhabitants
    of g with an office within R_F in their list, which holds every office within R_F)."""
    inst = p.inst
    if not inst.has_access_floor:
        return
    g, nodes, w, total, reach = _floor_terms(p)
    rows = np.flatnonzero(total > 0)
    remap = np.full(len(total), -1)
    remap[rows] = np.arange(len(rows))
    keep = remap[g] >= 0
    for s in range(p.S):
        p.stage_rows[("access_floor", s)] = p.add_rows(len(rows), -INF, reach[rows] - inst.access_floor_share * total[rows],
                                                       (remap[g[keep]], p.u[s][nodes[keep]], w[keep]))


def list_holds_every_office(p: ModelParts) -> None:
    """A list that holds every office cannot have them all closed: u = 0 at its end."""
    cand = p.cand
    row_of, _, last, _, _ = p.layout
    tail = p.nodes.node[last & (cand.next_m[row_of] < 0)]
    for s in range(p.S):
        p.fix(p.u[s][tail], ub=0.0)


def _visit_terms(p: ModelParts):
    """V_i = c_i + Σ terms over prefix sets: (office rows, node columns, coefficients) and c_i."""
    inst = p.inst
    row_of, first, _, d, _ = p.layout
    office = p.cand.office
    vg = inst.propensity[row_of] * inst.g(d)
    node = p.nodes.node
    nf = np.flatnonzero(~first)
    const = np.bincount(office[first], weights=vg[first], minlength=p.n)
    rows = np.concatenate([office, office[nf]])
    cols = np.concatenate([node, node[nf - 1]])
    vals = np.concatenate([-vg, vg[nf]])
    big_m = np.bincount(office, weights=vg, minlength=p.n)
    return rows, cols, vals, const, big_m


def flexible_capacity(p: ModelParts) -> None:
    """flexible capacity: V_i ≤ C + M_i y_i, with V_i = Σ_{(j,k): i_jk = i} π_j g(D_jk)(u_{j,k−1} − u_jk)."""
    inst = p.inst
    need = inst.flex_allowed_mask & ~inst.lock_closed_mask & ~inst.lock_open_mask
    if not need.any():
        return
    rows, cols, vals, const, big_m = _visit_terms(p)
    ids = np.flatnonzero(need)
    remap = np.full(p.n, -1)
    remap[ids] = np.arange(len(ids))
    sel = need[rows]
    for s in range(p.S):
        p.add_rows(len(ids), -INF, inst.flex_capacity_visits - const[ids], (remap[rows[sel]], p.u[s][cols[sel]], vals[sel]), (np.arange(len(ids)), p.y[s][ids], -big_m[ids]))


def growth(p: ModelParts) -> None:
    """growth: V_i ≤ (1 + G) V⁰_i for every office."""
    inst = p.inst
    if inst.max_growth is None:
        return
    rows, cols, vals, const, _ = _visit_terms(p)
    for s in range(p.S):
        p.add_rows(p.n, -INF, (1.0 + inst.max_growth) * inst.baseline_visits - const + 1e-6, (rows, p.u[s][cols], vals))


def nesting(p: ModelParts) -> None:
    """stages nested: y_{i,s+1} ≤ y_{is} and o_{i,s+1} ≤ o_{is} (closed stays closed, flexible does not get staff back)."""
    n = np.arange(p.n)
    for s in range(1, p.S):
        p.add_rows(p.n, -INF, 0.0, (n, p.y[s], 1.0), (n, p.y[s - 1], -1.0))
        p.add_rows(p.n, -INF, 0.0, *p.open_terms(s, n, n), *p.open_terms(s - 1, n, n, -1.0))


def locks(p: ModelParts) -> None:
    """locks: y_i = 1 for offices locked open, y_i = f_i = 0 for offices locked
    closed, f_i = 0 where flexible offices are not allowed."""
    inst = p.inst
    lo, lc, fx = inst.lock_open_mask, inst.lock_closed_mask, inst.flex_allowed_mask
    for s in range(p.S):
        p.fix(p.y[s][lo], lb=1.0)
        p.fix(p.y[s][lc], ub=0.0)
        p.fix(p.f[s][lc | lo | ~fx], ub=0.0)


def flexible_presolve(p: ModelParts) -> None:
    """flexible presolve (δ > 0 only): f_i = 0 for every office whose visits as a flexible
    office certainly exceed the capacity (:attr:`~netopt.instance.Instance.flex_viable_mask`;
    its candidate lists carry no flexible entry, so f_i must not open its entries)."""
    inst = p.inst
    if inst.flexible_extra_m <= 0:
        return
    out = inst.flex_possible_mask & ~inst.flex_viable_mask
    for s in range(p.S):
        p.fix(p.f[s][out], ub=0.0)


#: The built-in families, in the order they are added.
FAMILIES: tuple[Callable[[ModelParts], None], ...] = (
    mode, nearest_office, nearest_office_upper, open_count, budget, allowance, fa_cover,
    keep_municipalities, max_closures, max_distance, access_floor, list_holds_every_office, flexible_capacity, growth, nesting, locks,
    flexible_presolve,
)


# --------------------------------------------------------------------------- objectives


def _access_terms(p: ModelParts) -> tuple[np.ndarray, float]:
    """One stage's objective as a coefficient per prefix set and a constant."""
    inst = p.inst
    row_of, first, _, d, d_next = p.layout
    w = inst.population.astype(float)
    if inst.objective == "distance":
        coef = w[row_of] * (d_next - d)
        off = float(np.sum(w[row_of[first]] * d[first]))
    elif inst.objective == "coverage":
        T = inst.coverage_m
        coef = w[row_of] * ((d_next > T).astype(float) - (d > T).astype(float))
        off = float(np.sum(w[row_of[first]] * (d[first] > T)))
    else:
        pi = inst.propensity
        g_k = inst.g(d)
        coef = -pi[row_of] * (inst.g(d_next) - g_k)
        off = float(np.sum(pi * inst.g(inst.baseline_dist_m))) - float(np.sum(pi[row_of[first]] * g_k[first]))
    return p.per_node(coef), off


def access_objective(p: ModelParts) -> None:
    """The scenario's objective per stage: Σ_j h(D_j1) + Σ_P (Σ_{(j,k): P_jk = P} (h(D_{j,k+1}) − h(D_jk))) u_P,
    with h = population × distance, population beyond the coverage distance, or (for visits lost) −visits."""
    coef, off = _access_terms(p)
    for s in range(p.S):
        p.add_objective(p.u[s], coef, off)


def access_at_most(value: float) -> Callable[[ModelParts], None]:
    """A family: the scenario's objective, summed over stages, is at most ``value``
    (the tie-break among optimal plans keeps the optimum this way)."""

    def family(p: ModelParts) -> None:
        coef, off = _access_terms(p)
        Q = p.nodes.count
        rows = np.zeros(Q * p.S, np.int64)
        p.add_rows(1, -INF, value - p.S * off, (rows, p.u.ravel(), np.tile(coef, p.S)))

    family.needs_exact_distances = False
    return family


def other_open_set(modes: Sequence) -> Callable[[ModelParts], None]:
    """A family: the offices open (kept or flexible) differ from those of the plan
    ``modes`` (one array per stage, 0 closed, 1 flexible, 2 kept) in at least one
    office of one stage, a "no-good" row over every stage:
    Σ_s [Σ_{i open in s} (1 − o_is) + Σ_{i closed in s} o_is] ≥ 1.
    Turning a kept office flexible (or back) does not make a plan different."""
    opened = [np.asarray(m) > 0 for m in modes]

    def family(p: ModelParts) -> None:
        cols, vals = [], []
        for s, o in enumerate(opened[: p.S]):
            sign = np.where(o, -1.0, 1.0)
            cols += [p.y[s], p.f[s]]
            vals += [sign, sign]
        cols = np.concatenate(cols)
        p.add_rows(1, 1.0 - float(sum(int(o.sum()) for o in opened[: p.S])), INF, (np.zeros(cols.size, np.int64), cols, np.concatenate(vals)))

    family.needs_exact_distances = False
    return family


def _cost_terms(p: ModelParts) -> None:
    inst = p.inst
    const, coef = _budget_coefficients(p)
    for s in range(p.S):
        p.add_objective(np.concatenate([p.y[s], p.f[s], p.u[s]]), np.concatenate([inst.fixed_full_sek, inst.fixed_flex_sek, coef]), const)


def cost_objective(p: ModelParts) -> None:
    """Net cost of every stage (SEK): Σ_s Σ_i F_i y_i + Φ_i f_i + c Σ_j π_j g(d_j) − a_s,
    the left side of the budget rows (the diagnosis' largest saving, allowance included)."""
    _cost_terms(p)
    for s in range(p.S):
        p.add_objective([p.a[s]], [-1.0])


def change_objective(p: ModelParts) -> None:
    """Tie-break: CHANGE_WEIGHT_SEK × (offices not kept + candidate sites opened), then the cost."""
    _cost_terms(p)
    ex = p.inst.existing_mask
    for s in range(p.S):
        p.add_objective(p.y[s][ex], np.full(int(ex.sum()), -CHANGE_WEIGHT_SEK), int(ex.sum()) * CHANGE_WEIGHT_SEK)
        p.add_objective(p.y[s][~ex], np.full(int((~ex).sum()), CHANGE_WEIGHT_SEK))
        p.add_objective(p.f[s][~ex], np.full(int((~ex).sum()), CHANGE_WEIGHT_SEK))


def floor_objective(p: ModelParts) -> None:
    """The highest access floor (diagnosis): maximise t ≤ 1 with
    Σ_{j∈g} w_j (1 − u_{P_j(R_F)}) ≥ t W_g for every group g with inhabitants, in every stage
    (minimises −t; the instance's own floor, if any, stays a constraint)."""
    inst = p.inst
    if inst.access_floor_m is None:
        raise ValueError("the floor objective needs access_floor_m")
    g, nodes, w, total, reach = _floor_terms(p)
    t = p.new_vars(1, 0.0, 1.0, obj=-1.0, names=["access_floor_share"])[0]
    p.floor_var = t
    rows = np.flatnonzero(total > 0)
    remap = np.full(len(total), -1)
    remap[rows] = np.arange(len(rows))
    keep = remap[g] >= 0
    for s in range(p.S):
        p.add_rows(len(rows), -INF, reach[rows], (remap[g[keep]], p.u[s][nodes[keep]], w[keep]), (np.arange(len(rows)), np.full(len(rows), t), total[rows]))


MODEL_OBJECTIVES = {"plan": access_objective, "cost": cost_objective, "changes": change_objective, "floor": floor_objective}


# --------------------------------------------------------------------------- the built model


@dataclass(frozen=True, eq=False)
class BuiltModel:
    """A built, not yet solved, model: ``lo_row ≤ A x ≤ hi_row``, ``lb ≤ x ≤ ub``,
    minimise ``obj · x + objective_offset``, ``integer`` marking y and f.

    The arrays are what every solver adapter receives; :meth:`to_ortools` makes
    the same model an OR-Tools model (for its solvers and for :meth:`export`).
    ``y``, ``f`` (stages × offices), ``u`` (stages × candidate entries) and
    ``a`` (stages) give where each variable of the formulation sits.
    """

    cand: Candidates
    lb: np.ndarray
    ub: np.ndarray
    obj: np.ndarray
    objective_offset: float
    A: sp.csr_matrix
    row_lo: np.ndarray
    row_hi: np.ndarray
    integer: np.ndarray
    y: np.ndarray
    f: np.ndarray
    u: np.ndarray
    a: np.ndarray
    node_vars: np.ndarray
    names: tuple = field(repr=False, default=())
    stage_rows: dict = field(default_factory=dict)
    objective_kind: str = "plan"
    nodes: PrefixNodes | None = field(repr=False, default=None)

    @property
    def n_vars(self) -> int:
        return len(self.lb)

    @property
    def n_constraints(self) -> int:
        return self.A.shape[0]

    def sizes(self) -> dict:
        return {
            "variables": self.n_vars,
            "integer_variables": int(self.integer.sum()),
            "constraints": self.n_constraints,
            "nonzeros": int(self.A.nnz),
            "candidate_pairs": self.cand.n_entries,
            "prefix_sets": int(self.node_vars.shape[1]) if self.node_vars.size else 0,
        }

    def var_names(self) -> list[str]:
        out = []
        for item in self.names:
            if isinstance(item, tuple):
                prefix, count = item
                out.extend(f"{prefix}{k}]" for k in range(count))
            else:
                out.extend(item)
        return out

    @cached_property
    def ortools(self):
        """The same model as an OR-Tools ``ModelBuilderHelper`` (built once, on first use)."""
        from ortools.linear_solver.python import model_builder_helper as mbh

        from .solver import coexistence

        coexistence.guard_ortools()
        helper = mbh.ModelBuilderHelper()
        helper.fill_model_from_sparse_data(self.lb, self.ub, self.obj, self.row_lo, self.row_hi, self.A)
        helper.set_objective_offset(self.objective_offset)
        for k in np.flatnonzero(self.integer):
            helper.set_var_integrality(int(k), True)
        return helper

    def to_ortools(self, *, names: bool = False):
        """The OR-Tools model; with ``names`` its variables carry readable names
        (``keep[office,stage]``, ``flexible[...]``, ``none_open[stage,set]``, ``allowance[stage]``)."""
        helper = self.ortools
        if names:
            for k, name in enumerate(self.var_names()):
                helper.set_var_name(k, name)
        return helper

    def export_text(self, fmt: str) -> str:
        """The model as MPS (``fmt="mps"``) or LP (``fmt="lp"``) text, with readable names.

        MPS is written by HiGHS's writer (every coefficient exact, e.g. 392889251);
        LP by OR-Tools' exporter (the OR-Tools model; names with ``-`` become
        ``_`` and coefficients have 6 significant digits, so for re-solving use MPS).
        """
        if fmt == "mps":
            from .solver.backends import write_mps

            return write_mps(self)
        if fmt == "lp":
            return self.to_ortools(names=True).export_to_lp_string()
        raise ValueError(f"unknown model format {fmt!r}: use mps or lp")


def needs_exact_distances(inst: Instance, objective: str, extra: Sequence = ()) -> bool:
    """Whether u must equal "none open" exactly (upper rows): when the budget,
    flexible capacity, growth, the cost objective or an extra family depend on it."""
    finite_budget = any(b < 1e17 for b in inst.budgets_sek)
    need_cap = bool((inst.flex_allowed_mask & ~inst.lock_closed_mask & ~inst.lock_open_mask).any())
    return finite_budget or need_cap or inst.max_growth is not None or objective != "plan" or any(getattr(e, "needs_exact_distances", False) for e in extra)


def build_model(
    inst: Instance,
    cand: Candidates,
    *,
    objective: str = "plan",
    fixed_open: Sequence | None = None,
    extra: Sequence[Callable[[ModelParts], None]] = (),
    nodes: PrefixNodes | None = None,
) -> BuiltModel:
    """Build the MIP for ``inst`` over the candidate lists ``cand``.

    Args:
      objective: ``"plan"`` (the scenario's objective), ``"cost"`` (net cost:
        cost less the allowance used, for the largest saving possible), ``"changes"`` (the tie-break: fewest
        changed offices, then the largest saving) or ``"floor"`` (the highest access floor, for the
        diagnosis: needs ``inst.access_floor_m``).
      fixed_open: one boolean array per stage: which offices are open (the
        tie-break phase; only keep-or-flexible is left to choose).
      extra: further constraint families (see :class:`ModelParts`).
      nodes: the prefix sets of ``cand`` (``BuiltModel.nodes`` of a model built over the
        same lists), to save computing them again.

    Returns:
      a :class:`BuiltModel` (arrays; no solver has run).
    """
    if objective not in MODEL_OBJECTIVES:
        raise ValueError(f"objective must be one of {sorted(MODEL_OBJECTIVES)}")
    nodes = prefix_nodes(cand, inst.n) if nodes is None else nodes
    parts = ModelParts(inst, cand, nodes, needs_exact_distances(inst, objective, extra))
    parts._pending_obj = []
    parts._pending_bounds = []
    for family in (*FAMILIES, *extra):
        family(parts)
    MODEL_OBJECTIVES[objective](parts)
    if fixed_open is not None:
        _fix_open(parts, fixed_open)

    lb = np.concatenate(parts._lb)
    ub = np.concatenate(parts._ub)
    obj = np.concatenate(parts._obj)
    for cols, vals in parts._pending_obj:
        np.add.at(obj, cols, vals)
    for cols, lo, hi in parts._pending_bounds:
        if lo is not None:
            lb[cols] = np.maximum(lb[cols], lo)
        if hi is not None:
            ub[cols] = np.minimum(ub[cols], hi)
    A, lo_r, hi_r = parts.rows.matrix(parts.n_vars)
    return BuiltModel(
        cand=cand, lb=lb, ub=ub, obj=obj, objective_offset=float(parts.offset), A=A, row_lo=lo_r, row_hi=hi_r,
        integer=np.concatenate(parts._int), y=parts.y, f=parts.f, u=parts.u[:, nodes.node], a=parts.a, node_vars=parts.u,
        names=tuple(parts._names), stage_rows=dict(parts.stage_rows), objective_kind=objective, nodes=nodes,
    )


def _fix_open(p: ModelParts, fixed_open: Sequence) -> None:
    """Fix which offices are open in each stage; u takes its known value."""
    for s in range(p.S):
        is_open = np.asarray(fixed_open[s], bool)
        p.fix(p.y[s][~is_open], ub=0.0)
        p.fix(p.f[s][~is_open], ub=0.0)
        p.add_rows(int(is_open.sum()), 1.0, 1.0, *p.open_terms(s, np.flatnonzero(is_open), np.arange(int(is_open.sum()))))
        if p.cand.kind is not None:
            continue  # with pseudo-sites u also depends on kept-or-flexible, which is left to choose
        value = none_open_values(p.cand, p.nodes, is_open)
        p.fix(p.u[s], lb=value, ub=value)


def none_open_values(cand: Candidates, nodes: PrefixNodes, is_open: np.ndarray, flexible: np.ndarray | None = None) -> np.ndarray:
    """The value of every prefix-set variable for an open set: 1.0 where none of its offices is open.
    With pseudo-sites (``cand.kind``) give ``flexible`` too (which open offices are flexible)."""
    is_open = np.asarray(is_open, bool)
    flexible = np.zeros_like(is_open) if flexible is None else np.asarray(flexible, bool) & is_open
    hit = entry_open(cand, is_open & ~flexible, flexible).astype(np.int64)
    c = np.cumsum(hit)
    row = np.repeat(np.arange(len(cand.sizes)), cand.sizes)
    start = cand.ptr[row]
    before = np.where(start > 0, c[np.maximum(start - 1, 0)], 0)
    none = (c - before) == 0
    value = np.zeros(nodes.count)
    value[nodes.node] = none.astype(float)
    return value
