"""Two versions of netopt timed back to back, for a shared machine.

On a machine where other work comes and goes, timings taken minutes apart
cannot be compared. This script runs an earlier version (a git ref, exported
with ``git archive`` into a temporary folder) and the working tree
alternately, round after round, each in its own processes, so that both see
the same load::

    python benchmarks/ab.py 2eb0eca                 # 3 rounds
    python benchmarks/ab.py 2eb0eca --rounds 5 --scenario stages-2025-2027

Per round and version: one process solves the scenario in a running process
(``netopt.solve``, one warm-up, then ``--repeats`` timed solves), and
``--repeats`` runs of the command line (``python -m netopt solve SCENARIO --out
DIR --overwrite``, all outputs; the bytecode cache warmed first). Prints the
medians, the ratio of the working tree to the ref and the load average, and
writes every run to ``benchmarks/ab_results.json`` (``--out``). It also checks
that both versions wrote the same files, byte for byte, apart from the
elapsed-time fields and the folder the inputs were read from.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

IN_PROCESS = """
import json, sys, time
import netopt
net = netopt.load_network()
sc = netopt.load_scenario(sys.argv[1])
netopt.solve(net, sc)
runs = []
for _ in range(int(sys.argv[2])):
    t = time.perf_counter()
    plan = netopt.solve(net, sc)
    runs.append(time.perf_counter() - t)
print(json.dumps({"runs": runs, "status": str(plan.status), "objective": plan.objective}))
"""

#: Fields that hold elapsed times (the only ones allowed to differ between versions).
TIME_FIELD = re.compile(rb'"(build|solve)_seconds": [0-9.]+|Solved in [0-9.]+ s \(build [0-9.]+ s\)')


def _env(src: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(src)
    return env


def _in_process(src: Path, scenario: Path, repeats: int) -> dict:
    out = subprocess.run([sys.executable, "-c", IN_PROCESS, str(scenario), str(repeats)], cwd=src, env=_env(src),
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _command(src: Path, scenario: Path, out: Path) -> float:
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "netopt", "solve", str(scenario), "--out", str(out), "--overwrite"], cwd=src, env=_env(src),
                   capture_output=True, check=True)
    return time.perf_counter() - t


def _same_outputs(a: Path, b: Path, root_a: Path, root_b: Path) -> list[str]:
    """Files that differ between two output folders beyond the elapsed-time fields
    (and the folder each version's input files were read from)."""
    names = sorted({p.name for p in a.iterdir()} | {p.name for p in b.iterdir()})
    differ = []
    for name in names:
        pa, pb = a / name, b / name
        if not (pa.exists() and pb.exists()):
            differ.append(name)
            continue
        ta = TIME_FIELD.sub(b"", pa.read_bytes()).replace(str(root_a).encode(), b"ROOT")
        tb = TIME_FIELD.sub(b"", pb.read_bytes()).replace(str(root_b).encode(), b"ROOT")
        if ta != tb:
            differ.append(name)
    return differ


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("ref", help="the earlier version: a git ref of this repository")
    ap.add_argument("--scenario", default="cut-2027", help="a shipped scenario's name (default cut-2027)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "ab_results.json")
    a = ap.parse_args(argv)
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    commit = subprocess.run(["git", "rev-parse", "--short", a.ref], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    dirty = bool(subprocess.run(["git", "status", "--porcelain", "--", "netopt"], cwd=ROOT, capture_output=True, text=True).stdout.strip())
    with tempfile.TemporaryDirectory(prefix="netopt-ab-") as tmp:
        tmp = Path(tmp)
        old = tmp / "ref"
        old.mkdir()
        archive = subprocess.run(["git", "archive", commit], cwd=ROOT, capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(old)], input=archive, check=True)
        versions = {commit: old, f"{head}{' + changes' if dirty else ''} (working tree)": ROOT}
        rel = Path("scenarios") / f"{a.scenario}.toml"
        results = {name: {"in_process": [], "command": [], "load": []} for name in versions}
        first = [tmp / f"first-{k}" for k in range(len(versions))]
        for src, out in zip(versions.values(), first):  # warm the bytecode caches and compare the outputs
            _command(src, src / rel, out)
        differ = _same_outputs(*first, *versions.values())
        for r in range(a.rounds):
            for name, src in versions.items():
                load = os.getloadavg()[0]
                ip = _in_process(src, src / rel, a.repeats)
                cmd = [_command(src, src / rel, tmp / "out") for _ in range(a.repeats)]
                results[name]["in_process"] += ip["runs"]
                results[name]["command"] += cmd
                results[name]["load"].append(load)
                results[name]["status"] = ip["status"]
                results[name]["objective"] = ip["objective"]
                print(f"round {r + 1} {name}: in a process {statistics.median(ip['runs']):.3f} s, command line {statistics.median(cmd):.2f} s, load {load:.2f}", flush=True)
    summary = {"ref": commit, "scenario": a.scenario, "rounds": a.rounds, "repeats": a.repeats, "outputs_differ": differ,
               "started": started, "finished": time.strftime("%Y-%m-%d %H:%M:%S"), "versions": {}}
    for name, r in results.items():
        summary["versions"][name] = {**r, "in_process_median": statistics.median(r["in_process"]), "command_median": statistics.median(r["command"])}
    names = list(results)
    for key in ("in_process_median", "command_median"):
        summary[f"{key}_ratio"] = summary["versions"][names[1]][key] / summary["versions"][names[0]][key]
    a.out.write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    for name in names:
        v = summary["versions"][name]
        print(f"{name}: in a process {v['in_process_median']:.3f} s, command line {v['command_median']:.2f} s (medians of {len(v['command'])}), {v['status']}")
    print(f"working tree / {commit}: in a process {summary['in_process_median_ratio']:.2f}, command line {summary['command_median_ratio']:.2f}; "
          f"load average (1 min) {min(min(r['load']) for r in results.values()):.2f}–{max(max(r['load']) for r in results.values()):.2f}; "
          f"outputs {'identical apart from elapsed times' if not differ else 'DIFFER: ' + ', '.join(differ)}")
    return 0 if not differ else 1


if __name__ == "__main__":
    sys.exit(main())
