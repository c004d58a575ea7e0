"""The tie-break among optimal plans (netopt.solver.loop._tie_break) and its screen.

With growth limits in force the tie-break first proves, where it can, that every
optimal plan has the optimum's offices open, and then chooses among plans with
those offices open. These tests pin that this gives exactly the choice of the
search over all plans (the path without the screen) and of brute force: among
the plans with the optimal objective, the fewest changed offices, then the
lowest cost. Coarse coordinates make many equal distances, so that several
plans are optimal and both ways through the screen are taken.
"""

from __future__ import annotations

import functools
import itertools

import numpy as np
import pytest

from netopt.metrics import KEPT
from netopt.model import build_model, other_open_set
from netopt.solver import SolverSettings, SolveStatus, loop, optimise
from netopt.solver.verify import measure

from test_model import make_instance

TIE_BREAK = SolverSettings(time_limit_s=60)


def _instance(seed: int, stages: int = 1):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 7)) if stages == 1 else 3
    m = int(rng.integers(4, 16))
    grid = 10_000.0
    fixed = rng.choice([1e6, 1.2e6, 1.5e6], n) + rng.uniform(0, 1e4, n)
    flex = fixed * rng.uniform(0.2, 0.5, n)
    share = float(rng.uniform(0.1, 0.5))
    budget = tuple(share * fixed.sum() * (s + 1) / stages for s in range(stages)) if stages > 1 else share * fixed.sum()
    return make_instance(rng.integers(0, 4, n) * grid, rng.integers(0, 4, n) * grid, rng.integers(0, 4, m) * grid, rng.integers(0, 4, m) * grid,
                         rng.integers(1, 4, m) * 1000, fa=rng.integers(0, max(1, n // 2), n), fixed=fixed, flex=flex, budget=budget,
                         cap=float(rng.choice([1e9, 400.0])), stages=stages, max_growth=float(rng.choice([0.5, 1.0, 3.0])))


def _brute_force(inst):
    """Every plan that meets every constraint, with its (objective, changes, cost), by
    enumeration; the lexicographic minimum is what the tie-break must return."""
    assert not any(inst.allowances_sek)  # then the net cost measured is the cost the tie-break minimises
    per_stage = list(itertools.product((0, 1, 2), repeat=inst.n))
    rows = []
    for plan in itertools.product(per_stage, repeat=inst.n_stages):
        modes = [np.array(p) for p in plan]
        problems, objective, cost = measure(inst, modes)
        if not problems:
            rows.append((objective, sum(int(np.sum(m != KEPT)) for m in modes), cost, modes))
    return rows


def _solve(inst, monkeypatch, screen: bool):
    with monkeypatch.context() as mp:
        mp.setattr(loop, "_tie_break", functools.partial(loop._tie_break, screen=screen))
        return optimise(inst, TIE_BREAK)


def _screen_verdict(opt) -> str:
    """Which way the tie-break went: 'unique' (the screen proved it), 'not ruled out', or 'no screen'."""
    if len(opt.results) < 3:
        return "no screen"
    return "unique" if opt.results[1].status == SolveStatus.INFEASIBLE else "not ruled out"


@pytest.mark.parametrize("stages", [1, 2])
def test_the_screened_tie_break_chooses_what_brute_force_and_the_search_over_all_plans_choose(monkeypatch, stages):
    verdicts = []
    for seed in range(30 if stages == 1 else 10):
        inst = _instance(seed, stages)
        rows = _brute_force(inst)
        if not rows:
            continue
        best = min(r[0] for r in rows)
        optimal = [r for r in rows if r[0] <= best + 1e-6]
        fewest = min(r[1] for r in optimal)
        cheapest = min(r[2] for r in optimal if r[1] == fewest)

        screened = _solve(inst, monkeypatch, screen=True)
        plain = _solve(inst, monkeypatch, screen=False)
        for opt in (screened, plain):
            assert opt.status == SolveStatus.OPTIMAL, seed
            objective, changes, cost = next((r[0], r[1], r[2]) for r in rows if all(np.array_equal(a, b) for a, b in zip(r[3], opt.modes)))
            assert objective == pytest.approx(best, abs=1e-6), seed
            assert changes == fewest, seed
            assert cost <= cheapest + 1.0, seed  # the tie-break proves the cost to 1 SEK
            assert opt.phase == "optimise, then fewest changes and largest saving among the optimal plans", seed
        assert all(np.array_equal(a, b) for a, b in zip(screened.modes, plain.modes)), seed
        verdicts.append(_screen_verdict(screened))
        # the screen's verdict is right: another open set is optimal exactly when it does not prove uniqueness
        opened = [tuple(tuple(m > 0) for m in r[3]) for r in optimal]
        if verdicts[-1] == "unique":
            assert len(set(opened)) == 1, seed
    assert "unique" in verdicts, verdicts
    if stages == 1:
        assert "not ruled out" in verdicts, verdicts


def test_other_open_set_excludes_exactly_the_plans_with_the_same_offices_open():
    """The screen's row: a plan is cut off iff it opens the same offices in every stage
    (kept or flexible does not matter)."""
    inst = _instance(3, stages=2)
    plan = (np.array([2, 1, 0]), np.array([1, 0, 0]))
    built = build_model(inst, inst.candidates(inst.n), extra=(other_open_set(plan),))
    row = built.A.shape[0] - 1  # the family's row is the last one added
    coef = built.A.getrow(row).toarray().ravel()
    for a, b in itertools.product(itertools.product((0, 1, 2), repeat=3), repeat=2):
        x = np.zeros(built.n_vars)
        for s, m in enumerate((a, b)):
            m = np.array(m)
            x[built.y[s]] = m == 2
            x[built.f[s]] = m == 1
        same = all(np.array_equal(np.array(m) > 0, p > 0) for m, p in zip((a, b), plan))
        meets = built.row_lo[row] <= coef @ x <= built.row_hi[row]
        assert meets != same, (a, b)


def test_the_screen_runs_only_where_growth_limits_are_in_force(monkeypatch):
    inst = _instance(5)
    assert _screen_verdict(optimise(inst, TIE_BREAK)) != "no screen"
    assert _screen_verdict(optimise(inst.with_(max_growth=None), TIE_BREAK)) == "no screen"
