"""Areas with high social exclusion: the shipped list, a planner's list, and what a plan does to them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from netopt import DataError, Scenario, evaluate, load_network
from netopt.areas import NEARBY_KM, areas_summary, areas_table, load_areas, relate_areas


@pytest.fixture(scope="module")
def network():
    return load_network()


@pytest.fixture(scope="module")
def police(network):
    return load_areas(municipalities=network.municipalities)


def test_shipped_list_is_the_police_list_of_2025(police):
    assert len(police) == 65
    assert police["category"].value_counts().to_dict() == {"utsatt": 46, "särskilt utsatt": 19}
    assert (police["radius_m"] == np.sqrt(police["area_m2"] / np.pi)).all()
    assert police["municipality_code"].str.fullmatch(r"\d{4}").all()


def test_each_area_has_demand_points_and_no_one_is_counted_twice(police, network):
    rel = relate_areas(police, network.demand)
    w = network.demand["population"].to_numpy(float)
    assert all(len(js) >= 1 for js in rel.points)
    union = np.unique(np.concatenate(rel.points))
    assert rel.population_estimate.sum() == pytest.approx(w[union].sum())
    # points within the equivalent radius, else the nearest one
    dx, dy = network.demand["x_m"].to_numpy(), network.demand["y_m"].to_numpy()
    for k, js in enumerate(rel.points):
        a = police.iloc[k]
        d = np.hypot(dx - a.x_m, dy - a.y_m)
        expected = np.flatnonzero(d <= a.radius_m)
        assert list(js) == (list(expected) if expected.size else [int(np.argmin(d))])


def test_closing_an_office_in_an_area_is_reported_with_it(network, police):
    plan = evaluate(network, {"stockholm-rinkeby": "close"}, Scenario(name="t"))
    t = areas_table(plan).set_index("area_name")
    rinkeby = t.loc["Rinkeby"]
    assert rinkeby["nearest_office_before"] == "Stockholm Rinkeby" and rinkeby["nearest_office_after"] != "Stockholm Rinkeby"
    assert rinkeby["distance_km_after"] > rinkeby["distance_km_before"] and rinkeby["distance_grows"]
    assert "Stockholm Rinkeby (closed)" in rinkeby["offices_closed_nearby"]
    # the distances are the optimiser's: the area's point's distance, recomputed here
    rel = relate_areas(police, network.demand)
    k = list(police["area_name"]).index("Rinkeby")
    js, wj = rel.points[k], rel.weights[k]
    assert rinkeby["distance_km_after"] == pytest.approx(np.average(plan.final.dist_m[js], weights=wj) / 1000)
    # areas far away are unchanged
    assert not t.loc["Rosengård", "distance_grows"] and t.loc["Rosengård", "offices_closed_nearby"] == ""
    s = areas_summary(t.reset_index())
    assert s["population_farther"] == pytest.approx(t.loc[t["distance_grows"], "population_estimate"].sum())
    assert s["areas_farther"] == int(t["distance_grows"].sum()) >= 1


def test_offices_closed_nearby_use_the_stated_distance(network, police):
    plan = evaluate(network, {"malmo-rosengard": "flexible"}, Scenario(name="t"))
    t = areas_table(plan).set_index("area_name")
    assert "Malmö Rosengård (flexible)" in t.loc["Rosengård", "offices_closed_nearby"]
    inst = plan.prepared.instance
    i = list(inst.office_ids).index("malmo-rosengard")
    rel = relate_areas(police, network.demand)
    for k, js in enumerate(rel.points):
        d = np.rint(np.hypot(inst.dx[js] - inst.ox[i], inst.dy[js] - inst.oy[i]) * inst.detour).min()
        listed = "Malmö Rosengård" in t.iloc[k]["offices_closed_nearby"]
        assert listed == (d <= NEARBY_KM * 1000), police.iloc[k]["area_name"]


def test_a_planner_list_is_validated_with_file_line_column_and_fix(tmp_path, network):
    p = tmp_path / "areas.csv"
    pd.DataFrame([
        {"area_name": "Husby", "municipality_code": "180", "lat": "59.40866", "lon": "17.92669", "area_m2": "926258"},
        {"area_name": "", "municipality_code": "9999", "lat": "17.9", "lon": "59.4", "area_m2": "0"},
        {"area_name": "Husby", "municipality_code": "0180", "lat": "59,40866", "lon": "17,92669", "area_m2": "x"},
    ]).to_csv(p, index=False)
    with pytest.raises(DataError) as e:
        load_areas(p, network.municipalities)
    got = {(pr.row, pr.column) for pr in e.value.problems}
    assert got == {(3, "area_name"), (3, "municipality_code"), (3, "lat"), (3, "area_m2"), (4, "area_name"), (4, "area_m2")}
    assert all(pr.file == str(p) and pr.fix for pr in e.value.problems)


def test_cli_areas_option_and_report_section(tmp_path, netopt_cli):
    p = tmp_path / "areas.csv"
    pd.DataFrame([{"area_name": "Husby", "municipality_code": "0180", "lat": "59.40866", "lon": "17.92669", "area_m2": "926258", "category": "own"}]).to_csv(p, index=False)
    out = tmp_path / "o"
    res = netopt_cli("evaluate", "--close", "stockholm-kista", "--areas", p, "--out", out, "--no-map")
    assert res.code == 0, res.text
    report = (out / "report.md").read_text(encoding="utf-8")
    section = report.split("## Areas with high social exclusion")[1].split("\n## ")[0]
    assert "1 area (the list given with --areas" in section and "| Husby | own |" in section
    assert report.index("## Urban and rural FA-regions") < report.index("## Areas with high social exclusion")
    res = netopt_cli("validate", "--json", "--areas", p)
    assert res.code == 0 and '"areas": 1' in res.out
    p.write_text("area_name,municipality_code,lat,lon\nHusby,0180,59.4,17.9\n", encoding="utf-8")
    res = netopt_cli("evaluate", "--close", "stockholm-kista", "--areas", p, "--out", tmp_path / "o2", "--no-map")
    assert res.code == 2 and "area_m2" in res.err and not (tmp_path / "o2").exists()
