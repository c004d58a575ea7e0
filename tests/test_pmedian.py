"""The p-median entry point (netopt.pmedian): hand cases, the heuristic against the
optimum, and the fallback when the solver stops without a plan."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from netopt.errors import InfeasibleError
from netopt.geometry import distance_m
from netopt.pmedian import heuristic_pmedian, pmedian_instance, solve_pmedian
from netopt.solver import SolverSettings, SolveStatus
from netopt.solver import backends
from netopt.solver.result import SolveResult


def brute(demand, w, sites, p):
    d = distance_m(demand[:, 0, None], demand[:, 1, None], sites[None, :, 0], sites[None, :, 1], 1.0)
    return min((int((w * d[:, list(c)].min(axis=1)).sum()), c) for c in itertools.combinations(range(len(sites)), p))


def test_two_towns_one_site_each():
    # two clusters of people 100 km apart, a site in each and one in the middle: p = 2 takes the two towns
    demand = np.array([[0, 0], [1000, 0], [100000, 0], [101000, 0]], float)
    w = np.array([10, 10, 10, 10])
    sites = np.array([[500, 0], [50000, 0], [100500, 0]], float)
    r = solve_pmedian(demand, w, sites, 2)
    assert list(r.open_sites) == [0, 2]
    assert r.objective == 4 * 10 * 500 and r.status == "OPTIMAL" and r.gap == 0.0


def test_one_site_is_the_weighted_median_on_a_line():
    demand = np.array([[0, 0], [10000, 0], [20000, 0], [30000, 0]], float)
    w = np.array([1, 1, 1, 5])
    sites = demand.copy()
    r = solve_pmedian(demand, w, sites, 1)
    assert list(r.open_sites) == [3]  # the heavy point: 30 + 20 + 10 km × 1 = 60 km·inhabitants
    assert r.objective == 60000


def test_p_equals_every_site_costs_nothing_when_people_live_at_the_sites():
    rng = np.random.default_rng(2)
    sites = rng.uniform(0, 1e5, (6, 2))
    r = solve_pmedian(sites.copy(), np.ones(6, np.int64), sites, 6)
    assert r.objective == 0 and len(r.open_sites) == 6


@pytest.mark.parametrize("seed", range(6))
def test_optimum_equals_brute_force_and_the_heuristic_is_never_better(seed):
    rng = np.random.default_rng(seed)
    n, m, p = 9, 60, 3
    demand, sites = rng.uniform(0, 2e5, (m, 2)), rng.uniform(0, 2e5, (n, 2))
    w = rng.integers(1, 500, m)
    best, _ = brute(demand, w, sites, p)
    r = solve_pmedian(demand, w, sites, p, use_heuristic=True)
    assert r.status == "OPTIMAL" and r.objective == best and r.best_bound == pytest.approx(best, abs=1)
    heur = heuristic_pmedian(pmedian_instance(demand, w, sites, p), p)
    assert heur.sum() == p
    d = distance_m(demand[:, 0, None], demand[:, 1, None], sites[heur][None, :, 0], sites[heur][None, :, 1], 1.0)
    assert int((w * d.min(axis=1)).sum()) >= best
    assert r.heuristic_objective >= best


def test_bad_p():
    with pytest.raises(ValueError, match="p must be between 1"):
        solve_pmedian(np.zeros((3, 2)), np.ones(3), np.zeros((2, 2)), 3)


class _NoPlan:
    """A backend that stops without a plan but with a bound (as HiGHS does when its time limit ends the root LP)."""

    name = "stub"
    supports_start = True
    supports_cutoff = True

    def __init__(self, bound):
        self.bound = bound

    def solve(self, model, options):
        from netopt.solver.result import SolveStatus as S

        return SolveResult(status=S.NO_PLAN, values=None, objective=None, bound=self.bound, seconds=0.0, backend=self.name, message="Time limit reached")


def _instance(seed=7, n=12, m=300, p=4):
    rng = np.random.default_rng(seed)
    return rng.uniform(0, 2e5, (m, 2)), rng.integers(1, 500, m), rng.uniform(0, 2e5, (n, 2)), p


def test_the_heuristic_plan_is_the_answer_when_the_solver_stops_without_one(monkeypatch):
    demand, w, sites, p = _instance()
    best, _ = brute(demand, w, sites, p)
    monkeypatch.setitem(backends.BACKENDS, "highspy", lambda: _NoPlan(0.9 * best))
    # without the Lagrangian stage (which would prove this small instance on its own): the MIP path
    r = solve_pmedian(demand, w, sites, p, use_heuristic=True, lagrangian=False)
    assert r.status == SolveStatus.TIME_LIMIT
    assert r.solver_objective is None and r.objective == r.heuristic_objective >= best
    heur = heuristic_pmedian(pmedian_instance(demand, w, sites, p), p)
    assert list(r.open_sites) == list(np.flatnonzero(heur))
    assert r.best_bound == pytest.approx(0.9 * best) and r.gap == pytest.approx((r.objective - 0.9 * best) / r.objective)


def test_after_the_lagrangian_stage_a_solver_without_a_plan_leaves_the_best_plan_and_its_bound(monkeypatch):
    """The Lagrangian bound and fixing hand a reduced instance to the shared loop; when
    the solver stops there without a plan, the best plan found so far is the answer,
    with the Lagrangian bound, labelled TIME_LIMIT unless that bound proves it."""
    monkeypatch.setitem(backends.BACKENDS, "highspy", lambda: _NoPlan(None))
    rng = np.random.default_rng(0)
    taken = 0
    for _ in range(40):
        m, n = int(rng.integers(8, 15)), int(rng.integers(4, 8))
        p = int(rng.integers(1, n))
        demand, sites = rng.uniform(0, 20_000, (m, 2)), rng.uniform(0, 20_000, (n, 2))
        w = rng.integers(0, 50, m)
        best, _ = brute(demand, w, sites, p)
        r = solve_pmedian(demand, w, sites, p, lagrangian=True)
        assert len(r.open_sites) == p and r.objective >= best
        assert r.best_bound == r.lagrangian_bound <= best and r.solver_objective is None
        if r.objective - r.best_bound < 1:
            assert r.status == SolveStatus.OPTIMAL and r.gap == 0.0
        else:
            assert r.status == SolveStatus.TIME_LIMIT and r.gap == pytest.approx((r.objective - r.best_bound) / r.objective)
        taken += r.rounds > 0
    assert taken >= 5  # the solver was asked (and stopped without a plan) that often


def test_without_a_heuristic_plan_no_plan_is_an_error(monkeypatch):
    demand, w, sites, p = _instance()
    monkeypatch.setitem(backends.BACKENDS, "highspy", lambda: _NoPlan(None))
    with pytest.raises(InfeasibleError, match="without a plan"):
        solve_pmedian(demand, w, sites, p, use_heuristic=False)


def test_a_requested_gap_is_reported_as_within_the_gap_not_optimal():
    demand, w, sites, p = _instance(seed=3, n=40, m=2000, p=8)
    r = solve_pmedian(demand, w, sites, p, settings=SolverSettings(tie_break=False, relative_gap=0.05, time_limit_s=60))
    assert r.status in ("OPTIMAL", "WITHIN_GAP")
    if r.status == "WITHIN_GAP":
        assert 0 < r.gap <= 0.05
    else:
        assert r.gap == 0.0 and r.objective - r.best_bound < 1
