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
