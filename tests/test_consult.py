"""Decision support for consultations (netopt.consult and the outputs it feeds):
the year of each change, the planner's locks and their price, what keeping an
office would cost, near-optimal alternatives, municipalities and board
decisions, and what a plan written by hand breaks.

Every figure is compared with something computed another way: a separate
solve, brute force over every plan of a small instance, or the evaluator.
Solves of the whole register use one demand point per municipality
(``fast_demand``); the done-when check of keep_costs uses the shipped data.
"""

from __future__ import annotations

import itertools
import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings

import netopt
from netopt.consult import alternatives, consult, exclude_kept_sets, keep_costs, lock_price, plan_breaks
from netopt.metrics import CLOSED, FLEXIBLE, KEPT, evaluate_stage
from netopt.solver import SolverSettings, SolveStatus, optimise
from netopt.solver.verify import violations
from netopt.tables import changes_text, plan_tables
from conftest import read_csv_rows
from test_model import feasible, instances

FAST = SolverSettings(time_limit_s=60, tie_break=False)


@pytest.fixture(scope="module")
def fast_network(fast_demand):
    return netopt.load_network(demand=fast_demand)


@pytest.fixture(scope="module")
def scenario_2027():
    return netopt.load_scenario("scenarios/cut-2027.toml").with_(time_limit_s=120.0)


@pytest.fixture(scope="module")
def plan_2027(fast_network, scenario_2027):
    return netopt.solve(fast_network, scenario_2027)


def rows_by_id(path):
    header, rows = read_csv_rows(path)
    return {r[0]: dict(zip(header, r)) for r in rows}


# --------------------------------------------------------------------------- phasing


def test_changes_text_names_every_change_with_its_year():
    assert changes_text({2025: "keep", 2026: "keep", 2027: "close"}, True) == "2027 close"
    assert changes_text({2025: "flexible", 2026: "flexible", 2027: "close"}, True) == "2025 flexible; 2027 close"
    assert changes_text({2025: "keep", 2026: "keep"}, True) == ""
    assert changes_text({2025: "not opened", 2026: "keep"}, False) == "2026 keep"
    assert changes_text({2025: "close"}, True, {"close": "stängs"}) == "2025 stängs"


def test_a_staged_plan_gives_each_changed_office_its_year(netopt_cli, tmp_path, fast_demand):
    out = tmp_path / "st"
    res = netopt_cli("solve", "scenarios/stages-2025-2027.toml", "--demand", fast_demand, "--out", out, "--no-map")
    assert res.code == 0, res.text
    years = (2025, 2026, 2027)
    per_year = {y: rows_by_id(out / ("plan.csv" if y == 2027 else f"plan-{y}.csv")) for y in years}
    final = per_year[2027]
    changed = 0
    for oid, row in final.items():
        history = [per_year[y][oid]["decision"] for y in years]
        first = next((y for y, d in zip(years, history) if d != "keep"), None)
        assert row["changed_in"] == ("" if first is None else str(first)), oid
        steps = [f"{y} {d}" for k, (y, d) in enumerate(zip(years, history)) if d != (["keep"] + history)[k]]
        assert row["changes"] == "; ".join(steps), oid
        changed += first is not None
    assert changed > 0
    # earlier stages say when they changed too; the report's change table gives the years
    assert any(r["changed_in"] == "2025" for r in per_year[2025].values())
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "| When |" in report or "When" in report
    first_closed = next(r for r in final.values() if r["changes"])
    assert first_closed["changes"].split(";")[0].split()[0] in report


# --------------------------------------------------------------------------- locks


