"""The solver layer: backends against brute force, honest statuses, warm starts,
extra constraint families, cutoffs, and the prefix-set aggregation of the model."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netopt.metrics import CLOSED, KEPT, evaluate_stage
from netopt.model import _unique_rows, build_model, prefix_nodes
from netopt.solver import SolverSettings, SolveStatus, optimise
from netopt.solver import backends
from netopt.solver.result import SolveResult
from netopt.solver.verify import violations

from test_model import brute_force, make_instance

OBJECTIVES = ("distance", "coverage", "visits_lost")

FAST = SolverSettings(time_limit_s=60, tie_break=False)


# --------------------------------------------------------------------------- prefix sets


@settings(max_examples=30, deadline=None)
@given(n=st.integers(2, 12), m=st.integers(1, 30), k=st.integers(1, 12), seed=st.integers(0, 10**6))
def test_prefix_sets_group_exactly_the_lists_with_the_same_offices(n, m, k, seed):
    rng = np.random.default_rng(seed)
    # coarse coordinates make many equal distances, i.e. lists in different orders
    ox, oy = rng.integers(0, 4, n) * 1000.0, rng.integers(0, 4, n) * 1000.0
    dx, dy = rng.integers(0, 4, m) * 1000.0, rng.integers(0, 4, m) * 1000.0
    inst = make_instance(ox, oy, dx, dy, np.ones(m, np.int64))
    cand = inst.candidates(rng.integers(1, k + 1, m))
    nodes = prefix_nodes(cand, n)
    sets = []
    for j in range(m):
        offs = cand.office[cand.ptr[j]:cand.ptr[j + 1]]
        sets += [frozenset(offs[: q + 1].tolist()) for q in range(len(offs))]
    by_node: dict = {}
    for e, s in enumerate(sets):
        by_node.setdefault(int(nodes.node[e]), set()).add(s)
    assert all(len(v) == 1 for v in by_node.values()), "a prefix-set variable stands for two different sets"
    assert len(by_node) == len(set(sets)) == nodes.count, "equal sets got different variables"
    assert all(nodes.depth[q] == len(next(iter(v))) for q, v in by_node.items())


@settings(max_examples=50, deadline=None)
@given(rows=st.integers(0, 60), cols=st.integers(1, 3), high=st.sampled_from([2, 5, 2**63 - 1]), seed=st.integers(0, 10**6))
def test_unique_rows_equals_numpy_unique(rows, cols, high, seed):
    """prefix_nodes groups its rows with _unique_rows: the same rows, first indices and inverse as np.unique(axis=0)."""
    a = np.random.default_rng(seed).integers(0, high, (rows, cols), dtype=np.int64)
    a = a.astype(np.uint64) if seed % 2 else a
    got = _unique_rows(a)
    if rows == 0:
        assert [x.shape for x in got] == [(0, cols), (0,), (0,)]
        return
    want = np.unique(a, axis=0, return_index=True, return_inverse=True)
    assert np.array_equal(got[0], want[0]) and got[0].dtype == a.dtype
    assert np.array_equal(got[1], want[1])
    assert np.array_equal(got[2], want[2].reshape(-1))


# --------------------------------------------------------------------------- backends


@pytest.mark.parametrize("seed", range(12))
def test_ortools_highs_backend_equals_brute_force(seed):
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(2, 7)), int(rng.integers(1, 13))
    fixed = rng.uniform(1e5, 3e6, n)
    inst = make_instance(rng.uniform(0, 2e5, n), rng.uniform(0, 2e5, n), rng.uniform(0, 2e5, m), rng.uniform(0, 2e5, m), rng.integers(0, 5000, m),
                         fa=rng.integers(0, max(1, n // 2), n), fixed=fixed, flex=fixed * rng.uniform(0.1, 0.9, n), budget=rng.uniform(0, 0.6) * fixed.sum(),
                         cap=[1e9, 300.0][seed % 2], objective=OBJECTIVES[seed % 3])
    best, _ = brute_force(inst)
    opt = optimise(inst, SolverSettings(time_limit_s=60, tie_break=False, backend="ortools-highs"))
    if best is None:
        assert opt.status == SolveStatus.INFEASIBLE
        return
    assert opt.status == SolveStatus.OPTIMAL and opt.backend == "ortools-highs"
    assert evaluate_stage(inst, opt.modes[0], 0).objective == pytest.approx(best, rel=1e-7, abs=1e-6)


@pytest.mark.xfail(strict=True, reason="OR-Tools 9.15's bundled HiGHS 1.12 proves a wrong optimum (249,336,091) on this model; "
                   "highspy 1.16, SCIP and CP-SAT find 101,373,135 (= brute force). Remove the mark when it passes.")
def test_ortools_highs_on_a_model_it_gets_wrong():
    inst = make_instance([0, 0, 83154.0], [0, 69652.0, 46664.0], [112383.0, 77954.0, 0, 0, 0, 1225.0, 0, 0, 0, 0], [75546.0, 0, 0, 98519.0, 0, 0, 0, 0, 0, 0],
                         [2071, 0, 0, 472, 0, 2162, 0, 0, 0, 0], fixed=[1e5, 1e5, 800125.0], flex=[5e4, 5e4, 400062.5], cap=300.0)
    inst = inst.with_(budgets_sek=(1101975.811729347,))
    best, _ = brute_force(inst)
    assert best == 101373135
    assert optimise(inst, FAST).objective == best  # highspy
    assert optimise(inst, SolverSettings(time_limit_s=60, tie_break=False, backend="ortools-highs")).objective == best


def _pmedian(seed, n=9, m=40, p=3):
    from netopt.pmedian import pmedian_instance

    rng = np.random.default_rng(seed)
    return pmedian_instance(rng.uniform(0, 1e5, (m, 2)), rng.integers(1, 100, m), rng.uniform(0, 1e5, (n, 2)), p)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_cp_sat_proves_a_p_median_whose_data_are_whole_numbers(seed):
    from netopt.metrics import objective_value

    inst = _pmedian(seed)
    best = min(objective_value(inst, inst.nearest_open(np.isin(np.arange(inst.n), c))[1]) for c in itertools.combinations(range(inst.n), 3))
    opt = optimise(inst, SolverSettings(time_limit_s=60, tie_break=False, backend="cp-sat"))
    assert opt.status == SolveStatus.OPTIMAL and opt.objective == best and opt.bound == pytest.approx(best, abs=1)


def test_cp_sat_never_claims_a_proof_on_real_coefficients():
    """With SEK and visits in the budget, CP-SAT solves a scaled copy; its plan comes without a bound."""
    rng = np.random.default_rng(4)
    inst = make_instance(rng.uniform(0, 1e5, 6), rng.uniform(0, 1e5, 6), rng.uniform(0, 1e5, 30), rng.uniform(0, 1e5, 30),
                         rng.integers(10, 1000, 30), budget=1.3e6, fixed=rng.uniform(1e5, 2e6, 6), fa=[0, 0, 1, 1, 2, 2])
    opt = optimise(inst, SolverSettings(time_limit_s=60, tie_break=False, backend="cp-sat"))
    assert opt.status == SolveStatus.TIME_LIMIT and opt.bound is None
    assert not violations(inst, opt.modes)


# --------------------------------------------------------------------------- honest statuses (stubbed backend results)


class _Scripted:
    """A backend that solves for real, then answers with another status and bound."""

    name = "scripted"
    supports_start = True
    supports_cutoff = True

    def __init__(self, status, bound_share):
        self.status, self.bound_share, self.calls = status, bound_share, []

    def solve(self, model, options):
        real = backends.HighspyBackend().solve(model, options)
        self.calls.append(options)
        return SolveResult(status=self.status, values=real.values, objective=real.objective,
                           bound=None if self.bound_share is None else self.bound_share * real.objective, seconds=real.seconds, backend=self.name)


def _inst():
    rng = np.random.default_rng(11)
    return make_instance(rng.uniform(0, 1e5, 6), rng.uniform(0, 1e5, 6), rng.uniform(0, 1e5, 40), rng.uniform(0, 1e5, 40),
                         rng.integers(10, 1000, 40), budget=1.5e6, fa=[0, 0, 1, 1, 2, 2])


def test_a_plan_stopped_within_the_requested_gap_is_not_optimal():
    """Issue 11 fault 2: the solver says "optimal" at relative_gap > 0, but the bound is 0.5 % below."""
    inst = _inst()
    opt = optimise(inst, SolverSettings(time_limit_s=60, relative_gap=0.01, tie_break=False), backend=_Scripted(SolveStatus.WITHIN_GAP, 0.995))
    assert opt.status == SolveStatus.WITHIN_GAP
    assert opt.gap == pytest.approx((opt.objective - opt.bound) / opt.objective) and opt.gap > 0.004


def test_a_gap_above_the_requested_one_is_a_time_limit_plan():
    inst = _inst()
    opt = optimise(inst, SolverSettings(time_limit_s=60, relative_gap=0.001, tie_break=False), backend=_Scripted(SolveStatus.TIME_LIMIT, 0.98))
    assert opt.status == SolveStatus.TIME_LIMIT and opt.gap > 0.019


def test_optimal_only_when_the_measured_objective_meets_the_bound():
    inst = _inst()
    opt = optimise(inst, FAST, backend=_Scripted(SolveStatus.OPTIMAL, 1.0))
    assert opt.status == SolveStatus.OPTIMAL and opt.gap == 0.0
    opt = optimise(inst, FAST, backend=_Scripted(SolveStatus.OPTIMAL, None))
    assert opt.status == SolveStatus.OPTIMAL  # widened to the end and the solver proved it: no bound needed


def test_relative_gap_on_the_2027_stage_is_labelled_honestly():
    """Issue 11 fault 2 on the real scenario: with relative_gap = 0.05 the plan is OPTIMAL only with a
    bound equal to the true optimum (197 358 299 519 on the 115-office register the issue measured
    on), otherwise WITHIN_GAP with its real gap."""
    import netopt
    from conftest import REGISTER_115

    sc = netopt.load_scenario(netopt.io.DATA_DIR.parent / "scenarios" / "cut-2027.toml").with_(relative_gap=0.05)
    plan = netopt.solve(netopt.load_network(REGISTER_115), sc)
    assert plan.status in ("OPTIMAL", "WITHIN_GAP")
    if plan.status == "OPTIMAL":
        assert plan.objective == 197358299519 and plan.best_bound >= plan.objective - 1 and plan.gap == 0.0
    else:
        assert plan.objective >= 197358299519 and 0 < plan.gap <= 0.05
        assert plan.gap == pytest.approx((plan.objective - plan.best_bound) / plan.objective)


# --------------------------------------------------------------------------- warm starts, cutoffs, extra families


def test_a_start_plan_reaches_the_backend_and_changes_nothing_but_the_time():
    inst = _inst()
    base = optimise(inst, FAST)
    spy = _Scripted(SolveStatus.OPTIMAL, 1.0)
    again = optimise(inst, FAST, start=base.modes, backend=spy)
    cols, vals = spy.calls[0].start
    built = build_model(inst, inst.candidates(8))
    assert np.array_equal(cols[: inst.n], built.y[0]) and np.array_equal(vals[: inst.n], (base.modes[0] == KEPT).astype(float))
    assert again.objective == base.objective


def test_a_cutoff_below_the_optimum_finds_no_plan():
    inst = _inst()
    best = optimise(inst, FAST)
    assert optimise(inst, FAST, cutoff=best.objective - 10.0).status == SolveStatus.NO_PLAN
    assert optimise(inst, FAST, cutoff=best.objective + 1.0).objective == best.objective


def test_an_extra_family_excluding_the_optimum_gives_the_second_best_plan():
    """The API later work uses for near-optimal alternatives: a "no-good" row over y and f."""
    inst = _inst()
    best = optimise(inst, FAST)
    was = best.modes[0] > 0

    def exclude(parts):
        o = np.concatenate([parts.y[0], parts.f[0]])
        w = np.tile(was, 2)
        parts.add_rows(1, 1.0 - was.sum(), np.inf, (np.zeros(o.size, np.int64), o, np.where(w, -1.0, 1.0)))

    second = optimise(inst, FAST, extra=[exclude])
    assert second.status == SolveStatus.OPTIMAL
    assert not np.array_equal(second.modes[0] > 0, was) and second.objective >= best.objective
    # brute force: the best plan with another open set
    from test_model import feasible

    others = [evaluate_stage(inst, np.array(m), 0).objective for m in itertools.product((CLOSED, 1, KEPT), repeat=inst.n)
              if feasible(inst, m) and not np.array_equal(np.array(m) > 0, was)]
    assert second.objective == pytest.approx(min(others))


def test_a_lock_is_a_changed_instance():
    inst = _inst()
    best = optimise(inst, FAST)
    changed = np.flatnonzero(best.modes[0] != KEPT)
    assert changed.size
    keep = np.zeros(inst.n, bool)
    keep[changed[0]] = True
    locked = optimise(inst.with_(lock_open=keep), FAST, start=best.modes)
    assert locked.modes[0][changed[0]] == KEPT and locked.objective >= best.objective
    assert not violations(inst.with_(lock_open=keep), locked.modes)


def test_the_solver_log_goes_through_logging_and_nothing_to_standard_output(caplog, capfd):
    import logging

    with caplog.at_level(logging.INFO, logger="netopt.solver"):
        optimise(_inst(), FAST)
    lines = [r.getMessage() for r in caplog.records if r.name == "netopt.solver"]
    assert any(m.startswith("highs: ") and "MIP" in m for m in lines)
    assert any(m.startswith("round 1:") for m in lines)
    out = capfd.readouterr().out
    assert "HiGHS" not in out and "MIP" not in out
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="netopt.solver"):
        optimise(_inst(), FAST)
    assert not [r for r in caplog.records if r.getMessage().startswith("highs:")]


def test_a_proof_that_holds_only_to_the_solvers_tolerance_is_within_gap_not_time_limit():
    """A 6-office instance (found by the property test of candidate sites) on which
    HiGHS ends with its proof while the exact plan lies one unit (5e-7) above its
    bound: it was labelled TIME_LIMIT although no limit was reached. Each branch of
    the judgement is pinned on the same plan."""
    from netopt.scenario import SolverSettings
    from netopt.solver.loop import SOLVER_TOLERANCE_GAP, _judge
    from netopt.solver.verify import measure
    from test_model import make_instance

    inst = make_instance([0, 100000, 200000], [0, 0, 0], [0, 100000, 200000], [0, 0, 0], [1000, 100, 1000], budget=0.9e6, fa=[0, 0, 0])
    plan = (np.array([2, 0, 2]),)
    problems, value, _ = measure(inst, plan)
    assert not problems and value == 1e7  # 100 people 100 km farther, in inhabitant-metres
    exact = SolverSettings(relative_gap=0.0)
    judge = lambda bound, round_status, settings=exact: _judge(inst, plan, bound, "plan", settings, 0.999, True, round_status)[0]
    assert judge(value, SolveStatus.OPTIMAL) == SolveStatus.OPTIMAL
    assert judge(value - 0.5, SolveStatus.OPTIMAL) == SolveStatus.OPTIMAL  # a whole-number objective: within 1 is proof
    off = value * (1 - SOLVER_TOLERANCE_GAP / 2)
    assert judge(off, SolveStatus.OPTIMAL) == SolveStatus.WITHIN_GAP  # the solver ended with its proof: its tolerance
    assert judge(off, SolveStatus.TIME_LIMIT) == SolveStatus.TIME_LIMIT  # the solver was stopped: no proof at all
    assert judge(value * (1 - 10 * SOLVER_TOLERANCE_GAP), SolveStatus.OPTIMAL) == SolveStatus.TIME_LIMIT  # beyond tolerance
    assert judge(value * 0.99, SolveStatus.OPTIMAL, SolverSettings(relative_gap=0.05)) == SolveStatus.WITHIN_GAP
