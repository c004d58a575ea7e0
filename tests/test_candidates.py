"""Extra candidate sites (e.g. municipal service points for co-location) loaded from a file."""

from __future__ import annotations

import pandas as pd
import pytest

from netopt import DataError, Scenario, evaluate, load_network, solve

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
    assert s["offices"] == 115 and s["candidate_sites"] == 2
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
