"""The uncertain estimates (issue 17): the shipped file, its derivations, its
validation, the draws and the visit model's per-office factor."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

import netopt
from netopt.errors import ScenarioError
from netopt.params import PARAMETER_RANGES
from netopt.uncertainty import (
    OFFICE_VISITS, Distribution, check_values_in_force, draw, load_uncertainty, quantile, uncertainty_from_dict,
)
from netopt.visits import fit_visits
from conftest import DATA, ROOT, write_csv_rows

SHIPPED = DATA / "model" / "uncertainty.toml"


# --------------------------------------------------------------------------- the shipped file


def test_shipped_file_loads_and_fits_the_shipped_parameters():
    unc = load_uncertainty()
    assert unc.source == str(SHIPPED) and len(unc.sha256) == 64 and unc.raw == SHIPPED.read_bytes()
    assert unc.office_visits is not None and unc.office_visits.kind == "lognormal"
    check_values_in_force(unc, netopt.load_parameters())  # every value in force inside its range
    for d in (*unc.parameters, unc.office_visits):
        assert d.basis in ("source", "judgement") and len(d.why) > 80, d.name


def test_every_number_parameter_is_sampled_or_its_reason_given():
    """What the cost/visit model rests on is either sampled or named in the file's
    list of what is not sampled, with the reason (the facts, the choices)."""
    unc = load_uncertainty()
    text = SHIPPED.read_text(encoding="utf-8")
    header = text.split("[decay_km]")[0]
    sampled = set(unc.names)
    for name, (kind, _lo, _hi) in PARAMETER_RANGES.items():
        if name in sampled:
            continue
        if kind == "bool":
            assert "booleans" in header
            continue
        assert name in header, f"{name} is neither sampled nor said to be left out, and why"


def test_office_visits_sigma_is_the_fit_to_the_public_figures():
    """sigma of office_visits is the root mean square of ln(model / public figure)
    over the four dated visit figures its why names, rounded to 0.1; the why
    quotes it to two decimals. If the visit model changes, this says to derive it again."""
    from netopt.calibration import public_figure_checks

    net = netopt.load_network()
    vm = fit_visits(net, netopt.load_parameters())
    checks = public_figure_checks(net, vm).set_index("office_id")
    logs = []
    for oid in ("skelleftea", "linkoping-city", "haninge-brandbergen", "malmo-city"):
        row = checks.loc[oid]
        public = (float(row["public_low"]) + float(row["public_high"])) / 2
        logs.append(math.log(float(row["model"]) / public))
    rms = math.sqrt(sum(x * x for x in logs) / len(logs))
    d = load_uncertainty().office_visits
    assert d.sigma == round(rms, 1)
    assert f"{rms:.2f}" in d.why


def test_pyproject_ships_the_file_in_the_wheel():
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"netopt._data" = [' in text and "model/*.toml" in text


# --------------------------------------------------------------------------- validation


def test_every_problem_of_a_bad_file_is_reported_at_once(tmp_path):
    bad = tmp_path / "mine.toml"
    bad.write_text(
        """
[decay_kms]
distribution = "uniform"
low = 1.0
high = 2.0
basis = "judgement"
why = "x"

[citizen_service_employees]
distribution = "uniform"

[floor]
distribution = "gaussian"
low = 0.3
high = 0.1
basis = "guess"
why = ""
colour = "red"

[detour_factor]
distribution = "triangular"
low = 1.1
high = 9.0
mode = 0.5
sigma = 0.2
why = "x"

