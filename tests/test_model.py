"""The optimiser on instances small enough to check by hand and by brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netopt.metrics import CLOSED, FLEXIBLE, KEPT, evaluate_stage
from netopt.instance import Instance
from netopt.solver import SolverSettings, SolveStatus, optimise

FAST = SolverSettings(time_limit_s=60, tie_break=False)


def make_instance(ox, oy, dx, dy, pop, *, fa=None, budget=None, allowance=0.0, fixed=None, flex=None, cpv=100.0, cap=1e9, objective="distance", stages=1, **kw):
    n = len(ox)
    pop = np.asarray(pop, np.int64)
    fixed = np.full(n, 1e6) if fixed is None else np.asarray(fixed, float)
    flex = np.full(n, 3e5) if flex is None else np.asarray(flex, float)
    inst0 = dict(
        office_ids=tuple(f"o{i}" for i in range(n)),
        ox=np.asarray(ox, float), oy=np.asarray(oy, float), dx=np.asarray(dx, float), dy=np.asarray(dy, float),
        population=pop, propensity=pop * 0.3, detour_factor=1.0, floor=0.2, decay_km=40.0,
        fixed_full_sek=fixed, fixed_flex_sek=flex, staff_per_visit_sek=cpv, flex_capacity_visits=cap,
        fa_of_office=np.zeros(n, np.int64) if fa is None else np.asarray(fa), n_fa=1 if fa is None else int(np.max(fa)) + 1,
        muni_of_office=np.arange(n), objective=objective,
    )
    # baseline: every office open
    from netopt.geometry import nearest_open

    near, dist = nearest_open(inst0["dx"], inst0["dy"], inst0["ox"], inst0["oy"], np.ones(n, bool), 1.0)
    g = 0.2 + 0.8 * np.exp(-dist / 1000.0 / 40.0)
    base_visits = np.bincount(near, weights=inst0["propensity"] * g, minlength=n)
    baseline_cost = fixed.sum() + cpv * base_visits.sum()
    budgets = tuple([baseline_cost - (budget or 0.0)] * stages) if not isinstance(budget, tuple) else tuple(baseline_cost - b for b in budget)
    return Instance(**inst0, baseline_visits=base_visits, baseline_dist_m=dist, budgets_sek=budgets, allowances_sek=tuple([allowance] * len(budgets)), **kw)


def feasible(inst: Instance, modes, s=0) -> bool:
    modes = np.asarray(modes)
    if not (modes > 0).any():
        return False
    if inst.lock_open is not None and (modes[inst.lock_open] != KEPT).any():
        return False
    if inst.lock_closed is not None and (modes[inst.lock_closed] != CLOSED).any():
        return False
    if inst.flex_allowed is not None and (modes[~inst.flex_allowed] == FLEXIBLE).any():
        return False
    r = evaluate_stage(inst, modes, s)
    if inst.cover_fa and r.metrics["fa_regions_served"] < len(np.unique(inst.fa_of_office[inst.fa_of_office >= 0])):
        return False
    if not r.metrics["meets_budget"]:
        return False
    if r.metrics["flexible_over_capacity"]:
        return False
    if inst.max_closures is not None and (modes == CLOSED).sum() > inst.max_closures:
        return False
    return True


def brute_force(inst: Instance):
    """The best plan by enumeration, with the budget exact: the evaluator's
    1 SEK tolerance (BUDGET_TOLERANCE_SEK, for sums in floating point) would
    admit plans up to 1 SEK over that the optimiser rightly refuses."""
    best, arg = None, None
    for modes in itertools.product((CLOSED, FLEXIBLE, KEPT), repeat=inst.n):
        if not feasible(inst, modes):
            continue
        r = evaluate_stage(inst, np.array(modes), 0)
        if r.cost_after_sek.sum() - r.metrics["flexible_allowance_used_msek"] * 1e6 > inst.budgets_sek[0] + 1e-6:
            continue
        obj = evaluate_stage(inst, np.array(modes), 0).objective
        if best is None or obj < best - 1e-9:
            best, arg = obj, modes
    return best, arg


# --------------------------------------------------------------------------- by hand


def test_line_instance_closes_the_office_that_costs_least_access():
    # Three offices on a line at 0, 10 and 20 km; demand at each office.
    # A budget forcing one closure: closing the middle office costs 100 people × 10 km,
    # closing an end office costs 1000 people × 10 km.
    ox, oy = [0, 10000, 20000], [0, 0, 0]
    inst = make_instance(ox, oy, ox, oy, [1000, 100, 1000], budget=0.9e6, fa=[0, 0, 0], flex_allowed=np.zeros(3, bool))
    opt = optimise(inst, FAST)
    assert list(opt.modes[0]) == [KEPT, CLOSED, KEPT]
    r = evaluate_stage(inst, opt.modes[0], 0)
    assert r.metrics["meets_budget"]
    assert opt.status == "OPTIMAL"
    assert opt.solver_objective == pytest.approx(r.objective, rel=1e-9)


def test_fa_coverage_keeps_the_only_office_of_a_region():
    # Office 2 alone in FA-region 1 serves few people, yet it must stay (open or flexible).
    ox, oy = [0, 1000, 300000], [0, 0, 0]
    inst = make_instance(ox, oy, [0, 1000, 300000], [0, 0, 0], [1000, 1000, 1], budget=0.9e6, fa=[0, 0, 1], flex_allowed=np.array([False] * 3))
    opt = optimise(inst, FAST)
    assert opt.modes[0][2] == KEPT
    assert (opt.modes[0][:2] > 0).sum() == 1


def test_fa_coverage_off_would_close_the_remote_office():
    ox, oy = [0, 1000, 300000], [0, 0, 0]
    inst = make_instance(ox, oy, [0, 1000, 300000], [0, 0, 0], [1000, 1000, 1], budget=0.9e6, fa=[0, 0, 1], flex_allowed=np.array([False] * 3), cover_fa=False)
    opt = optimise(inst, FAST)
    assert opt.modes[0][2] == CLOSED


def test_each_fa_division_gets_its_own_coverage_rows():
    # Same offices, two divisions: one region (one office suffices) vs three regions (all must stay).
    ox, oy = [0, 50000, 100000], [0, 0, 0]
    one = make_instance(ox, oy, ox, oy, [10, 10, 10], budget=1.9e6, fa=[0, 0, 0], flex_allowed=np.zeros(3, bool))
    three = make_instance(ox, oy, ox, oy, [10, 10, 10], budget=1.9e6, fa=[0, 1, 2], flex_allowed=np.zeros(3, bool))
    assert (optimise(one, FAST).modes[0] > 0).sum() == 1
    assert optimise(three, FAST).status == SolveStatus.INFEASIBLE


def test_locks_are_respected():
    ox, oy = [0, 10000, 20000], [0, 0, 0]
    lock_open = np.array([False, True, False])
    lock_closed = np.array([True, False, False])
    inst = make_instance(ox, oy, ox, oy, [1000, 100, 1000], budget=0.9e6, lock_open=lock_open, lock_closed=lock_closed, flex_allowed=np.zeros(3, bool))
    m = optimise(inst, FAST).modes[0]
    assert m[1] == KEPT and m[0] == CLOSED


def test_flexible_capacity_is_a_hard_cap():
    # The remote office may only become flexible if its visits fit the cap.
    ox, oy = [0, 200000], [0, 0]
    big = make_instance(ox, oy, ox, oy, [1000, 5000], budget=0.6e6, cap=100.0, fa=[0, 1])
    assert optimise(big, FAST).status == SolveStatus.INFEASIBLE
    small = make_instance(ox, oy, ox, oy, [1000, 50], budget=0.6e6, cap=100.0, fa=[0, 1])
    assert list(optimise(small, FAST).modes[0]) == [KEPT, FLEXIBLE]


def test_allowance_only_pays_for_flexible_offices():
    ox, oy = [0, 200000], [0, 0]
    # Cut 0.75 MSEK: the flexible office saves 0.7 MSEK; an allowance of 0.3 MSEK makes up the rest.
    only_remote = np.array([False, True])
    without = make_instance(ox, oy, ox, oy, [1000, 50], budget=0.75e6, fa=[0, 1], flex_allowed=only_remote)
    assert optimise(without, FAST).status == SolveStatus.INFEASIBLE
    with_allowance = make_instance(ox, oy, ox, oy, [1000, 50], budget=0.75e6, allowance=0.3e6, fa=[0, 1], flex_allowed=only_remote)
    assert list(optimise(with_allowance, FAST).modes[0]) == [KEPT, FLEXIBLE]


def test_stages_are_nested_and_each_meets_its_cut():
    rng = np.random.default_rng(3)
    ox, oy = rng.uniform(0, 1e5, 6), rng.uniform(0, 1e5, 6)
    dx, dy = rng.uniform(0, 1e5, 40), rng.uniform(0, 1e5, 40)
    inst = make_instance(ox, oy, dx, dy, rng.integers(10, 1000, 40), budget=(1e6, 2e6, 3e6), fa=[0, 0, 1, 1, 2, 2])
    opt = optimise(inst, FAST)
    m = opt.modes
    for s in range(3):
        assert evaluate_stage(inst, m[s], s).metrics["meets_budget"]
    for s in range(2):
        assert np.all((m[s + 1] > 0) <= (m[s] > 0)), "an office closed in one stage reopens later"
        assert np.all((m[s + 1] == KEPT) <= (m[s] == KEPT)), "a flexible office gets placed staff back"


def test_tail_widening_reaches_the_exact_optimum():
    # Many closures force demand points beyond their 8 nearest candidates.
    rng = np.random.default_rng(5)
    n = 30
    ox, oy = rng.uniform(0, 3e5, n), rng.uniform(0, 3e5, n)
    dx, dy = rng.uniform(0, 3e5, 200), rng.uniform(0, 3e5, 200)
    inst = make_instance(ox, oy, dx, dy, rng.integers(10, 1000, 200), cover_fa=False, flex_allowed=np.zeros(n, bool), open_count=3, budget=0.0)
    opt = optimise(inst, FAST)
    assert opt.rounds >= 2 and opt.status == "OPTIMAL"
    obj = evaluate_stage(inst, opt.modes[0], 0).objective
    assert opt.solver_objective == pytest.approx(obj, rel=1e-9)
    # brute force over all 3-subsets
    from netopt.metrics import objective_value
    from netopt.geometry import nearest_open

    best = min(
        objective_value(inst, nearest_open(inst.dx, inst.dy, inst.ox, inst.oy, np.isin(np.arange(n), c), 1.0)[1])
        for c in itertools.combinations(range(n), 3)
    )
    assert obj == best


# --------------------------------------------------------------------------- properties


@st.composite
def instances(draw):
    n = draw(st.integers(2, 6))
    m = draw(st.integers(1, 12))
    coords = st.floats(0, 2e5, allow_nan=False)
    ox = [draw(coords) for _ in range(n)]
    oy = [draw(coords) for _ in range(n)]
    dx = [draw(coords) for _ in range(m)]
    dy = [draw(coords) for _ in range(m)]
    pop = [draw(st.integers(0, 5000)) for _ in range(m)]
    fa = [draw(st.integers(0, max(0, n // 2 - 1))) for _ in range(n)]
    fixed = [draw(st.floats(1e5, 3e6)) for _ in range(n)]
    flex = [f * draw(st.floats(0.1, 0.9)) for f in fixed]
    cut = draw(st.floats(0, 0.6)) * sum(fixed)
    objective = draw(st.sampled_from(["distance", "coverage", "visits_lost"]))
    cap = draw(st.sampled_from([1e9, 300.0]))
    return make_instance(ox, oy, dx, dy, pop, fa=fa, fixed=fixed, flex=flex, budget=cut, cap=cap, objective=objective, coverage_m=30000)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_optimum_equals_brute_force_and_evaluation(inst):
    best, _ = brute_force(inst)
    if best is None:
        assert optimise(inst, FAST).status == SolveStatus.INFEASIBLE
        return
    opt = optimise(inst, FAST)
    modes = opt.modes[0]
    assert feasible(inst, modes), "the optimiser returned a plan that breaks a constraint"
    obj = evaluate_stage(inst, modes, 0).objective
    assert opt.status == "OPTIMAL" or (opt.status == "WITHIN_GAP" and opt.gap <= 1e-6)  # proven, or up to the solver's tolerance
    assert opt.solver_objective == pytest.approx(obj, rel=1e-7, abs=1e-6)
    assert obj == pytest.approx(best, rel=1e-7, abs=1e-6)
