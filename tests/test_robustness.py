"""Robustness of the command line (issue 8): hostile text, faults while
writing, interruptions, time limits and reproducible outputs.
"""

from __future__ import annotations

import errno
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path


import numpy as np
import pytest

import netopt.io
from conftest import ROOT, read_csv_rows, write_csv_rows

EVIL = "<script>alert(1)</script>"
MARKDOWN = "| pipe *star* [x](y)"


def no_traceback(res) -> None:
    assert "Traceback" not in res.text, res.text


def leftovers(parent: Path, name: str) -> list[str]:
    """Hidden temporary or backup folders netopt left beside ``parent/name``."""
    return sorted(p.name for p in parent.iterdir() if p.name.startswith(f".{name}."))


def table_cells(line: str) -> list[str]:
    """Cells of a Markdown table line, splitting on pipes that are not escaped."""
    inner = line.strip()[1:-1]
    return re.split(r"(?<!\\)\|", inner)


def markdown_tables(text: str) -> list[list[str]]:
    tables, current = [], []
    for line in text.splitlines():
        if line.startswith("|"):
            current.append(line)
        elif current:
            tables.append(current)
            current = []
    if current:
        tables.append(current)
    return tables


# --------------------------------------------------------------------------- hostile text


def test_hostile_names_are_escaped(netopt_cli, tmp_path, office_register, county_division):
    """Names from the register, the division and the scenario reach report.md and map.html escaped."""
    offices = office_register({(2, "office_name"): EVIL, (3, "office_name"): MARKDOWN})
    header, rows = read_csv_rows(county_division)
    for r in rows:
        if r[1] == "01":  # Stockholm county
            r[2] = EVIL + " län"
    division = write_csv_rows(tmp_path / "division.csv", header, rows)
    sc = tmp_path / "evil.toml"
    sc.write_text(
        f'name = "{EVIL}"\ndescription = "{MARKDOWN} <img src=x onerror=alert(2)>"\n'
        "[[stage]]\nyear = 2027\ncut_msek = 150.0\nflexible_allowance_msek = 10.0\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    res = netopt_cli("evaluate", sc, "--offices", offices, "--division", division, "--close", "stockholm-kista,stockholm-odenplan", "--out", out)
    assert res.code == 0, res.text

    report = (out / "report.md").read_text(encoding="utf-8")
    page = (out / "map.html").read_text(encoding="utf-8")
    for text in (report, page):
        assert EVIL not in text
        assert "<img src=x" not in text
    # the names are there, escaped
    assert "&lt;script&gt;alert\\(1\\)&lt;/script&gt;" in report
    assert "\\| pipe \\*star\\* \\[x\\]\\(y\\)" in report
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page or "\\u0026lt;script\\u0026gt;" in page
    # every Markdown table keeps its shape: as many cells in each row as in its header
    tables = markdown_tables(report)
    assert len(tables) >= 4
    for table in tables:
        n = len(table_cells(table[0]))
        assert all(len(table_cells(line)) == n for line in table), table
    closures = next(t for t in tables if "Office" in t[0] and "Visitors go to" in t[0])
    names = [table_cells(line)[0].strip() for line in closures[2:]]
    assert "\\| pipe \\*star\\* \\[x\\]\\(y\\)" in names
    # plan.csv keeps the text as written (CSV quoting, no HTML escaping)
    header, rows = read_csv_rows(out / "plan.csv")
    assert EVIL in [r[header.index("office_name")] for r in rows]
    assert MARKDOWN in [r[header.index("office_name")] for r in rows]


def test_hostile_names_in_compare(netopt_cli, tmp_path, office_register):
    offices = office_register({(2, "office_name"): EVIL, (3, "office_name"): MARKDOWN})
    a, b = tmp_path / "a", tmp_path / "b"
    assert netopt_cli("evaluate", "--offices", offices, "--close", "stockholm-kista", "--out", a, "--no-map").code == 0
    assert netopt_cli("evaluate", "--offices", offices, "--close", "stockholm-odenplan", "--out", b, "--no-map").code == 0
    out = tmp_path / "cmp"
    res = netopt_cli("compare", a, b, "--offices", offices, "--out", out)
    assert res.code == 0, res.text
    md = (out / "compare.md").read_text(encoding="utf-8")
    page = (out / "map.html").read_text(encoding="utf-8")
    assert EVIL not in md and EVIL not in page
    for table in markdown_tables(md):
        n = len(table_cells(table[0]))
        assert all(len(table_cells(line)) == n for line in table), table


# --------------------------------------------------------------------------- faults while writing


def _evaluate(netopt_cli, out, *extra):
    return netopt_cli("evaluate", "--close", "stockholm-kista", "--out", out, "--no-map", *extra)


def test_output_folder_not_writable(netopt_cli, tmp_path, monkeypatch):
    parent = tmp_path / "locked"
    parent.mkdir()
    parent.chmod(0o555)
    out = parent / "run"
    try:
        if os.access(parent, os.W_OK):  # root ignores the mode: simulate the refusal
            def refuse(*args, **kwargs):
                raise PermissionError(errno.EACCES, "Permission denied")

            monkeypatch.setattr(netopt.io.tempfile, "mkdtemp", refuse)
        res = _evaluate(netopt_cli, out)
    finally:
        parent.chmod(0o755)
    assert res.code == 2
    no_traceback(res)
    assert str(out) in res.err and "Permission denied" in res.err and "writable --out" in res.err
    assert not out.exists()
    assert leftovers(parent, "run") == []


def test_output_folder_has_the_usual_permissions(netopt_cli, tmp_path):
    """The folder is made as a private temporary folder, but ends with the mode of any new folder."""
    out = tmp_path / "run"
    assert _evaluate(netopt_cli, out).code == 0
    plain = tmp_path / "plain"
    plain.mkdir()
    assert out.stat().st_mode & 0o777 == plain.stat().st_mode & 0o777


def _failing_write(monkeypatch, exc, after: int = 1):
    """Make netopt.io.write_text raise ``exc`` after ``after`` files were written."""
    real = netopt.io.write_text
    calls = []

    def write(path, text):
        calls.append(path)
        if len(calls) > after:
            raise exc
        real(path, text)

    monkeypatch.setattr(netopt.io, "write_text", write)
    return calls


def test_disk_full(netopt_cli, tmp_path, monkeypatch):
    out = tmp_path / "run"
    calls = _failing_write(monkeypatch, OSError(errno.ENOSPC, "No space left on device"))
    res = netopt_cli("evaluate", "--close", "stockholm-kista", "--out", out)
    assert len(calls) == 2  # one file written, the second failed
    assert res.code == 2
    no_traceback(res)
    assert "No space left on device" in res.err and "Nothing was written" in res.err
    assert len(res.err.strip().splitlines()) == 1
    assert not out.exists()
    assert leftovers(tmp_path, "run") == []


def test_disk_full_on_overwrite_keeps_previous_outputs(netopt_cli, tmp_path, monkeypatch):
    out = tmp_path / "run"
    assert _evaluate(netopt_cli, out).code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    _failing_write(monkeypatch, OSError(errno.ENOSPC, "No space left on device"))
    res = netopt_cli("evaluate", "--close", "visby", "--out", out, "--no-map", "--overwrite")
    assert res.code == 2
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert leftovers(tmp_path, "run") == []


def test_failed_rename_on_overwrite_restores_previous_outputs(netopt_cli, tmp_path, monkeypatch):
    out = tmp_path / "run"
    assert _evaluate(netopt_cli, out).code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    real = os.replace

    def replace(src, dst):
        if Path(src).name.startswith(".run.tmp-") and Path(dst).name == "run":
            raise OSError(errno.EIO, "Input/output error")
        return real(src, dst)

    monkeypatch.setattr(netopt.io.os, "replace", replace)
    res = netopt_cli("evaluate", "--close", "visby", "--out", out, "--no-map", "--overwrite")
    monkeypatch.undo()
    assert res.code == 2
    assert "Input/output error" in res.err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert leftovers(tmp_path, "run") == []


def test_interrupted_solve_leaves_nothing(netopt_cli, tmp_path, monkeypatch, shipped_scenario, fast_demand):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(sys.modules["netopt.plan"], "optimise", interrupted)
    out = tmp_path / "run"
    res = netopt_cli("solve", shipped_scenario, "--demand", fast_demand, "--out", out)
    assert res.code == 130
    assert "interrupted" in res.err and "nothing was written" in res.err
    no_traceback(res)
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_interrupted_while_writing_leaves_nothing(netopt_cli, tmp_path, monkeypatch):
    out = tmp_path / "run"
    _failing_write(monkeypatch, KeyboardInterrupt(), after=2)
    res = netopt_cli("evaluate", "--close", "stockholm-kista", "--out", out)
    assert res.code == 130
    assert not out.exists()
    assert leftovers(tmp_path, "run") == []


def test_killed_process_leaves_no_output_folder(netopt_cli, tmp_path, shipped_scenario):
    """SIGKILL in the middle of a solve: no --out folder, and the next run works."""
    out = tmp_path / "run"
    log = tmp_path / "stderr.txt"
    with open(log, "wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "netopt", "--verbose", "solve", str(shipped_scenario), "--out", str(out)],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err,
        )
        try:
            deadline = time.monotonic() + 90
            while b"round 1" not in log.read_bytes():  # the solver has started
                assert proc.poll() is None, log.read_text(errors="replace")
                assert time.monotonic() < deadline, "the solve did not start"
                time.sleep(0.05)
            time.sleep(0.5)
            proc.send_signal(signal.SIGKILL)
        finally:
            proc.kill()
            proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert not out.exists()
    # the temporary folder is made only when the outputs are written, after the solve
    assert leftovers(tmp_path, "run") == []

    # a kill while writing would leave a hidden temporary folder: the next run
    # must still work and the final folder must be complete
    stale = tmp_path / ".run.tmp-killed"
    stale.mkdir()
    (stale / "plan.csv").write_text("office_id,decision\nhalf", encoding="utf-8")
    res = netopt_cli("evaluate", "--close", "stockholm-kista", "--out", out)
    assert res.code == 0, res.text
    assert sorted(p.name for p in out.iterdir()) == ["map.html", "municipalities.csv", "plan.csv", "plan.gpkg", "plan.xlsx", "report.html", "report.md", "summary.json"]
    header, rows = read_csv_rows(out / "plan.csv")
    assert len(rows) == 121


# --------------------------------------------------------------------------- time limit


class _Stopped:
    """A backend that solves for real and then answers as a solver stopped by its
    time limit would: with the plan it found and a bound 1 % below it (``plan``),
    or with no plan (``none``), or with a plan that keeps every office (``all-kept``,
    a plan that misses any cut). Only the first model (the optimisation) is changed."""

    name = "highspy"
    supports_start = True
    supports_cutoff = True

    def __init__(self, mode):
        self.mode = mode

    def solve(self, model, options):
        from netopt.solver.backends import HighspyBackend
        from netopt.solver.result import SolveResult, SolveStatus

        real = HighspyBackend().solve(model, options)
        if model.objective_kind != "plan":
            return real
        values = real.values
        if self.mode == "none":
            values = None
        elif self.mode == "all-kept":
            values = np.zeros(model.n_vars)
            values[model.y.ravel()] = 1.0
        bound = None if values is None else 0.99 * real.objective
        return SolveResult(status=SolveStatus.TIME_LIMIT if values is not None else SolveStatus.NO_PLAN, values=values,
                           objective=real.objective if values is not None else None, bound=bound, seconds=real.seconds, backend=self.name,
                           message="Time limit reached")


def _stop_solver(monkeypatch, mode):
    import netopt.solver.backends as backends

    monkeypatch.setitem(backends.BACKENDS, "highspy", lambda: _Stopped(mode))


def test_time_limited_plan_is_reported_with_its_plan_and_bound(netopt_cli, tmp_path, monkeypatch, shipped_scenario, fast_demand):
    """A solve stopped by the time limit with a plan: exit 0, status TIME_LIMIT, the bound and its gap, no claim of proof."""
    _stop_solver(monkeypatch, "plan")
    out = tmp_path / "run"
    res = netopt_cli("solve", shipped_scenario, "--demand", fast_demand, "--out", out, "--no-map")
    assert res.code == 0, res.text
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert s["status"] == "TIME_LIMIT"
    assert s["best_bound"] == pytest.approx(0.99 * s["solver_objective"], rel=1e-9)  # summary.json keeps 10 digits
    assert s["gap"] == pytest.approx((s["objective"] - s["best_bound"]) / s["objective"], rel=1e-9)
    assert 0.0099 < s["gap"] < 0.0102
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "not proven optimal" in report and "proved" not in report
    assert "TIME_LIMIT" in res.out and f"{100 * s['gap']:.4f} %" in res.out
    assert s["meets_budget"] and s["fa_regions_served"] == s["fa_regions_total"]


def test_time_limit_without_a_plan_says_no_plan_found(netopt_cli, tmp_path, monkeypatch, shipped_scenario, fast_demand):
    _stop_solver(monkeypatch, "none")
    out = tmp_path / "run"
    res = netopt_cli("solve", shipped_scenario, "--demand", fast_demand, "--time-limit", "7", "--out", out, "--no-map")
    no_traceback(res)
    assert res.code == 1
    assert "no plan found" in res.err and "infeasible:" not in res.err
    assert "time_limit_s" in res.err and "now 7 s" in res.err
    assert not out.exists()


def test_time_limited_plan_that_misses_the_budget_is_not_a_success(netopt_cli, tmp_path, monkeypatch, shipped_scenario, fast_demand):
    """Issue 11 fault 9: a plan that breaks a hard constraint (here the budget) is never
    reported as a plan: exit 1, with what was reached, nothing written."""
    _stop_solver(monkeypatch, "all-kept")
    out = tmp_path / "run"
    res = netopt_cli("solve", shipped_scenario, "--demand", fast_demand, "--out", out, "--no-map")
    no_traceback(res)
    assert res.code == 1, res.text
    assert "no plan found" in res.err and "FEASIBLE" not in res.text and "OPTIMAL" not in res.text
    assert "the best plan found saves 0.0 + 0.0 MSEK allowance of the 150 MSEK asked" in res.err
    assert "the budget is missed by 150.000 MSEK" in res.err
    explanation = json.loads(res.err.strip().splitlines()[-1])
    assert explanation["status"] == "NO_PLAN" and explanation["reached"][0]["meets_budget"] is False
    assert not out.exists()


def test_time_limit_must_be_positive(netopt_cli, tmp_path, shipped_scenario):
    res = netopt_cli("solve", shipped_scenario, "--time-limit", "0", "--out", tmp_path / "o")
    assert res.code == 2 and "time_limit_s" in res.err and "from 0.1" in res.err
    res = netopt_cli("solve", shipped_scenario, "--time-limit", "soon", "--out", tmp_path / "o")
    assert res.code == 2 and "--time-limit" in res.err


# --------------------------------------------------------------------------- reproducibility


def _without_elapsed(obj):
    if isinstance(obj, dict):
        return {k: _without_elapsed(v) for k, v in obj.items() if k not in ("solve_seconds", "build_seconds")}
    if isinstance(obj, list):
        return [_without_elapsed(v) for v in obj]
    return obj


def _report_without_elapsed(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.startswith("_Solved in "))


def test_solving_twice_gives_the_same_outputs(netopt_cli, tmp_path, shipped_solution, shipped_scenario):
    out = tmp_path / "again"
    res = netopt_cli("solve", shipped_scenario, "--out", out)
    assert res.code == 0, res.text
    for name in ("plan.csv", "map.html", "plan.xlsx", "plan.gpkg"):
        assert (out / name).read_bytes() == (shipped_solution / name).read_bytes(), name
    ha, hb = ((d / "report.html").read_text(encoding="utf-8") for d in (shipped_solution, out))
    footer = re.compile(r"<footer>.*?</footer>", re.S)  # the elapsed time, as in report.md
    assert footer.sub("", ha) == footer.sub("", hb) and "<footer>" in ha
    a = json.loads((shipped_solution / "summary.json").read_text(encoding="utf-8"))
    b = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert _without_elapsed(a) == _without_elapsed(b)
    ra = (shipped_solution / "report.md").read_text(encoding="utf-8")
    rb = (out / "report.md").read_text(encoding="utf-8")
    assert "_Solved in " in ra
    assert _report_without_elapsed(ra) == _report_without_elapsed(rb)