def test_locks_are_visible_and_priced_by_a_real_re_solve(fast_network, scenario_2027, plan_2027, tmp_path):
    decisions = {o: d for o, d in zip(plan_2027.prepared.instance.office_ids, plan_2027.stages[-1].modes)}
    closed = sorted(o for o, m in decisions.items() if m == CLOSED)[0]
    inst = plan_2027.prepared.instance
    fa = dict(zip(inst.office_ids, inst.fa_of_office))
    kept_in = pd.Series([fa[o] for o, m in decisions.items() if m == KEPT]).value_counts()
    kept = sorted(o for o, m in decisions.items() if m == KEPT and kept_in[fa[o]] > 1)[0]  # its FA-region keeps another office
    locked = scenario_2027.with_(lock_open=(closed,), lock_closed=(kept,))
    plan = netopt.solve(fast_network, locked)
    price = lock_price(plan)
    assert price.status == "OPTIMAL"
    # without the locks: the same scenario solved again, separately
    assert price.objective_without == plan_2027.objective
    assert price.objective_with == plan.objective > plan_2027.objective
    assert price.mean_km_without == pytest.approx(plan_2027.summary()["population_mean_distance_km"], abs=1e-12)
    assert set(price.locks["office_id"]) == {closed, kept}
    out = netopt.write_outputs(plan, tmp_path / "locks", with_map=False, consultation=consult(plan))
    rows = rows_by_id(out / "plan.csv")
    assert rows[closed]["locked"] == "open" and rows[closed]["decision"] == "keep"
    assert rows[kept]["locked"] == "closed" and rows[kept]["decision"] == "close"
    assert sum(1 for r in rows.values() if r["locked"]) == 2
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "## Decided by the planner" in report
    assert f"{price.mean_km_with:.3f} km" in report.replace(",", "") or f"{price.mean_km_without:.3f}" in report
    # every office decided otherwise without the locks is named, not only the locked ones
    off = plan.prepared.network.offices
    names = dict(zip(off["office_id"], off["office_name"]))
    assert set(price.offices_changed) >= {closed, kept}
    line = next(x for x in report.splitlines() if "Decided otherwise without the locks:" in x)
    assert all(str(names.get(o, o)) in line for o in price.offices_changed)
    # a scenario without locks has no price and no section
    assert lock_price(plan_2027) is None


# --------------------------------------------------------------------------- keep costs


def test_keep_costs_equal_a_separate_solve_with_the_office_locked_open(fast_network, scenario_2027, plan_2027):
    kc = keep_costs(plan_2027)
    t = kc.table
    inst = plan_2027.prepared.instance
    last = plan_2027.stages[-1].modes
    expected = {o for o, m, e in zip(inst.office_ids, last, inst.existing_mask) if e and m != KEPT}
    assert set(t["office_id"]) == expected
    assert (t["status"] == "OPTIMAL").all()
    assert (t["delta_objective"] >= 0).all()
    for _, r in t.head(3).iterrows():
        separate = netopt.solve(fast_network, scenario_2027.with_(lock_open=(r["office_id"],)))
        assert r["objective_if_kept"] == separate.objective, r["office_id"]
        assert r["delta_objective"] == separate.objective - plan_2027.objective
        assert r["mean_km_if_kept"] == pytest.approx(separate.summary()["population_mean_distance_km"], abs=1e-12)
    # the money that keeps it with nothing else changed: the plan with the office kept meets a cut smaller by that much
    r = t.iloc[0]
    assert r["cut_smaller_by_msek"] > 0
    cut = scenario_2027.stages[-1].cut_msek
    decisions = {o: {KEPT: "keep", FLEXIBLE: "flexible", CLOSED: "close"}[int(m)] for o, m in zip(inst.office_ids, last)}
    decisions[r["office_id"]] = "keep"
    stage = scenario_2027.stages[-1]
    for smaller, meets in ((r["cut_smaller_by_msek"] - 1e-3, False), (r["cut_smaller_by_msek"] + 1e-3, True)):
        sc = scenario_2027.with_(stages=(type(stage)(year=stage.year, cut_msek=cut - smaller, flexible_allowance_msek=stage.flexible_allowance_msek),))
        assert netopt.evaluate(fast_network, decisions, sc).summary()["meets_budget"] is meets


def test_keep_costs_on_the_shipped_data_equal_a_separate_solve(shipped_network):
    """The done-when check of issue 13 on the shipped data (two offices)."""
    sc = netopt.load_scenario("scenarios/cut-2027.toml")
    plan = netopt.solve(shipped_network, sc)
    last = plan.stages[-1].modes
    ids = plan.prepared.instance.office_ids
    closed = [o for o, m in zip(ids, last) if m == CLOSED][:1] + [o for o, m in zip(ids, last) if m == FLEXIBLE][:1]
    t = keep_costs(plan, offices=closed).table
    for _, r in t.iterrows():
        assert r["status"] == "OPTIMAL"
        assert r["objective_if_kept"] == netopt.solve(shipped_network, sc.with_(lock_open=(r["office_id"],))).objective


