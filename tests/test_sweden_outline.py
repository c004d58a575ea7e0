"""Places in Sweden are accepted, places abroad are not (issue 11, fault 5).

The municipality outlines are generalised: they miss islands and cut coasts,
so Styrsö (Göteborg's southern archipelago, 1 480 inhabitants) was rejected as
"outside Sweden" although netopt's own demand points stand there.
"""

from __future__ import annotations

import pandas as pd
import pytest

from netopt import DataError, load_network
from netopt import io as nio
from netopt.data import shipped_paths, validate_offices

STYRSO = {"office_id": "styrso", "office_name": "Styrsö servicepunkt", "municipality_code": "1480", "lat": "57.61639", "lon": "11.78556"}


@pytest.fixture(scope="module")
def municipalities():
    return nio.read_table(shipped_paths()["municipalities"])


def test_every_demand_point_passes_the_office_coordinate_check(municipalities):
    """All 4 081 shipped demand points (every inhabited place of 500+, the rest on
    a 15 km grid) as office sites: no problem at all."""
    dem = nio.read_table(shipped_paths()["demand"])
    frame = pd.DataFrame({
        "office_id": dem["point_id"].str.lower(), "office_name": dem["name"].where(dem["name"] != "", dem["point_id"]),
        "municipality_code": dem["municipality_code"], "lat": dem["lat"], "lon": dem["lon"],
    })
    _, problems = validate_offices(frame, "demand_points.csv", municipalities)
    assert problems == []


def test_styrso_as_office_and_as_candidate_site(tmp_path):
    reg = pd.read_csv(shipped_paths()["offices"], dtype=str, keep_default_na=False)
    p = tmp_path / "offices.csv"
    pd.concat([reg, pd.DataFrame([STYRSO])]).fillna("").to_csv(p, index=False)
    assert "styrso" in set(load_network(p).offices["office_id"])
    c = tmp_path / "candidates.csv"
    pd.DataFrame([{**STYRSO, "office_id": "cand-styrso"}]).to_csv(c, index=False)
    net = load_network(candidates=c)
    assert not net.offices.set_index("office_id").loc["cand-styrso", "existing"]


@pytest.mark.parametrize(
    "place, lat, lon, code, side",
    [
        ("Oslo", "59.91", "10.75", "1486", "border"),
        ("Narvik", "68.44", "17.43", "2584", "border"),
        ("Kongsvinger", "60.19", "12.00", "1737", "border"),
        ("Trondheim", "63.43", "10.39", "2321", "border"),
        ("Kemi", "65.74", "24.56", "2583", "border"),
        ("Rovaniemi", "66.50", "25.73", "2583", "border"),
        ("Mariehamn, Åland", "60.10", "19.94", "0188", "sea"),
        ("Copenhagen", "55.68", "12.57", "1280", "sea"),
        ("the Baltic east of Gotland", "57.0", "19.5", "0980", "sea"),
        ("the middle of the Kattegat", "57.0", "11.5", "1380", "sea"),
        ("the Bothnian Sea", "62.5", "19.5", "2281", "sea"),
    ],
)
def test_places_abroad_and_at_sea_are_rejected(municipalities, place, lat, lon, code, side):
    frame = pd.DataFrame([{"office_id": "x", "office_name": place, "municipality_code": code, "lat": lat, "lon": lon}])
    _, problems = validate_offices(frame, "offices.csv", municipalities)
    (p,) = problems
    assert "outside Sweden" in p.message, p
    if "lat 55.0–69.2" not in p.message:  # inside Sweden's bounding box: the outline decides
        assert ("border with Norway or Finland" if side == "border" else "off the coast") in p.message


@pytest.mark.parametrize(
    "place, lat, lon, code",
    [
        ("Holmön", "63.80", "20.87", "2480"), ("Sydkoster", "58.86", "11.02", "1486"), ("Landsort", "58.74", "17.87", "0192"),
        ("Ven", "55.91", "12.69", "1282"), ("Seskarö", "65.73", "23.75", "2583"), ("Ulvön", "63.03", "18.65", "2284"),
        ("Haparanda", "65.8355", "24.1366", "2583"), ("Riksgränsen", "68.4267", "18.1267", "2584"),
    ],
)
def test_islands_and_border_towns_are_accepted(municipalities, place, lat, lon, code):
    frame = pd.DataFrame([{"office_id": "x", "office_name": place, "municipality_code": code, "lat": lat, "lon": lon}])
    _, problems = validate_offices(frame, "offices.csv", municipalities)
    assert problems == []


