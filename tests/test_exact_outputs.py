"""Every number a meeting sees is exact where it claims to be (issue 11).

Integers (objective, populations, inhabitant-metres) stay integers in every
file; only report.md and the map round for reading.
"""

from __future__ import annotations

import csv
import json

import netopt
from conftest import run_netopt

#: The optimum of the shipped 2027 scenario: inhabitant-metres (issue 11, fault 6).
OPTIMUM_2027 = 197_358_299_519


def _summary(folder):
    return json.loads((folder / "summary.json").read_text(encoding="utf-8"))


def _rows(path):
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_summary_json_keeps_the_objective_exact(shipped_solution, shipped_network, shipped_scenario):
    s = _summary(shipped_solution)
    assert s["objective"] == OPTIMUM_2027 and isinstance(s["objective"], int)
    assert s["stages"][-1]["objective"] == OPTIMUM_2027
    assert isinstance(s["population"], int) and s["population"] == 10_605_520
    # the same integer from the decisions alone (independent evaluator)
    decisions = {r["office_id"]: r["decision"] for r in _rows(shipped_solution / "plan.csv") if r["decision"] != "keep"}
    again = netopt.evaluate(shipped_network, decisions, netopt.load_scenario(shipped_scenario))
    assert int(again.objective) == s["objective"]
    report = (shipped_solution / "report.md").read_text(encoding="utf-8")
    assert "197 358 299 519" in report


def test_csv_writers_add_no_rounding(tmp_path, shipped_solution, fast_demand, shipped_scenario):
    """plan.csv, frontier.csv and compare.csv hold the values of their tables exactly."""
    rows = _rows(shipped_solution / "plan.csv")
    s = _summary(shipped_solution)
    by_id = {o["office_id"]: o for o in s["offices"]}
    for r in rows:  # the 0.1-rounded visits are the same numbers in both files
        assert float(r["visits_after"]) == by_id[r["office_id"]]["visits_after"]
    out = tmp_path / "frontier"
    res = run_netopt("sweep", shipped_scenario, "--cuts", "100", "--demand", fast_demand, "--out", out)
    assert res.code == 0, res.text
    (row,) = _rows(out / "frontier.csv")
    plan = netopt.solve(netopt.load_network(demand=fast_demand), netopt.load_scenario(shipped_scenario).with_(stages=(netopt.Stage(year=2027, cut_msek=100.0, flexible_allowance_msek=10.0),)))
    assert float(row["savings_msek"]) == plan.summary()["savings_msek"]  # not 10 significant digits
    assert float(row["population_mean_distance_km"]) == plan.summary()["population_mean_distance_km"]
