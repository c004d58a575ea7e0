"""The planner scripts in scripts/ run as a planner would run them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent


def run(script: str, *args: str) -> str:
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / script), *args], capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def test_budget_stages(tmp_path):
    out = run("budget_stages.py", "--out", str(tmp_path / "stages"))
    assert "status OPTIMAL" in out
    for name in ("plan.csv", "plan-2025.csv", "plan-2026.csv", "summary.json", "report.md", "map.html"):
        assert (tmp_path / "stages" / name).exists()
    p25 = pd.read_csv(tmp_path / "stages" / "plan-2025.csv")
    p27 = pd.read_csv(tmp_path / "stages" / "plan.csv")
    closed25 = set(p25.loc[p25.decision == "close", "office_id"])
    closed27 = set(p27.loc[p27.decision == "close", "office_id"])
    assert closed25 <= closed27


def test_sweep_frontier(tmp_path):
    out = run("sweep_frontier.py", "--cuts", "0:100:50", "--out", str(tmp_path / "f"))
    frame = pd.read_csv(tmp_path / "f" / "frontier.csv")
    assert list(frame["cut_msek"]) == [0.0, 50.0, 100.0]
    assert (frame["status"] == "OPTIMAL").all()
    # more saving never buys better access
    assert frame["population_mean_distance_km"].is_monotonic_increasing
    assert "OPTIMAL" in out


def test_hand_vs_optimiser(tmp_path):
    out = run("hand_vs_optimiser.py", "--cut", "60", "--out", str(tmp_path / "h"))
    assert "hand-written" in out
    import json

    hand = json.loads((tmp_path / "h" / "hand" / "summary.json").read_text())
    best = json.loads((tmp_path / "h" / "optimiser" / "summary.json").read_text())
    assert best["savings_msek"] >= hand["savings_msek"] - 1e-3
    assert best["population_mean_distance_km"] <= hand["population_mean_distance_km"] + 1e-9


def test_sensitivity(tmp_path):
    (tmp_path / "s.csv").write_text("an earlier run\n", encoding="utf-8")
    out = run("sensitivity.py", "--out", str(tmp_path / "s.csv"), "--overwrite")  # asked: replaced whole
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.csv"]
    frame = pd.read_csv(tmp_path / "s.csv")
    assert len(frame) == 7 and (frame["status"] == "OPTIMAL").all()
    assert frame.loc[frame.run == "base", "closures_differing_from_base"].item() == 0
    # a longer detour means longer distances for the same people
    km = dict(zip(frame["run"], frame["mean_km"]))
    assert km["detour factor 1.2"] < km["base"] < km["detour factor 1.45"]
    assert "wrote" in out


def test_visit_mechanisms_gives_the_table_of_docs_calibration(tmp_path):
    """The measurements docs/calibration.md reports, as the script prints them (it
    checks itself that its first row is netopt calibrate's own like-for-like figures)."""
    out = run("visit_mechanisms.py", "--out", str(tmp_path / "m.csv"))
    table = out[: out.index("\n\n")]
    assert table.startswith("| Mechanism |") and table.count("\n") == 12
    assert table in (ROOT / "docs" / "calibration.md").read_text(encoding="utf-8")
    frame = pd.read_csv(tmp_path / "m.csv")
    assert frame["met like for like"].max() == frame.loc[0, "met like for like"] == 2
    assert "needs a share of at least 0.16 of all visits" in out
    assert "with an office in Tyresö centrum (not in the register): Haninge Brandbergen 127 a day" in out


# --------------------------------------------------------------------------- the overwrite rule


def run_refused(path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(path), *args], capture_output=True, text=True, timeout=120, cwd=ROOT)


