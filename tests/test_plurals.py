"""A count's words agree with it in both languages: "1 municipality has", "2
municipalities have", never "municipality(ies)" or "office(s)"."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import netopt
from netopt.i18n import texts
from netopt.report import report_markdown
from netopt.tables import plan_tables

I18N = Path(netopt.__file__).parent / "i18n"


@pytest.mark.parametrize("lang", ["en", "sv"])
def test_no_text_writes_a_plural_in_brackets(lang):
    text = (I18N / f"{lang}.toml").read_text(encoding="utf-8")
    assert not re.findall(r"\w\((s|es|ies|er|or|ar|na)\)", text)


def test_singular_and_plural_of_a_count():
    en, sv = texts("en"), texts("sv")
    assert en("memo.municipalities.board_lead", n="1", names="Kiruna").startswith("The plan makes SSC leave 1 municipality entirely")
    assert en("memo.municipalities.board_lead", n="2", names="A, B").startswith("The plan makes SSC leave 2 municipalities entirely")
    assert sv("memo.municipalities.board_lead", n="1", names="Kiruna").startswith("Planen gör att SSC lämnar 1 kommun helt")
    assert sv("memo.municipalities.lead", n="3", column="x").startswith("3 kommuner får")
    assert en("memo.receiving.flagged", n="1", offices="Malmö city").startswith("1 receiving office grows by more than 50 %: Malmö city. Check that its premises")
    assert en("memo.alternatives.count_exact", n="1", pct="1 %") == "1 materially different plan lies within 1 % of the optimum."
    assert en("memo.alternatives.count_exact", n="0", pct="1 %") == "0 materially different plans lie within 1 % of the optimum."
    assert en("memo.calibration.own", visits="1", cost="2") == "; 1 office keeps its own visits and 2 their own cost"
    assert en("memo.breaks.fa_region", year="2027", n="1", items="x") == "2027: 1 FA-region with an office today is left without one: x."
    assert en("memo.breaks.lock_open", year="2027", n="1", items="Visby") == "2027: an office locked open but not kept: Visby."
    assert sv("memo.breaks.fa_region", year="2027", n="2", items="x") == "2027: 2 FA-regioner som har ett servicekontor i dag blir utan: x."


def test_a_plan_that_leaves_one_municipality_says_so_in_the_singular(fast_demand):
    plan = netopt.evaluate(netopt.load_network(demand=fast_demand), {"simrishamn": "close"}, netopt.Scenario(name="hand"))
    t = plan_tables(plan)
    md = report_markdown(t, texts("en"))
    assert "1 municipality has an office closed or turned flexible." in md
    assert "leave 1 municipality entirely" in md
    sv = report_markdown(t, texts("sv"))
    assert "1 kommun får ett servicekontor stängt" in sv and "lämnar 1 kommun helt" in sv
    assert "(s)" not in md and "(ies)" not in md and "(er)" not in sv


def test_plan_breaks_in_the_singular(fast_demand):
    from netopt.consult import plan_breaks

    sc = netopt.Scenario(name="hand").with_(lock_open=("visby",))
    plan = netopt.evaluate(netopt.load_network(demand=fast_demand), {"visby": "close"}, sc)
    texts_ = [b.text for b in plan_breaks(plan)]
    assert any(t.startswith("an office locked open but not kept: Visby") for t in texts_), texts_
