"""Swedish outputs read Swedish: the scenario's description_sv under the title and
the solver status by its Swedish label."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

import netopt
from netopt.i18n import texts
from netopt.report import report_markdown
from netopt.tables import plan_tables

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.toml")), ids=lambda p: p.stem)
def test_shipped_scenarios_have_a_swedish_description(path):
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    sc = netopt.load_scenario(path)
    assert sc.description == raw["description"] and sc.description_sv == raw["description_sv"]
    assert "mnkr" in sc.description_sv and "MSEK" not in sc.description_sv


def test_description_sv_is_the_lead_of_swedish_reports_only(fast_demand):
    sc = netopt.load_scenario(SCENARIOS / "cut-2027.toml")
    plan = netopt.evaluate(netopt.load_network(demand=fast_demand), {"visby": "flexible"}, sc)
    t = plan_tables(plan)
    sv, en = report_markdown(t, texts("sv")), report_markdown(t, texts("en"))
    assert sv.splitlines()[2] == sc.description_sv.replace("(", "\\(").replace(")", "\\)")
    assert en.splitlines()[2] == sc.description.replace("(", "\\(").replace(")", "\\)")
    # without description_sv, Swedish reports show the description
    plain = plan_tables(netopt.evaluate(netopt.load_network(demand=fast_demand), {"visby": "flexible"}, sc.with_(description_sv="")))
    assert report_markdown(plain, texts("sv")).splitlines()[2] == en.splitlines()[2]


def test_description_sv_is_a_checked_setting(tmp_path):
    p = tmp_path / "s.toml"
    p.write_text('name = "x"\ndescription = "a"\ndescription_sv = "b"\n', encoding="utf-8")
    assert netopt.load_scenario(p).description_sv == "b"
    p.write_text('name = "x"\ndescription_sw = "b"\n', encoding="utf-8")
    with pytest.raises(netopt.ScenarioError, match="did you mean 'description_sv'"):
        netopt.load_scenario(p)


def test_every_solver_status_has_a_swedish_label():
    en, sv = texts("en"), texts("sv")
    statuses = [k.split(".", 1)[1] for k in en.strings if k.startswith("status.")]
    assert "OPTIMAL" in statuses
    for s in statuses:
        assert sv(f"status.{s}") != s, s  # not the code itself
    assert sv("status.OPTIMAL") == "BEVISAT OPTIMAL"