@pytest.mark.parametrize("script, kind", [
    ("scripts/sensitivity.py", "file"), ("scripts/visit_mechanisms.py", "file"),
    ("scripts/budget_stages.py", "folder"), ("scripts/sweep_frontier.py", "folder"),
    ("benchmarks/run.py", "file"), ("benchmarks/flexible.py", "file"), ("benchmarks/robustness.py", "file"),
])
def test_a_script_refuses_to_overwrite_what_it_was_not_asked_to(tmp_path, script, kind):
    """Like netopt solve: an existing output is refused before any slow work, the path and
    the fix named, and the planner's file left as it was."""
    target = tmp_path / ("mine.csv" if kind == "file" else "mine")
    if kind == "file":
        target.write_text("the planner's own numbers\n", encoding="utf-8")
    else:
        target.mkdir()
        (target / "plan.csv").write_text("an earlier plan\n", encoding="utf-8")
    proc = run_refused(ROOT / script, "--out", str(target))
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert str(target) in proc.stderr and "--overwrite" in proc.stderr
    assert "Traceback" not in proc.stderr
    if kind == "file":
        assert target.read_text(encoding="utf-8") == "the planner's own numbers\n"
    else:
        assert (target / "plan.csv").read_text(encoding="utf-8") == "an earlier plan\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]  # no temporary left beside it


def test_hand_vs_optimiser_checks_both_folders_before_solving(tmp_path):
    (tmp_path / "h" / "optimiser").mkdir(parents=True)
    proc = run_refused(ROOT / "scripts" / "hand_vs_optimiser.py", "--cut", "60", "--out", str(tmp_path / "h"))
    assert proc.returncode == 2 and str(tmp_path / "h" / "optimiser") in proc.stderr and "--overwrite" in proc.stderr
    assert not (tmp_path / "h" / "hand").exists()  # not one written and the other refused


def test_screenshots_refuse_images_outside_docs_img(tmp_path):
    (tmp_path / "map-cut-2027.png").write_bytes(b"mine")
    proc = run_refused(ROOT / "scripts" / "screenshots.py", "--out", str(tmp_path))
    assert proc.returncode == 2 and str(tmp_path / "map-cut-2027.png") in proc.stderr and "--overwrite" in proc.stderr
    assert (tmp_path / "map-cut-2027.png").read_bytes() == b"mine"


@pytest.mark.parametrize("script", ["scripts/build_data.py", "benchmarks/run.py", "benchmarks/flexible.py", "benchmarks/robustness.py",
                                    "benchmarks/consult.py", "benchmarks/whatif.py", "scripts/screenshots.py"])
def test_scripts_that_regenerate_shipped_files_say_so_in_their_help(script):
    proc = run_refused(ROOT / script, "--help")
    assert proc.returncode == 0, proc.stderr
    text = " ".join(proc.stdout.split())
    assert "without --overwrite" in text or "no --overwrite" in text


def test_a_failed_write_leaves_the_old_file_and_no_part(tmp_path):
    from netopt import io
    from netopt.errors import OutputError

    path = tmp_path / "table.csv"
    path.write_text("old\n", encoding="utf-8")
    with pytest.raises(OutputError, match=r"table\.csv: file exists\. Fix: .*--overwrite"):
        with io.atomic_output_file(path):
            pass
    with pytest.raises(RuntimeError):
        with io.atomic_output_file(path, overwrite=True) as tmp:
            tmp.write_text("half a ta", encoding="utf-8")
            raise RuntimeError("interrupted")
    assert path.read_text(encoding="utf-8") == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["table.csv"]
    with io.atomic_output_file(path, overwrite=True) as tmp:
        tmp.write_text("new\n", encoding="utf-8")
    assert path.read_text(encoding="utf-8") == "new\n" and [p.name for p in tmp_path.iterdir()] == ["table.csv"]
    with io.atomic_output_file(tmp_path / "sub" / "fresh.csv") as tmp:  # a new file in a new folder
        tmp.write_text("x\n", encoding="utf-8")
    assert (tmp_path / "sub" / "fresh.csv").read_text(encoding="utf-8") == "x\n"
    with pytest.raises(OutputError, match="is a folder"):
        io.check_output_file(tmp_path / "sub")
