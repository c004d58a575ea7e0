"""The planner scripts in scripts/ run as a planner would run them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd

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
    out = run("sensitivity.py", "--out", str(tmp_path / "s.csv"))
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