[office_visits]
distribution = "lognormal"
low = 0.0
high = 3.0
basis = "source"
why = "x"
""",
        encoding="utf-8",
    )
    with pytest.raises(ScenarioError) as err:
        load_uncertainty(bad)
    text = str(err.value)
    expected = [
        "unknown table '[decay_kms]'", "did you mean '[decay_km]'",
        "citizen_service_employees", "of kind 'whole', which cannot be sampled",
        "'floor.distribution'", "'gaussian'",
        "'floor.low'", "is not below high",
        "'floor.basis'", "'floor.why'", "unknown key 'colour'",
        "'detour_factor.high'", "outside what detour_factor may be (1 to 3)",
        "'detour_factor.sigma'", "only for a lognormal",
        "'detour_factor.basis'", "is missing",
        "'office_visits.sigma'", "'office_visits.low'",
    ]
    for part in expected:
        assert part in text, part
    assert text.count(str(bad)) >= 10  # each problem names the file


def test_mode_outside_the_range_and_a_value_in_force_outside_it(tmp_path):
    with pytest.raises(ScenarioError, match=r"decay_km.mode.*outside low – high \(20 – 80\)"):
        uncertainty_from_dict({"decay_km": {"distribution": "triangular", "low": 20.0, "high": 80.0, "mode": 90.0, "basis": "judgement", "why": "x"}}, "f.toml")
    unc = uncertainty_from_dict({"decay_km": {"distribution": "uniform", "low": 20.0, "high": 80.0, "basis": "judgement", "why": "x"}}, "f.toml")
    params = netopt.load_parameters().with_overrides(decay_km=100.0)
    with pytest.raises(ScenarioError, match=r"f.toml: 'decay_km' = 100 is the value in force \(from .*\) and lies outside the range sampled \(20 – 80\).*Fix: widen"):
        check_values_in_force(unc, params)
    with pytest.raises(ScenarioError, match="names no uncertain estimate"):
        uncertainty_from_dict({}, "empty.toml")


def test_a_file_that_is_not_toml_points_to_the_robustness_docs(tmp_path):
    from netopt.uncertainty import load_uncertainty as load

    bad = tmp_path / "u.toml"
    bad.write_text("[decay_km\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"not valid TOML .*Fix: see docs/robustness.md"):
        load(bad)


def test_a_bad_uncertainty_file_fails_before_any_work(netopt_cli, tmp_path, shipped_scenario, monkeypatch):
    import netopt.robustness

    monkeypatch.setattr(netopt.robustness, "robustness", lambda *a, **k: pytest.fail("ran"))
    bad = tmp_path / "u.toml"
    bad.write_text('[floor]\ndistribution = "uniform"\nlow = 0.1\n', encoding="utf-8")
    res = netopt_cli("robustness", shipped_scenario, "--uncertainty", bad, "--out", tmp_path / "out")
    assert res.code == 2, res.text
    assert "floor.high" in res.err and "floor.why" in res.err and "Traceback" not in res.text
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- drawing


def _dist(kind, low, high, **kw):
    return Distribution(name="x", kind=kind, low=low, high=high, basis="judgement", why="w", **kw)


@pytest.mark.parametrize("d, centre, u, want", [
    (_dist("uniform", 2.0, 4.0), 3.0, 0.25, 2.5),
    (_dist("loguniform", 1.0, 100.0), 10.0, 0.5, 10.0),
    (_dist("triangular", 0.0, 4.0), 1.0, 0.25, 1.0),  # the mode splits the area 1:3
    (_dist("triangular", 0.0, 4.0), 1.0, 1.0, 4.0),
    (_dist("lognormal", 0.5, 2.0, sigma=0.5), 1.0, 0.5, 1.0),  # symmetric truncation: the median
    (_dist("lognormal", 0.25, 4.0, sigma=0.5), 1.0, 0.0, 0.25),
])
def test_quantiles(d, centre, u, want):
    assert quantile(d, centre, u) == pytest.approx(want, rel=1e-12, abs=1e-12)


def test_lognormal_matches_its_truncated_distribution():
    """The share of draws below the median is a half, and none leave the range."""
    d = _dist("lognormal", 1 / 3, 3.0, sigma=0.5)
    u = (np.arange(20000) + 0.5) / 20000
    x = np.array([quantile(d, 1.0, v) for v in u])
    assert x.min() >= 1 / 3 and x.max() <= 3.0
    assert np.mean(x < 1.0) == pytest.approx(0.5, abs=1e-3)
    # the standard deviation of a normal truncated at ±b standard deviations
    b = math.log(3.0) / 0.5
    phi = math.exp(-b * b / 2) / math.sqrt(2 * math.pi)
    truncated = 0.5 * math.sqrt(1 - 2 * b * phi / math.erf(b / math.sqrt(2)))
    assert np.std(np.log(x)) == pytest.approx(truncated, rel=1e-3)


def test_draws_are_reproducible_in_range_and_independent_of_the_other_entries():
    unc = load_uncertainty()
    params = netopt.load_parameters()
    ids = ["a", "b", "c"]
    one = draw(unc, params, 7, 3, ids)
    again = draw(unc, params, 7, 3, ids)
    assert one.values == again.values and np.array_equal(one.visit_factor, again.visit_factor)
    assert draw(unc, params, 7, 4, ids).values != one.values and draw(unc, params, 8, 3, ids).values != one.values
    for d in unc.parameters:
        assert d.low <= one.values[d.name] <= d.high
    # dropping a table or an office leaves every other draw as it was
    fewer = uncertainty_from_dict({k: v for k, v in __import__("tomllib").loads(SHIPPED.read_text(encoding="utf-8")).items() if k != "floor"})
    other = draw(fewer, params, 7, 3, ids[1:])
    assert {k: v for k, v in one.values.items() if k != "floor"} == other.values
    assert np.array_equal(one.visit_factor[1:], other.visit_factor)
    # offices whose visits are data are not varied
    fixed = draw(unc, params, 7, 3, ids, estimated=np.array([True, False, True]))
    assert fixed.visit_factor[1] == 1.0 and fixed.visit_factor[0] == one.visit_factor[0]


def test_triangular_mode_is_the_value_in_force():
    unc = uncertainty_from_dict({"decay_km": {"distribution": "triangular", "low": 20.0, "high": 80.0, "basis": "judgement", "why": "x"}})
    a = [draw(unc, netopt.load_parameters(), 1, k, []).values["decay_km"] for k in range(4000)]
    b = [draw(unc, netopt.load_parameters().with_overrides(decay_km=70.0), 1, k, []).values["decay_km"] for k in range(4000)]
    # mean of a triangular distribution: (low + mode + high) / 3
    assert np.mean(a) == pytest.approx((20 + 40 + 80) / 3, rel=0.02)
    assert np.mean(b) == pytest.approx((20 + 70 + 80) / 3, rel=0.02)


# --------------------------------------------------------------------------- the visit model's factor


def test_visit_factor_shifts_visits_within_each_region_and_keeps_table_25(shipped_network):
    params = netopt.load_parameters()
    base = fit_visits(shipped_network, params)
    ones = fit_visits(shipped_network, params, np.ones(len(shipped_network.offices)))
    assert np.array_equal(ones.propensity, base.propensity)
    factor = np.exp(np.random.default_rng(5).normal(0.0, 0.5, len(shipped_network.offices)))
    moved = fit_visits(shipped_network, params, factor)
    regions = shipped_network.offices["ssc_region"].to_numpy()
    for region, target in params.reference_visits_by_region.items():
        assert moved.baseline_visits[regions == region].sum() == pytest.approx(target, rel=1e-12)
    ratio = np.log(moved.baseline_visits / base.baseline_visits)
    assert np.corrcoef(ratio, np.log(factor))[0, 1] > 0.9


def test_visit_factor_keeps_a_register_figure_and_refuses_bad_factors(tmp_path, shipped_offices):
    header, rows = shipped_offices
    register = write_csv_rows(tmp_path / "offices.csv", header + ["visits"], [r + (["12345"] if r[0] == "umea" else [""]) for r in rows])
    net = netopt.load_network(register)
    params = netopt.load_parameters()
    factor = np.full(len(net.offices), 2.0)
    factor[::2] = 0.5
    vm = fit_visits(net, params, factor)
    assert vm.baseline_visits[net.offices["office_id"].tolist().index("umea")] == pytest.approx(12345.0)
    with pytest.raises(ValueError, match="one positive number per office"):
        fit_visits(net, params, np.zeros(len(net.offices)))
    with pytest.raises(ValueError, match="one positive number per office"):
        fit_visits(net, params, np.ones(3))


def test_prepare_passes_the_factor_on(shipped_network):
    sc = netopt.load_scenario(ROOT / "scenarios" / "cut-2027.toml")
    factor = np.full(len(shipped_network.offices), 1.0)
    factor[0] = 3.0
    a = netopt.prepare(shipped_network, sc)
    b = netopt.prepare(shipped_network, sc, visit_factor=factor)
    assert b.instance.baseline_visits[0] > 2.5 * a.instance.baseline_visits[0]
    assert b.costs.baseline_cost_sek == pytest.approx(a.costs.baseline_cost_sek, rel=1e-12)  # still the 1 003.1 MSEK

