"""``netopt evaluate --plan FILE``: a plan's decisions from a CSV (office_id, decision).

An edited plan.csv works as it is; bad files are rejected with every problem
named by file, line, column and fix, and nothing is written.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from conftest import read_csv_rows, write_csv_rows


def _summary(folder: Path) -> dict:
    return json.loads((folder / "summary.json").read_text(encoding="utf-8"))


def _decisions(folder: Path) -> dict:
    with open(folder / "plan.csv", encoding="utf-8", newline="") as fh:
        return {r["office_id"]: r["decision"] for r in csv.DictReader(fh)}


def test_the_plans_own_plan_csv_gives_the_same_plan(netopt_cli, tmp_path, shipped_solution, shipped_scenario):
    out = tmp_path / "again"
    res = netopt_cli("evaluate", shipped_scenario, "--plan", shipped_solution / "plan.csv", "--out", out, "--no-map")
    assert res.code == 0, res.text
    assert _decisions(out) == _decisions(shipped_solution)
    a, b = _summary(shipped_solution), _summary(out)
    assert b["status"] == "EVALUATED"
    for key in ("objective", "savings_msek", "cost_msek", "visits_after", "population_mean_distance_km", "population_p90_distance_km", "fa_regions_served", "offices_open", "offices_flexible", "offices_closed", "meets_budget"):
        assert b[key] == a[key], key


def test_an_edited_plan_csv_equals_the_same_decisions_on_the_command_line(netopt_cli, tmp_path, shipped_solution, shipped_scenario):
    header, rows = read_csv_rows(shipped_solution / "plan.csv")
    h = {c: k for k, c in enumerate(header)}
    edited = [list(r) for r in rows]
    for r in edited:
        if r[h["office_id"]] == "stockholm-kista":
            r[h["decision"]] = "keep"
        if r[h["office_id"]] == "motala":
            r[h["decision"]] = "close"
        if r[h["office_id"]] == "kiruna":
            r[h["decision"]] = "flexible"
    plan = write_csv_rows(tmp_path / "edited.csv", header, edited)
    out = tmp_path / "edited"
    assert netopt_cli("evaluate", shipped_scenario, "--plan", plan, "--out", out, "--no-map").code == 0
    decided = _decisions(out)
    assert (decided["stockholm-kista"], decided["motala"], decided["kiruna"]) == ("keep", "close", "flexible")
    close = ",".join(o for o, d in decided.items() if d == "close")
    flexible = ",".join(o for o, d in decided.items() if d == "flexible")
    flags = tmp_path / "flags"
    assert netopt_cli("evaluate", shipped_scenario, "--close", close, "--flexible", flexible, "--out", flags, "--no-map").code == 0
    assert _decisions(flags) == decided
    assert (flags / "plan.csv").read_bytes() == (out / "plan.csv").read_bytes()


def test_a_short_file_names_only_the_changes(netopt_cli, tmp_path):
    plan = write_csv_rows(tmp_path / "p.csv", ["office_id", "decision"], [["visby", "Flexible"], ["stockholm-kista", " close "]])
    out = tmp_path / "o"
    assert netopt_cli("evaluate", "--plan", plan, "--out", out, "--no-map").code == 0
    d = _decisions(out)
    assert d["visby"] == "flexible" and d["stockholm-kista"] == "close"
    assert {v for k, v in d.items() if k not in ("visby", "stockholm-kista")} == {"keep"}


def test_every_problem_is_named_with_line_and_fix(netopt_cli, tmp_path):
    plan = write_csv_rows(
        tmp_path / "bad.csv",
        ["office_id", "decision"],
        [["visby", "close"], ["no-such-office", "close"], ["visby", "keep"], ["kiruna", "demolish"], ["", "keep"], ["motala", "not opened"], ["Stockholm Kista", "close"]],
    )
    out = tmp_path / "o"
    res = netopt_cli("evaluate", "--plan", plan, "--out", out, "--no-map")
    assert res.code == 2, res.text
    err = res.err
    assert "Traceback" not in err
    assert f"{plan}, line 3, column 'office_id': unknown office (value 'no-such-office')" in err
    assert "line 4, column 'office_id': office listed twice (also line 2)" in err
    assert "line 5, column 'decision': unknown decision (value 'demolish'). Fix: write keep, flexible or close" in err
    assert "line 6, column 'office_id': office_id is empty" in err
    assert "line 7, column 'decision': 'not opened' is for candidate sites" in err
    assert "line 8, column 'office_id': unknown office (value 'Stockholm Kista'). Fix: did you mean 'stockholm-kista'?" in err
    assert "did you mean" not in next(line for line in err.splitlines() if "no-such-office" in line)
    assert "6 problems" in err
    assert not out.exists()


def test_missing_column_and_conflicting_options(netopt_cli, tmp_path):
    plan = write_csv_rows(tmp_path / "p.csv", ["office_id", "choice"], [["visby", "close"]])
    res = netopt_cli("evaluate", "--plan", plan, "--out", tmp_path / "o", "--no-map")
    assert res.code == 2 and "column 'decision': required column is missing" in res.err
    good = write_csv_rows(tmp_path / "g.csv", ["office_id", "decision"], [["visby", "close"]])
    res = netopt_cli("evaluate", "--plan", good, "--close", "kiruna", "--out", tmp_path / "o", "--no-map")
    assert res.code == 2 and "cannot be combined" in res.err
    res = netopt_cli("evaluate", "--plan", tmp_path / "missing.csv", "--out", tmp_path / "o", "--no-map")
    assert res.code == 2 and "file not found" in res.err
    assert not (tmp_path / "o").exists()


def test_a_candidate_site_can_be_opened(netopt_cli, tmp_path):
    cand = write_csv_rows(
        tmp_path / "cand.csv",
        ["office_id", "office_name", "municipality_code", "lat", "lon"],
        [["cand-karlstad", "Karlstad service point", "1780", "59.3793", "13.5036"]],
    )
    plan = write_csv_rows(tmp_path / "p.csv", ["office_id", "decision"], [["cand-karlstad", "open"]])
    out = tmp_path / "o"
    res = netopt_cli("evaluate", "--candidates", cand, "--plan", plan, "--out", out, "--no-map")
    assert res.code == 0, res.text
    assert _decisions(out)["cand-karlstad"] == "keep"
    assert _summary(out)["candidate_sites_opened"] == 1
    # the plan.csv of that run (candidate written as keep) reads back to the same plan
    again = tmp_path / "again"
    assert netopt_cli("evaluate", "--candidates", cand, "--plan", out / "plan.csv", "--out", again, "--no-map").code == 0
    assert (again / "plan.csv").read_bytes() == (out / "plan.csv").read_bytes()
    # and a plan that leaves it unopened says so with the word plan.csv uses
    shut = write_csv_rows(tmp_path / "s.csv", ["office_id", "decision"], [["cand-karlstad", "not opened"]])
    res = netopt_cli("evaluate", "--candidates", cand, "--plan", shut, "--out", tmp_path / "s", "--no-map")
    assert res.code == 0 and _decisions(tmp_path / "s")["cand-karlstad"] == "not opened"


@pytest.mark.parametrize("word", ["keep", "KEEP", "open"])
def test_decision_words(netopt_cli, tmp_path, word):
    plan = write_csv_rows(tmp_path / "p.csv", ["office_id", "decision"], [["visby", word]])
    out = tmp_path / "o"
    assert netopt_cli("evaluate", "--plan", plan, "--out", out, "--no-map").code == 0
    assert _decisions(out)["visby"] == "keep"


def test_help_names_the_option(netopt_cli):
    res = netopt_cli("evaluate", "--help")
    assert res.code == 0 and "--plan FILE" in res.out and "office_id, decision" in res.out