def test_keep_costs_refuse_an_office_the_plan_keeps(plan_2027):
    kept = next(o for o, m in zip(plan_2027.prepared.instance.office_ids, plan_2027.stages[-1].modes) if m == KEPT)
    with pytest.raises(ValueError, match=kept):
        keep_costs(plan_2027, offices=[kept])


# --------------------------------------------------------------------------- alternatives


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_the_best_plan_keeping_another_set_equals_brute_force(inst):
    base = optimise(inst, FAST)
    if base.status != SolveStatus.OPTIMAL:
        return
    kept = base.modes[0] == KEPT
    best = None
    for modes in itertools.product((CLOSED, FLEXIBLE, KEPT), repeat=inst.n):
        if feasible(inst, modes) and not np.array_equal(np.asarray(modes) == KEPT, kept):
            obj = evaluate_stage(inst, np.array(modes), 0).objective
            best = obj if best is None else min(best, obj)
    opt = optimise(inst, FAST, extra=(exclude_kept_sets([kept]),))
    if best is None:
        assert opt.status == SolveStatus.INFEASIBLE
        return
    assert opt.status == SolveStatus.OPTIMAL
    assert not np.array_equal(opt.modes[0] == KEPT, kept)
    assert not violations(inst, list(opt.modes))
    assert evaluate_stage(inst, opt.modes[0], 0).objective == pytest.approx(best, rel=1e-7, abs=1e-6)


def test_alternatives_are_distinct_within_the_bound_and_best_first(plan_2027):
    alt = alternatives(plan_2027, 4, 0.01)
    t = alt.table
    assert len(t) == 4 == len(alt.plans)
    kept_sets = {tuple(plan_2027.stages[-1].modes == KEPT)}
    for p in alt.plans:
        k = tuple(p.stages[-1].modes == KEPT)
        assert k not in kept_sets
        kept_sets.add(k)
        assert not violations(p.prepared.instance, [st.modes for st in p.stages])
    assert list(t["objective"]) == sorted(t["objective"]) == [p.objective for p in alt.plans]
    assert (t["objective"] >= plan_2027.objective).all()
    assert (t["gap_to_optimum"] <= 0.01).all()
    assert list(t["rank"]) == [1, 2, 3, 4]
    assert alt.count_within() == (4, False)


def test_alternatives_on_the_command_line_each_get_a_folder(netopt_cli, tmp_path, fast_demand):
    out = tmp_path / "alt"
    args = ("solve", "scenarios/cut-2027.toml", "--demand", fast_demand, "--out", out, "--no-map", "--alternatives", "2", "--within", "1", "--explain")
    res = netopt_cli(*args)
    assert res.code == 0, res.text
    header, rows = read_csv_rows(out / "alternatives.csv")
    assert [r[0] for r in rows] == ["1", "2"]
    main = rows_by_id(out / "plan.csv")
    for r in rows:
        row = dict(zip(header, r))
        folder = out / row["folder"]
        s = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        assert s["objective"] == float(row["objective"])
        # the saving is given with the allowance used, as everywhere it is set against the cut
        assert float(row["flexible_allowance_used_msek"]) == s["flexible_allowance_used_msek"]
        assert float(row["savings_msek"]) + float(row["flexible_allowance_used_msek"]) >= s["cut_msek"] - 1e-6
        alt = rows_by_id(folder / "plan.csv")
        assert any((alt[o]["decision"] == "keep") != (main[o]["decision"] == "keep") for o in main)
        assert "alternative" in (folder / "report.md").read_text(encoding="utf-8")
    assert "## Alternatives near the optimum" in (out / "report.md").read_text(encoding="utf-8")
    header, rows = read_csv_rows(out / "keep_costs.csv")
    assert header[:4] == ["office_id", "office_name", "municipality", "decision"] and rows
    assert {r[0] for r in rows} == {o for o, r in main.items() if r["decision"] != "keep"}
    assert "## What keeping each office would cost" in (out / "report.md").read_text(encoding="utf-8")
    files = {p.relative_to(out): p.read_bytes() for p in out.rglob("*.csv")}
    # the folder with its alternatives is netopt's own: --overwrite replaces it, with the same files
    res = netopt_cli(*args, "--overwrite")
    assert res.code == 0, res.text
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*.csv")} == files
    assert netopt_cli("solve", "scenarios/cut-2027.toml", "--alternatives", "-1", "--out", tmp_path / "x").code != 0


