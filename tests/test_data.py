"""Loading and validating the network: the shipped data and a planner's files."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from netopt import DataError, load_network
from netopt.data import shipped_paths

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def shipped():
    return load_network()


def write_register(tmp_path, rows: list[dict], name="offices.csv") -> Path:
    path = tmp_path / name
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def base_rows(n=3):
    reg = pd.read_csv(shipped_paths()["offices"], dtype=str, keep_default_na=False)
    return reg.head(n).to_dict("records")


def problems_of(exc: DataError) -> list[tuple]:
    return [(p.row, p.column, p.message) for p in exc.problems]


def test_shipped_network_counts(shipped):
    s = shipped.summary()
    assert s["offices"] == 121
    assert s["municipalities"] == 290
    assert s["fa_regions"] == 60
    assert s["population"] == 10_605_520
    assert s["demand_population"] == 10_605_520
    # every FA-region has its known office (101 documented + 20 inferred)
    assert s["fa_regions_without_office"] == []


def test_demand_totals_equal_official_population_per_municipality(shipped):
    per = shipped.demand.groupby("municipality_code")["population"].sum()
    official = shipped.municipalities.set_index("municipality_code")["population"]
    assert (per.reindex(official.index).fillna(0).astype(int) == official).all()


def test_every_municipality_in_exactly_one_fa_region(shipped):
    m = shipped.municipalities
    assert m["municipality_code"].is_unique and m["fa_code"].notna().all()
    assert m["fa_code"].nunique() == 60


def test_fa_coverage_of_documented_offices_only(shipped):
    """Every inferred office rests on the 2019 FA-region rule: its FA-region has
    no documented office (14), or only documented offices opened in 2020 or
    later (6, from the 2026-11 research)."""
    off = shipped.offices
    documented = off[off["basis"] == "documented"]
    inferred = off[off["basis"] != "documented"]
    assert inferred["basis"].str.startswith("inferred: in 2019 the government stated").all()
    inferred_only = sorted(set(shipped.fa_regions["fa_code"]) - set(documented["fa_code"]))
    assert len(inferred_only) == 14
    assert set(inferred_only) <= set(inferred["fa_code"])
    young = set(inferred["fa_code"]) - set(inferred_only)
    assert sorted(young) == ["02", "06", "09", "14", "16", "41"]
    for fa in young:
        years = documented.loc[documented["fa_code"] == fa, "opened_year"]
        assert all(y == "" or int(y) >= 2020 for y in years), fa


def test_duplicate_id_unknown_municipality_and_norway_reported_together(tmp_path):
    rows = base_rows(4)
    rows[1]["office_id"] = rows[0]["office_id"]  # duplicate, line 3
    rows[2]["municipality_code"] = "9999"  # unknown, line 4
    rows[3]["lat"], rows[3]["lon"] = "68.43826", "17.42724"  # Narvik, Norway, line 5
    with pytest.raises(DataError) as e:
        load_network(write_register(tmp_path, rows))
    got = problems_of(e.value)
    assert (3, "office_id", "duplicate office_id (also on line 2)") in got
    assert any(r == 4 and c == "municipality_code" for r, c, _ in got)
    assert any(r == 5 and "outside Sweden" in m for r, _, m in got)
    text = str(e.value)
    assert "Fix:" in text and "offices.csv" in text


def test_swapped_coordinates_are_named(tmp_path):
    rows = base_rows(1)
    rows[0]["lat"], rows[0]["lon"] = rows[0]["lon"], rows[0]["lat"]
    with pytest.raises(DataError) as e:
        load_network(write_register(tmp_path, rows))
    assert "swapped" in str(e.value)


def test_coordinate_far_outside_its_municipality(tmp_path):
    rows = base_rows(1)  # Kista, Stockholm: move it to Göteborg
    rows[0]["lat"], rows[0]["lon"] = "57.70887", "11.97456"
    with pytest.raises(DataError) as e:
        load_network(write_register(tmp_path, rows))
    assert "outside municipality 0180" in str(e.value)


def test_missing_columns_empty_and_non_utf8_files(tmp_path):
    p = tmp_path / "a.csv"
    p.write_text("office_id,office_name\nx,y\n", encoding="utf-8")
    with pytest.raises(DataError) as e:
        load_network(p)
    assert {pr.column for pr in e.value.problems} >= {"municipality_code", "lat", "lon"}
    p.write_text("", encoding="utf-8")
    with pytest.raises(DataError, match="empty"):
        load_network(p)
    # neither UTF-8 nor Windows-1252 text (0x81 is undefined there): named, with the fix
    p.write_bytes(b"office_id,office_name,municipality_code,lat,lon\nv,V\x81xj\xf6,0780,56.88,14.81\n")
    with pytest.raises(DataError, match="neither UTF-8") as e:
        load_network(p)
    assert "line 2" in str(e.value) and "0x81" in str(e.value) and "CSV UTF-8" in str(e.value) and "b'" not in str(e.value)


def test_negative_and_non_numeric_volumes(tmp_path):
    rows = base_rows(3)
    rows[0]["visits"] = "-5"
    rows[1]["visits"] = "many"
    rows[2]["cost_msek"] = "inf"
    with pytest.raises(DataError) as e:
        load_network(write_register(tmp_path, rows))
    got = problems_of(e.value)
    assert (2, "visits", "visits is negative") in got
    assert (3, "visits", "visits is not a finite number") in got
    assert (4, "cost_msek", "cost_msek is not a finite number") in got


def test_semicolon_and_decimal_comma_from_a_spreadsheet(tmp_path):
    rows = base_rows(2)
    frame = pd.DataFrame(rows)
    frame["lat"] = frame["lat"].str.replace(".", ",", regex=False)
    frame["lon"] = frame["lon"].str.replace(".", ",", regex=False)
    frame["municipality_code"] = frame["municipality_code"].str.lstrip("0")  # '0180' → '180'
    p = tmp_path / "excel.csv"
    p.write_bytes(b"\xef\xbb\xbf" + frame.to_csv(index=False, sep=";").encode("utf-8"))
    net = load_network(p)
    assert len(net.offices) == 2 and set(net.offices["municipality_code"]) == {"0180"}


def test_planner_fa_division_replaces_fa2015(tmp_path):
    muni = pd.read_csv(shipped_paths()["municipalities"], dtype=str)
    div = pd.DataFrame({"municipality_code": muni["municipality_code"], "fa_code": "L" + muni["county_code"], "fa_name": muni["county"]})
    p = tmp_path / "counties.csv"
    div.to_csv(p, index=False)
    net = load_network(division=p)
    assert len(net.fa_regions) == 21 and net.division_name == "counties"


def test_bad_division_file_is_rejected(tmp_path):
    muni = pd.read_csv(shipped_paths()["municipalities"], dtype=str)
    div = pd.DataFrame({"municipality_code": muni["municipality_code"], "fa_code": "1", "fa_name": "One"})
    div = pd.concat([div.iloc[1:], div.iloc[[5]]])  # first municipality missing, one twice
    div.loc[div.index[-2], "fa_name"] = "Other name"
    p = tmp_path / "div.csv"
    div.to_csv(p, index=False)
    with pytest.raises(DataError) as e:
        load_network(division=p)
    msgs = " | ".join(p.message for p in e.value.problems)
    assert "missing from the FA division" in msgs and "listed twice" in msgs and "another name" in msgs


def test_planner_population_rescales_demand_exactly(tmp_path):
    pop = pd.read_csv(shipped_paths()["population"], dtype=str)
    pop["population"] = (pop["population"].astype(int) * 2).astype(str)
    p = tmp_path / "pop.csv"
    pop.to_csv(p, index=False)
    net = load_network(population=p)
    assert net.population == 2 * 10_605_520
    assert net.summary()["population"] == 2 * 10_605_520


def test_windows_1252_register_from_swedish_excel_is_read(tmp_path):
    """What Swedish Excel writes as "CSV (semikolonavgränsad)": Windows-1252, semicolons,
    decimal commas, a no-break space as thousands separator."""
    p = tmp_path / "excel.csv"
    p.write_bytes(
        "office_id;office_name;municipality_code;lat;lon;visits\n"
        "vaxjo;Växjö – Storgatan;0780;56,87767;14,80906;12\u00a0500\n"
        "goteborg;Göteborg Nordstan;1480;57,7089;11,9746;\n".encode("cp1252")
    )
    net = load_network(p)
    off = net.offices.set_index("office_id")
    assert off.loc["vaxjo", "office_name"] == "Växjö – Storgatan"
    assert off.loc["goteborg", "municipality"] == "Göteborg"
    assert off.loc["vaxjo", "visits_given"] == 12_500


@pytest.mark.parametrize(
    "value, problem",
    [
        ("1.234", "visits 1.234 looks like 1 234 with a thousands separator"),
        ("1,234", "visits 1,234 looks like 1 234 with a thousands separator"),
        ("12.345.678", "looks like 12 345 678 with a thousands separator"),
        ("1234.5", "not a whole number"),
        ("2500000", "implausibly large"),
    ],
)
def test_implausible_visits_are_flagged(tmp_path, value, problem):
    rows = base_rows(2)
    rows[0]["visits"] = value
    rows[1]["visits"] = "1 234"  # a space is Swedish for thousands: 1234, accepted
    with pytest.raises(DataError) as e:
        load_network(write_register(tmp_path, rows))
    (p,) = e.value.problems
    assert p.row == 2 and p.column == "visits" and problem in p.message and p.value == value


def test_visits_with_spaces_and_cost_in_the_wrong_unit(tmp_path):
    rows = base_rows(2)
    rows[0]["visits"] = "1 234"
    net = load_network(write_register(tmp_path, rows))
    assert net.offices.set_index("office_id").loc[rows[0]["office_id"], "visits_given"] == 1234
    rows[1]["cost_msek"] = "2500"  # thousands of SEK, not MSEK
    with pytest.raises(DataError) as e:
        load_network(write_register(tmp_path, rows))
    assert "implausibly large" in str(e.value) and "million SEK" in str(e.value)


def test_office_named_by_its_name_gets_a_suggestion(shipped):
    from netopt import Scenario, ScenarioError, evaluate, solve

    with pytest.raises(ScenarioError) as e:
        evaluate(shipped, {"Stockholm Kista": "close", "BODEN": "flexible"}, Scenario(name="t"))
    assert "'Stockholm Kista' names an office that is not in the register. Fix: did you mean 'stockholm-kista'?" in str(e.value)
    assert "'BODEN' names an office that is not in the register. Fix: did you mean 'boden'?" in str(e.value)
    with pytest.raises(ScenarioError) as e:
        solve(shipped, Scenario(name="t").with_(lock_open=("Kiruna",), lock_closed=("stockholm_kista", "atlantis")))
    # every unknown ID at once, each with its suggestion (none for a name like no office's)
    assert len(e.value.problems) == 3
    assert "'constraints.lock_open' = 'Kiruna' names an office that is not in the register. Fix: did you mean 'kiruna'?" in str(e.value)
    assert "'constraints.lock_closed' = 'stockholm_kista' names an office that is not in the register. Fix: did you mean 'stockholm-kista'?" in str(e.value)
    assert "'constraints.lock_closed' = 'atlantis' names an office that is not in the register. Fix: use office_id" in str(e.value)
