"""Output folders: the overwrite rule lives in the library, a bad --out is found
before any slow work, and a killed run's temporaries are cleaned (issue 11)."""

from __future__ import annotations

import errno
import subprocess
import sys

import pytest

import netopt
import netopt.compare  # noqa: F401 (patched below)
import netopt.io
import netopt.sweep  # noqa: F401
from netopt.errors import OutputError


@pytest.fixture(scope="module")
def quick_plan(fast_demand):
    return netopt.evaluate(netopt.load_network(demand=fast_demand), {"visby": "close"}, netopt.Scenario(name="t"))


def test_library_overwrite_keeps_a_folder_of_the_users_own_files(tmp_path, quick_plan):
    out = tmp_path / "documents"
    out.mkdir()
    (out / "thesis.docx").write_bytes(b"important")
    (out / "plan.csv").write_text("old", encoding="utf-8")
    with pytest.raises(OutputError, match="thesis.docx"):
        netopt.write_outputs(quick_plan, out, overwrite=True, with_map=False)
    assert sorted(p.name for p in out.iterdir()) == ["plan.csv", "thesis.docx"]
    assert (out / "thesis.docx").read_bytes() == b"important"
    # a folder of netopt's own outputs is replaced
    own = tmp_path / "own"
    netopt.write_outputs(quick_plan, own, with_map=False)
    netopt.write_outputs(quick_plan, own, overwrite=True, with_map=False)
    assert sorted(p.name for p in own.iterdir()) == ["municipalities.csv", "plan.csv", "plan.gpkg", "plan.xlsx", "report.html", "report.md", "summary.json"]


def test_library_refuses_the_current_folder(tmp_path, quick_plan, monkeypatch):
    folder = tmp_path / "work"
    folder.mkdir()
    monkeypatch.chdir(folder)
    with pytest.raises(OutputError, match="current folder"):
        netopt.write_outputs(quick_plan, ".", overwrite=True, with_map=False)
    with pytest.raises(OutputError, match="current folder"):
        netopt.write_outputs(quick_plan, tmp_path, overwrite=True, with_map=False)


COMMANDS = {
    "solve": ("netopt.plan", "solve", lambda sc, a, b: ["solve", sc]),
    "evaluate": ("netopt.plan", "evaluate", lambda sc, a, b: ["evaluate", "--close", "visby"]),
    "sweep": ("netopt.sweep", "sweep", lambda sc, a, b: ["sweep", sc, "--cuts", "0:150:50"]),
    "compare": ("netopt.compare", "compare_dirs", lambda sc, a, b: ["compare", a, b]),
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_unwritable_out_is_refused_before_any_work(netopt_cli, tmp_path, monkeypatch, shipped_scenario, command):
    module, name, argv = COMMANDS[command]

    def must_not_run(*a, **k):
        raise AssertionError(f"{name} ran although --out cannot be written")

    monkeypatch.setattr(sys.modules[module], name, must_not_run)

    def refuse(*a, **k):  # root ignores file modes: simulate the refusal of a read-only folder
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(netopt.io.tempfile, "mkdtemp", refuse)
    res = netopt_cli(*argv(shipped_scenario, tmp_path, tmp_path), "--out", tmp_path / "run")
    assert res.code == 2, res.text
    assert "Permission denied" in res.err and "writable --out" in res.err


def test_out_below_a_file_is_refused_before_solving(netopt_cli, tmp_path, monkeypatch, shipped_scenario):
    (tmp_path / "notes.txt").write_text("x", encoding="utf-8")
    monkeypatch.setattr(sys.modules["netopt.plan"], "solve", lambda *a, **k: pytest.fail("solved"))
    res = netopt_cli("solve", shipped_scenario, "--out", tmp_path / "notes.txt" / "run")
    assert res.code == 2 and "is a file" in res.err
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "x"


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_temporaries_of_killed_runs_are_removed_safely(netopt_cli, tmp_path):
    host = netopt.io._HOST
    dead = _dead_pid()
    stale = tmp_path / f".run.tmp-{host}-{dead}-abc"
    stale.mkdir()
    (stale / "plan.csv").write_text("office_id,decision\nhalf", encoding="utf-8")
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        running = tmp_path / f".run.tmp-{host}-{sleeper.pid}-xyz"  # a run still going
        running.mkdir()
        own_files = tmp_path / f".run.tmp-{host}-{dead}-mine"  # someone's own files: never touched
        own_files.mkdir()
        (own_files / "notes.txt").write_text("mine", encoding="utf-8")
        other_host = tmp_path / f".run.tmp-otherhost-{dead}-abc"  # another machine on a shared disk
        other_host.mkdir()
        res = netopt_cli("evaluate", "--close", "visby", "--out", tmp_path / "run", "--no-map")
        assert res.code == 0, res.text
        left = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".run."))
        assert left == sorted([running.name, own_files.name, other_host.name])
    finally:
        sleeper.kill()
        sleeper.wait()


def test_backup_of_a_run_killed_between_its_renames_is_put_back(tmp_path, quick_plan):
    host = netopt.io._HOST
    out = tmp_path / "run"
    netopt.write_outputs(quick_plan, out, with_map=False)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    backup = tmp_path / f".run.old-{host}-{_dead_pid()}"
    out.rename(backup)  # killed after moving the old outputs aside
    assert netopt.io.remove_stale_temporaries(out) == [backup.name]
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
