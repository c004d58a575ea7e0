"""Tests of the ``netopt`` command line (issue 6).

Commands run in-process through ``netopt.cli.main`` (fast); one test starts a
real ``python -m netopt`` process to prove the entry point works. The shipped
2027 scenario is solved once per session (``shipped_solution``); other solves
use one demand point per municipality (``fast_demand``) and take about a second.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import ROOT, read_csv_rows

SUMMARY_KEYS = {
    "status", "objective", "best_bound", "gap", "solve_seconds", "baseline_cost_msek", "cost_msek", "savings_msek",
    "offices_kept", "offices_open", "offices_flexible", "offices_closed", "fa_regions_served", "fa_regions_total",
    "population_mean_distance_km", "population_p90_distance_km", "population_share_within_30km", "visits_lost",
}
TABLE_25 = {"Nord": 223422, "Mitt": 528152, "Väst": 531306, "Syd": 511766, "Stockholm-Gotland": 676974, "Öst": 287138}


def plan_rows(folder: Path) -> list[dict]:
    with open(folder / "plan.csv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def summary(folder: Path) -> dict:
    return json.loads((folder / "summary.json").read_text(encoding="utf-8"))


def no_traceback(res) -> None:
    assert "Traceback" not in res.text, res.text


def folder_state(folder: Path) -> dict:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.iterdir())}


def leftovers(parent: Path, name: str) -> list[str]:
    """Hidden temporary or backup folders netopt left beside ``parent/name``."""
    return sorted(p.name for p in parent.iterdir() if p.name.startswith(f".{name}."))


def write_scenario(path: Path, body: str) -> Path:
    path.write_text(body, encoding="utf-8")
    return path


STAGE_2027 = "[[stage]]\nyear = 2027\ncut_msek = {cut}\nflexible_allowance_msek = 10.0\n"
# caps the solves that explain an infeasible cut, so a slow explanation cannot stall the suite
TIME_LIMIT_30 = "[solver]\ntime_limit_s = 30.0\n"


# --------------------------------------------------------------------------- solve


def test_solve_shipped_scenario_writes_four_files(shipped_solution):
    assert sorted(p.name for p in shipped_solution.iterdir()) == ["map.html", "municipalities.csv", "plan.csv", "plan.gpkg", "plan.xlsx", "report.html", "report.md", "summary.json"]
    s = summary(shipped_solution)
    assert SUMMARY_KEYS <= set(s), SUMMARY_KEYS - set(s)
    assert s["status"] == "OPTIMAL"
    assert s["gap"] == 0
    assert s["savings_msek"] + s["flexible_allowance_used_msek"] >= s["cut_msek"] - 1e-6
    assert s["cut_msek"] == 150
    assert s["fa_regions_served"] == s["fa_regions_total"] == 60
    rows = plan_rows(shipped_solution)
    assert len(rows) == 121
    decisions = [r["decision"] for r in rows]
    assert decisions.count("keep") == s["offices_kept"]
    assert s["offices_open"] == s["offices_kept"] + s["offices_flexible"] == 121 - decisions.count("close")
    assert decisions.count("flexible") == s["offices_flexible"]
    assert decisions.count("close") == s["offices_closed"]
    # every closed office sends its visitors to an office that stays open
    kept = {r["office_id"] for r in rows if r["decision"] != "close"}
    assert all(r["receiver_id"] in kept for r in rows if r["decision"] == "close")
    report = (shipped_solution / "report.md").read_text(encoding="utf-8")
    assert "OPTIMAL" in report and "proved this plan optimal" in report
    assert (shipped_solution / "map.html").read_text(encoding="utf-8").lstrip().lower().startswith("<!doctype html")


def test_solve_refuses_existing_out_and_replaces_with_overwrite(netopt_cli, tmp_path, shipped_scenario, fast_demand, monkeypatch):
    out = tmp_path / "run"
    first = netopt_cli("solve", shipped_scenario, "--out", out, "--demand", fast_demand, "--no-map")
    assert first.code == 0, first.text
    assert "Wrote" in first.out
    before = folder_state(out)

    def must_not_solve(*a, **k):
        raise AssertionError("solved although --out exists")

    monkeypatch.setattr(sys.modules["netopt.plan"], "solve", must_not_solve)
    res = netopt_cli("solve", shipped_scenario, "--out", out, "--demand", fast_demand, "--no-map")
    assert res.code == 2
    assert str(out) in res.err and "--overwrite" in res.err
    no_traceback(res)
    assert folder_state(out) == before
    monkeypatch.undo()

    (out / "plan.csv").write_text("stale\n", encoding="utf-8")
    res = netopt_cli("solve", shipped_scenario, "--out", out, "--demand", fast_demand, "--no-map", "--overwrite")
    assert res.code == 0, res.text
    assert (out / "plan.csv").read_bytes() == before["plan.csv"][0]
    assert leftovers(tmp_path, "run") == []


def test_overwrite_refuses_folder_with_other_files(netopt_cli, tmp_path):
    out = tmp_path / "documents"
    out.mkdir()
    (out / "thesis.docx").write_bytes(b"important")
    res = netopt_cli("evaluate", "--close", "visby", "--out", out, "--overwrite", "--no-map")
    assert res.code == 2
    assert "thesis.docx" in res.err
    assert (out / "thesis.docx").read_bytes() == b"important"
    assert sorted(p.name for p in out.iterdir()) == ["thesis.docx"]


def test_out_that_is_a_file(netopt_cli, tmp_path):
    out = tmp_path / "file.txt"
    out.write_text("x", encoding="utf-8")
    res = netopt_cli("evaluate", "--close", "visby", "--out", out, "--overwrite", "--no-map")
    assert res.code == 2 and "not a folder" in res.err
    assert out.read_text(encoding="utf-8") == "x"


# --------------------------------------------------------------------------- evaluate


def test_evaluate_closes_exactly_the_named_offices(netopt_cli, tmp_path):
    out = tmp_path / "hand"
    res = netopt_cli("evaluate", "--close", " stockholm-kista, visby ", "--out", out, "--no-map")
    assert res.code == 0, res.text
    rows = plan_rows(out)
    assert {r["office_id"] for r in rows if r["decision"] == "close"} == {"stockholm-kista", "visby"}
    assert {r["decision"] for r in rows if r["office_id"] not in ("stockholm-kista", "visby")} == {"keep"}
    s = summary(out)
    assert s["status"] == "EVALUATED" and s["gap"] is None
    assert s["offices_closed"] == 2 and s["offices_kept"] == s["offices_open"] == 119
    # Gotland's only office is closed: its FA-region is no longer served
    assert s["fa_regions_served"] == 59
    assert sorted(p.name for p in out.iterdir()) == ["municipalities.csv", "plan.csv", "plan.gpkg", "plan.xlsx", "report.html", "report.md", "summary.json"]


def test_evaluate_flexible(netopt_cli, tmp_path):
    out = tmp_path / "flex"
    res = netopt_cli("evaluate", "--close", "stockholm-kista", "--flexible", "visby", "--out", out, "--no-map")
    assert res.code == 0, res.text
    by_id = {r["office_id"]: r["decision"] for r in plan_rows(out)}
    assert by_id["visby"] == "flexible" and by_id["stockholm-kista"] == "close"
    assert summary(out)["fa_regions_served"] == 60


def test_evaluate_unknown_id(netopt_cli, tmp_path):
    out = tmp_path / "x"
    res = netopt_cli("evaluate", "--close", "stockholm-kista,no-such-office", "--out", out, "--no-map")
    assert res.code == 2
    assert "no-such-office" in res.err and "validate --list" in res.err
    assert "stockholm-kista" not in res.err  # only the unknown ID is named
    no_traceback(res)
    assert not out.exists()


def test_evaluate_same_id_closed_and_flexible(netopt_cli, tmp_path):
    out = tmp_path / "x"
    res = netopt_cli("evaluate", "--close", "visby", "--flexible", "visby", "--out", out, "--no-map")
    assert res.code == 2
    assert "visby" in res.err and "--close" in res.err and "--flexible" in res.err
    no_traceback(res)
    assert not out.exists()


def test_evaluate_closing_every_office_is_infeasible(netopt_cli, tmp_path, shipped_offices):
    ids = ",".join(r[0] for r in shipped_offices[1])
    res = netopt_cli("evaluate", "--close", ids, "--out", tmp_path / "x", "--no-map")
    assert res.code == 1
    assert "every office" in res.err
    no_traceback(res)


# --------------------------------------------------------------------------- sweep


def test_sweep_writes_frontier(netopt_cli, tmp_path, shipped_scenario, fast_demand):
    out = tmp_path / "frontier"
    res = netopt_cli("sweep", shipped_scenario, "--cuts", "0:100:50", "--demand", fast_demand, "--out", out)
    assert res.code == 0, res.text
    # each cut's plan is kept in its own folder, with the usual outputs
    assert sorted(p.name for p in out.iterdir()) == ["cut-0", "cut-100", "cut-50", "frontier.csv", "frontier.html"]
    header, rows = read_csv_rows(out / "frontier.csv")
    assert len(rows) == 3
    h = {c: k for k, c in enumerate(header)}
    assert [float(r[h["cut_msek"]]) for r in rows] == [0.0, 50.0, 100.0]
    assert all(r[h["status"]] == "OPTIMAL" for r in rows)
    assert [r[h["folder"]] for r in rows] == ["cut-0", "cut-50", "cut-100"]
    savings = [float(r[h["savings_msek"]]) for r in rows]
    assert all(s >= c - 10.0 - 1e-6 for s, c in zip(savings, (0, 50, 100)))  # 10 MSEK allowance
    assert "3/3" in res.err  # the progress bar
    page = (out / "frontier.html").read_text(encoding="utf-8")
    assert "<svg" in page and 'xlink:href="cut-50/report.html"' in page and 'href="cut-100/map.html"' in page
    for cut, saving in zip((0, 50, 100), savings):
        folder = out / f"cut-{cut}"
        assert sorted(p.name for p in folder.iterdir()) == ["map.html", "municipalities.csv", "plan.csv", "plan.gpkg", "plan.xlsx", "report.html", "report.md", "summary.json"]
        s = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        assert s["cut_msek"] == cut and s["savings_msek"] == saving and s["status"] == "OPTIMAL"
        report = (folder / "report.html").read_text(encoding="utf-8")
        assert 'xlink:href="../cut-0/report.html"' in report  # the plan on the frontier links to its neighbours
    # a sweep's folder (with its plan folders) can be overwritten, and nothing else
    assert netopt_cli("sweep", shipped_scenario, "--cuts", "50", "--demand", fast_demand, "--out", out, "--overwrite", "--no-plans").code == 0
    assert sorted(p.name for p in out.iterdir()) == ["frontier.csv", "frontier.html"]


@pytest.mark.parametrize("cuts", ["5:1:1", "0:100:0", "0:100:-5", "a:b:c", "0:100", "x,y", "", "0:inf:1", "nan:10:1", "0:1e6:1e-3", "1:1000000"])
def test_sweep_bad_cuts(netopt_cli, tmp_path, shipped_scenario, cuts):
    out = tmp_path / "frontier"
    res = netopt_cli("sweep", shipped_scenario, "--cuts", cuts, "--out", out)
    assert res.code == 2, res.text
    assert "--cuts" in res.err
    no_traceback(res)
    assert not out.exists()


def test_sweep_marks_infeasible_cuts(netopt_cli, tmp_path, fast_demand):
    sc = write_scenario(tmp_path / "s.toml", 'name = "s"\n' + STAGE_2027.format(cut=100.0) + TIME_LIMIT_30)
    out = tmp_path / "frontier"
    res = netopt_cli("sweep", sc, "--cuts", "100,900", "--demand", fast_demand, "--out", out)
    assert res.code == 0, res.text
    header, rows = read_csv_rows(out / "frontier.csv")
    status = [r[header.index("status")] for r in rows]
    assert status == ["OPTIMAL", "INFEASIBLE"]
    assert "1 infeasible" in res.out
    assert "Infeasible cuts" in (out / "frontier.html").read_text(encoding="utf-8")


# --------------------------------------------------------------------------- compare


def test_compare_two_plans(netopt_cli, tmp_path, shipped_solution):
    hand = tmp_path / "hand"
    assert netopt_cli("evaluate", "--close", "stockholm-kista,visby", "--out", hand, "--no-map").code == 0
    out = tmp_path / "cmp"
    res = netopt_cli("compare", shipped_solution, hand, "--out", out)
    assert res.code == 0, res.text
    assert sorted(p.name for p in out.iterdir()) == ["compare.csv", "compare.md", "map.html"]
    a = {r["office_id"]: r for r in plan_rows(shipped_solution)}
    b = {r["office_id"]: r["decision"] for r in plan_rows(hand)}
    differ = {o for o in a if a[o]["decision"] != b[o]}
    assert differ
    with open(out / "compare.csv", encoding="utf-8", newline="") as fh:
        table = list(csv.DictReader(fh))
    assert {r["office_id"] for r in table if r["differs"] == "True"} == differ
    assert all(r["differs"] == "True" for r in table[: len(differ)])  # differing offices first
    md = (out / "compare.md").read_text(encoding="utf-8")
    assert f"Offices with different decisions ({len(differ)})" in md
    from netopt.report import md_escape

    for o in differ:
        assert md_escape(a[o]["office_name"]) in md
    assert "<html" in (out / "map.html").read_text(encoding="utf-8").lower()


def test_compare_same_plan_twice(netopt_cli, tmp_path, shipped_solution):
    out = tmp_path / "cmp"
    res = netopt_cli("compare", shipped_solution, shipped_solution, "--out", out)
    assert res.code == 0, res.text
    assert "None: the plans make the same decisions." in (out / "compare.md").read_text(encoding="utf-8")


def test_compare_folder_without_plan(netopt_cli, tmp_path, shipped_solution):
    empty = tmp_path / "empty"
    empty.mkdir()
    res = netopt_cli("compare", shipped_solution, empty, "--out", tmp_path / "cmp")
    assert res.code == 2
    assert "plan.csv" in res.err and "not found" in res.err
    no_traceback(res)


def test_compare_bad_decision(netopt_cli, tmp_path, shipped_solution, copy_of):
    bad = copy_of(shipped_solution, "bad")
    text = (bad / "plan.csv").read_text(encoding="utf-8").replace(",keep,", ",maybe,", 1)
    (bad / "plan.csv").write_text(text, encoding="utf-8")
    res = netopt_cli("compare", shipped_solution, bad, "--out", tmp_path / "cmp")
    assert res.code == 2
    assert "maybe" in res.err and "line 2" in res.err
    no_traceback(res)


@pytest.mark.parametrize("text", ["[1, 2]\n", '{"cut_msek": "abc"}\n'])
def test_compare_damaged_summary(netopt_cli, tmp_path, shipped_solution, copy_of, text):
    bad = copy_of(shipped_solution, "bad")
    (bad / "summary.json").write_text(text, encoding="utf-8")
    try:
        res = netopt_cli("compare", shipped_solution, bad, "--out", tmp_path / "cmp")
    except Exception as exc:  # pragma: no cover - would be a bug
        pytest.fail(f"{type(exc).__name__}: {exc}")
    assert res.code == 2 and "summary.json" in res.err


def test_compare_duplicate_office_in_plan(netopt_cli, tmp_path, shipped_solution, copy_of):
    bad = copy_of(shipped_solution, "bad")
    lines = (bad / "plan.csv").read_text(encoding="utf-8").splitlines()
    (bad / "plan.csv").write_text("\n".join(lines + [lines[1].replace(",keep,", ",close,")]) + "\n", encoding="utf-8")
    res = netopt_cli("compare", shipped_solution, bad, "--out", tmp_path / "cmp")
    assert res.code == 2


# --------------------------------------------------------------------------- validate


def test_validate_json(netopt_cli):
    res = netopt_cli("validate", "--json")
    assert res.code == 0, res.text
    s = json.loads(res.out)
    assert s["offices"] == 121
    assert s["municipalities"] == 290
    assert s["fa_regions"] == 60
    assert s["population"] == 10605520
    assert s["fa_regions_without_office"] == []
    assert isinstance(s["fa_regions_without_office"], list)


def test_validate_text_and_list(netopt_cli):
    res = netopt_cli("validate", "--list")
    assert res.code == 0, res.text
    lines = res.out.splitlines()
    assert lines[0].startswith("OK: 121 offices") and "population 10 605 520" in lines[0]
    assert "stockholm-kista\tStockholm Kista\tStockholm\t23 Stockholm" in lines
    assert len(lines) == 1 + 121


def test_validate_reports_every_problem_with_line_numbers(netopt_cli, office_register):
    path = office_register(
        {
            (4, "office_id"): "stockholm-odenplan",  # the ID of line 3
            (6, "municipality_code"): "9999",
            (8, "lat"): "59.91", (8, "lon"): "10.75",  # Oslo
            (10, "lat"): "68.44", (10, "lon"): "17.43",  # Narvik
        }
    )
    res = netopt_cli("validate", "--offices", path)
    assert res.code == 2
    no_traceback(res)
    err = res.err
    assert "4 problems" in err
    lines = [ln for ln in err.splitlines() if ln.strip().startswith("- ")]
    assert len(lines) == 4

    def line_of(needle):
        hits = [ln for ln in lines if needle in ln]
        assert hits, f"{needle!r} not in {err}"
        return hits[0]

    dup = line_of("duplicate office_id")
    assert "line 4" in dup and "stockholm-odenplan" in dup and "line 3" in dup and "Fix:" in dup
    unknown = line_of("unknown municipality code")
    assert "line 6" in unknown and "'9999'" in unknown and "Fix:" in unknown
    oslo = line_of("line 8")
    assert "outside Sweden" in oslo and "59.91" in oslo
    narvik = line_of("line 10")
    assert "outside Sweden" in narvik and "68.44" in narvik
    assert all(str(path) in ln for ln in lines)


def test_validate_swapped_coordinates_and_spreadsheet_damage(netopt_cli, office_register):
    path = office_register({(2, "lat"): "17.94479", (2, "lon"): "59.40316", (3, "lat"): "59,3429", (3, "municipality_code"): "180"})
    res = netopt_cli("validate", "--offices", path)
    assert res.code == 2
    assert "1 problem " in res.err
    assert "line 2" in res.err and "swapped" in res.err


def test_validate_missing_file(netopt_cli, tmp_path):
    res = netopt_cli("validate", "--offices", tmp_path / "nope.csv")
    assert res.code == 2
    assert "nope.csv" in res.err and "file not found" in res.err
    no_traceback(res)


def test_validate_demand_points_missing_a_municipality(netopt_cli, tmp_path, fast_demand):
    header, rows = read_csv_rows(fast_demand)
    dropped = rows[0][1]
    path = tmp_path / "demand.csv"
    path.write_text("\n".join(",".join(r) for r in [header] + rows[1:]) + "\n", encoding="utf-8")
    res = netopt_cli("validate", "--demand", path)
    assert res.code == 2
    assert "1 problem " in res.err and f"'{dropped}'" in res.err and "no demand point" in res.err
    no_traceback(res)


# --------------------------------------------------------------------------- calibrate


def test_calibrate_json(netopt_cli):
    res = netopt_cli("calibrate", "--json")
    assert res.code == 0, res.text
    c = json.loads(res.out)
    assert c["visits_total"] == pytest.approx(2758758, rel=0.005)
    assert set(c["visits_by_region"]) == set(TABLE_25)
    for region, visits in TABLE_25.items():
        assert c["visits_by_region"][region] == pytest.approx(visits, rel=0.02), region
    assert c["cost_total_msek"] == pytest.approx(1003.1, rel=0.005)
    assert c["cost_per_visit_sek"] > 0


def test_calibrate_text(netopt_cli):
    res = netopt_cli("calibrate")
    assert res.code == 0, res.text
    assert "2 758 758" in res.out and "1003.1" in res.out
    for region in TABLE_25:
        assert region in res.out
    # offices by name, as the reports name them, not by office_id
    assert "now at Sollentuna, Järfälla, Stockholm Rinkeby)" in res.out
    assert "jarfalla" not in res.out and "stockholm-rinkeby" not in res.out


# --------------------------------------------------------------------------- infeasible scenarios


def test_infeasible_cut(netopt_cli, tmp_path, fast_demand):
    sc = write_scenario(tmp_path / "too-much.toml", 'name = "too-much"\n' + STAGE_2027.format(cut=900.0) + TIME_LIMIT_30)
    out = tmp_path / "out"
    res = netopt_cli("solve", sc, "--out", out, "--demand", fast_demand, "--no-map")
    assert res.code == 1, res.text
    no_traceback(res)
    assert "infeasible" in res.err
    assert "at most" in res.err and "900.0 MSEK" in res.err and "FA-region" in res.err
    explanation = json.loads(res.err.strip().splitlines()[-1])
    assert explanation["target_cut_msek"] == 900.0
    assert 0 < explanation["max_saving_msek"] < 900.0
    assert not out.exists()


def test_infeasible_every_office_of_a_region_locked_closed(netopt_cli, tmp_path, shipped_network):
    off = shipped_network.offices
    sizes = off.groupby("fa_code").size()
    fa = sizes[sizes >= 2].index[0]
    name = off.loc[off["fa_code"] == fa, "fa_name"].iloc[0]
    ids = sorted(off.loc[off["fa_code"] == fa, "office_id"])
    sc = write_scenario(
        tmp_path / "locked.toml",
        'name = "locked"\n' + STAGE_2027.format(cut=150.0) + TIME_LIMIT_30 + "[constraints]\nlock_closed = [" + ", ".join(f'"{i}"' for i in ids) + "]\n",
    )
    out = tmp_path / "out"
    res = netopt_cli("solve", sc, "--out", out, "--no-map")
    assert res.code == 1, res.text
    no_traceback(res)
    assert "locked closed" in res.err
    assert f"{fa} {name}" in res.err
    assert not out.exists()


def test_lock_of_unknown_office(netopt_cli, tmp_path, fast_demand):
    sc = write_scenario(tmp_path / "s.toml", STAGE_2027.format(cut=50.0) + '[constraints]\nlock_open = ["atlantis"]\n')
    res = netopt_cli("solve", sc, "--out", tmp_path / "out", "--demand", fast_demand, "--no-map")
    assert res.code == 2
    assert "atlantis" in res.err and "lock_open" in res.err
    no_traceback(res)


# --------------------------------------------------------------------------- scenario errors


@pytest.mark.parametrize(
    "body, needles",
    [
        ('colour = "red"\n', ["unknown key 'colour'", "objective"]),
        ("[constraints]\nlock = []\n", ["unknown key 'constraints.lock'", "lock_closed"]),
        ("[weather]\nrain = 1\n", ["unknown key 'weather'", "[constraints]"]),
        ("threads = 0\n", ["'threads'", "from 1 to 64"]),
        ("[solver]\nthreads = 65\n", ["'solver.threads'", "from 1 to 64"]),
        ('objective = "fastest"\n', ["'objective'", "'fastest'", "distance, coverage, visits_lost"]),
        ('coverage_km = "far"\n', ["'coverage_km'", "wrong type", "a number"]),
        ("coverage_km = 0\n", ["'coverage_km'", "from 0.1 to 1000"]),
        ("[solver]\nthreads = 2.5\n", ["'solver.threads'", "whole number"]),
        ("[solver]\nrelative_gap = 2\n", ["'solver.relative_gap' = 2", "from 0 to 0.5", "0.01 means 1 %"]),
        ("[solver]\ntime_limit_s = -1\n", ["'solver.time_limit_s' = -1", "from 0.1 to 86 400"]),
        ('[[stage]]\nyear = 2027\ncut_msek = "lots"\n', ["'stage[1].cut_msek'", "a number"]),
        ("[[stage]]\nyear = 2027\n", ["'stage[1].cut_msek' is missing", "add cut_msek"]),
        ("[[stage]]\nyear = 1999\ncut_msek = 10\n", ["'stage[1].year' = 1999", "from 2000 to 2100"]),
        ("[[stage]]\nyear = 2027\ncut_msek = 10\n[[stage]]\nyear = 2026\ncut_msek = 5\n", ["increasing years"]),
        ("[constraints]\nmax_growth = -0.5\n", ["'constraints.max_growth' = -0.5", "from 0 to 5"]),
        ("[constraints]\nmax_growth = 50\n", ["'constraints.max_growth' = 50", "from 0 to 5", "0.5 means at most 50 %"]),
        ("[constraints]\nkeep_municipalities = 1\n", ["'constraints.keep_municipalities'", "true or false"]),
        ("[modes]\nflexible = \"yes\"\n", ["'modes.flexible'", "true or false"]),
        ("[parameters]\ndecay_km = 0\n", ["'parameters.decay_km' = 0", "from 1 to 1000"]),
        ("[parameters]\nspeed = 3\n", ["unknown key 'parameters.speed'"]),
        ("[parameters]\nreference_visits_total = 0\n", ["'parameters.reference_visits_total' = 0", "from 1"]),
        ("name = \n", ["not valid TOML"]),
    ],
)
def test_scenario_errors_name_key_and_range(netopt_cli, tmp_path, body, needles):
    sc = write_scenario(tmp_path / "bad.toml", body)
    out = tmp_path / "out"
    res = netopt_cli("solve", sc, "--out", out, "--no-map")
    assert res.code == 2, res.text
    no_traceback(res)
    assert str(sc) in res.err
    for n in needles:
        assert n in res.err, (n, res.err)
    assert len(res.err.strip().splitlines()) == 1
    assert not out.exists()


def test_scenario_not_utf8_and_missing(netopt_cli, tmp_path):
    sc = tmp_path / "latin1.toml"
    sc.write_bytes('name = "Göteborg"\n'.encode("latin-1"))
    res = netopt_cli("solve", sc, "--out", tmp_path / "o", "--no-map")
    assert res.code == 2 and "UTF-8" in res.err
    res = netopt_cli("solve", tmp_path / "missing.toml", "--out", tmp_path / "o", "--no-map")
    assert res.code == 2 and "missing.toml" in res.err and "not found" in res.err


def test_bad_parameters_file(netopt_cli, tmp_path):
    p = tmp_path / "parameters.toml"
    p.write_text("decay_km = -3\n", encoding="utf-8")
    res = netopt_cli("calibrate", "--parameters", p)
    assert res.code == 2
    assert "decay_km" in res.err and "from 1 to 1000" in res.err
    no_traceback(res)


def test_verbose_shows_the_traceback(tmp_path):
    from netopt.cli import main
    from netopt.errors import ScenarioError

    sc = write_scenario(tmp_path / "bad.toml", "threads = 0\n")
    with pytest.raises(ScenarioError):
        main(["--verbose", "solve", str(sc), "--out", str(tmp_path / "o")])


# --------------------------------------------------------------------------- help


@pytest.mark.parametrize(
    "command, options",
    [
        ("solve", ["--out", "--overwrite", "--offices", "--division", "--population", "--demand", "--parameters", "--time-limit", "--no-map"]),
        ("evaluate", ["--close", "--flexible", "--out", "--overwrite", "--offices", "--no-map"]),
        ("sweep", ["--cuts", "--out", "--overwrite", "--demand"]),
        ("compare", ["DIR_A", "DIR_B", "--out", "--overwrite"]),
        ("validate", ["--json", "--list", "--offices", "--division"]),
        ("calibrate", ["--json", "--parameters"]),
    ],
)
def test_help(netopt_cli, command, options):
    res = netopt_cli(command, "--help")
    assert res.code == 0
    assert res.out.startswith(f"usage: netopt {command}")
    for opt in options:
        assert opt in res.out, opt


def test_top_level_help_and_no_command(netopt_cli):
    res = netopt_cli("--help")
    assert res.code == 0
    for c in ("solve", "evaluate", "sweep", "compare", "validate", "calibrate"):
        assert c in res.out
    assert netopt_cli().code == 2
    res = netopt_cli("frobnicate")
    assert res.code == 2 and "invalid choice" in res.err


# --------------------------------------------------------------------------- own FA division


def test_own_division_file(netopt_cli, tmp_path, shipped_scenario, county_division, fast_demand):
    out = tmp_path / "counties"
    res = netopt_cli("solve", shipped_scenario, "--division", county_division, "--demand", fast_demand, "--out", out, "--no-map")
    assert res.code == 0, res.text
    s = summary(out)
    assert s["fa_regions_total"] == 21
    assert s["fa_regions_served"] == 21
    assert s["fa_division"] == "counties"
    assert s["status"] == "OPTIMAL"
    assert {r["fa_code"] for r in plan_rows(out)} <= {f"{k:02d}" for k in range(1, 26)}
    res = netopt_cli("validate", "--json", "--division", county_division)
    assert json.loads(res.out)["fa_regions"] == 21


def test_scenario_names_division_relative_to_itself(netopt_cli, tmp_path, county_division, fast_demand):
    folder = tmp_path / "planning"
    folder.mkdir()
    (folder / "counties.csv").write_bytes(county_division.read_bytes())
    sc = write_scenario(folder / "s.toml", 'name = "counties"\nfa_division = "counties.csv"\n' + STAGE_2027.format(cut=100.0))
    out = tmp_path / "out"
    res = netopt_cli("solve", sc, "--demand", fast_demand, "--out", out, "--no-map")
    assert res.code == 0, res.text
    assert summary(out)["fa_regions_total"] == 21


def test_bad_division_file(netopt_cli, tmp_path, county_division):
    header, rows = read_csv_rows(county_division)
    rows = rows[1:] + [rows[1]]  # first municipality missing, second twice
    bad = tmp_path / "division.csv"
    bad.write_text("\n".join(",".join(r) for r in [header] + rows) + "\n", encoding="utf-8")
    res = netopt_cli("validate", "--division", bad)
    assert res.code == 2
    assert "listed twice" in res.err and "missing from the FA division" in res.err
    no_traceback(res)


# --------------------------------------------------------------------------- the real entry point


def test_entry_point_subprocess(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "netopt", "validate", "--json"], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["offices"] == 121
    bad = write_scenario(tmp_path / "bad.toml", "threads = 0\n")
    proc = subprocess.run([sys.executable, "-m", "netopt", "solve", str(bad), "--out", str(tmp_path / "o")], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.startswith("netopt: ") and "Traceback" not in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "netopt", "--version"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.startswith("netopt ")


# --------------------------------------------------------------------------- solver options


@pytest.mark.parametrize("suffix", ["mps", "lp"])
def test_export_model(netopt_cli, tmp_path, shipped_scenario, fast_demand, suffix):
    """--export-model writes the model the optimisation starts from, with readable names, and solves as usual."""
    model = tmp_path / f"model.{suffix}"
    res = netopt_cli("solve", shipped_scenario, "--demand", fast_demand, "--out", tmp_path / "out", "--no-map", "--export-model", model)
    assert res.code == 0, res.text
    text = model.read_text(encoding="utf-8")
    kista = "stockholm-kista" if suffix == "mps" else "stockholm_kista"  # LP names may not hold "-"
    assert f"keep[{kista},0]" in text and "flexible[visby,0]" in text and "allowance[0]" in text
    if suffix == "mps":
        import highspy

        from netopt import load_network, load_scenario
        from netopt.plan import build_first_model

        built = build_first_model(load_network(demand=fast_demand), load_scenario(shipped_scenario))
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        assert h.readModel(str(model)) == highspy.HighsStatus.kOk
        lp = h.getLp()
        assert lp.num_col_ == built.n_vars == summary(tmp_path / "out")["model_size"]["variables"]
        assert np.array_equal(np.asarray(lp.col_cost_), built.obj)  # every coefficient exact


def test_export_model_needs_a_known_format(netopt_cli, tmp_path, shipped_scenario):
    res = netopt_cli("solve", shipped_scenario, "--out", tmp_path / "out", "--export-model", tmp_path / "model.txt")
    assert res.code == 2 and "must end in .mps or .lp" in res.err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("backend", ["highspy", "ortools-highs"])
def test_backend_option(netopt_cli, tmp_path, shipped_scenario, fast_demand, backend):
    out = tmp_path / backend
    res = netopt_cli("solve", shipped_scenario, "--demand", fast_demand, "--backend", backend, "--out", out, "--no-map")
    assert res.code == 0, res.text
    s = summary(out)
    assert s["status"] == "OPTIMAL" and s["solver"]["backend"] == backend


def test_backends_agree_on_the_shipped_scenario(netopt_cli, tmp_path, shipped_scenario, fast_demand):
    a, b = tmp_path / "a", tmp_path / "b"
    assert netopt_cli("solve", shipped_scenario, "--demand", fast_demand, "--out", a, "--no-map").code == 0
    assert netopt_cli("solve", shipped_scenario, "--demand", fast_demand, "--backend", "ortools-highs", "--out", b, "--no-map").code == 0
    assert summary(a)["objective"] == summary(b)["objective"]


def test_evaluate_office_named_by_its_name_suggests_the_id(netopt_cli, tmp_path):
    res = netopt_cli("evaluate", "--close", "Stockholm Kista,BODEN", "--out", tmp_path / "x", "--no-map")
    assert res.code == 2
    no_traceback(res)
    assert "did you mean 'stockholm-kista'?" in res.err and "did you mean 'boden'?" in res.err
    assert "2 problems" in res.err
