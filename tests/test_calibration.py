"""The visit and cost models: calibration to the annual report and the planner's overrides."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from netopt import load_network, load_parameters
from netopt.calibration import calibration_report
from netopt.costs import fit_costs
from netopt.data import shipped_paths
from netopt.visits import decay, fit_visits

TABLE_25 = {"Nord": 223422, "Mitt": 528152, "Väst": 531306, "Syd": 511766, "Stockholm-Gotland": 676974, "Öst": 287138}


@pytest.fixture(scope="module")
def network():
    return load_network()


@pytest.fixture(scope="module")
def params():
    return load_parameters()


def test_calibration_reproduces_the_annual_report(network, params):
    rep = calibration_report(network, params)
    assert abs(rep["visits_total"] - 2_758_758) / 2_758_758 < 0.005
    assert set(rep["visits_by_region"]) == set(TABLE_25)
    for region, target in TABLE_25.items():
        assert abs(rep["visits_by_region"][region] - target) / target < 0.02
    assert abs(rep["cost_total_msek"] - 1003.1) / 1003.1 < 0.005
    assert rep["cost_per_visit_sek"] == pytest.approx(364, abs=1)


def test_small_offices_cost_more_per_visit(network, params):
    sizes = calibration_report(network, params)["cost_per_visit_by_office_size"]
    cpv = [d["cost_per_visit_sek"] for d in sizes.values() if d["cost_per_visit_sek"] is not None]
    assert cpv == sorted(cpv, reverse=True) and cpv[0] > 2 * cpv[-1]


def test_visit_rate_falls_with_distance(params):
    g = decay(np.array([0, 10_000, 30_000, 100_000, 10_000_000]), params)
    assert g[0] == pytest.approx(1.0)
    assert np.all(np.diff(g) < 0) and g[-1] == pytest.approx(params.floor)


def test_cost_parameters_follow_from_the_report(params):
    # staff: 907 employees × 0.8509 FTE × 0.7689 MSEK; site: the rest of 1 003.1 MSEK
    assert params.staff_total_msek == pytest.approx(907 * 0.8509 * 0.7689)
    assert params.staff_total_msek + params.site_total_msek == pytest.approx(1003.1)
    assert params.staff_per_visit_sek > 0 and params.site_per_visit_sek > 0


def test_register_visits_and_costs_replace_the_estimates(tmp_path, params, network):
    reg = pd.read_csv(shipped_paths()["offices"], dtype=str, keep_default_na=False)
    reg["visits"] = ""
    reg["cost_msek"] = ""
    reg.loc[reg.office_id == "skelleftea", "visits"] = "23750"  # 95 a day
    reg.loc[reg.office_id == "visby", "cost_msek"] = "9.5"
    p = tmp_path / "offices.csv"
    reg.to_csv(p, index=False)
    net = load_network(p)
    vm = fit_visits(net, params)
    cm = fit_costs(net, vm, params)
    ids = list(net.offices["office_id"])
    sk, vi = ids.index("skelleftea"), ids.index("visby")
    assert vm.baseline_visits[sk] == pytest.approx(23750)
    assert not vm.visits_estimated[sk] and vm.visits_estimated.sum() == len(ids) - 1
    assert cm.fixed_full_sek[vi] + cm.staff_per_visit_sek * vm.baseline_visits[vi] == pytest.approx(9.5e6)
    assert not cm.cost_estimated[vi] and cm.cost_estimated.sum() == len(ids) - 1
    # the other offices keep their estimates
    base = fit_visits(network, params)
    other = [i for i in range(len(ids)) if ids[i] != "skelleftea"]
    assert np.allclose(vm.baseline_visits[other], base.baseline_visits[[list(network.offices.office_id).index(ids[i]) for i in other]])


def test_parameters_file_rejects_unknown_keys_and_bad_ranges(tmp_path):
    from netopt.errors import ScenarioError

    p = tmp_path / "p.toml"
    p.write_text("decay_kms = 30\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="unknown key 'decay_kms'.*did you mean 'decay_km'"):
        load_parameters(p)
    p.write_text("floor = 1.5\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="'floor' = 1.5 is out of range.*0 to 1"):
        load_parameters(p)
    # the spellings of parameters.toml before one vocabulary are named with their new name
    p.write_text("[flexible]\nsite_share = 0.3\n[visits]\ndecay_kms = 30\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_parameters(p)
    assert "'[flexible] site_share' is an old spelling" in str(info.value) and "write flexible_site_share = ..." in str(info.value)
    assert "unknown key '[visits] decay_kms'" in str(info.value)


def test_closing_an_office_moves_its_visitors_and_loses_some(network):
    from netopt import Scenario, evaluate

    plan = evaluate(network, {"skelleftea": "close"}, Scenario(name="t"))
    t = plan.office_table().set_index("office_id")
    row = t.loc["skelleftea"]
    assert row["visits_after"] == 0 and row["receiver_id"] != ""
    moved = t.loc[row["receiver_id"], "visits_after"] - t.loc[row["receiver_id"], "visits_before"]
    assert 0 < moved < row["visits_before"]  # visitors move, but some are lost to distance
    s = plan.summary()
    assert s["visits_lost"] > 0
    assert s["visits_before"] - s["visits_after"] == pytest.approx(s["visits_lost"])
