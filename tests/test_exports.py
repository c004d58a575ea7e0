"""plan.xlsx and plan.gpkg, opened by the libraries that wrote them; plan.csv's coordinates (issue 14, item 6)."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import sqlite3

import geopandas as gpd
import openpyxl
import pandas as pd
import pyogrio
import pytest

import netopt
from netopt.exports import plan_gpkg_layers, plan_xlsx
from netopt.i18n import texts
from netopt.tables import plan_tables


@pytest.fixture(scope="module")
def hand_plan(tmp_path_factory, fast_demand):
    plan = netopt.evaluate(netopt.load_network(demand=fast_demand), {"stockholm-kista": "close", "stockholm-odenplan": "close", "kiruna": "close", "visby": "flexible"}, netopt.Scenario(name="hand"))
    out = netopt.write_outputs(plan, tmp_path_factory.mktemp("x") / "out", with_map=False)
    return plan, out


def test_plan_xlsx_sheets_hold_numbers_as_numbers(hand_plan):
    plan, out = hand_plan
    t = plan_tables(plan)
    sheets = pd.read_excel(out / "plan.xlsx", sheet_name=None, engine="openpyxl", dtype={"office_id": str, "Municipality code": str, "FA code": str})
    assert list(sheets) == ["Summary", "Stages", "Offices", "FA-regions", "Municipalities", "Receiving offices"]
    offices = sheets["Offices"]
    assert len(offices) == len(t.offices) and offices["office_id"].tolist() == t.offices["office_id"].tolist()
    assert offices["Visits per year after"].tolist() == t.offices["visits_after"].tolist()  # exact, as numbers
    assert offices["Municipality code"].iloc[0] == t.offices["municipality_code"].iloc[0]  # "0114" stays text
    assert set(offices.loc[offices["office_id"] == "kiruna", "Decision"]) == {"close"}
    summary = dict(zip(sheets["Summary"]["Measure"], sheets["Summary"]["Value"]))
    s = t.summary
    # openpyxl writes 16 significant digits (Excel keeps 15): exact to that precision
    assert summary["Saving"] == pytest.approx(s["savings_msek"], rel=1e-15, abs=0) and summary["Budget cut (target)"] == s["cut_msek"]
    assert summary["Cut met"] == s["meets_budget"] and summary["Closed"] == 3
    assert len(sheets["FA-regions"]) == len(t.fa_regions) and len(sheets["Municipalities"]) == len(t.municipalities)
    receiving = sheets["Receiving offices"]
    assert receiving["office_id"].tolist() == t.receiving["office_id"].tolist()
    assert receiving["Growth in visits"].tolist() == pytest.approx(t.receiving["growth"].tolist())
    # the cells are typed: numbers are numbers, shares are formatted as percentages
    wb = openpyxl.load_workbook(out / "plan.xlsx")
    ws = wb["Offices"]
    header = [c.value for c in ws[1]]
    visits = ws.cell(row=2, column=header.index("Visits per year after") + 1)
    assert visits.data_type == "n" and isinstance(visits.value, (int, float))
    assert ws.cell(row=2, column=header.index("Municipality code") + 1).data_type == "s"
    assert wb["Receiving offices"].cell(row=2, column=7).number_format == "0.0%"
    assert wb.properties.created.year == 2000 and wb.properties.modified.year == 2000
    # a share reads as a share, not a head count: its unit cell says so and the value shows in per cent
    rows = {r[0].value: r for r in wb["Summary"].iter_rows(min_row=2)}
    for label in ("Share of the population within 30 km, before", "Share of the population within 30 km, after"):
        assert rows[label][2].value == "share (shown in %)" and rows[label][1].number_format.endswith("%"), label


def test_plan_xlsx_is_deterministic_and_swedish(hand_plan):
    plan, _ = hand_plan
    t = plan_tables(plan)
    assert plan_xlsx(t) == plan_xlsx(t)
    sv = pd.read_excel(__import__("io").BytesIO(plan_xlsx(t, texts("sv"))), sheet_name=None, engine="openpyxl")
    assert list(sv) == ["Sammanfattning", "Steg", "Servicekontor", "FA-regioner", "Kommuner", "Mottagande kontor"]
    assert set(sv["Servicekontor"]["Beslut"]) == {"behålls", "stängs", "flexibelt"}
    assert "Besparingskrav" in set(sv["Sammanfattning"]["Mått"])


def test_plan_gpkg_layers(hand_plan):
    plan, out = hand_plan
    t = plan_tables(plan)
    layers = pyogrio.list_layers(out / "plan.gpkg")
    assert [tuple(x) for x in layers] == [("offices", "Point"), ("fa_regions", "MultiPolygon"), ("closures", "LineString")]
    offices = gpd.read_file(out / "plan.gpkg", layer="offices", engine="pyogrio")
    assert offices.crs.to_epsg() == 3006 and len(offices) == len(t.offices)
    kiruna = offices.set_index("office_id").loc["kiruna"]
    assert kiruna["decision"] == "close" and kiruna["receiver_id"] == "gallivare"
    lat, lon = t.offices.set_index("office_id").loc["kiruna", ["lat", "lon"]]
    back = gpd.GeoSeries([kiruna.geometry], crs=3006).to_crs(4326).iloc[0]
    assert back.y == pytest.approx(lat, abs=1e-7) and back.x == pytest.approx(lon, abs=1e-7)
    regions = gpd.read_file(out / "plan.gpkg", layer="fa_regions", engine="pyogrio")
    assert len(regions) == 60 and regions.crs.to_epsg() == 3006
    fa = t.fa_regions.set_index("fa_code")
    r = regions.set_index("fa_code")
    assert (r["mean_distance_km_after"] - fa.loc[r.index, "mean_distance_km_after"]).abs().max() == 0
    assert set(r["coverage"]) <= {"served", "lost", "never"} and (r["coverage"] == "lost").sum() == (t.fa_regions["coverage"] == "lost").sum() >= 1
    lines = gpd.read_file(out / "plan.gpkg", layer="closures", engine="pyogrio")
    assert sorted(lines["office_id"]) == ["kiruna", "stockholm-kista", "stockholm-odenplan"]
    # a line runs from the closed office to its receiver, about as long as the straight line
    k = lines.set_index("office_id").loc["kiruna"]
    assert k["receiver_id"] == "gallivare" and k.geometry.length / 1000 * 1.3 == pytest.approx(k["receiver_distance_km"], abs=0.1)
    con = sqlite3.connect(out / "plan.gpkg")
    rows = con.execute("select table_name, identifier, last_change from gpkg_contents order by table_name").fetchall()
    con.close()
    assert rows == [("closures", "Closed office to receiving office", "2000-01-01T00:00:00.000Z"), ("fa_regions", "FA-regions", "2000-01-01T00:00:00.000Z"), ("offices", "Offices", "2000-01-01T00:00:00.000Z")]
    sv = plan_gpkg_layers(t, texts("sv"))
    assert sv["offices"][1]["IDENTIFIER"] == "Servicekontor" and list(sv["offices"][0].columns) == list(plan_gpkg_layers(t)["offices"][0].columns)


def test_outputs_are_byte_identical_on_rerun(hand_plan, tmp_path):
    plan, out = hand_plan
    again = netopt.write_outputs(plan, tmp_path / "again", with_map=False)
    for name in ("plan.csv", "plan.xlsx", "plan.gpkg"):
        assert (again / name).read_bytes() == (out / name).read_bytes(), name


def test_plan_csv_has_coordinates(hand_plan):
    plan, out = hand_plan
    with open(out / "plan.csv", encoding="utf-8", newline="") as fh:
        rows = {r["office_id"]: r for r in csv.DictReader(fh)}
    t = plan_tables(plan).offices.set_index("office_id")
    assert float(rows["kiruna"]["lat"]) == t.at["kiruna", "lat"] and float(rows["kiruna"]["lon"]) == t.at["kiruna", "lon"]
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert s["offices_closed"] == 3


def test_summary_json_records_the_scenario_settings_and_the_solver(tmp_path, fast_demand):
    """summary.json says which solver ran and with which settings, and the scenario's
    sections as they were in force (the typed Scenario's nested settings, its lang)."""
    sc = netopt.Scenario(name="settings", stages=(netopt.Stage(year=2027, cut_msek=60.0, flexible_allowance_msek=10.0),), lang="sv").with_(
        lock_open=("visby",), max_growth=1.5, max_closures=20, threads=1, seed=3, relative_gap=0.01, time_limit_s=120.0)
    plan = netopt.solve(netopt.load_network(demand=fast_demand), sc)
    s = json.loads((netopt.write_outputs(plan, tmp_path / "o", with_map=False) / "summary.json").read_text(encoding="utf-8"))
    assert s["solver"] == {"name": "HiGHS (highspy)", "backend": "highspy", "time_limit_s": 120.0, "threads": 1, "seed": 3, "relative_gap": 0.01}
    got = s["scenario_settings"]
    assert got["lock_open"] == ["visby"] and got["lock_closed"] == [] and got["max_growth"] == 1.5 and got["max_closures"] == 20
    assert got["flexible"] is True and got["max_distance_km"] is None and got["keep_municipalities"] is False and got["lang"] == "sv"
    assert s["status"] in ("OPTIMAL", "WITHIN_GAP") and s["status"] == str(plan.status)
    assert set(s["parameters_resolved"]) == {f.name for f in dataclasses.fields(netopt.Parameters)}
    assert s["parameters_resolved"]["calibrate_to_reference"] is True


def test_the_memo_states_each_status_in_words_in_both_languages():
    """Every status a plan can have has its words in both languages (a missing text would
    print the bare name); WITHIN_GAP and TIME_LIMIT never claim a proof."""
    from netopt.solver import SolveStatus

    for lang in ("en", "sv"):
        tx = texts(lang)
        for status in (*SolveStatus, "EVALUATED"):
            assert tx.has(f"status.{status}"), (lang, status)
        for status in ("WITHIN_GAP", "TIME_LIMIT"):
            words = tx(f"memo.proof.{status}", gap="0.517 %", requested="5 %")
            assert "0.517 %" in words and ("not proven optimal" in words or "inte bevisat optimal" in words)
    assert str(SolveStatus.WITHIN_GAP) == "WITHIN_GAP" and f"{SolveStatus.TIME_LIMIT}" == "TIME_LIMIT"


@pytest.mark.parametrize("scope, lang", [("national", "en"), ("fa_region", "sv")])
def test_plan_xlsx_summary_has_the_access_floor_and_what_the_plan_breaks(hand_plan, scope, lang):
    """The Summary sheet gives the floor (asked, after, before, met) as summary.json does, and
    what an evaluated plan breaks as report.md words it, in the workbook's language."""
    from netopt.memo import given_pct, memo
    from netopt.report import MARKDOWN
    from netopt.scenario import Constraints

    plan, _ = hand_plan
    tx = texts(lang)
    network = plan.prepared.network
    decisions = {"stockholm-kista": "close", "stockholm-odenplan": "close", "kiruna": "close", "visby": "flexible"}
    scenario = netopt.Scenario(name="hand", constraints=Constraints(access_floor_km=20.0, access_floor_share=0.95, access_floor_scope=scope))
    floored = netopt.evaluate(network, decisions, scenario)
    t = plan_tables(floored)
    s = t.summary
    assert s["access_floor_met"] is False and t.breaks  # 95 % within 20 km: no plan of these offices meets it
    sheet = pd.read_excel(io.BytesIO(plan_xlsx(t, tx)), sheet_name=0, engine="openpyxl")
    rows = list(zip(sheet.iloc[:, 0], sheet.iloc[:, 1]))
    labels = [r[0] for r in rows]
    suffix = "_fa" if scope == "fa_region" else ""
    asked = tx(f"xlsx.summary.floor{suffix}", km="20")
    at = labels.index(asked)
    assert labels.index(tx("panel.met")) == at - 1  # right after whether the cut is met
    assert rows[at][1] == 0.95
    assert rows[at + 1] == (tx(f"xlsx.summary.floor_after{suffix}"), pytest.approx(s["access_floor_share_achieved"], rel=1e-15, abs=0))
    assert rows[at + 2] == (tx(f"xlsx.summary.floor_before{suffix}"), pytest.approx(s["access_floor_share_before"], rel=1e-15, abs=0))
    assert rows[at + 3] == (tx(f"panel.floor{suffix}"), False)
    wb = openpyxl.load_workbook(io.BytesIO(plan_xlsx(t, tx)))
    assert wb.worksheets[0].cell(row=at + 2, column=2).number_format == "0.00%"
    # what the plan breaks: report.md's bullets, without their emphasis, one row each
    broken = [v for k, v in rows if k == tx("memo.breaks.title")]
    bullets = next(sec for sec in memo(t, tx, MARKDOWN).sections if sec.key == "breaks").bullets
    assert broken == [b.replace("**", "") for b in bullets] and len(broken) == len(t.breaks)
    assert sum(given_pct(tx, 0.95) in v and "20 km" in v for v in broken) == 1  # the floor's own row, the floor as given
    # a plan without a floor has no floor rows
    plain_t = plan_tables(plan)
    plain = pd.read_excel(io.BytesIO(plan_xlsx(plain_t, tx)), sheet_name=0, engine="openpyxl")
    assert not {tx("xlsx.summary.floor_after"), tx("xlsx.summary.floor_after_fa"), tx("panel.floor"), tx("panel.floor_fa")} & set(plain.iloc[:, 0])
    plain_broken = [v for k, v in zip(plain.iloc[:, 0], plain.iloc[:, 1]) if k == tx("memo.breaks.title")]
    plain_section = next(sec for sec in memo(plain_t, tx, MARKDOWN).sections if sec.key == "breaks")
    assert plain_broken == [b.replace("**", "") for b in (plain_section.bullets or plain_section.paragraphs)] and plain_broken


def test_an_optimised_plans_summary_sheet_lists_no_breaks(hand_plan):
    """Only a plan written by hand can break a constraint: an optimised plan's sheet has no such rows (as report.md)."""
    import dataclasses as dc

    plan, _ = hand_plan
    t = plan_tables(plan)
    solved = dc.replace(t, summary=dict(t.summary, status="OPTIMAL"))
    sheet = pd.read_excel(io.BytesIO(plan_xlsx(solved)), sheet_name=0, engine="openpyxl")
    assert "What the plan breaks" not in set(sheet.iloc[:, 0]) and "What the plan breaks" in set(
        pd.read_excel(io.BytesIO(plan_xlsx(t)), sheet_name=0, engine="openpyxl").iloc[:, 0])