def test_a_place_in_the_wrong_municipality_is_still_named(tmp_path):
    """Styrsö said to be in Stockholm: not the outline's fault, a wrong code."""
    p = tmp_path / "offices.csv"
    pd.DataFrame([{**STYRSO, "municipality_code": "0180"}]).to_csv(p, index=False)
    with pytest.raises(DataError, match="outside municipality 0180"):
        load_network(p)


def test_demand_points_abroad_are_rejected(tmp_path, fast_demand):
    """The same rule holds for a planner's demand points: Kemi (Finland) is in the bounding box."""
    text = fast_demand.read_text(encoding="utf-8").splitlines()
    p = tmp_path / "demand.csv"
    p.write_text("\n".join(text + ["kemi,2583,65.74,24.56,100"]) + "\n", encoding="utf-8")
    with pytest.raises(DataError) as e:
        load_network(demand=p)
    (problem,) = e.value.problems
    assert problem.row == len(text) + 1 and "outside Sweden" in problem.message


# --------------------------------------------------------------------------- beyond a land border, within the tolerance


def _with_office_at(tmp_path, office_id, lat, lon):
    reg = pd.read_csv(shipped_paths()["offices"], dtype=str, keep_default_na=False)
    k = int(reg.index[reg["office_id"] == office_id][0])
    reg.loc[k, "lat"], reg.loc[k, "lon"] = lat, lon
    p = tmp_path / "offices.csv"
    reg.to_csv(p, index=False)
    return p, k + 2  # the line a spreadsheet shows (header = line 1)


@pytest.mark.parametrize("office_id, place, lat, lon", [("stromstad", "Halden", "59.1229", "11.3875"), ("haparanda", "Tornio", "65.8481", "24.1467")])
def test_a_town_across_the_border_is_accepted_with_a_warning(tmp_path, office_id, place, lat, lon):
    from netopt.data import border_warnings

    path, line = _with_office_at(tmp_path, office_id, lat, lon)
    net = load_network(path)  # accepted: inside the 5 km kept for border towns
    (w,) = net.warnings
    assert (w.file, w.row, w.column) == (str(path), line, "lat")
    assert "beyond Sweden's land border with Norway or Finland" in w.message and w.fix.startswith("check the coordinate")
    text = str(w)
    assert f"line {line}, column 'lat'" in text and "Fix:" in text
    # the same rule for candidate sites and demand points
    frame = pd.DataFrame({"lat": [float(lat)], "lon": [float(lon)]}, index=[3])
    (d,) = border_warnings(frame, "demand.csv", "demand point")
    assert d.row == 5 and "demand point" in d.message


def test_validate_lists_the_warning_and_solve_prints_it(netopt_cli, tmp_path):
    import json

    path, line = _with_office_at(tmp_path, "stromstad", "59.1229", "11.3875")
    res = netopt_cli("validate", "--offices", path)
    assert res.code == 0
    assert f"Warning: {path}, line {line}, column 'lat': the office lies 2.1 km beyond Sweden's land border" in res.out
    js = json.loads(netopt_cli("validate", "--offices", path, "--json").out)
    assert [(w["row"], w["column"]) for w in js["warnings"]] == [(line, "lat")]
    res = netopt_cli("calibrate", "--offices", path)
    assert res.code == 0 and f"netopt: warning: {path}, line {line}, column 'lat'" in res.err


def test_shipped_data_and_real_border_towns_draw_no_warning(netopt_cli, tmp_path):
    from netopt.data import border_warnings

    assert load_network().warnings == ()
    assert "Warning" not in netopt_cli("validate").out
    towns = pd.DataFrame(
        [("Haparanda", 65.8355, 24.1366), ("Strömstad", 58.9395, 11.1712), ("Charlottenberg", 59.8833, 12.2833), ("Riksgränsen", 68.4264, 18.1281),
         ("Karesuando", 68.4431, 22.4828), ("Storlien", 63.3167, 12.1000), ("Övertorneå", 66.3900, 23.6547), ("Pajala", 67.2129, 23.3680)],
        columns=["name", "lat", "lon"])
    assert border_warnings(towns, "towns.csv", "office") == []
    # the real Haparanda and Strömstad offices as given in the register
    reg = load_network().offices.set_index("office_id")
    assert border_warnings(reg.loc[["haparanda", "stromstad"]].reset_index(), "offices.csv", "office") == []
