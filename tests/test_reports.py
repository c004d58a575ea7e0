"""report.md and report.html: one memo, two formats, two languages (issue 14, items 2 and 5)."""

from __future__ import annotations

import re

import pytest

import netopt
from netopt.i18n import texts
from netopt.memo import key_figures
from netopt.report import report_markdown
from netopt.report_html import report_html
from netopt.tables import plan_tables

EVIL = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def hostile_tables(fast_demand, tmp_path_factory, shipped_offices):
    """A hand plan on a register whose Kista office has a hostile name (fast demand points)."""
    from conftest import write_csv_rows

    header, rows = shipped_offices
    rows = [list(r) for r in rows]
    i = header.index("office_name")
    for r in rows:
        if r[0] == "stockholm-kista":
            r[i] = EVIL + " $x$ | *Kista*"
    reg = write_csv_rows(tmp_path_factory.mktemp("reg") / "offices.csv", header, rows)
    plan = netopt.evaluate(netopt.load_network(reg, demand=fast_demand), {"stockholm-kista": "close", "stockholm-odenplan": "close", "kiruna": "close", "visby": "flexible"}, netopt.Scenario(name="hand " + EVIL))
    return plan_tables(plan)


def test_report_html_is_self_contained_escaped_and_printable(hostile_tables):
    page = report_html(hostile_tables)
    assert page.startswith("<!DOCTYPE html>") and '<html lang="en">' in page
    assert EVIL not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert not re.search(r"<script|<link\b|\bsrc\s*=|@import|url\(\s*['\"]?(https?:)?//", page, re.I)
    assert "@page { size: A4" in page and "@media print" in page
    assert page.count("<svg") >= 2  # the overview map and the distance distribution
    assert "<dc:date>" not in page and "Matplotlib v" not in page  # no date, no version: the same bytes tomorrow
    # the key figures: the cut, the saving and the allowance used, then whether the cut is met
    head = page[page.index('class="headline"'):page.index('class="details"')]
    order = [head.index(s) for s in ("Budget cut (target)", "Saving", "Allowance for flexible offices used", "Cut met")]
    assert order == sorted(order)
    kf = key_figures(hostile_tables.summary, texts("en"))
    assert kf.verdict[1] in head and ("not-met" in head) == (not hostile_tables.summary["meets_budget"])
    # every section of report.md is in report.html, in the same order
    md = report_markdown(hostile_tables)
    md_titles = re.findall(r"^## (.+)$", md, re.M)
    html_titles = re.findall(r"<h2>(.+?)</h2>", page)
    assert html_titles == md_titles and len(md_titles) >= 7
    # the inset's key names the changed offices
    assert "class=\"map-key\"" in page and "Stockholm Odenplan (close)" in page


def test_report_html_is_deterministic(hostile_tables):
    a, b = report_html(hostile_tables), report_html(hostile_tables)
    assert a == b
    assert not re.search(r"[0-9a-f]{32}", a)


def test_swedish_reports(hostile_tables):
    sv = texts("sv")
    md = report_markdown(hostile_tables, sv)
    page = report_html(hostile_tables, sv)
    for text in (md, page):
        for word in ("Vad planen gör", "Vad siffrorna vilar på", "servicekontor", "besparing", "mnkr", "FA-region", "besök", "Besparingskrav" if text is page else "besparingskrav"):
            assert word in text, word
        assert "MSEK" not in text.replace("2027 budget stage", "")  # the scenario's own description may be English
    assert '<html lang="sv">' in page
    s = hostile_tables.summary
    assert f"{s['population_mean_distance_km_before']:.2f}".replace(".", ",") in md
    assert "Servicekontor som stängs eller blir flexibla, och varför" in md and "| stängs |" in md


def test_markdown_tables_keep_their_shape_with_hostile_names(hostile_tables):
    md = report_markdown(hostile_tables)
    assert EVIL not in md and "\\| \\*Kista\\*" in md
    header, rows = None, 0
    for line in md.splitlines():
        if not line.startswith("|"):
            header = None
            continue
        if header is None:  # the first line of a table: its header
            header = line
            continue
        if "Kista" in line:  # each row with the hostile name has as many cells as its own table's header
            rows += 1
            cells = re.split(r"(?<!\\)\|", line.strip()[1:-1])
            assert len(cells) == len(re.split(r"(?<!\\)\|", header.strip()[1:-1])), (header, line)
    assert rows >= 2  # the change table and the municipality table


def test_write_outputs_in_swedish_from_the_scenario(tmp_path, fast_demand):
    plan = netopt.evaluate(netopt.load_network(demand=fast_demand), {"visby": "close"}, netopt.Scenario(name="t", lang="sv"))
    out = netopt.write_outputs(plan, tmp_path / "o", with_map=False)
    assert "Vad planen gör" in (out / "report.md").read_text(encoding="utf-8")
    out = netopt.write_outputs(plan, tmp_path / "en", with_map=False, lang="en")  # the argument wins
    assert "What the plan does" in (out / "report.md").read_text(encoding="utf-8")
    with pytest.raises(netopt.ScenarioError, match="'lang' = 'fi'"):
        netopt.Scenario(name="t", lang="fi").check()


