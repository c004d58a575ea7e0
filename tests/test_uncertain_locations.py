"""Changes that rest on a register location or name marked uncertain are said, with the
register's note, in report.md/html ("What these figures rest on") and plan.csv
(column ``location_uncertain``), in both languages."""

from __future__ import annotations

import io

import pandas as pd
import pytest

import netopt
from netopt.exports import plan_csv
from netopt.i18n import texts
from netopt.report import report_markdown
from netopt.tables import plan_tables, uncertain_locations


def test_register_rows_with_low_confidence_or_placeholder_coordinates(shipped_network):
    marks = uncertain_locations(shipped_network.offices)
    low = set(shipped_network.offices.loc[shipped_network.offices["confidence"] == "low", "office_id"])
    assert len(low) == 11 and low <= set(marks)
    assert "hultsfred" in marks  # conflicting
    # medium confidence, but its coordinates are a placeholder 500 m east of the municipal seat
    assert "norrkoping-2" in marks and "placed 500 m east" in marks["norrkoping-2"] and "offset 500 m east" in marks["norrkoping-2"]
    assert marks["sodertalje-2"].startswith("confidence low: ") and "district not confirmed" in marks["sodertalje-2"]
    assert "stockholm-kista" not in marks and "kiruna" not in marks
    # a register without the columns has no marks
    assert uncertain_locations(shipped_network.offices[["office_id", "office_name"]]) == {}


@pytest.fixture(scope="module")
def plan(fast_demand):
    network = netopt.load_network(demand=fast_demand)
    decisions = {"sodertalje-2": "close", "norrkoping-city": "close", "visby": "flexible", "stockholm-kista": "close"}
    return netopt.evaluate(network, decisions, netopt.Scenario(name="hand"))


def test_report_names_changes_resting_on_uncertain_locations(plan):
    t = plan_tables(plan)
    assert t.offices.set_index("office_id").at["norrkoping-city", "receiver_id"] == "norrkoping-2"
    md = report_markdown(t, texts("en"))
    (line,) = [l for l in md.splitlines() if "register marks as uncertain" in l]
    assert "Södertälje 2 (close; its visitors go to Södertälje Lunagallerian, 0.5 km; Södertälje 2: register confidence low: " in line
    assert "Norrköping city (close; its visitors go to Norrköping 2, 0.6 km; Norrköping 2: register confidence medium: " in line
    assert "placed 500 m east of the municipal seat only to keep its coordinates distinct" in line
    assert "Visby" not in line and "Kista" not in line  # changed, but on confirmed locations
    sv = report_markdown(t, texts("sv"))
    (line,) = [l for l in sv.splitlines() if "registret anger som osäkert" in l]
    assert "Södertälje 2 (stängs; besökarna går till Södertälje Lunagallerian, 0,5 km; Södertälje 2: registret anger confidence low: " in line
    assert "kontrollera den innan beslut" in line


def test_plan_csv_and_xlsx_mark_uncertain_locations(plan):
    from netopt.exports import plan_xlsx

    t = plan_tables(plan)
    rows = pd.read_csv(io.StringIO(plan_csv(t)), dtype=str, keep_default_na=False).set_index("office_id")
    assert rows.at["sodertalje-2", "location_uncertain"].startswith("confidence low: second office")
    assert rows.at["norrkoping-2", "location_uncertain"].startswith("confidence medium: ")
    assert rows.at["stockholm-kista", "location_uncertain"] == ""
    assert (rows["location_uncertain"] != "").sum() == len(uncertain_locations(plan.prepared.network.offices))
    sheet = pd.read_excel(io.BytesIO(plan_xlsx(t, texts("sv"))), sheet_name="Servicekontor", dtype=str, keep_default_na=False).set_index("office_id")
    assert sheet.at["sodertalje-2", "Läge eller namn osäkert (registret)"].startswith("confidence low: ")


def test_the_map_marks_uncertain_locations_where_the_offices_appear(plan):
    """map.html: the popup of an office with an uncertain location or name says so with
    the register's note, and the panel's notes (also report.html's and plan.xlsx's) name
    the changes that rest on one; offices on confirmed locations get neither."""
    import html

    from netopt.maps import plan_offices
    from netopt.maps.panels import office_popup
    from netopt.memo import caveat

    t = plan_tables(plan)
    offs = plan_offices(t, texts("en")).set_index("office_id", drop=False)
    popup = html.unescape(str(office_popup(offs.loc["norrkoping-2"], texts("en"))))
    assert "Location or name uncertain in the register (confidence medium: " in popup and "its distances come from that placement" in popup
    assert "uncertain in the register" not in html.unescape(str(office_popup(offs.loc["stockholm-kista"], texts("en"))))
    (line,) = [n for n in caveat(t, texts("en")) if n.startswith("Changes that rest on a location")]
    assert line.endswith(": Norrköping city, Södertälje 2.")
    (line,) = [n for n in caveat(t, texts("sv")) if n.startswith("Förändringar som bygger på ett läge")]
    assert "Norrköping city, Södertälje 2" in line
