"""A planner's terminal (issue 11, smaller faults): pipes, --verbose anywhere,
no "-0.0", office counts that say what they count."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT, run_netopt


def test_output_cut_short_by_the_reader_is_not_an_error():
    """``netopt validate --list | head -1``: the reader stops reading; netopt exits quietly."""
    r, w = os.pipe()
    proc = subprocess.Popen([sys.executable, "-m", "netopt", "validate", "--list"], cwd=ROOT, stdout=w, stderr=subprocess.PIPE)
    os.close(w)
    os.close(r)  # nobody reads: the first print meets a broken pipe
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert b"internal error" not in err and b"BrokenPipe" not in err and b"Traceback" not in err


def test_verbose_after_the_command(tmp_path):
    from netopt.cli import main
    from netopt.errors import ScenarioError

    sc = tmp_path / "bad.toml"
    sc.write_text("threads = 0\n", encoding="utf-8")
    for argv in (["solve", str(sc), "--out", str(tmp_path / "o"), "--verbose"], ["solve", "-v", str(sc), "--out", str(tmp_path / "o")], ["--verbose", "solve", str(sc), "--out", str(tmp_path / "o")]):
        with pytest.raises(ScenarioError):  # --verbose shows the traceback
            main(argv)
    assert run_netopt("validate", "--json", "--verbose").code == 0


def test_internal_error_asks_for_verbose_only_without_it(monkeypatch):
    import netopt.cli

    def bug(args):
        raise RuntimeError("a bug")

    monkeypatch.setitem(netopt.cli.COMMANDS, "validate", bug)
    res = run_netopt("validate")
    assert res.code == 3 and "--verbose" in res.err
    with pytest.raises(RuntimeError):
        netopt.cli.main(["validate", "--verbose"])


def test_no_negative_zero(tmp_path, shipped_offices):
    """An unchanged plan saves exactly 0 (it printed "saving -0.0 MSEK")."""
    header, rows = shipped_offices
    reg = tmp_path / "offices.csv"
    with open(reg, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header + ["visits"])
        w.writerows(r + (["0"] if r[0] == "kiruna" else [""]) for r in rows)
    sc = tmp_path / "s.toml"
    sc.write_text('name = "s"\n[parameters]\ndecay_km = 33.3\n', encoding="utf-8")
    out = tmp_path / "out"
    res = run_netopt("evaluate", sc, "--offices", reg, "--out", out, "--no-map")
    assert res.code == 0, res.text
    assert "saving 0.0 MSEK" in res.out and "-0.0" not in res.out
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert s["savings_msek"] == 0.0 and s["visits_lost"] == 0.0
    assert "saving **0.0 MSEK**" in (out / "report.md").read_text(encoding="utf-8")


def test_number_formats_never_show_negative_zero():
    from netopt.maps import _num
    from netopt.report import fmt

    assert fmt(-0.04, ".1f") == "0.0" and fmt(-0.0, ".2f") == "0.00" and fmt(-0.4, ",.0f") == "0"
    assert fmt(-0.06, ".1f") == "-0.1" and fmt(-1234.0, ",.0f") == "-1,234"
    assert _num(-0.04) == "0.0" and _num(-0.06) == "\u22120.1".replace("\u2212", "-")


def test_office_counts_say_what_they_count(tmp_path, fast_demand, shipped_offices):
    n = len(shipped_offices[1])  # offices in the shipped register
    out = tmp_path / "out"
    res = run_netopt("evaluate", "--close", "visby", "--flexible", "boden,kiruna", "--demand", fast_demand, "--out", out, "--no-map")
    assert res.code == 0, res.text
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert (s["offices_kept"], s["offices_flexible"], s["offices_open"], s["offices_closed"]) == (n - 3, 2, n - 1, 1)
    assert f"kept {n - 3}, flexible 2, closed 1" in res.out
