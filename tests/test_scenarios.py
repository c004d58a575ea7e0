"""One typed path from a scenario file to the model: the library reads a scenario
as the CLI does, every problem of a file is reported at once, results do not
depend on the order of rows in any input file, and infeasibility explanations
name the constraints in force with exact figures."""

from __future__ import annotations

import json
import random
import re
from dataclasses import fields
from pathlib import Path

import pytest

import netopt
from netopt import Constraints, InfeasibleError, Scenario, ScenarioError, SolverSettings, Stage, load_network, load_scenario, solve
from netopt.scenario import Modes, number_text, spec_of

from conftest import DATA, ROOT, read_csv_rows, write_csv_rows

DOCS = ROOT / "docs" / "scenarios.md"


# --------------------------------------------------------------------------- docs in step with the Scenario


def _documented_keys() -> dict[str, set[str]]:
    """Keys in the first column of each table of docs/scenarios.md, by the section heading above it."""
    out: dict[str, set[str]] = {}
    section = None
    for line in DOCS.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^##+ (.*)", line)
        if m:
            section = m.group(1)
            continue
        m = re.match(r"^\| `([a-z_]+)` \|", line)
        if m and section is not None:
            out.setdefault(section, set()).add(m.group(1))
    return out


def _section(docs: dict, word: str) -> set[str]:
    hits = [keys for heading, keys in docs.items() if word in heading]
    assert len(hits) == 1, f"docs/scenarios.md has no single table under a heading with {word!r}: {list(docs)}"
    return hits[0]


def test_every_scenario_field_is_documented_and_every_documented_key_is_a_field():
    from netopt.params import PARAMETER_RANGES

    docs = _documented_keys()
    top = {f.name for f in fields(Scenario) if spec_of(f) is not None and spec_of(f).kind not in ("section", "stages", "table")}
    assert _section(docs, "Top-level keys") == top
    assert _section(docs, "[[stage]]") == {f.name for f in fields(Stage)}
    assert _section(docs, "[modes]") == {f.name for f in fields(Modes)}
    assert _section(docs, "[constraints]") == {f.name for f in fields(Constraints)}
    assert _section(docs, "[solver]") == {f.name for f in fields(SolverSettings)}
    assert _section(docs, "[parameters]") == set(PARAMETER_RANGES)


def test_documented_ranges_are_the_declared_ones():
    """Each row's "Allowed" cell states the range the field declares (parameters included)."""
    from netopt.params import PARAMETER_RANGES

    text = DOCS.read_text(encoding="utf-8").replace("−", "-")
    declared = {}
    for cls in (Scenario, Stage, Constraints, SolverSettings):
        for f in fields(cls):
            spec = spec_of(f)
            if spec is not None and spec.low is not None:
                declared[f.name] = (spec.low, spec.high)
    for name, (kind, low, high) in PARAMETER_RANGES.items():
        if kind in ("number", "whole"):
            declared[name] = (low, high)
    for name, (low, high) in declared.items():
        row = next(line for line in text.splitlines() if line.startswith(f"| `{name}` |"))
        assert f"{number_text(low)} – {number_text(high)}" in row, (name, row)


