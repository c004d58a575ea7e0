"""Shared fixtures: paths of the shipped data, a fast demand file, a CLI runner
and one cached solve of the shipped 2027 scenario.

The fixtures are generic: they know nothing of the tests that use them. Slow
work (solving the shipped scenario, loading the shipped network) runs once per
session.
"""

from __future__ import annotations

import contextlib
import csv
import io
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
SCENARIOS = ROOT / "scenarios"
OFFICES_CSV = DATA / "offices" / "offices.csv"
MUNICIPALITIES_CSV = DATA / "regions" / "municipalities.csv"
#: The office register as shipped until 2026-11-27 (115 offices): the figures of
#: issue 11 were measured on it, so tests that pin them use it.
REGISTER_115 = ROOT / "tests" / "data" / "offices_115_2026-11-27.csv"


@dataclass
class CliResult:
    """What one in-process ``netopt`` call returned and printed."""

    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


def run_netopt(*argv) -> CliResult:
    """Call ``netopt.cli.main`` in-process, capturing stdout and stderr.

    ``SystemExit`` (argparse: ``--help``, usage errors) becomes its exit code.
    """
    from netopt.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([str(a) for a in argv])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    return CliResult(code, out.getvalue(), err.getvalue())


@pytest.fixture
def netopt_cli():
    """The in-process CLI runner: ``netopt_cli("validate", "--json")``."""
    return run_netopt


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def shipped_scenario() -> Path:
    """The shipped 2027 scenario file."""
    return SCENARIOS / "cut-2027.toml"


def read_csv_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a UTF-8 CSV file, as text."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


def write_csv_rows(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
    return path


@pytest.fixture(scope="session")
def shipped_offices() -> tuple[list[str], list[list[str]]]:
    """Header and rows of the shipped office register (copy before changing)."""
    return read_csv_rows(OFFICES_CSV)


@pytest.fixture
def office_register(tmp_path, shipped_offices):
    """Write a copy of the shipped register with some cells changed.

    ``office_register({(line, "column"): "value"})`` where ``line`` is the
    spreadsheet line (header = line 1); returns the file's path.
    """
    header, rows = shipped_offices

    def make(changes: dict | None = None, name: str = "offices.csv") -> Path:
        new = [list(r) for r in rows]
        for (line, col), value in (changes or {}).items():
            new[line - 2][header.index(col)] = value
        return write_csv_rows(tmp_path / name, header, new)

    return make


@pytest.fixture(scope="session")
def fast_demand(tmp_path_factory) -> Path:
    """Demand points CSV with one point per municipality (its centre, its population).

    With it a solve of the whole register takes about a second instead of ten.
    """
    header, rows = read_csv_rows(MUNICIPALITIES_CSV)
    h = {c: k for k, c in enumerate(header)}
    out = tmp_path_factory.mktemp("fast") / "demand_points.csv"
    return write_csv_rows(
        out,
        ["point_id", "municipality_code", "lat", "lon", "population"],
        [[r[h["municipality_code"]], r[h["municipality_code"]], r[h["lat"]], r[h["lon"]], r[h["population"]]] for r in rows],
    )


@pytest.fixture(scope="session")
def county_division(tmp_path_factory) -> Path:
    """A planner's own FA division: each municipality in its county (21 regions)."""
    header, rows = read_csv_rows(MUNICIPALITIES_CSV)
    h = {c: k for k, c in enumerate(header)}
    out = tmp_path_factory.mktemp("division") / "counties.csv"
    return write_csv_rows(out, ["municipality_code", "fa_code", "fa_name"], [[r[h["municipality_code"]], r[h["county_code"]], r[h["county"]]] for r in rows])


@pytest.fixture(scope="session")
def shipped_network():
    """The shipped network, loaded once per session (do not modify)."""
    import netopt

    return netopt.load_network()


@pytest.fixture(scope="session")
def shipped_solution(tmp_path_factory, shipped_scenario) -> Path:
    """Output folder of ``netopt solve scenarios/cut-2027.toml`` (with map), solved once.

    Treat it as read-only; copy it before changing anything.
    """
    out = tmp_path_factory.mktemp("shipped") / "cut-2027"
    res = run_netopt("solve", shipped_scenario, "--out", out)
    assert res.code == 0, res.text
    return out


@pytest.fixture
def copy_of(tmp_path):
    """Copy a folder into tmp_path and return the copy."""

    def make(folder: Path, name: str | None = None) -> Path:
        dst = tmp_path / (name or folder.name)
        shutil.copytree(folder, dst)
        return dst

    return make