# --------------------------------------------------------------------------- municipalities, evaluated plans


def test_closing_the_only_office_of_a_municipality_needs_a_board_decision(netopt_cli, tmp_path, fast_demand):
    out = tmp_path / "ev"
    res = netopt_cli("evaluate", "--close", "visby", "--demand", fast_demand, "--out", out, "--no-map")
    assert res.code == 0, res.text  # without --strict a broken plan is reported, not refused
    assert "the plan breaks" in res.err and "Gotland" in res.err
    rows = rows_by_id(out / "plan.csv")
    assert rows["visby"]["board_decision"] == "True"
    assert sum(r["board_decision"] == "True" for r in rows.values()) == 1
    m = pd.read_csv(out / "municipalities.csv", dtype={"municipality_code": str})
    gotland = m[m["municipality"] == "Gotland"].iloc[0]
    assert (gotland["offices_before"], gotland["offices_after"], bool(gotland["board_decision"])) == (1, 0, True)
    assert gotland["mean_distance_km_after"] > gotland["mean_distance_km_before"]
    assert int(m["board_decision"].sum()) == 1
    assert m["population"].sum() == pd.read_csv(fast_demand)["population"].sum()
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "## What the plan breaks" in report and "Gotland" in report
    assert "board decision" in report
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert [b["kind"] for b in s["breaks"]] == ["budget", "fa_region"]
    res = netopt_cli("evaluate", "--close", "visby", "--demand", fast_demand, "--out", tmp_path / "ev2", "--no-map", "--strict")
    assert res.code == 1 and "--strict" in res.err
    assert (tmp_path / "ev2" / "report.md").exists()


def test_a_plan_that_meets_every_constraint_passes_strict(netopt_cli, tmp_path, fast_demand, plan_2027):
    plan_file = tmp_path / "plan.csv"
    inst = plan_2027.prepared.instance
    names = {KEPT: "keep", FLEXIBLE: "flexible", CLOSED: "close"}
    plan_file.write_text("office_id,decision\n" + "".join(f"{o},{names[int(m)]}\n" for o, m in zip(inst.office_ids, plan_2027.stages[-1].modes)), encoding="utf-8")
    res = netopt_cli("evaluate", "scenarios/cut-2027.toml", "--plan", plan_file, "--demand", fast_demand, "--out", tmp_path / "ok", "--no-map", "--strict")
    assert res.code == 0, res.text
    assert "meets every constraint" in (tmp_path / "ok" / "report.md").read_text(encoding="utf-8")


def test_plan_breaks_agree_with_the_independent_check(fast_network, scenario_2027):
    rng = np.random.default_rng(7)
    sc = scenario_2027.with_(max_growth=0.5, max_closures=20)
    base = netopt.evaluate(fast_network, {}, sc)
    ids = list(base.prepared.instance.office_ids)
    for _ in range(8):
        words = rng.choice(["keep", "flexible", "close"], size=len(ids), p=[0.7, 0.15, 0.15])
        plan = netopt.evaluate(fast_network, dict(zip(ids, words)), sc)
        kinds = {b.kind for b in plan_breaks(plan)}
        found = violations(plan.prepared.instance, [st.modes for st in plan.stages])
        assert bool(kinds) == bool(found), (kinds, found)
        assert ("budget" in kinds) == (not plan.summary()["meets_budget"])


def test_the_map_labels_an_office_that_changes_twice_with_both_years():
    from netopt.i18n import texts
    from netopt.maps.panels import office_label

    row = {"office_name": "Sveg", "decision": "close", "changed_in": 2025, "existing": True,
           "history": {2025: "flexible", 2026: "flexible", 2027: "close"}, "changes": "2025 flexible; 2027 close"}
    assert str(office_label(row, texts("en"))) == "Sveg: flexible 2025, closed 2027"
    once = dict(row, history={2025: "keep", 2026: "close", 2027: "close"}, changes="2026 close", changed_in=2026)
    assert str(office_label(once, texts("en"))) == "Sveg: closed 2026"
