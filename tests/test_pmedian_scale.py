"""The large-scale p-median machinery, checked against brute force on small instances.

Every property here is checked on random instances small enough to enumerate
every set of p sites: the Lagrangian bound never exceeds the optimum (whatever
the multipliers, with truncated lists), reduced-cost fixing never excludes an
optimal plan, the heuristic's plans are feasible and locally optimal, and
``solve_pmedian`` returns the brute-force optimum when asked for gap 0 and an
honest gap otherwise. No timings are asserted (speed lives in benchmarks/).
"""

from __future__ import annotations

import itertools
import time
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netopt import geometry
from netopt.lagrangian import DualLists, dual_value, lagrangian_bound, reduced_cost_fixing
from netopt.metrics import objective_value
from netopt.pmedian import Interchange, _screen, heuristic_pmedian, pmedian_instance, solve_pmedian
from netopt.solver import SolverSettings

EXACT = SolverSettings(time_limit_s=60, tie_break=False)
PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --------------------------------------------------------------------------- brute force


def matrix(dxy, sxy, detour=1.0):
    """Whole-metre distances (m × n), the same numbers the solver uses."""
    return geometry.distance_m(dxy[:, 0, None], dxy[:, 1, None], sxy[None, :, 0], sxy[None, :, 1], detour)


def cost_of(D, w, sites) -> int:
    return int(np.sum(w.astype(np.int64) * D[:, list(sites)].min(axis=1)))


def all_plans(D, w, p):
    """Every set of p sites with its objective: [(objective, frozenset)], best first."""
    n = D.shape[1]
    return sorted((cost_of(D, w, S), frozenset(S)) for S in itertools.combinations(range(n), p))


def optimum(D, w, p):
    plans = all_plans(D, w, p)
    best = plans[0][0]
    return best, [S for c, S in plans if c == best]


@st.composite
def pmedians(draw, max_m=14, max_n=7, grid=False):
    """A small p-median: coordinates (metres), whole-number weights (zeros allowed), p, detour.

    ``grid`` puts points on a coarse grid, so equal distances (ties) are common.
    """
    m = draw(st.integers(1, max_m))
    n = draw(st.integers(1, max_n))
    p = draw(st.integers(1, n))
    coord = st.integers(0, 4).map(lambda v: v * 1000.0) if grid else st.floats(0, 20_000, allow_nan=False, allow_infinity=False)
    dxy = np.array(draw(st.lists(st.tuples(coord, coord), min_size=m, max_size=m)), float)
    sxy = np.array(draw(st.lists(st.tuples(coord, coord), min_size=n, max_size=n)), float)
    w = np.array(draw(st.lists(st.integers(0, 50), min_size=m, max_size=m)), np.int64)
    detour = draw(st.sampled_from([1.0, 1.3]))
    return dxy, w, sxy, p, detour


def lists_of(dxy, sxy, k, detour):
    return geometry.nearest_candidates(dxy[:, 0], dxy[:, 1], sxy[:, 0], sxy[:, 1], k, detour)


def full_matrix_value(D, w, p, lam):
    """L(λ) computed on the full matrix (no lists, no cap): Σλ + the p smallest ρ."""
    c = w.astype(np.int64)[:, None] * D
    rho = -np.maximum(lam[:, None] - c, 0).sum(axis=0)
    return int(lam.sum()) + int(np.sort(rho)[:p].sum())


# --------------------------------------------------------------------------- the bound


@PROPERTY
@given(pmedians(), st.data())
def test_the_bound_on_truncated_lists_equals_the_full_problems_and_never_exceeds_the_optimum(inst, data):
    dxy, w, sxy, p, detour = inst
    n = len(sxy)
    D = matrix(dxy, sxy, detour)
    k = data.draw(st.integers(1, n), label="list size")
    lists = DualLists(lists_of(dxy, sxy, k, detour), w, n)
    # arbitrary multipliers, far outside the valid box included
    raw = np.array(data.draw(st.lists(st.floats(-1e7, 1e7, allow_nan=False), min_size=len(w), max_size=len(w))), float)
    bound, lam, rho, chosen = dual_value(lists, p, raw)
    assert isinstance(bound, int) and lam.dtype == np.int64
    assert chosen.sum() == p
    # the cap makes the list-based value the exact value of the full problem
    assert bound == full_matrix_value(D, w, p, lam)
    best, _ = optimum(D, w, p)
    assert bound <= best


