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
TABLE_25_2023 = {"Nord": 211331, "Mitt": 540887, "Väst": 514888, "Syd": 500589, "Stockholm-Gotland": 601170, "Öst": 277034}


@pytest.fixture(scope="module")
def network():
    return load_network()


@pytest.fixture(scope="module")
def params():
    return load_parameters()


def test_calibration_reproduces_the_annual_report(network, params):
    """As the README says, exactly: the six regions of table 25 and the national
    total to the visit, and the cost to the krona of the reported 1 003,1 MSEK
    (the annual report rounds it to 0.1 MSEK; netopt reproduces that figure)."""
    vm = fit_visits(network, params)
    cm = fit_costs(network, vm, params)
    by_region = pd.Series(vm.baseline_visits).groupby(network.offices["ssc_region"].to_numpy()).sum()
    assert set(by_region.index) == set(TABLE_25)
    for region, target in TABLE_25.items():
        assert abs(by_region[region] - target) < 0.5, region
    assert abs(vm.baseline_visits.sum() - 2_758_758) < 0.5
    assert abs(cm.baseline_cost_sek - 1_003_100_000) < 1.0
    rep = calibration_report(network, params)
    assert rep["cost_total_sek"] == 1_003_100_000
    assert rep["cost_per_visit_sek"] == 363.6  # table 27 rounds it to 364
    assert rep["calibration_basis"]["calibrated_to"] == "reference" and rep["calibration_basis"]["flags"] == []


def test_small_offices_cost_more_per_visit(network, params):
    sizes = calibration_report(network, params)["cost_per_visit_by_office_size"]
    cpv = [d["cost_per_visit_sek"] for d in sizes.values() if d["cost_per_visit_sek"] is not None]
    assert cpv == sorted(cpv, reverse=True) and cpv[0] > 2 * cpv[-1]


def test_visit_rate_falls_with_distance(params):
    g = decay(np.array([0, 10_000, 30_000, 100_000, 10_000_000]), params)
    assert g[0] == pytest.approx(1.0)
    assert np.all(np.diff(g) < 0) and g[-1] == pytest.approx(params.floor)


def test_cost_parameters_follow_from_the_report(params):
    """Recompute every derived cost figure from the annual report's own numbers
    (2024: personnel costs 1 026 516 tkr, note 5; 1 335 FTE and 1 569 employees
    on average, key figures; 907 in citizen service, table 29; 1 003,1 MSEK and
    2 758 758 visits, section 7.3; 148 offices) and the two stated assumptions
    (2 FTE minimum staffing, 1.2 MSEK fixed site cost), independently of netopt."""
    fte_cost_msek = 1_026.516 / 1_335
    fte_per_employee = 1_335 / 1_569
    assert params.cost_per_fte_msek == round(fte_cost_msek, 4) == 0.7689
    assert params.fte_per_employee == round(fte_per_employee, 4) == 0.8509
    staff_msek = 907 * 0.8509 * 0.7689
    staff_per_visit = (staff_msek - 148 * 2 * 0.7689) * 1e6 / 2_758_758
    site_per_visit = (1_003.1 - staff_msek - 148 * 1.2) * 1e6 / 2_758_758
    assert params.staff_per_visit_sek == pytest.approx(staff_per_visit, rel=1e-12)
    assert params.site_per_visit_sek == pytest.approx(site_per_visit, rel=1e-12)
    # the figures docs/calibration.md states
    assert (round(staff_msek, 1), round(staff_per_visit, 1), round(site_per_visit, 1)) == (593.4, 132.6, 84.1)
    assert round(1_003.1e6 / 2_758_758) == 364  # table 27


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


# --------------------------------------------------------------------------- a register figure is never replaced


def _register(tmp_path, rows=None, **figures):
    reg = pd.read_csv(shipped_paths()["offices"], dtype=str, keep_default_na=False)
    if rows is not None:
        reg = reg[reg.office_id.isin(rows)].copy()
    reg["visits"], reg["cost_msek"] = "", ""
    for oid, (v, c) in figures.items():
        reg.loc[reg.office_id == oid.replace("_", "-"), ["visits", "cost_msek"]] = [v, c]
    return reg


