"""Every number a meeting sees is exact where it claims to be (issue 11).

Integers (objective, populations, inhabitant-metres) stay integers in every
file; only report.md and the map round for reading.
"""

from __future__ import annotations

import csv
import json

import pytest

import netopt
from conftest import REGISTER_115, run_netopt

#: The optimum of the 2027 scenario on the 115-office register: inhabitant-metres (issue 11, fault 6).
OPTIMUM_2027 = 197_358_299_519


def _summary(folder):
    return json.loads((folder / "summary.json").read_text(encoding="utf-8"))


def _rows(path):
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def solution_115(tmp_path_factory, shipped_scenario):
    """The 2027 scenario solved on the 115-office register the issue's figures were measured on
    (as the scenario was then: without the receiving-growth assumption max_growth)."""
    folder = tmp_path_factory.mktemp("exact")
    scenario = folder / "cut-2027.toml"
    text = shipped_scenario.read_text(encoding="utf-8")
    assert "\nmax_growth = 1.0\n" in text
    scenario.write_text(text.replace("\nmax_growth = 1.0\n", "\n"), encoding="utf-8")
    out = folder / "cut-2027-115"
    res = run_netopt("solve", scenario, "--offices", REGISTER_115, "--out", out, "--no-map")
    assert res.code == 0, res.text
    return out


def test_summary_json_keeps_the_objective_exact(solution_115, shipped_scenario):
    s = _summary(solution_115)
    assert s["objective"] == OPTIMUM_2027 and isinstance(s["objective"], int)
    assert s["stages"][-1]["objective"] == OPTIMUM_2027
    assert isinstance(s["population"], int) and s["population"] == 10_605_520
    # the same integer from the decisions alone (independent evaluator)
    decisions = {r["office_id"]: r["decision"] for r in _rows(solution_115 / "plan.csv") if r["decision"] != "keep"}
    again = netopt.evaluate(netopt.load_network(REGISTER_115), decisions, netopt.load_scenario(shipped_scenario))
    assert int(again.objective) == s["objective"]
    report = (solution_115 / "report.md").read_text(encoding="utf-8")
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


# --------------------------------------------------------------------------- receiving offices (fault 3)


def test_office_with_zero_visits_sends_its_visitors_to_the_nearest_open_office(tmp_path, shipped_offices):
    """Kiruna with 0 register visits, closed: its inhabitants go to Gällivare, 107.3 km
    (straight line × 1.3), not to office index 0 (Älmhult, 1 686 km)."""
    header, rows = shipped_offices
    reg = tmp_path / "offices.csv"
    with open(reg, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header + ["visits"])
        w.writerows(r + (["0"] if r[0] == "kiruna" else [""]) for r in rows)
    plan = netopt.evaluate(netopt.load_network(reg), {"kiruna": "close"}, netopt.Scenario(name="t"))
    t = plan.office_table().set_index("office_id")
    assert t.loc["kiruna", "visits_before"] == 0
    assert t.loc["kiruna", "receiver_id"] == "gallivare"
    assert t.loc["kiruna", "receiver_distance_km"] == 107.3


def test_no_closed_office_receives_visitors_even_when_nobody_lives_there():
    """All demand weighs nothing: the receiver is the nearest open office, never a
    closed one and never the office itself (argmax of zeros picked index 0)."""
    import numpy as np

    from netopt.metrics import CLOSED, KEPT, evaluate_stage
    from test_model import make_instance

    inst = make_instance([0, 10_000, 30_000, 60_000], [0, 0, 0, 0], [1_000, 29_000, 59_000], [0, 0, 0], [0, 0, 0])
    r = evaluate_stage(inst, np.array([CLOSED, CLOSED, KEPT, KEPT]), 0)
    assert list(r.receiver) == [2, 2, -1, -1]  # office 0 is 30 km from office 2, office 1 is 20 km
    assert list(r.receiver_dist_m) == [30_000, 20_000, -1, -1]


# --------------------------------------------------------------------------- one distance source (fault 7)


def test_receiver_distance_comes_from_the_planners_matrix(tmp_path):
    """With --distances the distance to the receiving office is the matrix distance
    from the demand point nearest the closed office, not straight line × detour."""
    import numpy as np
    import pandas as pd

    from netopt.geometry import distance_m

    base = netopt.load_network()
    d = base.demand.sort_values("population", ascending=False).drop_duplicates("municipality_code").sort_values("point_id")
    demand = tmp_path / "demand.csv"
    d[["point_id", "municipality_code", "lat", "lon", "population"]].to_csv(demand, index=False)
    off = base.offices
    # road distances: 1.5 × straight line + 3 km (so no detour factor reproduces them)
    m = distance_m(d["x_m"].to_numpy()[:, None], d["y_m"].to_numpy()[:, None], off["x_m"].to_numpy()[None, :], off["y_m"].to_numpy()[None, :], 1.5) + 3000
    long = pd.DataFrame({"point_id": np.repeat(d["point_id"].to_numpy(), len(off)), "office_id": np.tile(off["office_id"].to_numpy(), len(d)), "distance_km": (m / 1000.0).ravel()})
    matrix = tmp_path / "distances.csv"
    long.to_csv(matrix, index=False)
    out = tmp_path / "out"
    res = run_netopt("evaluate", "--close", "stockholm-kista,kiruna", "--demand", demand, "--distances", matrix, "--out", out, "--no-map")
    assert res.code == 0, res.text
    rows = {r["office_id"]: r for r in _rows(out / "plan.csv")}
    pts = d.reset_index(drop=True)
    for oid in ("stockholm-kista", "kiruna"):
        o = off.set_index("office_id").loc[oid]
        j = int(np.argmin(np.hypot(pts["x_m"] - o["x_m"], pts["y_m"] - o["y_m"])))
        receiver = rows[oid]["receiver_id"]
        want = m[j, off.index[off["office_id"] == receiver][0]] / 1000.0
        assert float(rows[oid]["receiver_distance_km"]) == round(want, 1), oid
    assert rows["kiruna"]["receiver_id"] == "gallivare"
    s = _summary(out)
    assert s["distances"]["source"] == "matrix" and s["distances"]["matrix"].endswith("distances.csv")
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "from the planner's matrix" in report
