"""Extra candidate sites (e.g. municipal service points for co-location) loaded from a file."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netopt import DataError, Scenario, Stage, evaluate, load_network, solve

from test_model import instances

CANDIDATES = [
    # Tärnaby, in Storuman's FA-region (51), about 120 km from Storuman
    {"office_id": "cand-tarnaby", "office_name": "Tärnaby service point", "municipality_code": "2421", "lat": "65.71580", "lon": "15.26360"},
    # Vilhelmina town centre is taken by an office already; a second point in Dorotea
    {"office_id": "cand-dorotea", "office_name": "Dorotea service point", "municipality_code": "2425", "lat": "64.26236", "lon": "16.40593"},
]


@pytest.fixture(scope="module")
def network(tmp_path_factory):
    p = tmp_path_factory.mktemp("cand") / "candidates.csv"
    pd.DataFrame(CANDIDATES).to_csv(p, index=False)
    return load_network(candidates=p)


def test_candidates_are_loaded_but_closed_today(network):
    s = network.summary()
    assert s["offices"] == 121 and s["candidate_sites"] == 2
    off = network.offices.set_index("office_id")
    assert not off.loc["cand-tarnaby", "existing"] and off.loc["storuman", "existing"]


def test_candidates_do_not_change_the_baseline(network):
    plain = evaluate(load_network(), {}, Scenario(name="t"))
    with_cand = evaluate(network, {}, Scenario(name="t"))
    a, b = plain.summary(), with_cand.summary()
    for key in ("baseline_cost_msek", "visits_before", "population_mean_distance_km_before", "offices_closed", "fa_regions_served_before"):
        assert a[key] == pytest.approx(b[key])
    assert b["candidate_sites_opened"] == 0


def test_a_candidate_keeps_an_fa_region_served_when_its_office_is_locked_closed(network):
    sc = Scenario(name="t").with_(lock_closed=("storuman",), time_limit_s=120)
    plan = solve(network, sc)
    t = plan.office_table().set_index("office_id")
    assert t.loc["storuman", "decision"] == "close"
    assert t.loc["cand-tarnaby", "decision"] in ("keep", "flexible")
    s = plan.summary()
    assert s["fa_regions_served"] == 60 and s["candidate_sites_opened"] >= 1
    assert s["objective"] == s["solver_objective"]


def test_candidate_ids_must_not_clash_with_the_register(tmp_path):
    p = tmp_path / "c.csv"
    pd.DataFrame([{**CANDIDATES[0], "office_id": "storuman"}]).to_csv(p, index=False)
    with pytest.raises(DataError, match="candidate site has the ID of an office"):
        load_network(candidates=p)


# --------------------------------------------------------------------------- issue 11, fault 1: candidates are always optional


def _register_without(tmp_path, shipped_offices, drop=(), keep_only=None):
    from conftest import write_csv_rows

    header, rows = shipped_offices
    rows = [r for r in rows if r[0] not in drop and (keep_only is None or r[0] in keep_only)]
    return write_csv_rows(tmp_path / "offices.csv", header, rows)


def _candidates(tmp_path, rows):
    p = tmp_path / "candidates.csv"
    pd.DataFrame(rows).to_csv(p, index=False)
    return p


def test_a_locked_candidate_in_a_region_without_an_office_changes_nothing(tmp_path, shipped_offices):
    """Shipped register without Kiruna (FA 60 has no office) + a Kiruna candidate locked closed:
    the same plan as without the candidate, 59 of 60 FA-regions served (what the register allows)."""
    offices = _register_without(tmp_path, shipped_offices, drop={"kiruna"})
    cand = _candidates(tmp_path, [{"office_id": "cand-kiruna", "office_name": "Kiruna kandidat", "municipality_code": "2584", "lat": "67.85572", "lon": "20.22513"}])
    sc = Scenario(name="t").with_(lock_closed=("cand-kiruna",))
    without = solve(load_network(offices), Scenario(name="t"))
    plan = solve(load_network(offices, candidates=cand), sc)
    assert plan.status == "OPTIMAL"
    assert plan.objective == without.objective
    a = without.office_table().set_index("office_id")["decision"]
    b = plan.office_table().set_index("office_id")["decision"]
    assert b["cand-kiruna"] == "not opened"
    assert b.drop("cand-kiruna").to_dict() == a.to_dict()
    assert plan.summary()["fa_regions_served"] == 59 and plan.summary()["fa_regions_total"] == 60


def test_a_candidate_in_a_region_without_an_office_is_not_forced_open(tmp_path, shipped_offices, fast_demand):
    """A 12-office Stockholm-county network (people only in the county) and a candidate in
    Nyköping's FA-region, which has no office: the candidate would serve nobody, so the
    optimum leaves it unopened and is exactly the optimum without it."""
    from conftest import DATA, read_csv_rows, write_csv_rows

    county = [r[0] for r in shipped_offices[1] if r[2].startswith("01")][:12]
    offices = _register_without(tmp_path, shipped_offices, keep_only=set(county))
    header, rows = read_csv_rows(DATA / "regions" / "population.csv")
    code = header.index("kommun_kod") if "kommun_kod" in header else header.index("municipality_code")
    k = header.index("population")
    pop = write_csv_rows(tmp_path / "population.csv", header, [r if r[code].zfill(4).startswith("01") else [*r[:k], "0", *r[k + 1:]] for r in rows])
    h, drows = read_csv_rows(fast_demand)
    demand = write_csv_rows(tmp_path / "demand.csv", h, [r for r in drows if r[1].startswith("01")])
    cand = _candidates(tmp_path, [{"office_id": "cand-nykoping", "office_name": "Nyköping kandidat", "municipality_code": "0480", "lat": "58.75301", "lon": "17.00788"}])
    sc = Scenario(name="t", stages=(Stage(year=2027, cut_msek=20.0, flexible_allowance_msek=0.0),))
    without = solve(load_network(offices, population=pop, demand=demand), sc)
    plan = solve(load_network(offices, population=pop, demand=demand, candidates=cand), sc)
    assert without.status == plan.status == "OPTIMAL"
    t = plan.office_table().set_index("office_id")
    assert t.loc["cand-nykoping", "decision"] == "not opened"
    assert plan.objective == without.objective
    assert t.drop("cand-nykoping")["decision"].to_dict() == without.office_table().set_index("office_id")["decision"].to_dict()


@st.composite
def instances_with_a_candidate(draw):
    inst = draw(instances())
    n = inst.n
    x, y = draw(st.floats(0, 2e5)), draw(st.floats(0, 2e5))
    fa = draw(st.integers(0, inst.n_fa))  # an existing region, or a new one with no office today
    fixed = draw(st.floats(1e5, 3e6))
    cand = inst.with_(
        office_ids=inst.office_ids + ("cand",), ox=np.append(inst.ox, x), oy=np.append(inst.oy, y),
        fixed_full_sek=np.append(inst.fixed_full_sek, fixed), fixed_flex_sek=np.append(inst.fixed_flex_sek, fixed * draw(st.floats(0.1, 0.9))),
        baseline_visits=np.append(inst.baseline_visits, 0.0), fa_of_office=np.append(inst.fa_of_office, fa), n_fa=max(inst.n_fa, fa + 1),
        muni_of_office=np.append(inst.muni_of_office, draw(st.integers(0, n))), existing=np.append(np.ones(n, bool), False),
        keep_municipalities=draw(st.booleans()),
        max_growth=draw(st.sampled_from([None, 0.5, 2.0])), max_distance_m=draw(st.sampled_from([None, 60000, 150000])),
        lock_closed=np.append(np.zeros(n, bool), draw(st.booleans())),
    )
    base = cand.with_(office_ids=inst.office_ids, ox=inst.ox, oy=inst.oy, fixed_full_sek=inst.fixed_full_sek, fixed_flex_sek=inst.fixed_flex_sek,
                      baseline_visits=inst.baseline_visits, fa_of_office=inst.fa_of_office, n_fa=cand.n_fa, muni_of_office=cand.muni_of_office[:n],
                      existing=None, lock_closed=None)
    return base, cand


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances_with_a_candidate())
def test_an_extra_option_never_worsens_the_optimum(pair):
    from netopt.solver import SolverSettings, SolveStatus, optimise

    base, cand = pair
    fast = SolverSettings(time_limit_s=60, tie_break=False)
    a = optimise(base, fast)
    b = optimise(cand, fast)
    if a.status == SolveStatus.INFEASIBLE:
        return
    # proven, or proven up to the solver's numerical tolerance (WITHIN_GAP, gap <= 1e-6)
    for r in (a, b):
        assert r.status == SolveStatus.OPTIMAL or (r.status == SolveStatus.WITHIN_GAP and r.gap <= 1e-6), "a candidate site made a feasible scenario infeasible"
    assert b.objective <= a.objective + 1e-6 * max(1.0, abs(a.objective))
