"""`netopt robustness` (issue 17): the samples, the tables, the report and the map.

These tests run the samples on Dask workers that are threads of the test
process (``ClusterSettings(processes=False)``) with the fast demand fixture, so
each run takes a second or two; tests/test_cluster.py runs real schedulers and
workers in their own processes.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

import netopt
from netopt.cluster import ClusterSettings
from netopt.robustness import (
    FRAGILE_BELOW, Robustness, SampleResult, flexible_load, headline, office_robustness, report_markdown, robustness, sample_table,
    visit_factor_table, wilson_interval, write_robustness,
)
from netopt.uncertainty import load_uncertainty, uncertainty_from_dict
from conftest import SCENARIOS, read_csv_rows, write_csv_rows

THREADS = ClusterSettings(workers=1, processes=False)
EVIL = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def fast_network(fast_demand):
    return netopt.load_network(demand=fast_demand)


@pytest.fixture(scope="module")
def cut_2027():
    return netopt.load_scenario(SCENARIOS / "cut-2027.toml")


@pytest.fixture(scope="module")
def run(fast_network, cut_2027):
    """Six samples of the shipped uncertainty file on the 2027 stage."""
    return robustness(fast_network, cut_2027, samples=6, seed=3, cluster=THREADS)


@pytest.fixture(scope="module")
def written(run, tmp_path_factory):
    out = tmp_path_factory.mktemp("robust") / "out"
    write_robustness(run, out)
    return out


def params_only():
    """The shipped file without office_visits: every sample is then a plain parameter override."""
    import tomllib

    from conftest import DATA

    raw = tomllib.loads((DATA / "model" / "uncertainty.toml").read_text(encoding="utf-8"))
    raw.pop("office_visits")
    return uncertainty_from_dict(raw, "params-only.toml")


# --------------------------------------------------------------------------- the samples


def test_samples_are_in_order_and_the_base_plan_is_the_scenarios_optimum(run, fast_network, cut_2027):
    assert [r.k for r in run.samples] == list(range(6))
    plan = netopt.solve(fast_network, cut_2027)
    assert [np.array_equal(a.modes, b.modes) for a, b in zip(run.base.stages, plan.stages)] == [True]
    assert run.base.scenario.solver.threads == 1
    for r in run.samples:
        assert r.status == "OPTIMAL" and r.gap == 0.0 and r.has_plan
        assert r.visit_factor is not None and r.visit_factor.shape == (len(fast_network.offices),)


def test_each_sample_is_the_scenario_with_its_values_as_overrides(fast_network, cut_2027):
    """Measured again through the public API (evaluate and solve with the sample's
    values as the scenario's [parameters]), every figure of samples.csv agrees exactly."""
    res = robustness(fast_network, cut_2027, samples=3, seed=11, cluster=THREADS, uncertainty=params_only())
    table = sample_table(res)
    decisions = dict(zip(res.base.office_table()["office_id"], res.base.office_table()["decision"]))
    for _, row in table.iterrows():
        values = {d.name: row[d.name] for d in res.uncertainty.parameters}
        sc = cut_2027.with_(parameters={**cut_2027.parameters, **values})
        base = netopt.evaluate(fast_network, decisions, sc).summary()
        assert row["base_savings_msek_2027"] == base["savings_msek"]
        assert row["base_meets_cut_2027"] == base["meets_budget"]
        assert row["base_mean_distance_km"] == base["population_mean_distance_km"]
        optimum = netopt.solve(fast_network, sc)
        assert row["objective"] == optimum.objective  # the warm start changes nothing the plan is judged by
        assert row["status"] == str(optimum.status)


def test_near_certain_estimates_leave_every_decision_standing(fast_network, cut_2027):
    tiny = uncertainty_from_dict({"detour_factor": {"distribution": "uniform", "low": 1.3, "high": 1.3 + 1e-9, "basis": "judgement", "why": "x"}}, "tiny.toml")
    res = robustness(fast_network, cut_2027, samples=3, seed=1, cluster=THREADS, uncertainty=tiny)
    offices = office_robustness(res)
    assert (offices["holds"] == 1.0).all() and not offices["fragile"].any()
    s = headline(res, offices)
    assert s["base_misses_cut"] == 0 and s["decisions_fragile"] == 0 and visit_factor_table(res) is None


def test_same_seed_same_results_other_seed_other_samples(run, fast_network, cut_2027):
    again = robustness(fast_network, cut_2027, samples=3, seed=3, cluster=THREADS)
    assert sample_table(again).equals(sample_table(run).iloc[:3].reset_index(drop=True))
    other = robustness(fast_network, cut_2027, samples=3, seed=4, cluster=THREADS)
    assert not sample_table(other)["decay_km"].equals(sample_table(again)["decay_km"])


def test_staged_scenario_keeps_the_nested_plan_per_sample(fast_network):
    sc = netopt.load_scenario(SCENARIOS / "stages-2025-2027.toml")
    res = robustness(fast_network, sc, samples=2, seed=1, cluster=THREADS)
    table = sample_table(res)
    for year in (2025, 2026, 2027):
        assert f"base_savings_msek_{year}" in table and f"base_meets_cut_{year}" in table
    assert list(table["base_meets_cut"]) == [all(r[f"base_meets_cut_{y}"] for y in (2025, 2026, 2027)) for _, r in table.iterrows()]
    assert all(len(r.base) == 3 for r in res.samples)
    text = report_markdown(res)
    assert "the cut of every stage" in text and "2027, the last stage" in text


def test_bad_arguments_are_named(fast_network, cut_2027):
    from netopt.errors import ScenarioError

    with pytest.raises(ScenarioError) as err:
        robustness(fast_network, cut_2027, samples=0, seed=-1, fragile_below=1.5, cluster=THREADS)
    assert "--samples" in str(err.value) and "--seed" in str(err.value) and "--fragile-below" in str(err.value)


# --------------------------------------------------------------------------- the tables, from results made by hand


def _result(run: Robustness, modes_per_sample, statuses, meets) -> Robustness:
    """The run with its samples replaced: modes of the last stage, statuses and whether the base plan meets the cut."""
    proto = run.samples[0]
    samples = []
    for k, (modes, status, ok) in enumerate(zip(modes_per_sample, statuses, meets)):
        base = tuple(dict(b, meets_budget=ok, cost_msek=b["budget_msek"] + (0 if ok else 2.5 + k) + b["flexible_allowance_used_msek"]) for b in proto.base)
        samples.append(replace(proto, k=k, modes=None if modes is None else np.asarray(modes, np.int8), status=status,
                               optimum=None if modes is None else proto.optimum, base=base, base_breaks=(), note="" if modes is not None else "no plan"))
    return replace(run, samples=tuple(samples))


def test_shares_holds_and_fragile_counted_by_hand(run):
    base = np.asarray(run.base.stages[-1].modes)
    flip = base.copy()
    i = int(np.flatnonzero(base == 2)[0])  # a kept office
    flip[i] = 0
    res = _result(run, [base, base, base, flip, base, None], ["OPTIMAL"] * 5 + ["INFEASIBLE"], [True, True, False, True, True, False])
    offices = office_robustness(res)
    row = offices.iloc[i]
    assert row["samples"] == 5 and row["base_decision"] == "keep"
    assert (row["share_keep"], row["share_flexible"], row["share_close"]) == (0.8, 0.0, 0.2)
    assert row["holds"] == 0.8 and not row["fragile"]  # 80 % holds: not fewer than 80 %
    assert (row["holds_low"], row["holds_high"]) == tuple(round(x, 4) for x in wilson_interval(4, 5))
    strict = office_robustness(replace(res, fragile_below=0.9))
    assert bool(strict.iloc[i]["fragile"]) and strict["fragile"].sum() == 1
    shares = offices[["share_keep", "share_flexible", "share_close"]].sum(axis=1)
    assert np.allclose(shares, 1.0)
    s = headline(res, offices)
    assert s["base_misses_cut"] == 2 and s["base_misses_cut_share"] == 2 / 6
    assert s["samples_without_plan"] == 1 and s["statuses"] == {"INFEASIBLE": 1, "OPTIMAL": 5}
    assert s["base_shortfall_msek_median"] == pytest.approx((2.5 + 2 + 2.5 + 5) / 2)
    text = report_markdown(res, offices=offices, summary=s)
    assert "misses it in 2" in text and "In 1 sample no plan at all meets the cut" in text and "(samples 5)" in text


def test_wilson_interval():
    assert wilson_interval(0, 10) == pytest.approx((0.0, 0.27753), abs=1e-5)
    assert wilson_interval(5, 10) == pytest.approx((0.23659, 0.76341), abs=1e-5)
    assert all(np.isnan(wilson_interval(0, 0)))


# --------------------------------------------------------------------------- the files


def test_output_folder_and_its_columns(written, run):
    assert sorted(p.name for p in written.iterdir()) == ["map.html", "report.md", "robustness.csv", "robustness.json", "sample_visits.csv",
                                                         "samples.csv", "uncertainty.toml"]
    offices = pd.read_csv(written / "robustness.csv", dtype={"fa_code": str})
    assert list(offices.columns[:8]) == ["office_id", "office_name", "municipality", "fa_code", "fa_name", "lat", "lon", "base_decision"]
    assert len(offices) == len(run.base.prepared.network.offices) and offices["samples"].eq(6).all()
    samples = pd.read_csv(written / "samples.csv")
    assert list(samples["sample"]) == list(range(6))
    assert samples.loc[0, "decay_km"] == run.samples[0].values["decay_km"]  # exact numbers
    factors = pd.read_csv(written / "sample_visits.csv")
    assert factors.shape == (6, 1 + len(offices)) and np.array_equal(factors.iloc[0, 1:].to_numpy(float), run.samples[0].visit_factor)
    assert (written / "uncertainty.toml").read_bytes() == load_uncertainty().raw
    summary = json.loads((written / "robustness.json").read_text(encoding="utf-8"))
    assert summary["samples"] == 6 and summary["seed"] == 3 and summary["fragile_below"] == FRAGILE_BELOW
    assert summary["decisions_fragile"] == int(offices["fragile"].sum())


def test_report_says_the_probability_the_fragile_decisions_and_how_to_read_them(written, run):
    text = (written / "report.md").read_text(encoding="utf-8")
    s = headline(run)
    assert f"misses it in {s['base_misses_cut']}" in text
    assert re.search(r"the probability that it misses the cut is \*\*\d+\u00a0%\*\* \(95 % interval", text)
    assert "## How to read this" in text and "Fragile does not mean wrong" in text
    for name in run.uncertainty.names:
        assert f"`{name}`" in text
    fragile = pd.read_csv(written / "robustness.csv").query("fragile")
    for name in fragile["office_name"]:
        assert f"| {name} |" in text
    assert "seconds" not in text and "worker" not in text.lower().replace("workers.", "")  # nothing about timing or the cluster


def test_map_has_the_layer_the_sections_and_a_disc_per_office(written, run):
    page = (written / "map.html").read_text(encoding="utf-8")
    assert "How often each office closes (samples)" in page and "netoptRobustnessInit" in page
    assert 'id="netopt-robust-summary"' in page and 'id="netopt-robust-legend"' in page
    drawn = int((run.base.office_table()["decision"] != "not opened").sum())
    assert page.count('"className":"netopt-robust') == drawn
    fragile = int(pd.read_csv(written / "robustness.csv")["fragile"].sum())
    assert page.count("netopt-robust netopt-robust-fragile") == fragile


def test_rewriting_gives_the_same_bytes_and_swedish_is_swedish(written, run, tmp_path):
    again = tmp_path / "again"
    write_robustness(run, again)
    for p in written.iterdir():
        assert (again / p.name).read_bytes() == p.read_bytes(), p.name
    sv = tmp_path / "sv"
    write_robustness(run, sv, lang="sv", with_map=False)
    text = (sv / "report.md").read_text(encoding="utf-8")
    assert "Hur säker är planen?" in text and "osäkra" in text and not (sv / "map.html").exists()
    assert (sv / "robustness.csv").read_bytes() == (written / "robustness.csv").read_bytes()


def test_hostile_office_names_are_escaped(tmp_path, fast_demand, cut_2027, shipped_offices):
    header, rows = shipped_offices
    rows = [list(r) for r in rows]
    rows[0][header.index("office_name")] = EVIL + " | x"
    net = netopt.load_network(write_csv_rows(tmp_path / "offices.csv", header, rows), demand=fast_demand)
    res = robustness(net, cut_2027, samples=2, seed=1, cluster=THREADS, fragile_below=1.0)  # every decision listed
    write_robustness(res, tmp_path / "out")
    for name in ("report.md", "map.html"):
        assert EVIL not in (tmp_path / "out" / name).read_text(encoding="utf-8"), name
    assert "&lt;script&gt;alert\\(1\\)&lt;/script&gt; \\| x" in (tmp_path / "out" / "report.md").read_text(encoding="utf-8")


def test_output_folder_rules_are_netopts(run, tmp_path):
    from netopt.errors import OutputError

    out = tmp_path / "out"
    out.mkdir()
    (out / "thesis.docx").write_bytes(b"mine")
    with pytest.raises(OutputError, match="thesis.docx"):
        write_robustness(run, out, overwrite=True, with_map=False)
    own = tmp_path / "own"
    write_robustness(run, own, with_map=False)
    write_robustness(run, own, overwrite=True, with_map=False)  # a folder of its own outputs is replaced
    assert (own / "samples.csv").is_file()


def test_map_layer_in_a_real_browser(written, run):
    """map.html offline in headless Chromium: a disc per drawn office, a ring per
    fragile decision, the panel sections in place, no script error or request.
    Skipped without Playwright or Chromium, except under CI."""
    import os

    from browser import browser_unavailable_reason, offline_page

    reason = browser_unavailable_reason()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"browser test cannot run under CI: {reason}")
        pytest.skip(f"browser test skipped: {reason}")
    drawn = int((run.base.office_table()["decision"] != "not opened").sum())
    fragile = int(pd.read_csv(written / "robustness.csv")["fragile"].sum())
    with offline_page(written / "map.html") as (page, log):
        page.wait_for_function("() => window.netopt && window.netopt.robustness")
        seen = page.evaluate("""() => ({
            discs: document.querySelectorAll('path.netopt-robust').length,
            rings: document.querySelectorAll('path.netopt-robust-fragile').length,
            summary_in_panel: !!document.querySelector('#netopt-summary-details #netopt-robust-summary'),
            legend_in_panel: !!document.querySelector('#netopt-legend-details #netopt-robust-legend'),
            samples: window.netopt.robustness.samples,
        })""")
        assert log.problems() == []
    assert seen == {"discs": drawn, "rings": fragile, "summary_in_panel": True, "legend_in_panel": True, "samples": 6}


