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