def test_the_documented_example_is_a_valid_scenario(tmp_path):
    block = re.search(r"## A complete example\n\n```toml\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S).group(1)
    p = tmp_path / "example.toml"
    p.write_text(block, encoding="utf-8")
    sc = load_scenario(p)
    assert sc.constraints.max_growth == 0.5 and sc.parameters["decay_km"] == 30.0


# --------------------------------------------------------------------------- every problem at once


def test_every_problem_of_a_file_is_reported_at_once(tmp_path):
    p = tmp_path / "bad.toml"
    p.write_text('colour = "red"\nthreads = 0\n[[stage]]\nyear = 1999\n[constraints]\nmax_growth = 50\n[parameters]\ndetour = 1.2\n', encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(p)
    msg = str(info.value)
    assert msg.startswith(f"6 problems in {p}")
    for needle in ("unknown key 'colour'", "'threads' = 0 is out of range (allowed: a whole number from 1 to 64)",
                   "'stage[1].year' = 1999 is out of range (allowed: a whole number from 2000 to 2100)", "'stage[1].cut_msek' is missing",
                   "'constraints.max_growth' = 50 is out of range (allowed: a number from 0 to 5). Fix: write a share of the 2024 visits: 0.5 means at most 50 %",
                   "unknown key 'parameters.detour'", "did you mean 'parameters.detour_factor'"):
        assert needle in msg, needle
    assert len(info.value.problems) == 6 and all(pr.file == str(p) and pr.fix for pr in info.value.problems)


def test_python_scenarios_are_checked_the_same_way():
    with pytest.raises(ScenarioError, match=r"'solver.relative_gap' = 5 is out of range \(allowed: a number from 0 to 0.5\)"):
        SolverSettings(relative_gap=5)
    with pytest.raises(ScenarioError, match="lock_open.*also in lock_closed"):
        Scenario().with_(lock_open=("a",), lock_closed=("a",))
    with pytest.raises(ScenarioError, match="unknown setting 'tie_brake'"):
        Scenario().with_(tie_brake=False)
    sc = Scenario().with_(threads=2, lock_closed=["visby"])
    assert sc.solver.threads == 2 and sc.constraints.lock_closed == ("visby",)
    with pytest.raises(Exception):
        sc.solver.threads = 3  # frozen


def test_lock_of_an_office_name_suggests_its_id(tmp_path, fast_demand):
    sc = Scenario().with_(lock_open=("Stockholm Kista", "BODEN"))
    with pytest.raises(ScenarioError) as info:
        netopt.evaluate(load_network(demand=fast_demand), {}, sc)
    msg = str(info.value)
    assert "did you mean 'stockholm-kista'" in msg and "did you mean 'boden'" in msg


# --------------------------------------------------------------------------- issue 11 fault 11: fa_division from Python


def test_the_library_honours_the_scenarios_fa_division(tmp_path, county_division, fast_demand):
    folder = tmp_path / "planning"
    folder.mkdir()
    (folder / "counties.csv").write_bytes(county_division.read_bytes())
    path = folder / "s.toml"
    path.write_text('name = "counties"\nfa_division = "counties.csv"\n[[stage]]\nyear = 2027\ncut_msek = 100.0\n', encoding="utf-8")
    sc = load_scenario(path)
    assert sc.fa_division == str((folder / "counties.csv").resolve())
    plan = solve(load_network(demand=fast_demand), sc)
    s = plan.summary()
    assert s["fa_regions_total"] == 21 and s["fa_regions_served"] == 21 and s["fa_division"] == "counties"
    # the same as loading the network with that division (what the command line does)
    same = solve(load_network(demand=fast_demand, division=folder / "counties.csv"), sc)
    assert same.objective == plan.objective and same.summary()["fa_regions_total"] == 21


def test_the_library_reads_a_shipped_scenario_by_name_as_the_command_line_does(tmp_path, monkeypatch, shipped_scenario):
    """`netopt solve cut-2027` worked from any folder; `load_scenario("cut-2027")` said
    "file not found" (the CLI added something the library lacked)."""
    monkeypatch.chdir(tmp_path)
    by_file = load_scenario(shipped_scenario)
    assert load_scenario("cut-2027") == by_file and load_scenario("cut-2027.toml") == by_file
    # a file of that name in the working folder wins over the shipped one
    (tmp_path / "cut-2027.toml").write_text('name = "mine"\n[[stage]]\nyear = 2027\ncut_msek = 10.0\n', encoding="utf-8")
    assert load_scenario("cut-2027.toml").name == "mine"
    with pytest.raises(ScenarioError, match="not found"):
        load_scenario("cut-2099")


def test_a_missing_division_file_is_a_scenario_error(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text('fa_division = "nowhere.csv"\n', encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"'fa_division' = 'nowhere.csv' names no file .*nowhere.csv does not exist; a relative path is read from the scenario file's folder"):
        load_scenario(path)


# --------------------------------------------------------------------------- issue 11 fault 14: row order


def _shuffled(src: Path, dst: Path, seed: int) -> Path:
    header, rows = read_csv_rows(src)
    rows = list(rows)
    random.Random(seed).shuffle(rows)
    return write_csv_rows(dst, header, rows)


def test_results_do_not_depend_on_the_order_of_rows(netopt_cli, tmp_path, fast_demand, shipped_scenario):
    """The register, the candidate sites, the demand points and the division, shuffled: the same bytes."""
    cand = tmp_path / "cand.csv"
    write_csv_rows(cand, ["office_id", "office_name", "municipality_code", "lat", "lon"],
                   [["cand-tarnaby", "Tärnaby", "2421", "65.71580", "15.26360"], ["cand-dorotea", "Dorotea", "2425", "64.26236", "16.40593"],
                    ["cand-arjang", "Årjäng", "1765", "59.39155", "12.13475"]])
    base = ["--demand", fast_demand, "--candidates", cand, "--division", DATA / "regions" / "fa2015.csv"]
    out_a = tmp_path / "a"
    assert netopt_cli("solve", shipped_scenario, *base, "--out", out_a, "--no-map").code == 0
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    shuffled = ["--offices", _shuffled(DATA / "offices" / "offices.csv", mixed / "offices.csv", 1),
                "--demand", _shuffled(fast_demand, mixed / "demand.csv", 2),
                "--candidates", _shuffled(cand, mixed / "cand.csv", 3),
                "--division", _shuffled(DATA / "regions" / "fa2015.csv", mixed / "fa2015.csv", 4)]
    out_b = tmp_path / "b"
    res = netopt_cli("solve", shipped_scenario, *shuffled, "--out", out_b, "--no-map")
    assert res.code == 0, res.text
    assert (out_a / "plan.csv").read_bytes() == (out_b / "plan.csv").read_bytes()
    a, b = (json.loads((o / "summary.json").read_text(encoding="utf-8")) for o in (out_a, out_b))
    for key in ("objective", "best_bound", "status", "savings_msek", "population_mean_distance_km", "offices"):
        assert a[key] == b[key], key


# --------------------------------------------------------------------------- issue 11 fault 15: explanations


def test_an_infeasible_cut_names_the_constraints_in_force_and_its_figure_is_exact(fast_demand):
    net = load_network(demand=fast_demand)
    sc = Scenario(name="t", stages=(Stage(year=2027, cut_msek=900.0, flexible_allowance_msek=10.0),)).with_(
        max_closures=50, lock_open=("stockholm-kista",), flexible=False, max_distance_km=300.0, keep_municipalities=False, time_limit_s=120)
    with pytest.raises(InfeasibleError) as info:
        solve(net, sc)
    msg, ex = str(info.value), info.value.explanation
    for needle in ("cannot be met", "flexible offices switched off", "max_closures = 50", "1 office locked open (stockholm-kista)",
                   "max_distance_km = 300", "every FA-region with an office today keeps one (60 FA-regions, FA 2015)"):
        assert needle in msg, needle
    assert "keep_municipalities" not in msg and "max_growth" not in msg  # not in force: not named
    best = ex["max_saving_msek"]
    assert ex["max_saving_proven"] and 0 < best < 900
    shown = float(re.search(r"at most ([0-9.]+) MSEK", msg).group(1))
    assert best <= shown < best + 0.1  # rounded up: "at most" stays true
    # exact: a cut a little below the figure is met, a little above is not
    ok = solve(net, sc.with_(stages=(Stage(year=2027, cut_msek=best - 0.05, flexible_allowance_msek=10.0),)))
    assert ok.summary()["meets_budget"]
    with pytest.raises(InfeasibleError):
        solve(net, sc.with_(stages=(Stage(year=2027, cut_msek=best + 0.05, flexible_allowance_msek=10.0),)))


def test_no_plan_even_without_a_budget_names_the_constraints(fast_demand):
    net = load_network(demand=fast_demand)
    sc = Scenario(name="t", stages=(Stage(year=2027, cut_msek=0.0),)).with_(max_closures=0, lock_closed=("visby",), time_limit_s=60)
    with pytest.raises(InfeasibleError, match=r"1 office is locked closed but max_closures is 0"):
        solve(net, sc)
    sc = Scenario(name="t", stages=(Stage(year=2027, cut_msek=0.0),)).with_(keep_municipalities=True, lock_closed=("visby",), time_limit_s=60)
    with pytest.raises(InfeasibleError, match=r"keep_municipalities is on, but every office of these municipalities is locked closed: 0980 Gotland"):
        solve(net, sc)