def test_swedish_map_and_spreadsheet_phrase_data_in_swedish(hostile_tables):
    """Texts netopt builds from data (an estimate against a public figure, offices closed
    near an area) follow the language too; plan.csv keeps its English marks."""
    import io

    import pandas as pd

    from netopt.exports import plan_xlsx
    from netopt.maps import map_html

    page = map_html(hostile_tables, texts("sv"))
    assert "(stängs)" in page and "Skattningen motsäger en offentlig uppgift: det mest besökta kontoret (2023)" in page
    for english in ("(closed)", "public figure", "estimate ranks"):
        assert english not in page, english
    sheet = pd.read_excel(io.BytesIO(plan_xlsx(hostile_tables, texts("sv"))), sheet_name="Servicekontor")
    marks = set(sheet["Motsäger en offentlig uppgift"].dropna())
    assert marks and all(m.startswith("offentlig uppgift:") for m in marks)
    assert hostile_tables.offices["public_figure_conflict"].str.startswith("public figure:").sum() == len(marks)


@pytest.mark.parametrize("status, gap, english, swedish", [
    ("OPTIMAL", 0.0, "The solver proved this plan optimal (gap 0).", "Lösaren bevisade att planen är optimal (gap 0)."),
    ("WITHIN_GAP", 0.00517, "The solver stopped within the requested gap of 5 %: this plan meets every constraint and is within 0.517 % of the best possible, but it is not proven optimal.",
     "Lösaren stannade inom det begärda gapet 5 %: planen uppfyller alla villkor och ligger inom 0,517 % från det bästa möjliga, men den är inte bevisat optimal."),
    ("TIME_LIMIT", 0.0123, "The solver stopped at its time limit: this plan meets every constraint but is not proven optimal (gap 1.230 %).",
     "Lösaren stoppades av tidsgränsen: planen uppfyller alla villkor men är inte bevisat optimal (gap 1,230 %)."),
    ("TIME_LIMIT", None, "is not proven optimal (gap unknown).", "är inte bevisat optimal (gap okänt)."),
])
def test_the_memo_says_what_each_status_proves(fast_demand, status, gap, english, swedish):
    """The memo's sentence for each solver status (issue 11 fault 2: a plan stopped within
    a requested gap is never called proven optimal), in both languages."""
    import dataclasses

    from netopt.solver import SolveStatus

    sc = netopt.Scenario(name="t").with_(relative_gap=0.05)
    plan = netopt.evaluate(netopt.load_network(demand=fast_demand), {"visby": "close"}, sc)
    bound = None if gap is None else plan.objective * (1 - gap)
    plan = dataclasses.replace(plan, status=SolveStatus(status), gap=gap, best_bound=bound)
    assert english in report_markdown(plan_tables(plan))
    assert swedish in report_markdown(plan_tables(plan), texts("sv"))


def test_a_proof_up_to_the_solvers_tolerance_is_said_so(fast_demand):
    """WITHIN_GAP with no gap requested: the solver ended with its proof, the exact plan
    lies a hair above its bound; the memo says that, not "within the requested gap of 0 %"."""
    import dataclasses

    from netopt.solver import SolveStatus

    plan = netopt.evaluate(netopt.load_network(demand=fast_demand), {"visby": "close"}, netopt.Scenario(name="t"))
    plan = dataclasses.replace(plan, status=SolveStatus.WITHIN_GAP, gap=5e-7, best_bound=plan.objective * (1 - 5e-7))
    md = report_markdown(plan_tables(plan))
    assert "lies 5e-05 % above the solver's bound, within the solver's numerical tolerance" in md and "requested gap" not in md
    assert "inom lösarens numeriska tolerans" in report_markdown(plan_tables(plan), texts("sv"))


def test_the_memo_states_an_access_floor_and_whether_it_holds(fast_demand):
    """A floor in force is a constraint of the scenario: the memo says it, what the plan
    reaches and whether it holds (it was only in summary.json)."""
    net = netopt.load_network(demand=fast_demand)
    for share, met, shown in ((0.5, "met", "50"), (0.99, "not met", "99"), (0.8095, "not met", "80.95")):  # the floor as given, never rounded to another
        sc = netopt.Scenario(name="t").with_(access_floor_km=30.0, access_floor_share=share)
        plan = netopt.evaluate(net, {"visby": "close"}, sc)
        s = plan.summary()
        md = report_markdown(plan_tables(plan))
        line = next(x for x in md.splitlines() if "Access floor" in x).replace("\u00a0", " ")
        assert f"at least {shown} % of the population within 30 km" in line
        assert f"after the plan {100 * s['access_floor_share_achieved']:.1f} %" in line
        assert line.endswith(f"; {met}).") or line.endswith(f"; **{met}**).")
    assert "Access floor" not in report_markdown(plan_tables(netopt.evaluate(net, {"visby": "close"}, netopt.Scenario(name="t"))))