def test_report_says_how_often_flexible_offices_go_over_capacity_and_why(run, written):
    """The base plan fills flexible offices up to the capacity assumed; samples that lower
    it or raise an office's visits put one over. The report says so in one sentence, with
    the counts of solver.verify's own check (samples.csv base_breaks) and the capacity
    recomputed from each sample's drawn flexible_visits_per_day."""
    samples = pd.read_csv(written / "samples.csv")
    p = run.base.prepared.params
    days = p.flexible_days_per_week * p.flexible_weeks_per_year
    per_office: dict = {}
    flagged = 0
    for r, (_, row) in zip(run.samples, samples.iterrows()):
        part = next((b for b in str(row["base_breaks"]).split("; ") if b.startswith(("a flexible office over capacity: ", "flexible offices over capacity: "))), "")
        over = part.split(": ", 1)[1].split(", ") if part else []
        assert sorted(over) == sorted(r.over_capacity)
        for oid, visits, capacity in r.base_flexible:
            assert capacity == pytest.approx(row["flexible_visits_per_day"] * days)
            assert (visits > capacity + 1e-6) == (oid in over)
        flagged += bool(over)
        for oid in over:
            per_office[oid] = per_office.get(oid, 0) + 1
    assert flagged > 0, "the case needs a sample with a flexible office over its capacity"
    text = (written / "report.md").read_text(encoding="utf-8")
    names = dict(zip(run.base.prepared.network.offices["office_id"], run.base.prepared.network.offices["office_name"]))
    items = [f"{names[o]} in {k}" for o, k in sorted(per_office.items(), key=lambda kv: (-kv[1], kv[0]))]
    counts = items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
    assert f"In {flagged} of {run.n} samples a flexible office of the base plan gets more visits than it can take ({counts}), because" in text
    finding = json.loads((written / "robustness.json").read_text(encoding="utf-8"))["base_flexible_over_capacity"]
    assert finding["samples"] == flagged and finding["offices"] == per_office
    # the fullest flexible offices at the estimates, in visits per open day
    at_estimates = {o: v for o, v, _ in flexible_load(run.base.prepared.instance, run.base.stages)}
    fullest = max(sorted(at_estimates.items()), key=lambda ov: ov[1])
    assert f"({names[fullest[0]]} {fullest[1] / days:.1f}" in text
    assert "it would stay within capacity in every sample only if no flexible office were planned above" in text
    assert finding["visits_per_day_to_hold"] <= finding["visits_per_day_to_hold_half"] <= finding["visits_per_day_in_force"]
    page = (written / "map.html").read_text(encoding="utf-8")
    assert f"over its capacity in {flagged} of {run.n} samples" in page
