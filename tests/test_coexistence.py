"""netopt beside the solver packages a planner's notebook holds (issue 12 item 3).

PuLP 3.3 loads highspy's HiGHS 1.16 with RTLD_GLOBAL; OR-Tools carries its own
HiGHS 1.12. Imported in the wrong order, OR-Tools' HiGHS bound itself to the
other build and the first solve died with a segmentation fault
(``import pulp`` then ``netopt.solve(...)``). Each case runs in its own
process, because a crash would take the test runner with it, and checks the
optimum of the 2025 stage to the last digit.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from conftest import ROOT

#: The optimum of the 2025 stage on the shipped 121-office register (inhabitant-metres),
#: with the scenario's receiving-growth assumption (max_growth = 1.0).
OPTIMUM_2025 = 168903884801


def run(code: str, timeout: int = 240) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


SOLVE = """
import netopt
plan = netopt.solve(netopt.load_network(), netopt.load_scenario("scenarios/cut-2025.toml"){extra})
print("RESULT", plan.status, int(plan.objective))
"""


def solve_code(backend: str | None = None) -> str:
    extra = "" if backend is None else f'.with_(backend="{backend}")'
    return SOLVE.replace("{extra}", extra)


def assert_solved(res: subprocess.CompletedProcess) -> None:
    assert res.returncode == 0, f"exit {res.returncode} (-11 is a segmentation fault)\n{res.stderr[-3000:]}"
    line = [ln for ln in res.stdout.splitlines() if ln.startswith("RESULT")][-1]
    assert line == f"RESULT OPTIMAL {OPTIMUM_2025}", res.stdout
    assert "Running HiGHS" not in res.stdout.split("RESULT")[0]  # netopt puts no solver banner on standard output


@pytest.mark.parametrize("before", ["import pulp", "import highspy", "import pulp, highspy", "import ortools.linear_solver.pywraplp"])
@pytest.mark.parametrize("backend", [None, "ortools-highs"])
def test_neighbour_imported_before_netopt(before, backend):
    assert_solved(run(before + "\n" + solve_code(backend)))


@pytest.mark.parametrize("backend", [None, "ortools-highs"])
def test_pulp_imported_after_netopt(backend):
    assert_solved(run("import netopt\nimport pulp\n" + solve_code(backend)))


def test_spopt_imported_before_netopt():
    assert_solved(run("import spopt.locate\n" + solve_code()))


@pytest.mark.parametrize("backend", [None, "ortools-highs"])
def test_neighbours_still_work_after_netopt_solved(backend):
    """PuLP's HiGHS (through highspy) and OR-Tools' own HiGHS, used directly after a netopt solve.
    (OR-Tools imported for the first time *after* PuLP crashes without netopt too: not tested here.)"""
    res = run(solve_code(backend) + """
from ortools.linear_solver import pywraplp
s = pywraplp.Solver.CreateSolver("HIGHS")
a = s.IntVar(0, 10, "a"); b = s.IntVar(0, 10, "b")
s.Add(a + 2 * b <= 7); s.Maximize(a + b)
assert s.Solve() == s.OPTIMAL
print("ORTOOLS", int(s.Objective().Value()))
import pulp
prob = pulp.LpProblem("p", pulp.LpMaximize)
x = pulp.LpVariable("x", 0, 10, cat="Integer")
y = pulp.LpVariable("y", 0, 10, cat="Integer")
prob += x + y
prob += x + 2 * y <= 7
prob.solve(pulp.HiGHS(msg=False))
print("PULP", int(pulp.value(prob.objective)))
""" + solve_code(backend))
    assert_solved(res)
    assert "PULP 7" in res.stdout and "ORTOOLS 7" in res.stdout


def test_ortools_loaded_after_pulp_by_someone_else_is_refused_not_a_crash():
    """OR-Tools' HiGHS is already bound to PuLP's global HiGHS: the ortools-highs backend says
    so (exit code 2 from the CLI, a BackendError here); the default backend still solves."""
    res = run("""
import pulp
import ortools.linear_solver.python.model_builder_helper
import netopt
from netopt.solver.backends import BackendError
try:
    netopt.solve(netopt.load_network(), netopt.load_scenario("scenarios/cut-2025.toml").with_(backend="ortools-highs"))
except BackendError as exc:
    print("REFUSED", exc)
""" + solve_code())
    assert_solved(res)
    assert "REFUSED" in res.stdout and 'backend = "highspy"' in res.stdout