@PROPERTY
@given(pmedians(grid=True), st.data())
def test_the_subgradient_bound_is_valid_with_ties_and_short_lists(inst, data):
    dxy, w, sxy, p, detour = inst
    n = len(sxy)
    D = matrix(dxy, sxy, detour)
    best, _ = optimum(D, w, p)
    k = data.draw(st.integers(1, n), label="list size")
    lists = DualLists(lists_of(dxy, sxy, k, detour), w, n)
    # any target works for validity, even one below the optimum
    target = data.draw(st.sampled_from([best, best * 2 + 10, max(best // 2, 0)]), label="target")
    res = lagrangian_bound(lists, p, target, max_iterations=200)
    assert res.bound <= best
    assert res.bound == dual_value(lists, p, res.multipliers)[0]
    # resuming never loses what was proven
    again = lagrangian_bound(lists, p, target, start=res, max_iterations=50)
    assert res.bound <= again.bound <= best


def test_the_bound_does_not_exceed_the_lp_relaxation():
    """A Lagrangian value is at most the LP relaxation (here solved directly on the full matrix)."""
    from scipy.optimize import linprog

    rng = np.random.default_rng(7)
    for _ in range(5):
        m, n, p = 30, 8, 3
        dxy = rng.uniform(0, 10_000, (m, 2))
        sxy = rng.uniform(0, 10_000, (n, 2))
        w = rng.integers(1, 30, m)
        D = matrix(dxy, sxy)
        c = (w[:, None] * D).ravel()  # x_ij, then y_i
        obj = np.concatenate([c, np.zeros(n)])
        a_eq = np.zeros((m + 1, m * n + n))
        for j in range(m):
            a_eq[j, j * n : (j + 1) * n] = 1.0
        a_eq[m, m * n :] = 1.0
        a_ub = np.zeros((m * n, m * n + n))
        for j in range(m):
            for i in range(n):
                a_ub[j * n + i, j * n + i] = 1.0
                a_ub[j * n + i, m * n + i] = -1.0
        lp = linprog(obj, A_ub=a_ub, b_ub=np.zeros(m * n), A_eq=a_eq, b_eq=np.r_[np.ones(m), p], bounds=(0, 1), method="highs")
        lists = DualLists(lists_of(dxy, sxy, 3, 1.0), w, n)
        res = lagrangian_bound(lists, p, optimum(D, w, p)[0], max_iterations=500)
        assert res.bound <= lp.fun + 1e-6
        assert lp.fun <= optimum(D, w, p)[0] + 1e-6


def test_negative_weights_are_rejected():
    dxy = np.array([[0.0, 0.0]])
    with pytest.raises(ValueError, match="non-negative"):
        DualLists(lists_of(dxy, dxy, 1, 1.0), np.array([-1]), 1)


# --------------------------------------------------------------------------- fixing


@PROPERTY
@given(pmedians(max_m=12, max_n=7), st.data())
def test_reduced_cost_fixing_never_excludes_an_optimal_plan(inst, data):
    dxy, w, sxy, p, detour = inst
    n = len(sxy)
    D = matrix(dxy, sxy, detour)
    best, optimal_sets = optimum(D, w, p)
    plans = all_plans(D, w, p)
    # the upper bound of any plan (the optimum's included)
    ub = data.draw(st.sampled_from([c for c, _ in plans]), label="upper bound")
    k = data.draw(st.integers(1, n), label="list size")
    lists = DualLists(lists_of(dxy, sxy, k, detour), w, n)
    res = lagrangian_bound(lists, p, ub, max_iterations=300)
    fixed_open, fixed_closed = reduced_cost_fixing(res, p, ub)
    assert not (fixed_open & fixed_closed).any()
    for S in optimal_sets:
        mask = np.zeros(n, bool)
        mask[list(S)] = True
        assert mask[fixed_open].all() and not mask[fixed_closed].any()
    # and no plan at least as good as the upper bound is excluded either
    for c, S in plans:
        if c <= ub:
            mask = np.zeros(n, bool)
            mask[list(S)] = True
            assert mask[fixed_open].all() and not mask[fixed_closed].any()


def test_fixing_by_hand():
    """Two towns 50 km apart with a site in each, and a remote site; p = 2.

    With λ_j = 10,000 for every point (weight 10 × 1 km), ρ = (−19,000, −19,000, 0):
    each town's site saves 2 × (10,000 − 10 × 50); L = 40,000 − 38,000 = 2,000,
    the optimum. Forcing the remote site in gives 2,000 + 0 + 19,000, forcing a
    town's site out 2,000 + 19,000 − 0: both exceed 2,000, so both are fixed.
    """
    from netopt.lagrangian import LagrangianBound

    dxy = np.array([[0.0, 0.0], [100.0, 0.0], [50_000.0, 0.0], [50_100.0, 0.0]])
    sxy = np.array([[50.0, 0.0], [50_050.0, 0.0], [200_000.0, 0.0]])
    w = np.array([10, 10, 10, 10])
    lists = DualLists(lists_of(dxy, sxy, 3, 1.0), w, 3)
    bound, lam, rho, chosen = dual_value(lists, 2, np.full(4, 10_000.0))
    assert bound == 2000 == cost_of(matrix(dxy, sxy), w, (0, 1))
    assert rho.tolist() == [-19_000, -19_000, 0] and chosen.tolist() == [True, True, False]
    res = LagrangianBound(bound=bound, multipliers=lam, site_cost=rho, relaxed_open=chosen, ascent=lam.astype(float), step_scale=1.0, iterations=0, seconds=0.0)
    fixed_open, fixed_closed = reduced_cost_fixing(res, 2, 2000)
    assert fixed_open.tolist() == [True, True, False] and fixed_closed.tolist() == [False, False, True]
    # a looser upper bound (a plan 20,000 worse) no longer fixes anything
    fixed_open, fixed_closed = reduced_cost_fixing(res, 2, 22_000)
    assert not fixed_open.any() and not fixed_closed.any()


@PROPERTY
@given(pmedians(max_m=12, max_n=7))
def test_the_reduced_instance_has_the_same_optimum(inst):
    """After fixing, optimum(reduced instance, fixed sites locked open) + offset = optimum."""
    dxy, w, sxy, p, detour = inst
    n = len(sxy)
    D = matrix(dxy, sxy, detour)
    best, _ = optimum(D, w, p)
    full = pmedian_instance(dxy, w, sxy, p, detour)
    cand = lists_of(dxy, sxy, n, detour)
    plan = heuristic_pmedian(full, p, candidates=cand)
    _, dist = full.nearest_open(plan)
    scr = _screen(full, cand, p, plan, dist, EXACT, deadline=float("inf"))
    assert scr.bound <= best <= scr.objective
    if scr.instance is None:
        return
    sub = scr.instance
    Dr = matrix(np.column_stack([sub.dx, sub.dy]), np.column_stack([sub.ox, sub.oy]), detour)
    locked = np.flatnonzero(sub.lock_open)
    best_sub = min(cost_of(Dr, sub.population, S) for S in itertools.combinations(range(sub.n), p) if set(locked) <= set(S))
    assert best_sub + scr.offset == best


# --------------------------------------------------------------------------- heuristic


@PROPERTY
@given(pmedians(max_m=14, max_n=7, grid=True))
def test_the_interchange_ends_in_a_swap_local_optimum(inst):
    dxy, w, sxy, p, detour = inst
    n = len(sxy)
    D = matrix(dxy, sxy, detour)
    cand = lists_of(dxy, sxy, n, detour)  # full lists: the search sees exact distances
    start = np.zeros(n, bool)
    start[np.arange(p)] = True
    is_open, swaps = Interchange(cand, w, n, p).improve(start)
    assert is_open.sum() == p
    here = cost_of(D, w, np.flatnonzero(is_open))
    assert here <= cost_of(D, w, np.arange(p))
    for r in np.flatnonzero(is_open):
        for i in np.flatnonzero(~is_open):
            S = set(np.flatnonzero(is_open)) - {r} | {i}
            assert cost_of(D, w, S) >= here


@PROPERTY
@given(pmedians(max_m=14, max_n=7), st.integers(1, 7))
def test_the_heuristic_returns_p_sites_no_better_than_the_optimum(inst, k):
    dxy, w, sxy, p, detour = inst
    full = pmedian_instance(dxy, w, sxy, p, detour)
    plan = heuristic_pmedian(full, p, list_size=min(k, len(sxy)))
    assert plan.sum() == p
    best, _ = optimum(matrix(dxy, sxy, detour), w, p)
    assert cost_of(matrix(dxy, sxy, detour), w, np.flatnonzero(plan)) >= best


def test_the_lazy_greedy_picks_what_the_full_recount_picks():
    """The greedy recomputes only the best stale saving; it must open the same sites as recounting all."""
    from netopt.pmedian import _greedy

    rng = np.random.default_rng(3)
    dxy = rng.uniform(0, 50_000, (400, 2))
    sxy = rng.uniform(0, 50_000, (60, 2))
    w = rng.integers(0, 100, 400)
    p, k = 12, 9
    cand = lists_of(dxy, sxy, k, 1.0)
    row = np.repeat(np.arange(400), cand.sizes)
    d = cand.dist_m.astype(float)
    cur = np.where(cand.next_m >= 0, 2.0 * cand.next_m, d[cand.ptr[1:] - 1] + 1.0)
    expect = np.zeros(60, bool)
    for _ in range(p):
        gain = np.bincount(cand.office, weights=w[row] * np.maximum(cur[row] - d, 0.0), minlength=60)
        gain[expect] = -1.0
        i = int(np.argmax(gain))
        expect[i] = True
        np.minimum.at(cur, row[cand.office == i], d[cand.office == i])
    assert (_greedy(cand, w, 60, p) == expect).all()


# --------------------------------------------------------------------------- solve_pmedian


@PROPERTY
@given(pmedians(max_m=14, max_n=7))
def test_solve_with_the_bound_is_exact_when_gap_zero_is_asked(inst):
    dxy, w, sxy, p, detour = inst
    D = matrix(dxy, sxy, detour)
    best, _ = optimum(D, w, p)
    r = solve_pmedian(dxy, w, sxy, p, detour=detour, settings=EXACT, lagrangian=True)
    assert r.objective == cost_of(D, w, r.open_sites) == best
    assert r.status == "OPTIMAL" and r.gap == 0.0
    assert r.best_bound <= best
    assert r.lagrangian_bound is not None and r.lagrangian_bound <= best


@PROPERTY
@given(pmedians(max_m=14, max_n=7))
def test_solve_without_the_bound_is_exact_too(inst):
    """lagrangian=False keeps the MIP-only path (lists from min_k, or from the heuristic)."""
    dxy, w, sxy, p, detour = inst
    D = matrix(dxy, sxy, detour)
    best, _ = optimum(D, w, p)
    r = solve_pmedian(dxy, w, sxy, p, detour=detour, settings=EXACT, lagrangian=False, min_k=2)
    assert r.objective == cost_of(D, w, r.open_sites) == best
    assert r.status == "OPTIMAL" and r.gap == 0.0 and r.rounds >= 1
    assert r.lagrangian_bound is None


@PROPERTY
@given(pmedians(max_m=14, max_n=7), st.sampled_from([0.01, 0.05, 0.2]))
def test_the_reported_gap_is_honest(inst, target):
    dxy, w, sxy, p, detour = inst
    D = matrix(dxy, sxy, detour)
    best, _ = optimum(D, w, p)
    r = solve_pmedian(dxy, w, sxy, p, detour=detour, settings=replace(EXACT, relative_gap=target))
    assert r.objective == cost_of(D, w, r.open_sites) >= best
    assert r.best_bound <= best
    assert r.status in ("OPTIMAL", "WITHIN_GAP")
    if r.status == "OPTIMAL":
        assert r.gap == 0.0 and r.objective == best
    else:
        assert r.gap == pytest.approx((r.objective - r.best_bound) / r.objective, abs=1e-12)
        assert r.gap <= target + 1e-12


@PROPERTY
@given(pmedians(max_m=14, max_n=7))
def test_the_default_path_is_exact_and_takes_the_bound_only_when_few_sites_open(inst):
    """The default (lagrangian=None) takes the Lagrangian stage when p < n / 2 and the
    MIP alone otherwise (faster there: measured in uses_lagrangian's docstring); exact either way."""
    from netopt.pmedian import uses_lagrangian

    dxy, w, sxy, p, detour = inst
    D = matrix(dxy, sxy, detour)
    best, _ = optimum(D, w, p)
    r = solve_pmedian(dxy, w, sxy, p, detour=detour, settings=EXACT)
    assert r.objective == cost_of(D, w, r.open_sites) == best and r.status == "OPTIMAL"
    assert (r.lagrangian_bound is not None) == uses_lagrangian(len(sxy), p) == (p < len(sxy) / 2)


def test_a_clustered_instance_reaches_its_gap_without_a_mip_and_the_numbers_agree():
    """A mid-size clustered instance: the bound and the guided search meet 1 % on their own."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    from instances import clustered_instance

    dxy, w, sxy, p = clustered_instance(3000, 300, 60, seed=5)
    r = solve_pmedian(dxy, w, sxy, p, settings=SolverSettings(relative_gap=0.01, time_limit_s=120, tie_break=False))
    assert r.status in ("WITHIN_GAP", "OPTIMAL") and r.gap <= 0.01
    assert r.rounds == 0 and r.lagrangian_bound == r.best_bound
    inst = pmedian_instance(dxy, w, sxy, p)
    mask = np.zeros(300, bool)
    mask[r.open_sites] = True
    assert len(r.open_sites) == p
    assert r.objective == objective_value(inst, inst.nearest_open(mask)[1])
    # same inputs, same plan
    again = solve_pmedian(dxy, w, sxy, p, settings=SolverSettings(relative_gap=0.01, time_limit_s=120, tie_break=False))
    assert (again.open_sites == r.open_sites).all() and again.best_bound == r.best_bound


def test_a_time_limit_before_the_bound_still_reports_a_plan_and_a_valid_bound():
    rng = np.random.default_rng(11)
    dxy = rng.uniform(0, 30_000, (40, 2))
    sxy = rng.uniform(0, 30_000, (7, 2))
    w = rng.integers(1, 40, 40)
    best, _ = optimum(matrix(dxy, sxy), w, 3)
    r = solve_pmedian(dxy, w, sxy, 3, settings=EXACT, deadline=time.perf_counter())  # the time is up before it starts
    assert len(r.open_sites) == 3 and r.objective >= best
    assert r.best_bound is not None and r.best_bound <= best
    assert r.status in ("TIME_LIMIT", "OPTIMAL")
    if r.status == "TIME_LIMIT":
        assert r.gap == pytest.approx((r.objective - r.best_bound) / r.objective)


def test_all_weights_zero_is_optimal_at_zero():
    dxy = np.array([[0.0, 0.0], [5.0, 5.0], [9.0, 1.0]])
    sxy = np.array([[1.0, 1.0], [7.0, 7.0]])
    r = solve_pmedian(dxy, np.zeros(3, np.int64), sxy, 1, settings=EXACT)
    assert r.objective == 0 and r.best_bound == 0 and r.status == "OPTIMAL"


def test_the_mip_finishes_exactly_what_fixing_leaves():
    """Seeded instances where the bound fixes some sites but cannot close the gap:
    the MIP on the reduced instance must return the brute-force optimum."""
    rng = np.random.default_rng(0)
    taken = 0
    for _ in range(60):
        m, n = int(rng.integers(8, 15)), int(rng.integers(4, 8))
        p = int(rng.integers(1, n))
        dxy = rng.uniform(0, 20_000, (m, 2))
        sxy = rng.uniform(0, 20_000, (n, 2))
        w = rng.integers(0, 50, m)
        r = solve_pmedian(dxy, w, sxy, p, settings=EXACT)
        best, _ = optimum(matrix(dxy, sxy), w, p)
        assert r.objective == best and r.status == "OPTIMAL" and r.best_bound <= best
        taken += r.rounds > 0 and r.sites_fixed_open + r.sites_fixed_closed > 0
    assert taken >= 5  # the path under test was taken


def test_list_sizes_follow_n_over_p_within_the_memory_cap():
    from netopt.pmedian import MAX_LIST_ENTRIES, default_list_size

    assert default_list_size(2000, 400, 100_000) == 25  # ⌈5n/p⌉
    assert default_list_size(1000, 900, 10_000) == 16  # at least 16
    assert default_list_size(10, 3, 50) == 10  # at most n
    assert default_list_size(2000, 10, 100_000) == MAX_LIST_ENTRIES // 100_000  # the memory cap
    assert default_list_size(2000, 10, 10**7) == 16  # never below 16


@PROPERTY
@given(pmedians(max_m=14, max_n=7), st.data())
def test_the_interchange_surrogate_never_exceeds_the_true_objective(inst, data):
    """Short lists: the surrogate values unlisted sites optimistically, so it may only be lower."""
    dxy, w, sxy, p, detour = inst
    n = len(sxy)
    D = matrix(dxy, sxy, detour)
    k = data.draw(st.integers(1, n), label="list size")
    search = Interchange(lists_of(dxy, sxy, k, detour), w, n, p)
    plan = np.zeros(n, bool)
    plan[data.draw(st.permutations(range(n)), label="order")[:p]] = True
    assert search.surrogate(plan) <= cost_of(D, w, np.flatnonzero(plan))
    if k == n:
        assert search.surrogate(plan) == cost_of(D, w, np.flatnonzero(plan))
    better, _ = search.improve(plan)
    assert search.last_surrogate == search.surrogate(better) <= search.surrogate(plan)


def test_a_reduced_instance_too_large_for_the_mip_is_reported_with_its_bound(monkeypatch):
    """Above MAX_MIP_ENTRIES HiGHS is not started: the plan and the Lagrangian bound are
    reported as they are (here the cap is 0, so every instance the MIP would get counts)."""
    import netopt.pmedian as pm

    monkeypatch.setattr(pm, "MAX_MIP_ENTRIES", 0)
    rng = np.random.default_rng(0)
    skipped = 0
    for _ in range(40):
        m, n = int(rng.integers(8, 15)), int(rng.integers(4, 8))
        p = int(rng.integers(1, n))
        dxy = rng.uniform(0, 20_000, (m, 2))
        sxy = rng.uniform(0, 20_000, (n, 2))
        w = rng.integers(0, 50, m)
        r = solve_pmedian(dxy, w, sxy, p, settings=EXACT, lagrangian=True)
        best, _ = optimum(matrix(dxy, sxy), w, p)
        assert r.rounds == 0 and r.best_bound == r.lagrangian_bound <= best <= r.objective
        if r.status == "OPTIMAL":
            assert r.objective == best and r.gap == 0.0
        else:
            assert r.status == "TIME_LIMIT" and r.gap == pytest.approx((r.objective - r.best_bound) / r.objective)
            skipped += 1
    assert skipped >= 5  # the path under test was taken


@pytest.mark.parametrize(
    ("demand", "weights", "sites", "p", "message"),
    [
        ([[0.0, 0.0], [10.0, 0.0]], [1.7, 2], [[0.0, 0.0]], 1, r"weights row 0: .*1\.7.* not a whole number"),
        ([[0.0, 0.0], [10.0, 0.0]], [1, -2], [[0.0, 0.0]], 1, r"weights row 1: .*-2.* not a whole number ≥ 0"),
        ([[0.0, 0.0], [10.0, 0.0]], [1], [[0.0, 0.0]], 1, r"one entry per demand point \(2\)"),
        ([[0.0, 0.0], [10.0, float("nan")]], [1, 2], [[0.0, 0.0]], 1, r"demand_xy row 1: .* not finite"),
        ([[0.0, 0.0]], [1], [[0.0, 0.0, 0.0]], 1, r"sites_xy must be a non-empty \(rows, 2\) array"),
        ([[0.0, 0.0]], [1], [[0.0, 0.0]], 2, r"p must be between 1 and the number of sites \(1\)"),
    ],
)
def test_bad_input_is_rejected_naming_argument_and_row(demand, weights, sites, p, message):
    with pytest.raises(ValueError, match=message):
        solve_pmedian(np.array(demand), np.array(weights), np.array(sites), p)