def test_an_office_at_the_same_place_as_another_keeps_its_figure_or_is_named(tmp_path, params):
    """Issue 11, fault 4: a twin of Kista with 20 000 visits got 0 visits labelled an estimate."""
    from netopt import DataError

    reg = _register(tmp_path, stockholm_kista=("30000", ""))
    twin = reg[reg.office_id == "stockholm-kista"].assign(office_id="stockholm-kista-2", office_name="Stockholm Kista 2", visits="20000")
    p = tmp_path / "twin.csv"
    pd.concat([reg, twin]).to_csv(p, index=False)
    with pytest.raises(DataError) as e:
        fit_visits(load_network(p), params)
    (problem,) = e.value.problems
    assert problem.file == str(p) and problem.row == len(reg) + 2 and problem.column == "visits"
    assert "stockholm-kista-2" in problem.message and "same place as stockholm-kista" in problem.message
    assert "merge stockholm-kista-2 with stockholm-kista" in problem.fix
    # a twin without a figure is fine: 0 estimated visits, labelled an estimate
    twin["visits"] = ""
    pd.concat([reg, twin]).to_csv(p, index=False)
    net = load_network(p)
    vm = fit_visits(net, params)
    i = list(net.offices.office_id).index("stockholm-kista-2")
    assert vm.baseline_visits[i] == 0 and vm.visits_estimated[i]


def test_validate_finds_the_register_figures_the_visit_model_cannot_keep(tmp_path, netopt_cli):
    """`netopt validate` ("report every problem at once") found a twin office with
    its own visits only at `solve`: it exited 0 with "OK". The visit model's
    checks are data checks, so validate runs them."""
    reg = _register(tmp_path, stockholm_kista=("30000", ""))
    twin = reg[reg.office_id == "stockholm-kista"].assign(office_id="stockholm-kista-2", office_name="Stockholm Kista 2", visits="20000")
    p = tmp_path / "twin.csv"
    pd.concat([reg, twin]).to_csv(p, index=False)
    res = netopt_cli("validate", "--offices", p)
    assert res.code == 2, res.text
    assert f"line {len(reg) + 2}, column 'visits'" in res.err and "same place as stockholm-kista" in res.err
    assert "OK:" not in res.out


def test_a_candidate_site_with_visits_is_named(tmp_path, params):
    from netopt import DataError

    cand = pd.DataFrame([{"office_id": "cand-tarnaby", "office_name": "Tärnaby", "municipality_code": "2421", "lat": "65.71509", "lon": "15.26303", "visits": "500"}])
    p = tmp_path / "cand.csv"
    cand.to_csv(p, index=False)
    with pytest.raises(DataError, match="candidate site cand-tarnaby is closed today") as e:
        fit_visits(load_network(candidates=p), params)
    assert e.value.problems[0].row == 2 and e.value.problems[0].file == str(p)


def test_a_register_far_from_the_reference_is_flagged(tmp_path, params):
    """Issue 11, fault 13: a 3-office register silently got all 2.76 M visits."""
    from netopt.calibration import calibration_basis

    p = tmp_path / "three.csv"
    _register(tmp_path, ["stockholm-kista", "stockholm-odenplan", "stockholm-kungsholmen"]).to_csv(p, index=False)
    net = load_network(p)
    vm = fit_visits(net, params)
    basis = calibration_basis(net, vm, fit_costs(net, vm, params), params)
    assert basis["calibrated_to"] == "reference" and basis["offices"] == 3
    assert "national reference" in basis["statement"]
    assert any("3 of the reference's 148 offices" in f and "49.33 times" in f for f in basis["flags"])
    assert any("no office in the register: Nord, Mitt, Väst, Syd, Öst" in f for f in basis["flags"])


def test_own_figures_that_move_the_baseline_are_said_and_flagged(tmp_path, params):
    """Six offices with their own visits and costs move the baseline: it is said, with the share."""
    from netopt.calibration import calibration_basis

    own = {"stockholm_kista": ("150000", "60"), "linkoping_city": ("70000", "25"), "skelleftea": ("23750", "9"),
           "haninge_brandbergen": ("25000", "10"), "malmo_city": ("60000", "25"), "goteborg_city": ("80000", "30")}
    p = tmp_path / "six.csv"
    _register(tmp_path, **own).to_csv(p, index=False)
    net = load_network(p)
    vm = fit_visits(net, params)
    cm = fit_costs(net, vm, params)
    basis = calibration_basis(net, vm, cm, params)
    assert basis["offices_with_given_visits"] == basis["offices_with_given_cost"] == 6
    assert "6 offices keep their own visits and 6 their own cost" in basis["statement"]
    ids = list(net.offices.office_id)
    for oid, (v, c) in own.items():
        i = ids.index(oid.replace("_", "-"))
        assert vm.baseline_visits[i] == pytest.approx(float(v))
        assert cm.fixed_full_sek[i] + cm.staff_per_visit_sek * vm.baseline_visits[i] == pytest.approx(float(c) * 1e6)
    off = abs(basis["cost_total_msek"] - 1003.1) / 1003.1
    assert (off > 0.05) == any("baseline cost" in f for f in basis["flags"])


