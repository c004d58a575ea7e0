"""Benchmark: decision support on the shipped 2027 plan (``netopt solve
scenarios/cut-2027.toml --explain --alternatives 5 --within 1``).

Measures, in one run on one thread:

* the base solve;
* ``keep_costs``: one re-solve per office the plan closes or turns flexible,
  warm-started from the plan with the office kept (as netopt does), and the
  same re-solves cold (no start), to show what the warm start buys;
* ``alternatives(plan, 5, 0.01)``;
* ``lock_price`` of the plan with one office locked open and one locked closed.

Run from the repository root: ``PYTHONPATH=$PWD python3 benchmarks/consult.py``;
writes ``benchmarks/consult_results.json`` (the shipped file it exists to
regenerate: replaced atomically, no other path). Timings on a shared machine are
noisy: compare within one run.
"""

from __future__ import annotations

import json
import platform
import time
from pathlib import Path

import numpy as np

import docs  # benchmarks/docs.py: write_results
import netopt
from netopt.consult import alternatives, keep_costs, lock_price
from netopt.metrics import KEPT
from netopt.solver import optimise

OUT = Path(__file__).with_name("consult_results.json")


def main() -> dict:
    net = netopt.load_network()
    sc = netopt.load_scenario(Path(__file__).resolve().parent.parent / "scenarios" / "cut-2027.toml")
    t = time.perf_counter()
    plan = netopt.solve(net, sc)
    base_s = time.perf_counter() - t

    t = time.perf_counter()
    kc = keep_costs(plan, deadline=time.perf_counter() + 3600)
    warm_s = time.perf_counter() - t

    inst = plan.prepared.instance
    ids = list(inst.office_ids)
    cold = []
    t = time.perf_counter()
    for oid in kc.table["office_id"]:
        lock = inst.lock_open_mask.copy()
        lock[ids.index(oid)] = True
        opt = optimise(inst.with_(lock_open=lock), sc.solver, deadline=time.perf_counter() + 600)
        cold.append(float(opt.objective))
    cold_s = time.perf_counter() - t
    same = bool(np.array_equal(np.array(cold), kc.table["objective_if_kept"].to_numpy(float)))

    t = time.perf_counter()
    alt = alternatives(plan, 5, 0.01, deadline=time.perf_counter() + 3600)
    alt_s = time.perf_counter() - t

    last = plan.stages[-1].modes
    closed = next(o for o, m in zip(ids, last) if m != KEPT)
    locked = netopt.solve(net, sc.with_(lock_open=(closed,)))
    t = time.perf_counter()
    lp = lock_price(locked, deadline=time.perf_counter() + 3600)
    lock_s = time.perf_counter() - t

    result = {
        "machine": platform.machine(), "python": platform.python_version(), "threads": sc.solver.threads,
        "base_solve_s": round(base_s, 2),
        "keep_costs": {"offices": len(kc.table), "proven_optimal": int((kc.table["status"] == "OPTIMAL").sum()),
                       "warm_started_s": round(warm_s, 2), "cold_s": round(cold_s, 2), "same_objectives": same},
        "alternatives": {"asked": 5, "found": len(alt.table), "max_gap_to_optimum": float(alt.table["gap_to_optimum"].max()), "seconds": round(alt_s, 2)},
        "lock_price": {"lock_open": closed, "status": lp.status, "seconds": round(lock_s, 2)},
    }
    docs.write_results(OUT, json.dumps(result, indent=2) + "\n", shipped=OUT)
    return result


if __name__ == "__main__":
    import argparse

    argparse.ArgumentParser(description=__doc__.splitlines()[0],
                            epilog="Writes benchmarks/consult_results.json, the shipped file this benchmark exists to regenerate:"
                                   " replaced atomically without --overwrite (it writes no other file).").parse_args()
    print(json.dumps(main(), indent=2))
