"""Flexible offices valued below kept ones: a flexible office counts as δ farther
(``parameters.flexible_extra_distance_km``), in the optimiser, the independent
evaluator and the pseudo-site candidate lists; with δ = 0 nothing changes."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netopt import geometry
from netopt.metrics import CLOSED, FLEXIBLE, KEPT, evaluate_stage, offices_used
from netopt.solver import SolveStatus, optimise
from test_model import FAST, feasible, make_instance


def with_extra(inst, metres: int):
    return dataclasses.replace(inst, flexible_extra_m=int(metres))


# --------------------------------------------------------------------------- by hand


def test_a_demand_point_uses_the_office_with_the_smallest_equivalent_distance():
    # One demand point at 0; office 0 at 1 km, office 1 at 3 km (detour 1).
    inst = make_instance([1000, 3000], [0, 0], [0], [0], [100])
    flex_near = np.array([FLEXIBLE, KEPT])
    # δ = 5 km: the flexible office counts as 6 km, the kept one 3 km
    near, dist, eq = offices_used(with_extra(inst, 5000), flex_near)
    assert (near[0], dist[0], eq[0]) == (1, 3000, 3000)
    # δ = 1.5 km: 2.5 km equivalent beats 3 km; the travel distance is still 1 km
    near, dist, eq = offices_used(with_extra(inst, 1500), flex_near)
    assert (near[0], dist[0], eq[0]) == (0, 1000, 2500)
    # a tie (1 + 2 = 3 km) goes to the lower office index, as everywhere
    near, dist, eq = offices_used(with_extra(inst, 2000), flex_near)
    assert (near[0], dist[0], eq[0]) == (0, 1000, 3000)


def test_the_evaluator_values_access_visits_and_objective_at_the_equivalent_distance():
    inst = with_extra(make_instance([1000, 3000], [0, 0], [0], [0], [100]), 1500)
    r = evaluate_stage(inst, np.array([FLEXIBLE, CLOSED]), 0)
    assert r.dist_m[0] == 1000 and r.equivalent_dist_m[0] == 2500
    assert r.objective == 100 * 2500  # population × equivalent distance
    assert r.visits_after[0] == pytest.approx(inst.propensity[0] * inst.g(np.array([2500]))[0])
    assert r.metrics["population_mean_distance_km"] == 1.0  # travel distance, as reported
    assert r.metrics["population_mean_equivalent_distance_km"] == 2.5
    assert r.metrics["flexible_extra_distance_km"] == 1.5


def test_the_optimiser_keeps_staff_where_more_people_would_lose_access():
    # Two towns 100 km apart, one office each (separate FA-regions); the cut
    # forces one office to become flexible. With δ = 0 both choices give the same
    # distance (the tie-break keeps the cheaper change); with δ = 10 km the office
    # of the bigger town keeps its staff.
    ox, oy = [0, 100000], [0, 0]
    dx, dy = [0, 100000], [0, 0]
    inst = make_instance(ox, oy, dx, dy, [5000, 200], budget=0.6e6, fa=[0, 1])
    plain = optimise(inst, FAST)
    assert plain.status == SolveStatus.OPTIMAL and plain.objective == 0
    valued = optimise(with_extra(inst, 10000), FAST)
    assert valued.status == SolveStatus.OPTIMAL
    assert list(valued.modes[0]) == [KEPT, FLEXIBLE]
    assert valued.objective == 200 * 10000 == evaluate_stage(with_extra(inst, 10000), valued.modes[0], 0).objective


def test_a_large_extra_distance_sends_visitors_past_a_flexible_office():
    # Demand at 0; a flexible office 2 km away and a kept one 12 km away. With δ = 20 km
    # the kept office is nearer in equivalent distance, and its visits count there.
    inst = with_extra(make_instance([2000, 12000], [0, 0], [0], [0], [1000], flex_allowed=np.array([True, False])), 20000)
    r = evaluate_stage(inst, np.array([FLEXIBLE, KEPT]), 0)
    assert r.nearest[0] == 1 and r.visits_after[0] == 0.0 and r.dist_m[0] == 12000


def test_an_office_certainly_over_capacity_as_flexible_gets_no_flexible_entries():
    # Office 0 alone in its town (1 000 inhabitants, 100 km from office 1); office 1
    # shares its town with office 2, 1 km apart. With capacity 100 visits and δ = 5 km,
    # the town of office 0 would use it whatever else is open: it can never be flexible.
    # Office 1's neighbours are within δ, so it may be.
    ox, oy = [0, 100000, 101000], [0, 0, 0]
    inst = with_extra(make_instance(ox, oy, [0, 100000, 101000], [0, 0, 0], [1000, 1000, 1000], cap=100.0), 5000)
    assert inst.flex_viable_mask.tolist() == [False, True, True]
    cand = inst.candidates(3)
    assert not ((cand.office == 0) & (cand.kind == geometry.FLEXIBLE_ONLY)).any()
    assert ((cand.office == 1) & (cand.kind == geometry.FLEXIBLE_ONLY)).any()
    # the presolve removes no plan: as a flexible office, office 0 is over capacity
    r = evaluate_stage(inst, np.array([FLEXIBLE, KEPT, KEPT]), 0)
    assert r.visits_after[0] > inst.flex_capacity_visits
    assert with_extra(inst, 0).flex_viable_mask.tolist() == [True, True, True]


# --------------------------------------------------------------------------- the pseudo-site lists


def test_pseudo_site_lists_are_prefixes_of_the_full_order_with_a_valid_tail_bound():
    rng = np.random.default_rng(11)
    n, m = 7, 30
    inst = make_instance(rng.uniform(0, 5e4, n), rng.uniform(0, 5e4, n), rng.uniform(0, 5e4, m), rng.uniform(0, 5e4, m),
                         rng.integers(1, 100, m), flex_allowed=np.array([True, False, True, True, False, True, True]))
    inst = with_extra(inst, 4000)
    full = inst.candidates(inst.n)
    assert full.kind is not None and (full.next_m == -1).all()
    # every office once, plus a flexible entry for each office that may become flexible
    assert (full.sizes == n + int(inst.flex_possible_mask.sum())).all()
    for k in (1, 2, 4):
        short = inst.candidates(k)
        for j in range(m):
            a, b = short.ptr[j], short.ptr[j + 1]
            fa_, fb = full.ptr[j], full.ptr[j + 1]
            size = b - a
            assert size >= k
            assert (short.office[a:b] == full.office[fa_:fa_ + size]).all()
            assert (short.kind[a:b] == full.kind[fa_:fa_ + size]).all()
            assert (short.dist_m[a:b] == full.dist_m[fa_:fa_ + size]).all()
            # every unlisted pseudo-site is at least the tail distance away
            assert short.next_m[j] <= full.dist_m[fa_ + size:fb].min()
            # a flexible entry never comes before its office's kept entry
            offs = short.office[a:b]
            for o in np.unique(offs):
                kinds = list(short.kind[a:b][offs == o])
                assert kinds in ([geometry.ANY], [geometry.KEPT_ONLY], [geometry.KEPT_ONLY, geometry.FLEXIBLE_ONLY])


def test_with_no_extra_distance_the_lists_and_the_model_are_the_offices():
    rng = np.random.default_rng(2)
    inst = make_instance(rng.uniform(0, 5e4, 5), rng.uniform(0, 5e4, 5), rng.uniform(0, 5e4, 20), rng.uniform(0, 5e4, 20), rng.integers(1, 100, 20))
    assert inst.flexible_extra_m == 0
    cand = inst.candidates(3)
    assert cand.kind is None
    base = inst.office_candidates(3)
    assert (cand.office == base.office).all() and (cand.dist_m == base.dist_m).all()
    modes = np.array([KEPT, FLEXIBLE, CLOSED, FLEXIBLE, KEPT])
    a, b = evaluate_stage(inst, modes, 0), evaluate_stage(with_extra(inst, 0), modes, 0)
    assert a.metrics == b.metrics and a.objective == b.objective
    assert "population_mean_equivalent_distance_km" not in a.metrics
    assert (a.equivalent_dist_m == a.dist_m).all()


# --------------------------------------------------------------------------- against brute force


@st.composite
def instances(draw):
    n = draw(st.integers(2, 5))
    m = draw(st.integers(1, 10))
    coords = st.floats(0, 1e5, allow_nan=False)
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
    growth = draw(st.sampled_from([None, 0.5]))
    max_distance = draw(st.sampled_from([None, 40000]))
    extra = draw(st.sampled_from([1, 3000, 15000, 60000]))
    floor = draw(st.sampled_from([None, (15000, 0.4, "national"), (30000, 0.9, "national"), (40000, 0.7, "fa_region")]))
    inst = make_instance(ox, oy, dx, dy, pop, fa=fa, fixed=fixed, flex=flex, budget=cut, cap=cap, objective=objective, coverage_m=30000,
                         max_growth=growth, max_distance_m=max_distance)
    if floor is not None:  # the access floor counts a flexible office δ farther, as the model's lists do
        km, share, scope = floor
        fa_of_point = np.asarray([fa[int(np.argmin(np.hypot(np.asarray(ox) - x, np.asarray(oy) - y)))] for x, y in zip(dx, dy)], np.int64)
        inst = dataclasses.replace(inst, access_floor_m=km, access_floor_share=share, access_floor_scope=scope, fa_of_point=fa_of_point)
    return with_extra(inst, extra)


def _brute_force_full(inst):
    """brute_force plus the growth and maximum-distance rules (the equivalent
    distance within R), which test_model's feasibility check leaves out, with
    the budget exact (the evaluator's 1 SEK tolerance would admit plans the
    optimiser rightly refuses)."""
    best = None
    for modes in itertools.product((CLOSED, FLEXIBLE, KEPT), repeat=inst.n):
        modes = np.array(modes)
        if not feasible(inst, modes):
            continue
        r = evaluate_stage(inst, modes, 0)
        if r.metrics.get("growth_violations"):
            continue
        if r.cost_after_sek.sum() - r.metrics["flexible_allowance_used_msek"] * 1e6 > inst.budgets_sek[0] + 1e-6:
            continue
        if inst.max_distance_m is not None and np.any((inst.baseline_dist_m <= inst.max_distance_m) & (r.equivalent_dist_m > inst.max_distance_m)):
            continue
        if inst.has_access_floor and not r.metrics["access_floor_met"]:
            continue
        if best is None or r.objective < best - 1e-9:
            best = r.objective
    return best


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_optimum_equals_brute_force_and_evaluation(inst):
    best = _brute_force_full(inst)
    opt = optimise(inst, FAST)
    if best is None:
        assert opt.status == SolveStatus.INFEASIBLE
        return
    modes = opt.modes[0]
    assert feasible(inst, modes), "the optimiser returned a plan that breaks a constraint"
    r = evaluate_stage(inst, modes, 0)
    assert opt.status == "OPTIMAL"
    assert opt.solver_objective == pytest.approx(r.objective, rel=1e-7, abs=1e-6)
    assert r.objective == pytest.approx(best, rel=1e-7, abs=1e-6)



# --------------------------------------------------------------------------- the what-if page's engine


_NODE_EVALUATE = r"""
const fs = require("fs");
globalThis.window = globalThis;
eval(fs.readFileSync(process.argv[2], "utf8"));
const input = JSON.parse(fs.readFileSync(process.argv[3], "utf8"));
const engine = new NetoptWhatifEngine(input.payload);
const out = input.modes.map(m => {
  const r = engine.evaluate(Int8Array.from(m));
  return {metrics: r.metrics, near: Array.from(r.near), dist: Array.from(r.dist), eq: Array.from(r.eq), visits: Array.from(r.visitsAfter)};
});
process.stdout.write(JSON.stringify(out));
"""


@pytest.mark.skipif(__import__("shutil").which("node") is None, reason="needs Node.js to run the page's engine outside a browser")
def test_the_what_if_page_engine_uses_the_equivalent_distance_as_python_does(tmp_path):
    import json
    import subprocess
    from importlib import resources

    import netopt
    from conftest import SCENARIOS
    from netopt.whatif import whatif_payload

    network = netopt.load_network()
    scenario = netopt.load_scenario(SCENARIOS / "cut-2027.toml")
    params = netopt.load_parameters().with_overrides(flexible_extra_distance_km=4.5)
    plan = netopt.evaluate(network, {"stockholm-kista": "flexible", "kiruna": "flexible", "visby": "close", "linkoping-skaggetorp": "flexible"}, scenario, params=params)
    inst = plan.prepared.instance
    assert inst.flexible_extra_m == 4500
    payload = whatif_payload(plan)
    assert payload["flexible_extra_m"] == 4500
    rng = np.random.default_rng(4)
    modes = [plan.stages[-1].modes]
    for _ in range(3):
        m = np.where(inst.existing_mask, KEPT, CLOSED)
        m[rng.choice(inst.n, 25, replace=False)] = FLEXIBLE
        m[rng.choice(inst.n, 5, replace=False)] = CLOSED
        modes.append(m)
    (tmp_path / "in.json").write_text(json.dumps({"payload": payload, "modes": [[int(v) for v in m] for m in modes]}))
    script = tmp_path / "run.js"
    script.write_text(_NODE_EVALUATE)
    engine = resources.files("netopt") / "static" / "netopt-whatif.js"
    out = json.loads(subprocess.run(["node", str(script), str(engine), str(tmp_path / "in.json")], check=True, capture_output=True, text=True).stdout)
    used_flexible = passed_by = 0
    for m, got in zip(modes, out):
        r = evaluate_stage(inst, m, len(inst.budgets_sek) - 1)
        assert got["near"] == r.nearest.tolist()
        assert got["dist"] == r.dist_m.tolist() and got["eq"] == r.equivalent_dist_m.tolist()
        assert got["metrics"]["objective"] == r.objective
        assert got["metrics"]["population_mean_equivalent_distance_km"] == r.metrics["population_mean_equivalent_distance_km"]
        assert got["metrics"]["population_mean_distance_km"] == r.metrics["population_mean_distance_km"]
        assert np.allclose(got["visits"], r.visits_after, rtol=1e-9, atol=1e-9)
        assert got["metrics"]["visits_after"] == pytest.approx(r.metrics["visits_after"], rel=1e-12)
        used_flexible += int(np.sum(m[r.nearest] == FLEXIBLE))
        passed_by += int(np.sum(r.dist_m > inst.nearest_open(m > 0)[1]))  # a flexible office passed for a staffed one farther away
    assert used_flexible > 0 and passed_by > 0


# --------------------------------------------------------------------------- reports


def test_the_report_states_the_extra_distance_and_with_zero_is_unchanged(tmp_path):
    import json

    import netopt
    from conftest import SCENARIOS

    network = netopt.load_network()
    scenario = netopt.load_scenario(SCENARIOS / "cut-2027.toml")
    decisions = {"kiruna": "flexible", "stockholm-kista": "flexible", "visby": "close", "linkoping-city": "close", "linkoping-skaggetorp": "flexible"}
    params = netopt.load_parameters()
    folders, plans = {}, {}
    for name, p in (("default", params), ("zero", params.with_overrides(flexible_extra_distance_km=0.0)), ("five", params.with_overrides(flexible_extra_distance_km=5.0))):
        plans[name] = plan = netopt.evaluate(network, decisions, scenario, params=p)
        folders[name] = netopt.write_outputs(plan, tmp_path / name, with_map=True)
    # the tables' visits moved to receiving offices are at the equivalent distance, as the evaluator's
    from netopt.tables import plan_tables

    plan = plans["five"]
    inst, st = plan.prepared.instance, plan.stages[-1]
    base = plan.prepared.visits.baseline_office
    closed = np.flatnonzero((st.modes == CLOSED) & inst.existing_mask)
    moved = np.isin(base, closed) & (st.nearest != base)
    assert np.any(moved & (st.modes[st.nearest] == FLEXIBLE)), "the case needs visitors moving to a flexible office"
    receiving = plan_tables(plan, -1).receiving
    received = receiving["visits_received"].sum()  # each row to a tenth of a visit, as every visit figure written
    assert received == pytest.approx(float(np.sum((inst.propensity * inst.g(st.dist_m + np.where(st.modes[st.nearest] == FLEXIBLE, 5000, 0)))[moved])), abs=0.05 * len(receiving))
    for f in ("plan.csv", "map.html"):
        assert (folders["zero"] / f).read_bytes() == (folders["default"] / f).read_bytes(), f
    # the what-if panel has a row for the mean with flexible offices counted farther only then
    assert 'data-key="mean_equivalent"' not in (folders["zero"] / "map.html").read_text()
    assert '<tr data-key="mean_equivalent"><th>Mean, flexible offices +5 km</th>' in (folders["five"] / "map.html").read_text()

    def untimed(folder):  # the report's last line says how long the evaluation took
        return [line for line in (folder / "report.md").read_text().splitlines() if not line.startswith("_Solved in")]

    assert untimed(folders["zero"]) == untimed(folders["default"])
    report = (folders["five"] / "report.md").read_text()
    summary = json.loads((folders["five"] / "summary.json").read_text())
    assert summary["flexible_extra_distance_km"] == 5.0
    eq = summary["population_mean_equivalent_distance_km"]
    assert eq > summary["population_mean_distance_km"]  # someone uses a flexible office
    assert "valued 5 km farther than a staffed office (`flexible_extra_distance_km`" in report
    assert f"{eq:.2f} km (travel distance: {summary['population_mean_distance_km']:.2f} km)" in report
    assert "counts as full access" not in report and "counts as full access" in (folders["zero"] / "report.md").read_text()
    # compare shows both plans' mean with flexible offices counted farther, each at its own δ
    from netopt.compare import compare_dirs

    both = (compare_dirs(folders["default"], folders["five"], tmp_path / "cmp") / "compare.md").read_text()
    plain_mean = json.loads((folders["default"] / "summary.json").read_text())["population_mean_distance_km"]
    assert f"| Mean distance with flexible offices counted farther (km; the extra distance in brackets) | {plain_mean:.2f} (+0 km) | {eq:.2f} (+5 km) |" in both
    plain = (compare_dirs(folders["default"], folders["zero"], tmp_path / "cmp0") / "compare.md").read_text()
    assert "counted farther" not in plain