def test_calibration_to_the_register_own_totals(tmp_path, params):
    """A regional study: the baseline is the register's own sum, not the nation's."""
    from netopt import DataError
    from netopt.calibration import calibration_basis

    p = tmp_path / "three.csv"
    reg = _register(tmp_path, ["stockholm-kista", "stockholm-odenplan", "stockholm-kungsholmen"],
                    stockholm_kista=("90000", "30"), stockholm_odenplan=("70000", ""), stockholm_kungsholmen=("60000", "20"))
    reg.to_csv(p, index=False)
    own = params.with_overrides(calibrate_to_reference=False)
    net = load_network(p)
    vm = fit_visits(net, own)
    cm = fit_costs(net, vm, own)
    assert vm.baseline_visits.sum() == pytest.approx(220_000)
    assert cm.fixed_scale == 1.0
    i = list(net.offices.office_id).index("stockholm-odenplan")
    odenplan = own.site_fixed_msek * 1e6 + own.min_staff_msek * 1e6 + (own.site_per_visit_sek + own.staff_per_visit_sek) * 70_000
    assert cm.baseline_cost_sek == pytest.approx(30e6 + 20e6 + odenplan)
    assert cm.fixed_full_sek[i] + cm.staff_per_visit_sek * 70_000 == pytest.approx(odenplan)
    basis = calibration_basis(net, vm, cm, own)
    assert basis["calibrated_to"] == "register" and basis["flags"] == []
    assert "register's own totals" in basis["statement"] and "220 000 visits" in basis["statement"]
    # an office without its own visits cannot be calibrated to the register
    reg.loc[reg.office_id == "stockholm-odenplan", "visits"] = ""
    reg.to_csv(p, index=False)
    with pytest.raises(DataError) as e:
        fit_visits(load_network(p), own)
    assert [(pr.row, pr.column) for pr in e.value.problems] == [(3, "visits")]
    assert "stockholm-odenplan" in e.value.problems[0].message


