"""Keep the README honest: its quick start is exactly the two commands CI and users run."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def quick_start() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```sh\n(.*?)```", text, re.S)
    assert block, "README has no ```sh quick-start block"
    assert text.index(block.group(0)) < text.index("## "), "the quick start must come before the first section"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_readme_opens_with_exactly_two_commands():
    cmds = quick_start()
    assert len(cmds) == 2
    assert "netopt solve scenarios/cut-2027.toml" in cmds[0]
    assert "pytest" in cmds[1]


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert quick_start()[1] in ci


def test_main_job_scenario_exists_and_is_the_2027_stage():
    from netopt import load_scenario

    cmd = quick_start()[0]
    path = re.search(r"solve (\S+\.toml)", cmd).group(1)
    sc = load_scenario(ROOT / path)
    assert sc.stages[-1].year == 2027 and sc.stages[-1].cut_msek == 150.0


def test_readme_growth_without_max_growth_comes_from_a_run():
    """README's "without it the optimum reaches 16.21 km but Malmö city's visits grow
    by 671 % ..." is what the shipped 2027 scenario gives without max_growth."""
    import netopt
    from netopt.tables import plan_tables

    text = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    m = re.search(r"without it the optimum reaches ([\d.]+) km but (.+?)'s visits grow by (\d+) %, from ([\d ]+) to ([\d ]+) a year, and (.+?)'s by (\d+) %", text)
    assert m, "README's sentence on max_growth has changed: update this test with it"
    sc = netopt.load_scenario(ROOT / "scenarios" / "cut-2027.toml")
    assert sc.constraints.max_growth == 1.0
    plan = netopt.solve(netopt.load_network(), sc.with_(max_growth=None))
    t = plan_tables(plan)
    assert f"{t.summary['population_mean_distance_km']:.2f}" == m.group(1)
    top = t.receiving.sort_values("growth", ascending=False).reset_index(drop=True)
    assert top.at[0, "office_name"] == m.group(2) and top.at[1, "office_name"] == m.group(6)
    assert f"{100 * top.at[0, 'growth']:.0f}" == m.group(3) and f"{100 * top.at[1, 'growth']:.0f}" == m.group(7)
    assert round(top.at[0, "visits_before"]) == int(m.group(4).replace(" ", "")) and round(top.at[0, "visits_after"]) == int(m.group(5).replace(" ", ""))
