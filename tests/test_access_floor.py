"""The access floor ([constraints] access_floor_km, access_floor_share, access_floor_scope):
hand-solvable cases, brute force, the evaluator, and the explanation of a floor
that cannot be met."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netopt.errors import InfeasibleError, ScenarioError
from netopt.metrics import CLOSED, FLEXIBLE, KEPT, access_shares, evaluate_stage
from netopt.solver import SolverSettings, SolveStatus, optimise
from netopt.solver.verify import violations
from test_model import feasible, make_instance

FAST = SolverSettings(time_limit_s=60, tie_break=False)


def two_pairs(**kw):
    """Two FA-regions, each a pair of offices; a cut that closes exactly one office.

    Region 0: office 0 at 0 km (300 inhabitants) and office 1 at 6 km (1000).
    Region 1: office 2 at 100 km (500 inhabitants) and office 3 at 104 km (1000).
    Closing office 0 moves 300 people 6 km (1.8e9 person-metres), closing 2 moves
    500 people 4 km (2.0e9): the distance optimum closes 0, but leaves 300 of
    2 800 people beyond 5 km (89.3 % within 5 km; region 0: 1 000 of 1 300, 76.9 %).
    """
    ox = [0, 6000, 100000, 104000]
    oy = [0, 0, 0, 0]
    return make_instance(ox, oy, ox, oy, [300, 1000, 500, 1000], budget=0.9e6, fa=[0, 0, 1, 1], flex_allowed=np.zeros(4, bool),
                         fa_of_point=np.array([0, 0, 1, 1]), **kw)


def test_without_a_floor_the_distance_optimum_closes_office_0():
    opt = optimise(two_pairs(), FAST)
    assert list(opt.modes[0]) == [CLOSED, KEPT, KEPT, KEPT]


def test_a_national_floor_above_the_optimums_share_closes_office_2_instead():
    inst = two_pairs(access_floor_m=5000, access_floor_share=0.9)
    opt = optimise(inst, FAST)
    assert opt.status == SolveStatus.OPTIMAL
    assert list(opt.modes[0]) == [KEPT, KEPT, CLOSED, KEPT]
    assert opt.objective == 500 * 4000
    r = evaluate_stage(inst, opt.modes[0], 0)
    assert r.metrics["access_floor_share_achieved"] == 1.0 and r.metrics["access_floor_met"]


def test_a_national_floor_the_optimum_meets_changes_nothing():
    opt = optimise(two_pairs(access_floor_m=5000, access_floor_share=0.85), FAST)
    assert list(opt.modes[0]) == [CLOSED, KEPT, KEPT, KEPT]


def test_an_fa_region_floor_binds_where_the_national_one_does_not():
    # 0.8 in every FA-region: closing office 0 leaves region 0 at 1000/1300 = 76.9 %
    opt = optimise(two_pairs(access_floor_m=5000, access_floor_share=0.8, access_floor_scope="fa_region"), FAST)
    assert list(opt.modes[0]) == [KEPT, KEPT, CLOSED, KEPT]
    national = optimise(two_pairs(access_floor_m=5000, access_floor_share=0.8), FAST)
    assert list(national.modes[0]) == [CLOSED, KEPT, KEPT, KEPT]


def test_the_highest_floor_at_the_cut_is_solved_for():
    # within 3 km: closing 0 keeps 2500/2800, closing 2 keeps 2300/2800, closing 1 or 3 keeps 1800/2800
    inst = two_pairs(access_floor_m=3000)
    opt = optimise(inst, FAST, objective="floor")
    assert opt.status == SolveStatus.OPTIMAL
    assert -opt.objective == pytest.approx(2500 / 2800, abs=1e-12)
    assert list(opt.modes[0]) == [CLOSED, KEPT, KEPT, KEPT]
    # a floor above it is infeasible at the cut
    assert optimise(inst.with_(access_floor_share=0.9), FAST).status == SolveStatus.INFEASIBLE
    assert optimise(inst.with_(access_floor_share=2500 / 2800), FAST).status == SolveStatus.OPTIMAL


def test_the_evaluator_reports_a_missed_floor():
    inst = two_pairs(access_floor_m=5000, access_floor_share=0.9)
    modes = np.array([CLOSED, KEPT, KEPT, KEPT])
    r = evaluate_stage(inst, modes, 0)
    assert r.metrics["access_floor_share_achieved"] == pytest.approx(2500 / 2800)
    assert r.metrics["access_floor_met"] is False and r.metrics["access_floor_groups_below"] == 1
    assert any("access floor is missed nationally: 89.29 % within 5 km, not 90 %" in v for v in violations(inst, [modes]))
    fa = inst.with_(access_floor_scope="fa_region", access_floor_share=0.8)
    assert list(access_shares(fa, r.dist_m)) == pytest.approx([1000 / 1300, 1.0])
    assert any("in 1 FA-region:" in v for v in violations(fa, [modes])), violations(fa, [modes])  # not "1 FA-region(s)"


def test_a_floor_holds_in_every_stage():
    # two stages: one closure, then two; the floor of 5 km at 0.85 allows closing 0 in stage 1,
    # but stage 2 must close a second office and keep 85 %
    inst = two_pairs(access_floor_m=5000, access_floor_share=0.85)
    base = inst.budgets_sek[0] + 0.9e6
    inst = inst.with_(budgets_sek=(base - 0.9e6, base - 1.9e6), allowances_sek=(0.0, 0.0))
    opt = optimise(inst, FAST)
    assert opt.status == SolveStatus.OPTIMAL
    for s, m in enumerate(opt.modes):
        assert evaluate_stage(inst, m, s).metrics["access_floor_met"], s
    assert not violations(inst, list(opt.modes))


# --------------------------------------------------------------------------- brute force


def floor_feasible(inst, modes) -> bool:
    if not feasible(inst, modes):
        return False
    if inst.has_access_floor:
        return bool(evaluate_stage(inst, np.asarray(modes), 0).metrics["access_floor_met"])
    return True


@st.composite
def floored_instances(draw):
    n = draw(st.integers(2, 5))
    m = draw(st.integers(1, 10))
    coords = st.floats(0, 1.5e5, allow_nan=False)
    ox = [draw(coords) for _ in range(n)]
    oy = [draw(coords) for _ in range(n)]
    dx = [draw(coords) for _ in range(m)]
    dy = [draw(coords) for _ in range(m)]
    pop = [draw(st.integers(0, 5000)) for _ in range(m)]
    n_fa = max(1, n // 2)
    fa = [draw(st.integers(0, n_fa - 1)) for _ in range(n)]
    fixed = [draw(st.floats(1e5, 3e6)) for _ in range(n)]
    flex = [f * draw(st.floats(0.1, 0.9)) for f in fixed]
    cut = draw(st.floats(0, 0.6)) * sum(fixed)
    scope = draw(st.sampled_from(["national", "fa_region"]))
    fa_of_point = np.array([draw(st.integers(-1, n_fa - 1)) for _ in range(m)], np.int64)
    objective = draw(st.sampled_from(["distance", "coverage", "visits_lost"]))
    return make_instance(ox, oy, dx, dy, pop, fa=fa, fixed=fixed, flex=flex, budget=cut, objective=objective, coverage_m=30000,
                         access_floor_m=int(draw(st.integers(5, 80)) * 1000), access_floor_share=draw(st.floats(0, 1)),
                         access_floor_scope=scope, fa_of_point=fa_of_point)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(floored_instances())
def test_optimum_with_a_floor_equals_brute_force(inst):
    best = None
    for modes in itertools.product((CLOSED, FLEXIBLE, KEPT), repeat=inst.n):
        if floor_feasible(inst, modes):
            obj = evaluate_stage(inst, np.array(modes), 0).objective
            best = obj if best is None else min(best, obj)
    opt = optimise(inst, FAST)
    if best is None:
        assert opt.status == SolveStatus.INFEASIBLE
        return
    assert opt.status == SolveStatus.OPTIMAL
    assert floor_feasible(inst, opt.modes[0]), "the optimiser returned a plan that misses the floor"
    assert not violations(inst, list(opt.modes))
    assert evaluate_stage(inst, opt.modes[0], 0).objective == pytest.approx(best, rel=1e-7, abs=1e-6)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(floored_instances())
def test_the_highest_floor_equals_brute_force(inst):
    free = inst.with_(access_floor_share=None)
    best = None
    for modes in itertools.product((CLOSED, FLEXIBLE, KEPT), repeat=inst.n):
        if floor_feasible(free, modes):
            shares = access_shares(free, evaluate_stage(free, np.array(modes), 0).dist_m)
            low = float(np.nanmin(shares)) if np.isfinite(shares).any() else 1.0
            best = low if best is None else max(best, low)
    opt = optimise(free, FAST, objective="floor")
    if best is None:
        assert opt.status == SolveStatus.INFEASIBLE
        return
    assert opt.status == SolveStatus.OPTIMAL
    assert -opt.objective == pytest.approx(best, abs=1e-9)


# --------------------------------------------------------------------------- scenarios


def test_scenario_keys_are_checked(tmp_path):
    from netopt.scenario import load_scenario

    path = tmp_path / "s.toml"
    path.write_text("[constraints]\naccess_floor_km = 30\naccess_floor_scope = \"county\"\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    text = str(err.value)
    assert "access_floor_scope" in text and "national, fa_region" in text
    path.write_text("[constraints]\naccess_floor_km = 30\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="access_floor_km.*without access_floor_share"):
        load_scenario(path)
    path.write_text("[constraints]\naccess_floor_km = 30\naccess_floor_share = 90\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="0.9 means 90 %"):
        load_scenario(path)


def test_a_floor_no_plan_can_reach_is_named_before_solving(shipped_network):
    import netopt

    sc = netopt.load_scenario("scenarios/cut-2027.toml").with_(access_floor_km=50.0, access_floor_share=0.5, access_floor_scope="fa_region")
    with pytest.raises(InfeasibleError) as err:
        netopt.solve(shipped_network, sc)
    text = str(err.value)
    assert "cannot be met even with every office open" in text
    assert "54 Arjeplog" in text
    assert err.value.explanation["access_floor_unreachable"]["highest_share"] < 0.5


def test_a_floor_the_cut_makes_impossible_is_explained_with_the_highest_floor(shipped_network):
    import netopt
    from netopt.instance import prepare

    sc = netopt.load_scenario("scenarios/cut-2027.toml")
    inst = prepare(shipped_network, sc).instance
    w = inst.population
    today = float(w[inst.baseline_dist_m <= 10000].sum() / w.sum())
    asked = np.floor(today * 1e6) / 1e6
    with pytest.raises(InfeasibleError) as err:
        netopt.solve(shipped_network, sc.with_(access_floor_km=10.0, access_floor_share=asked))
    info = err.value.explanation
    assert info["highest_access_floor_proven"] is True
    highest = info["highest_access_floor_share"]
    assert highest < asked
    assert "the access floor cannot be met at this cut: at most" in str(err.value)
    assert "access floor: " in str(err.value)  # named among the constraints in force
    # the highest floor is met by a real plan, and one just above it is not
    plan = netopt.solve(shipped_network, sc.with_(access_floor_km=10.0, access_floor_share=highest))
    assert plan.summary()["access_floor_share_achieved"] >= highest - 1e-12
    with pytest.raises(InfeasibleError):
        netopt.solve(shipped_network, sc.with_(access_floor_km=10.0, access_floor_share=min(1.0, highest + 1e-6)))


def test_a_floor_per_fa_region_counts_a_region_without_an_office():
    # the division has a region (1) with inhabitants and no office: its share is measured too
    inst = two_pairs(access_floor_m=5000, access_floor_share=0.5, access_floor_scope="fa_region").with_(
        fa_of_office=np.array([0, 0, 0, 0]), n_fa=1, fa_of_point=np.array([0, 0, 1, 1]))
    group, n = inst.floor_groups()
    assert n == 2 and list(group) == [0, 0, 1, 1]
    shares = access_shares(inst, evaluate_stage(inst, np.array([KEPT] * 4), 0).dist_m)
    assert list(shares) == [1.0, 1.0]