def test_calibration_target_is_a_parameter_and_a_scenario_key(tmp_path):
    from netopt import load_scenario
    from netopt.errors import ScenarioError

    p = tmp_path / "p.toml"
    p.write_text("calibrate_to_reference = false\n", encoding="utf-8")
    assert load_parameters(p).calibrate_to_reference is False
    p.write_text("calibrate_to_reference = 1\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"'calibrate_to_reference' = 1 has the wrong type \(allowed: true or false\)"):
        load_parameters(p)
    # the sectioned spelling of parameters.toml before one vocabulary is refused, naming the new one
    p.write_text("[register]\ncalibrate_to_reference = false\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"'\[register\] calibrate_to_reference' is an old spelling.*write calibrate_to_reference = \.\.\. at the top"):
        load_parameters(p)
    sc = tmp_path / "s.toml"
    sc.write_text('name = "s"\n[[stage]]\nyear = 2027\ncut_msek = 10\n[parameters]\ncalibrate_to_reference = false\n', encoding="utf-8")
    assert load_scenario(sc).parameters == {"calibrate_to_reference": False}


# --------------------------------------------------------------------------- public per-office figures


def _visits_by_brute_force(network, params, is_open, level=None):
    """Visits per office with only ``is_open`` open, recomputed here from the calibrated
    propensities and every demand point × office distance (nearest open office, ties
    to the lower index)."""
    from netopt.geometry import distance_m

    vm = fit_visits(network, params)
    dem, off = network.demand, network.offices
    d = distance_m(dem["x_m"].to_numpy()[:, None], dem["y_m"].to_numpy()[:, None], off["x_m"].to_numpy()[None, :], off["y_m"].to_numpy()[None, :], params.detour_factor)
    d = np.where(np.asarray(is_open)[None, :], d, np.iinfo(np.int64).max)
    near = np.argmin(d, axis=1)
    v = vm.propensity * decay(d[np.arange(len(near)), near], params) * (1.0 if level is None else level)
    return np.bincount(near, weights=v, minlength=len(off))


def test_every_public_figure_is_reported_with_its_fit(network, params):
    """Each figure against the model on the network of its year (the register's offices
    that had opened before it) at that year's visits per SSC region (table 25 gives
    2022–2024), and beside it the model on today's network. Until 2026-11 only today's
    network was compared, which set a 2021 figure for Linköping city (then the town's
    only office) against the 2024 visits of an office that has shared the town with
    Skäggetorp since 2022."""
    rep = calibration_report(network, params)
    figs = {f["office_id"]: f for f in rep["public_figures"]}
    assert set(figs) == {"stockholm-kista", "linkoping-city", "skelleftea", "haninge-brandbergen",
                         "goteborg-city", "malmo-city", "botkyrka-hallunda", "vimmerby", "oskarshamn"}
    off = network.offices
    ids = list(off.office_id)
    opened = pd.to_numeric(off["opened_year"].replace("", np.nan)).to_numpy(float)
    today = fit_visits(network, params).baseline_visits
    v = dict(zip(ids, today))
    # today's network: visits a day at 250 open days, ±25 % around the public range
    for oid, lo, hi in [("linkoping-city", 250, 300), ("skelleftea", 95, 95), ("haninge-brandbergen", 100, 100)]:
        per_day = v[oid] / 250
        assert figs[oid]["model_2024"] == round(per_day, 1)
        assert figs[oid]["within_tolerance_2024"] == (0.75 * lo <= per_day <= 1.25 * hi)
    assert figs["stockholm-kista"]["model_2024"] == 1 + sum(x > v["stockholm-kista"] for x in v.values())
    # Linköping city, about 2021: Skäggetorp (2022) and every office opened in 2021 or later not yet open; 2024 level (no 2021 column)
    then = (opened < 2021) | np.isnan(opened)
    assert not then[ids.index("linkoping-skaggetorp")]
    per_day = _visits_by_brute_force(network, params, then)[ids.index("linkoping-city")] / 250
    f = figs["linkoping-city"]
    assert (f["network_year"], f["visit_level_year"]) == (2021, 2024) and "linkoping-skaggetorp" in f["offices_opened_since"]
    assert f["model"] == round(per_day, 1) and f["within_tolerance"] == (187.5 <= per_day <= 375.0)
    assert f["model"] > 1.3 * f["model_2024"]  # Skäggetorp took a third of the city office's visitors
    # Stockholm Kista, 2023: its neighbours Rinkeby (opened 2023), Järfälla and Sollentuna (2024) not yet open; 2023 level per SSC region
    then = (opened < 2023) | np.isnan(opened)
    ratio = {r: TABLE_25_2023[r] / TABLE_25[r] for r in TABLE_25}
    level = np.array([ratio[r] for r in network.demand["ssc_region"]])
    v23 = np.where(then, _visits_by_brute_force(network, params, then, level), -1.0)
    f = figs["stockholm-kista"]
    assert {"stockholm-rinkeby", "jarfalla", "sollentuna"} <= set(f["offices_opened_since"])
    assert f["model"] == 1 + int((v23 > v23[ids.index("stockholm-kista")]).sum())
    assert f["within_tolerance"] == (f["model"] == 1) and (f["network_year"], f["visit_level_year"]) == (2023, 2023)
    # Skellefteå, 2023: Nord's 2023 level (211 331 visits, 5.4 % below 2024)
    f = figs["skelleftea"]
    assert f["model"] == round(v23[ids.index("skelleftea")] / 250, 1)
    # a figure of 2025: today's network and level
    f = figs["haninge-brandbergen"]
    assert f["network_year"] is None and f["offices_opened_since"] is None and f["model"] == f["model_2024"]
    # a municipality's figure sums the offices of the town open then; the office itself counts even when it opened that year
    f = figs["goteborg-city"]
    assert f["network_year"] == 2008 and "goteborg-city" not in f["offices_opened_since"]
    malmo = figs["malmo-city"]
    then = (opened < 2010) | np.isnan(opened)
    v10 = _visits_by_brute_force(network, params, then)
    in_malmo = then & (off["municipality_code"].to_numpy() == "1280")
    assert malmo["model"] == round(float(v10[in_malmo].sum()) / 250, 1) and malmo["scope"] == "municipality"
    assert figs["botkyrka-hallunda"]["public_high"] is None  # a lower bound
    assert figs["vimmerby"]["model"] is None and figs["vimmerby"]["within_tolerance"] is None
    t = rep["public_figure_targets"]
    assert t["total"] == 4 and t["within_tolerance"] == sum(figs[o]["within_tolerance"] for o in ("stockholm-kista", "linkoping-city", "skelleftea", "haninge-brandbergen"))


def test_the_fit_to_the_public_figures_is_what_docs_calibration_says(network, params):
    """The shipped data, like for like: Kista first and Linköping city within ±25 %;
    Skellefteå just outside (−26.6 %) and Haninge Brandbergen far above (+114 %).
    On today's network only Skellefteå would be within. docs/calibration.md states
    these numbers; a change to the data or the model that moves them must update it."""
    figs = {f["office_id"]: f for f in calibration_report(network, params)["public_figures"]}
    got = {o: (figs[o]["model"], figs[o]["within_tolerance"], figs[o]["model_2024"], figs[o]["within_tolerance_2024"])
           for o in ("stockholm-kista", "linkoping-city", "skelleftea", "haninge-brandbergen")}
    assert got == {
        "stockholm-kista": (1.0, True, 64.0, False),
        "linkoping-city": (204.3, True, 142.5, False),
        "skelleftea": (69.7, False, 73.7, True),
        "haninge-brandbergen": (214.2, False, 214.2, False),
    }


def test_where_the_visitors_of_an_office_with_a_public_figure_went(network, params):
    """An office that meets its public figure only on the network of the figure's year
    names the offices opened since that took its visitors, and what share. Checked by
    an identity independent of the code: new offices only shrink catchments, so the
    office keeps exactly the visits of its old catchment that did not move; its visits
    today at the figure's level = its visits then × (1 − share)."""
    rep = calibration_report(network, params)
    figs = {f["office_id"]: f for f in rep["public_figures"]}
    off = network.offices
    ids = list(off.office_id)
    opened = pd.to_numeric(off["opened_year"].replace("", np.nan)).to_numpy(float)
    ratio = {r: TABLE_25_2023[r] / TABLE_25[r] for r in TABLE_25}
    level = np.array([ratio[r] for r in network.demand["ssc_region"]])
    k = ids.index("stockholm-kista")
    then = (opened < 2023) | np.isnan(opened)
    v_then = _visits_by_brute_force(network, params, then, level)[k]
    v_now = _visits_by_brute_force(network, params, np.ones(len(ids), bool), level)[k]
    f = figs["stockholm-kista"]
    assert set(f["visitors_moved_to"]) == {"stockholm-rinkeby", "jarfalla", "sollentuna"}
    assert abs(f["visitors_moved_share"] - 100.0 * (1 - v_now / v_then)) <= 0.05
    assert f["visitors_moved_share"] > 80  # the model moves nearly all of Kista's visitors of 2023
    # Linköping city, 2021 (2024 level): Skäggetorp took the largest share
    f = figs["linkoping-city"]
    assert f["visitors_moved_to"][0] == "linkoping-skaggetorp"
    k = ids.index("linkoping-city")
    then = (opened < 2021) | np.isnan(opened)
    share = 1 - _visits_by_brute_force(network, params, np.ones(len(ids), bool))[k] / _visits_by_brute_force(network, params, then)[k]
    assert abs(f["visitors_moved_share"] - 100.0 * share) <= 0.05
    # today's network, or a municipality's figure: nothing to say
    assert figs["haninge-brandbergen"]["visitors_moved_to"] is None and figs["goteborg-city"]["visitors_moved_to"] is None


def test_figure_years_and_visit_levels():
    from netopt.calibration import figure_year, load_visits_by_year

    assert [figure_year(t) for t in ("2023", "c. 2021", "2008 (plan)", "", "about 100", "12345")] == [2023, 2021, 2008, None, None, None]
    t = load_visits_by_year()
    by = t.pivot_table(index="ssc_region", columns="year", values="visits")
    assert by[2024].to_dict() == TABLE_25 and by[2023].to_dict() == TABLE_25_2023
    assert by.sum().to_dict() == {2022: 2647187, 2023: 2645899, 2024: 2758758}  # the annual report's totals
    assert TABLE_25 == load_parameters().reference_visits_by_region


def test_a_register_without_opening_years_is_compared_with_today(tmp_path, shipped_offices, params):
    """Without ``opened_year`` every office counts as open in every year: only the visit level follows the figure's year."""
    from conftest import write_csv_rows

    header, rows = shipped_offices
    k = header.index("opened_year")
    reg = write_csv_rows(tmp_path / "offices.csv", [h for i, h in enumerate(header) if i != k], [[c for i, c in enumerate(r) if i != k] for r in rows])
    net = load_network(offices=reg)
    figs = {f["office_id"]: f for f in calibration_report(net, params)["public_figures"]}
    assert all(f["network_year"] is None for f in figs.values())
    assert figs["linkoping-city"]["model"] == figs["linkoping-city"]["model_2024"]
    assert figs["skelleftea"]["visit_level_year"] == 2023
    assert figs["skelleftea"]["model"] == round(figs["skelleftea"]["model_2024"] * TABLE_25_2023["Nord"] / TABLE_25["Nord"], 1)


def test_public_figure_marks_name_only_contradicted_office_figures(network, params):
    from netopt.calibration import public_figure_checks, public_figure_marks

    checks = public_figure_checks(network, fit_visits(network, params))
    marks = public_figure_marks(checks)
    bad = checks[(checks.scope == "office") & (checks.within_tolerance == False)]  # noqa: E712
    assert set(marks) == set(bad.office_id)
    assert "malmo-city" not in marks and "vimmerby" not in marks
    if "haninge-brandbergen" in marks:
        assert marks["haninge-brandbergen"].startswith("public figure: 100 visits a day (2025); estimate ")


def test_bad_public_figures_file_names_line_and_column(tmp_path):
    from netopt import DataError
    from netopt.calibration import load_public_figures

    p = tmp_path / "f.csv"
    p.write_text("office_id,measure,low,high,scope,use,figure\nx,visits,ten,,office,target,f\n", encoding="utf-8")
    with pytest.raises(DataError) as e:
        load_public_figures(p)
    got = {(pr.row, pr.column) for pr in e.value.problems}
    assert got == {(2, "measure"), (2, "low")}


def test_the_terminal_says_what_the_baseline_was_calibrated_to(tmp_path, netopt_cli):
    p = tmp_path / "three.csv"
    _register(tmp_path, ["stockholm-kista", "stockholm-odenplan", "stockholm-kungsholmen"]).to_csv(p, index=False)
    res = netopt_cli("calibrate", "--offices", p)
    assert res.code == 0, res.text
    assert "Baseline calibrated to the national reference" in res.out and "on a register of 3 offices" in res.out
    assert "warning: the register has 3 of the reference's 148 offices" in res.err
    res = netopt_cli("calibrate", "--offices", p, "--calibrate-to", "register")
    assert res.code == 2 and "line 2, column 'visits'" in res.err and "Traceback" not in res.err
    res = netopt_cli("evaluate", "--offices", p, "--close", "stockholm-odenplan", "--out", tmp_path / "o", "--no-map")
    assert res.code == 0, res.text
    assert "Baseline calibrated to the national reference" in res.err and "warning: SSC regions with no office" in res.err


def test_report_and_plan_csv_say_what_the_figures_rest_on(tmp_path, network, params):
    """report.md: the register's coverage of SSC's 148 offices, that visits and costs
    are estimates, what the baseline is calibrated to, what a flexible office keeps;
    plan.csv and report.md mark offices whose estimate contradicts a public figure."""
    import csv

    from netopt import evaluate, write_outputs
    from netopt.calibration import public_figure_checks, public_figure_marks

    plan = evaluate(network, {"vimmerby": "flexible"}, __import__("netopt").Scenario(name="t"))
    out = write_outputs(plan, tmp_path / "o", with_map=False)
    report = (out / "report.md").read_text(encoding="utf-8")
    section = report.split("## What these figures rest on")[1].split("\n## ")[0]
    assert "The register holds 121 of the 148 offices SSC ran at the end of 2024: 101 documented by public sources, 20 inferred" in section
    assert "1 uncertain (Hultsfred)" in section and "The other 27 offices are missing" in section
    assert "estimates unless the register gives them" in section and "calibrated to the national reference" in section
    assert "2 days a week, 46 weeks a year (92 open days), and it takes at most 3 680 visits a year (40 a day)" in section
    marks = public_figure_marks(public_figure_checks(network, plan.prepared.visits))
    with open(out / "plan.csv", encoding="utf-8") as fh:
        rows = {r["office_id"]: r for r in csv.DictReader(fh)}
    assert {o for o, r in rows.items() if r["public_figure_conflict"]} == set(marks)
    for oid, text in marks.items():
        assert rows[oid]["public_figure_conflict"] == text
        assert rows[oid]["office_name"].replace("(", "\\(") in section


def test_a_mark_says_the_year_its_estimate_is_for_in_either_language(network):
    """plan.csv's mark and the Swedish memo name the year of a like-for-like estimate
    (Skellefteå: 69.7 a day in 2023), and none for an estimate on today's network.
    Visits a day to a tenth, as calibrate gives them: rounding the tenth again to
    a whole number printed Linköping city's 142.5048 as 142 (issue found in 2026-11)."""
    import netopt
    from netopt.i18n import texts
    from netopt.memo import conflict_texts
    from netopt.tables import plan_tables

    tables = plan_tables(netopt.evaluate(network, {}, netopt.Scenario(name="t")))
    en, sv = conflict_texts(tables, texts("en")), conflict_texts(tables, texts("sv"))
    assert en["skelleftea"] == "public figure: 95 visits a day (2023); estimate 69.7 a day in 2023"
    assert sv["skelleftea"] == "offentlig uppgift: 95 besök om dagen (2023); skattningen 69,7 om dagen år 2023"
    assert en["haninge-brandbergen"] == "public figure: 100 visits a day (2025); estimate 214.2 a day"
    assert "stockholm-kista" not in en and "linkoping-city" not in en


def test_the_report_says_which_estimates_agree_with_a_figure_only_in_its_year(tmp_path, network, params):
    """Kista meets its 2023 figure on the 2023 network, but the plan decides on today's
    estimate, after the model moved most of its visitors to the offices opened since:
    report.md, the map (popup and panel notes) and plan.xlsx say so, with both ranks,
    where the visitors went and what counting Rinkeby (opened during 2023) changes, in
    either language, from the same checks as calibrate. Linköping city's texts give the
    deviation and the ±25 % tolerance. An office whose visits the register gives is not
    an estimate and gets no such text."""
    import html

    import netopt
    from netopt.calibration import public_figure_checks
    from netopt.i18n import texts
    from netopt.maps import plan_offices
    from netopt.maps.panels import office_popup
    from netopt.memo import caveat, caveat_texts
    from netopt.tables import plan_tables

    plan = netopt.evaluate(network, {"stockholm-kista": "close"}, netopt.Scenario(name="t"))
    checks = public_figure_checks(network, plan.prepared.visits).set_index("office_id")
    kista, lkpg = checks.loc["stockholm-kista"], checks.loc["linkoping-city"]
    tables = plan_tables(plan)
    en, sv = caveat_texts(tables, texts("en")), caveat_texts(tables, texts("sv"))
    assert set(en) == {"stockholm-kista", "linkoping-city"}  # met then, not today, offices opened nearby
    assert en["stockholm-kista"] == (
        f"public figure: the most visited office (2023); estimate rank 1 among the offices opened before 2023, rank {kista['model_2024']:.0f} today; "
        f"the model sends {kista['visitors_moved_share']:.0f} % of its visitors of 2023 to Sollentuna (opened 2024), Järfälla (opened 2024), "
        "Stockholm Rinkeby (opened 2023); counting Stockholm Rinkeby, opened in 2023 itself, as open: rank 2, and the figure is not met")
    assert en["linkoping-city"].startswith(
        f"public figure: 250–300 visits a day (c. 2021); estimate {lkpg['model']:.1f} a day counting only the offices opened before 2021 "
        f"(\N{MINUS SIGN}{abs(lkpg['deviation_pct']):.1f} %, within the ±25 % netopt accepts), {lkpg['model_2024']:.1f} today;")
    assert sv["stockholm-kista"].startswith("offentlig uppgift: det mest besökta kontoret (2023); skattningen ger plats 1 bland kontoren som öppnat före 2023, plats ")
    # Rinkeby counted open in 2023: Kista second, recomputed here independently
    off = network.offices
    ids = list(off.office_id)
    opened = pd.to_numeric(off["opened_year"].replace("", np.nan)).to_numpy(float)
    ratio = {r: TABLE_25_2023[r] / TABLE_25[r] for r in TABLE_25}
    level = np.array([ratio[r] for r in network.demand["ssc_region"]])
    with_rinkeby = (opened <= 2023) | np.isnan(opened)
    v = np.where(with_rinkeby, _visits_by_brute_force(network, params, with_rinkeby, level), -1.0)
    assert kista["model_with_opened_in_year"] == 1 + int((v > v[ids.index("stockholm-kista")]).sum()) == 2
    assert kista["opened_in_year"] == ["stockholm-rinkeby"] and lkpg["model_with_opened_in_year"] is None
    # report.md
    out = netopt.write_outputs(plan, tmp_path / "o", with_map=False)
    section = (out / "report.md").read_text(encoding="utf-8").split("## What these figures rest on")[1].split("\n## ")[0]
    assert "only on the network of its year" in section
    assert "Stockholm Kista (close; public figure: the most visited office \\(2023\\)" in section and f"rank {kista['model_2024']:.0f} today" in section
    # the map's popup of the office, and the short notes of the map's panel, report.html and plan.xlsx
    offs = plan_offices(tables, texts("en"))
    row = offs[offs["office_id"] == "stockholm-kista"].iloc[0]
    assert row["public_figure_caveat"] == en["stockholm-kista"]
    popup = html.unescape(str(office_popup(row, texts("en"))))
    assert "only on the network of the figure's year: " + en["stockholm-kista"] in popup
    notes = caveat(tables, texts("en"))
    assert f"Stockholm Kista (rank 1 among the offices opened before 2023 (2 counting Stockholm Rinkeby), {kista['model_2024']:.0f} today)" in notes[-1]
    assert f"Linköping city ({lkpg['model']:.1f} a day counting only the offices opened before 2021, {lkpg['model_2024']:.1f} today)" in notes[-1]
    assert "estimates calibrated to the 2024 annual report, not SSC's own figures" in notes[1]


def test_an_office_with_its_own_visits_is_no_estimate_in_any_output(tmp_path, network):
    """The register gives Kista's visits: no public-figure text calls them an estimate
    (report, map popup, notes), its popup marks only the cost as an estimate, the notes
    count the offices with their own figures, and the cost line names the baseline the
    register's figures give beside the annual report's."""
    import html

    import netopt
    from netopt.i18n import texts
    from netopt.maps import plan_offices
    from netopt.maps.panels import office_popup
    from netopt.memo import caveat, caveat_texts, conflict_texts
    from netopt.tables import plan_tables

    reg = pd.read_csv(shipped_paths()["offices"], dtype=str, keep_default_na=False)
    reg.loc[reg["office_id"] == "stockholm-kista", "visits"] = "117000"
    reg.loc[reg["office_id"] == "skelleftea", "visits"] = "23750"  # 95 a day: its public figure
    path = tmp_path / "offices.csv"
    reg.to_csv(path, index=False)
    net = load_network(path)
    tables = plan_tables(netopt.evaluate(net, {}, netopt.Scenario(name="t")))
    en = caveat_texts(tables, texts("en"))
    assert "stockholm-kista" not in en and "linkoping-city" in en
    assert "skelleftea" not in conflict_texts(tables, texts("en")) and "haninge-brandbergen" in conflict_texts(tables, texts("en"))
    offs = plan_offices(tables, texts("en"))
    popup = html.unescape(str(office_popup(offs[offs["office_id"] == "stockholm-kista"].iloc[0], texts("en"))))
    visits_row = popup.split("Visits per year")[1].split("</tr>")[0]
    cost_row = popup.split("Annual cost")[1].split("</tr>")[0]
    assert "117\N{NO-BREAK SPACE}000" in visits_row and "(estimate)" not in visits_row and "(estimate)" in cost_row
    notes = caveat(tables, texts("en"))
    assert "Visits of 119 and costs of 121 of the 121 offices are estimates" in notes[1]
    out = netopt.write_outputs(netopt.evaluate(net, {}, netopt.Scenario(name="t")), tmp_path / "o", with_map=False)
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "against the 2024 baseline of" in report and "the annual report: 1003.1 MSEK" in report


def test_the_2027_plan_keeps_kista_with_its_2023_estimate_as_its_figure(tmp_path):
    """docs/calibration.md: the plan's decision on Kista turns on where its visitors
    went after 2023. Given the model's 2023 estimate (468 a day = 117 000 a year) as
    Kista's own figure, the 2027 plan keeps Kista and closes Sollentuna and Rinkeby;
    on today's estimate it closes Kista. The numbers the docs state are these."""
    import netopt

    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    reg = pd.read_csv(shipped_paths()["offices"], dtype=str, keep_default_na=False)
    reg.loc[reg["office_id"] == "stockholm-kista", "visits"] = "117000"
    path = tmp_path / "offices.csv"
    reg.to_csv(path, index=False)
    scenario = netopt.load_scenario("cut-2027")
    plan = netopt.solve(load_network(path), scenario)
    s = plan.summary()
    d = dict(zip(plan.office_table()["office_id"], plan.office_table()["decision"]))
    assert s["status"] == "OPTIMAL"
    assert (s["offices_kept"], s["offices_flexible"], s["offices_closed"]) == (90, 14, 17)
    from netopt.tables import plan_tables

    assert "; 1 office keeps its own visits and 0 their own cost: 2 861 013 visits, 1 025.3 MSEK." in plan_tables(plan).basis["calibration"]["statement"]
    docs = (root / "docs" / "calibration.md").read_text(encoding="utf-8")
    assert f"{s['savings_msek']:.1f} + {s['flexible_allowance_used_msek']:.1f} MSEK" in docs
    assert f"{s['population_mean_distance_km_before']:.2f} → {s['population_mean_distance_km']:.2f} km" in docs.replace("\n", " ")
    today = dict(zip(*[netopt.solve(load_network(), scenario).office_table()[c] for c in ("office_id", "decision")]))
    changed = {o: (today[o], d[o]) for o in d if d[o] != today[o]}
    assert changed == {  # the docs' list, every office whose decision differs
        "stockholm-kista": ("close", "keep"), "stockholm-odenplan": ("close", "keep"), "goteborg-gamlestaden": ("close", "keep"),
        "malmo-varnhem": ("close", "keep"), "borgholm": ("close", "keep"),
        "sollentuna": ("keep", "close"), "sundbyberg": ("keep", "close"), "kungalv": ("keep", "close"), "malmo-mobilia": ("keep", "close"),
    }
    para = " ".join(docs.split("The 2027 plan's decision on Kista")[1].split("\n\n")[0].split())
    for o in changed:
        name = plan.office_table().set_index("office_id").at[o, "office_name"]
        assert (name if o != "stockholm-kista" else "Kista") in para, name
