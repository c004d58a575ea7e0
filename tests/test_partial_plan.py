"""A hand-written plan that names only some offices: the report and the terminal say
that the offices it leaves out are kept as they are today."""

from __future__ import annotations

import netopt
from netopt.i18n import texts
from netopt.report import report_markdown
from netopt.tables import plan_tables


def test_report_says_the_unnamed_offices_are_kept(fast_demand):
    network = netopt.load_network(demand=fast_demand)
    plan = netopt.evaluate(network, {"stockholm-kista": "close", "visby": "flexible"}, netopt.Scenario(name="hand"))
    t = plan_tables(plan)
    n = len(network.offices)
    assert t.unnamed == {"named": 2, "offices": n, "candidates": 0, "kept": n - 2, "not_opened": 0}
    assert f"- The plan names 2 of the {n} offices; the other {n - 2} offices are kept as they are today." in report_markdown(t, texts("en"))
    assert f"- Planen anger 2 av de {n} servicekontoren; de övriga {n - 2} servicekontoren behålls som i dag." in report_markdown(t, texts("sv"))
    # "1 turned into a flexible office", not "1 turned into flexible offices"
    assert "1 turned into a flexible office (" in report_markdown(t, texts("en"))
    # a plan that names every office, and an optimised plan, say nothing of the kind
    every = netopt.evaluate(network, {o: "keep" for o in network.offices["office_id"]} | {"visby": "close"}, netopt.Scenario(name="all"))
    assert plan_tables(every).unnamed is None and "The plan names" not in report_markdown(plan_tables(every), texts("en"))


def test_terminal_says_the_unnamed_offices_are_kept(netopt_cli, shipped_scenario, fast_demand, tmp_path):
    res = netopt_cli("evaluate", shipped_scenario, "--close", "stockholm-kista", "--demand", fast_demand, "--out", tmp_path / "o", "--no-map")
    assert res.code == 0, res.text
    assert "netopt: the plan names 1 of the 121 offices; the other 120 offices are kept as they are today" in res.err
