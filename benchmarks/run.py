"""netopt benchmark suite (issue 7): one command, one report.

    python benchmarks/run.py            # full run (about an hour on 2 cores)
    python benchmarks/run.py --quick    # fewer repetitions, smaller scaling set

Sections:
  1. head-to-head with PySAL spopt (PuLP + CBC) on identical integer cost matrices;
  2. the planner's real scenarios (three budget stages; a 20-point sweep of the cut);
     targets: the issue's speed targets (stage from the command line and in a
     process, nested stages, 20-point sweep, 540 MSEK cut);
     backends: every solver backend on the real scenarios, each in its own process;
  3. scaling on synthetic clustered instances (time to a proven 1 % gap within a
     60 s limit, peak RSS), each instance in its own subprocess; the medians over
     the seeds of 100,000 × 2,000 go to ``scale_100k_gap``, ``scale_100k_seconds``
     and ``scale_100k_peak_mib``.

Writes benchmarks/results.json (everything) and prints a summary. Not part of
the unit tests.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from instances import clustered_instance, cost_matrix, localities_instance, shipped_instance  # noqa: E402


def log(*a):
    print(*a, flush=True)


def machine() -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import os

    from importlib.metadata import version

    def v(pkg):
        try:
            return version(pkg)
        except Exception:
            return None

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "python": platform.python_version(),
        "ortools": v("ortools"),
        "highs": "1.12.0 (bundled with OR-Tools; from its log banner)",
        "highspy": v("highspy"),
        "spopt": v("spopt"),
        "pulp": v("pulp"),
        "numpy": v("numpy"),
    }


def objective_of(C: np.ndarray, w: np.ndarray, open_sites) -> int:
    return int(np.sum(w.astype(np.int64) * C[:, np.asarray(open_sites)].min(axis=1)))


# --------------------------------------------------------------------------- 1. head-to-head


def run_netopt(demand_xy, w, sites_xy, p):
    from netopt.pmedian import solve_pmedian

    t0 = time.perf_counter()
    r = solve_pmedian(demand_xy, w, sites_xy, p)
    total = time.perf_counter() - t0
    return {
        "total_s": total,
        "build_s": r.heuristic_seconds + r.build_seconds + (total - r.total_seconds),  # everything but HiGHS
        "solve_s": r.solve_seconds,
        "objective": r.objective,
        "solver_objective": r.solver_objective,
        "status": r.status,
        "rounds": r.rounds,
        "model_size": r.model_size,
        "open_sites": r.open_sites.tolist(),
    }


def run_spopt(C, w, p):
    import pulp
    from spopt.locate import PMedian

    t0 = time.perf_counter()
    model = PMedian.from_cost_matrix(C.astype(float), w.astype(float), p_facilities=p)
    build = time.perf_counter() - t0
    t1 = time.perf_counter()
    model.solve(pulp.PULP_CBC_CMD(msg=False))
    solve = time.perf_counter() - t1
    status = pulp.LpStatus[model.problem.status]
    open_sites = [i for i, v in enumerate(model.fac_vars) if v.value() is not None and v.value() > 0.5]
    return {"total_s": build + solve, "build_s": build, "solve_s": solve, "status": status, "pulp_objective": float(pulp.value(model.problem.objective)), "objective": objective_of(C, w, open_sites), "open_sites": open_sites}


def head_to_head(name, inst, netopt_runs, spopt_runs):
    demand_xy, w, sites_xy, p = inst
    C = cost_matrix(demand_xy, sites_xy)
    log(f"[1] {name}: {len(w)} demand × {len(sites_xy)} sites, p = {p}")
    nr = []
    for k in range(netopt_runs):
        nr.append(run_netopt(demand_xy, w, sites_xy, p))
        log(f"    netopt run {k + 1}: {nr[-1]['total_s']:.2f} s, {nr[-1]['status']}, objective {nr[-1]['objective']:.0f}")
    sr = []
    for k in range(spopt_runs):
        sr.append(run_spopt(C, w, p))
        log(f"    spopt run {k + 1}: {sr[-1]['total_s']:.1f} s (build {sr[-1]['build_s']:.1f}, solve {sr[-1]['solve_s']:.1f}), {sr[-1]['status']}, objective {sr[-1]['objective']}")
    med = lambda rs, key: statistics.median(r[key] for r in rs)  # noqa: E731
    n_obj = nr[0]["objective"]
    s_obj = sr[0]["objective"]
    # netopt's objective on the identical matrix (the evaluator uses the same whole metres)
    n_obj_matrix = objective_of(C, w, nr[0]["open_sites"])
    agree = abs(n_obj - s_obj) <= 1e-6 * max(abs(s_obj), 1.0) and n_obj_matrix == n_obj
    out = {
        "instance": name,
        "demand_points": int(len(w)),
        "sites": int(len(sites_xy)),
        "p": int(p),
        "netopt_runs": netopt_runs,
        "spopt_runs": spopt_runs,
        "netopt_seconds": med(nr, "total_s"),
        "netopt_build_seconds": med(nr, "build_s"),
        "netopt_solve_seconds": med(nr, "solve_s"),
        "spopt_seconds": med(sr, "total_s"),
        "spopt_build_seconds": med(sr, "build_s"),
        "spopt_solve_seconds": med(sr, "solve_s"),
        "ratio": med(sr, "total_s") / med(nr, "total_s"),
        "netopt_objective": n_obj,
        "spopt_objective": s_obj,
        "objectives_agree": bool(agree),
        "netopt_status": nr[0]["status"],
        "spopt_status": sr[0]["status"],
        "netopt_model_size": nr[0]["model_size"],
        "netopt_all_seconds": [r["total_s"] for r in nr],
        "spopt_all_seconds": [r["total_s"] for r in sr],
    }
    log(f"    → netopt {out['netopt_seconds']:.2f} s vs spopt {out['spopt_seconds']:.1f} s: {out['ratio']:.0f}× faster; objectives agree: {agree}")
    return out


# --------------------------------------------------------------------------- 2. scenarios


def plan_row(label, net, sc):
    from netopt.errors import InfeasibleError
    from netopt import solve

    t0 = time.perf_counter()
    try:
        plan = solve(net, sc)
    except InfeasibleError as exc:
        return {"label": label, "wall_s": time.perf_counter() - t0, "status": "INFEASIBLE", "message": str(exc)[:160]}
    s = plan.summary()
    return {
        "label": label,
        "wall_s": time.perf_counter() - t0,
        "status": plan.status,
        "gap": plan.gap,
        "rounds": plan.rounds,
        "model_size": plan.model_size,
        "objective": plan.objective,
        "offices_kept": int(s.get("offices_kept", 0)),
        "offices_flexible": int(s.get("offices_flexible", 0)),
    }


def scenarios(sweep_points, repeats):
    from netopt.data import load_network
    from netopt.scenario import Scenario, Stage

    net = load_network()
    out = {"stages": [], "sweep": []}
    stages = (Stage(year=2025, cut_msek=50.0), Stage(year=2026, cut_msek=100.0, flexible_allowance_msek=10.0), Stage(year=2027, cut_msek=150.0, flexible_allowance_msek=10.0))
    runs = [plan_row("stages 2025-2027", net, Scenario(name="stages", stages=stages)) for _ in range(repeats)]
    row = dict(runs[0])
    row["wall_s"] = statistics.median(r["wall_s"] for r in runs)
    row["wall_all_s"] = [r["wall_s"] for r in runs]
    out["stages"].append(row)
    log(f"[2] three stages: {row['wall_s']:.2f} s (median of {repeats}), {row['status']}, gap {row.get('gap')}, {row.get('model_size')}")
    for cut in np.linspace(0.0, 190.0, sweep_points):
        runs = [plan_row(f"cut {cut:g}", net, Scenario(name=f"cut-{cut:g}", stages=(Stage(year=2027, cut_msek=float(cut), flexible_allowance_msek=10.0),))) for _ in range(repeats)]
        row = dict(runs[0])
        row["cut_msek"] = float(cut)
        row["wall_s"] = statistics.median(r["wall_s"] for r in runs)
        out["sweep"].append(row)
        log(f"    cut {cut:5.1f} MSEK: {row['wall_s']:.2f} s, {row['status']}, gap {row.get('gap')}, kept {row.get('offices_kept')}+{row.get('offices_flexible')} flex")
    return out


# --------------------------------------------------------------------------- 2b. targets and solver backends


def _scenario_files():
    root = HERE.parent / "scenarios"
    return {name: root / f"{name}.toml" for name in ("cut-2025", "cut-2026", "cut-2027", "stages-2025-2027")}


def _cut540():
    from netopt.scenario import Scenario, Stage

    return Scenario(name="cut-540", stages=(Stage(year=2027, cut_msek=540.0, flexible_allowance_msek=10.0),))


def targets(repeats):
    """The issue's speed targets, each a median of ``repeats`` runs in this one process
    (the command line in fresh processes): one stage end to end from the command
    line, one stage in a running process, the nested stages, a 20-point sweep, the
    540 MSEK cut."""
    import netopt
    from netopt.sweep import sweep

    net = netopt.load_network()
    files = _scenario_files()
    sc27 = netopt.load_scenario(files["cut-2027"])
    netopt.solve(net, sc27)  # warm: the first solve of a process loads HiGHS

    def timed(fn):
        ts, out = [], None
        for _ in range(repeats):
            t0 = time.perf_counter()
            out = fn()
            ts.append(time.perf_counter() - t0)
        return statistics.median(ts), ts, out

    res = {}
    cli = [sys.executable, "-m", "netopt", "solve", str(files["cut-2027"]), "--out", "/tmp/netopt-bench-stage", "--overwrite"]
    med, ts, _ = timed(lambda: subprocess.run(cli, cwd=HERE.parent, check=True, capture_output=True))
    res["stage_seconds"], res["stage_all_seconds"] = med, ts
    log(f"[2b] one stage, command line, end to end (map included): {med:.2f} s (runs {', '.join(f'{t:.2f}' for t in ts)})")
    med, ts, plan = timed(lambda: netopt.solve(net, sc27))
    res["stage_inprocess_seconds"], res["stage_inprocess_all_seconds"], res["stage_status"] = med, ts, str(plan.status)
    log(f"     one stage in a running process: {med:.2f} s, {plan.status}")
    med, ts, plan = timed(lambda: netopt.solve(net, netopt.load_scenario(files["stages-2025-2027"])))
    res["stages_seconds"], res["stages_all_seconds"], res["stages_status"] = med, ts, str(plan.status)
    log(f"     nested three stages: {med:.2f} s, {plan.status}")
    cuts = list(np.linspace(0.0, 190.0, 20))
    med, ts, frame = timed(lambda: sweep(net, sc27, cuts))
    res["sweep20_seconds"], res["sweep20_all_seconds"], res["sweep20_statuses"] = med, ts, frame["status"].value_counts().to_dict()
    log(f"     20-point sweep: {med:.2f} s, {res['sweep20_statuses']}")
    med, ts, plan = timed(lambda: netopt.solve(net, _cut540()))
    res["cut540_seconds"], res["cut540_all_seconds"], res["cut540_status"] = med, ts, str(plan.status)
    log(f"     cut 540 MSEK: {med:.2f} s, {plan.status}, {plan.rounds} rounds")
    return res


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
                    out = subprocess.run(cmd, capture_output=True, text=True, timeout=time_limit * 3 + 120)
                    runs.append(json.loads(out.stdout.strip().splitlines()[-1]) if out.returncode == 0 else
                                {"backend": backend, "scenario": scenario, "status": f"CRASH rc={out.returncode}", "wall_s": None})
                except subprocess.TimeoutExpired:
                    runs.append({"backend": backend, "scenario": scenario, "status": "HUNG (killed)", "wall_s": None})
            row = dict(runs[-1])
            walls = [r["wall_s"] for r in runs if r.get("wall_s") is not None]
            row["wall_s"] = statistics.median(walls) if walls else None
            row["wall_all_s"] = walls
            rows.append(row)
            log(f"[2c] {scenario:18s} {backend:14s} {row['status']:11s} {row['wall_s'] if row['wall_s'] is None else round(row['wall_s'], 2)} s, objective {row.get('objective')}, gap {row.get('gap')}")
    return rows


# --------------------------------------------------------------------------- 3. scaling


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
        "status": r.status, "gap": r.gap, "objective": r.objective, "heuristic_objective": r.heuristic_objective,
        "best_bound": r.best_bound, "rounds": r.rounds, "model_size": r.model_size, "peak_rss_mib": peak_kib / 1024.0,
    }))


def scaling(cases, seeds, gap, time_limit):
    rows = []
    for m, n, p in cases:
        for seed in seeds:
            cmd = [sys.executable, str(Path(__file__).resolve()), "--scaling-child", str(m), str(n), str(p), str(seed), str(gap), str(time_limit)]
            t0 = time.perf_counter()
            res = subprocess.run(cmd, capture_output=True, text=True)
            if res.returncode != 0:
                rows.append({"demand_points": m, "sites": n, "p": p, "seed": seed, "status": f"ERROR rc={res.returncode}", "stderr": res.stderr[-2000:]})
                log(f"[3] {m} × {n}, p = {p}, seed {seed}: ERROR\n{res.stderr[-2000:]}")
                continue
            row = json.loads(res.stdout.strip().splitlines()[-1])
            row["process_wall_s"] = time.perf_counter() - t0
            rows.append(row)
            log(f"[3] {m} × {n}, p = {p}, seed {seed}: {row['wall_s']:.1f} s, {row['status']}, gap {row['gap']}, peak RSS {row['peak_rss_mib']:.0f} MiB, "
                f"heuristic {row['heuristic_s']:.1f} s, bound {row['lagrangian_s']:.1f} s ({row['lagrangian_iterations']} iterations), MIP rounds {row['rounds']}, {row['model_size']}")
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


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer repetitions; one seed per scaling instance")
    ap.add_argument("--only", choices=["h2h", "scenarios", "targets", "backends", "scaling"], action="append", help="run only these sections (repeatable)")
    ap.add_argument("--out", default=str(HERE / "results.json"))
    ap.add_argument("--scaling-child", nargs=6, metavar=("M", "N", "P", "SEED", "GAP", "TL"), help=argparse.SUPPRESS)
    ap.add_argument("--backend-child", nargs=3, metavar=("BACKEND", "SCENARIO", "TL"), help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.backend_child:
        backend_child(a.backend_child[0], a.backend_child[1], float(a.backend_child[2]))
        return
    if a.scaling_child:
        m, n, p, seed = (int(x) for x in a.scaling_child[:4])
        scaling_child(m, n, p, seed, float(a.scaling_child[4]), float(a.scaling_child[5]))
        return
    sections = set(a.only or ["h2h", "scenarios", "targets", "backends", "scaling"])
    results = {"command": "python benchmarks/run.py" + (" --quick" if a.quick else ""), "machine": machine(), "started": time.strftime("%Y-%m-%d %H:%M:%S")}
    log(json.dumps(results["machine"]))
    if "h2h" in sections:
        nruns, sruns = (3, 1) if a.quick else (5, 1)
        h_ship = head_to_head("shipped demand × offices", shipped_instance(), nruns, sruns)
        h_loc = head_to_head("1,323 localities × 148 sites", localities_instance(), nruns, sruns)
        results["head_to_head"] = [h_loc, h_ship]
        main_h = h_loc  # the reference instance (spopt ≈ 90 s)
        for key in ("spopt_seconds", "netopt_seconds", "ratio", "spopt_objective", "netopt_objective"):
            results[key] = main_h[key]
        results["main_instance"] = main_h["instance"]
    if "scenarios" in sections:
        results["scenarios"] = scenarios(sweep_points=5 if a.quick else 20, repeats=1 if a.quick else 3)
    if "targets" in sections:
        t = targets(repeats=3 if a.quick else 5)
        results["targets"] = t
        for key in ("stage_seconds", "stage_inprocess_seconds", "stages_seconds", "sweep20_seconds", "cut540_seconds"):
            results[key] = t[key]
    if "backends" in sections:
        results["backends"] = backends(repeats=1 if a.quick else 3, time_limit=120.0)
    if "scaling" in sections:
        seeds = [1] if a.quick else [1, 2, 3]
        rows = scaling([(10_000, 1_000, 200), (100_000, 2_000, 400)], seeds=seeds, gap=0.01, time_limit=60.0)
        results["scaling"] = rows
        results.update(scaling_summary(rows, 10_000, 1_000, 200, "scale_10k"))
        results.update(scaling_summary(rows, 100_000, 2_000, 400, "scale_100k"))
        log(f"[3] 100,000 × 2,000: median gap {results.get('scale_100k_gap')}, {results.get('scale_100k_seconds')} s, {results.get('scale_100k_peak_mib')} MiB peak")
    results["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
    out = Path(a.out)
    old = json.loads(out.read_text()) if out.exists() and a.only else {}
    old.update(results)
    out.write_text(json.dumps(old, indent=2, default=float) + "\n")
    log(f"wrote {out}")


if __name__ == "__main__":
    main()
