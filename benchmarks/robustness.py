"""`netopt robustness`: samples per minute on a LocalCluster, and what 10,000 samples would take.

    python benchmarks/robustness.py                 # 24 samples of cut-2027 on 1 and 2 workers, 8 of the three-stage plan
    python benchmarks/robustness.py --samples 12 --staged-samples 4

Measures, on the shipped network (4,081 demand points × 121 offices) and the
shipped uncertainty file, with netopt's own entry point
(:func:`netopt.robustness.robustness`, the same as the command):

* for cut-2027 on a LocalCluster of 1 and of 2 worker processes (one solver
  thread each): the whole run's wall time (cluster start, base solve, samples)
  and the samples' throughput, samples per minute, measured between the first
  and the last sample to finish (the steady state), with the speed-up of 2
  workers over 1;
* per-sample times (drawing, preparing the instance, measuring the base plan,
  solving the sample's optimum; measured inside the worker) for cut-2027 and
  the three-stage plan (stages-2025-2027);
* from these, an estimate of 10,000 samples of the three-stage plan on 100
  workers (one core each): ``10,000 / 100`` samples per worker × the mean
  per-sample time, plus the base solve and the cluster's start.

Writes benchmarks/robustness_results.json and prints a summary. Regenerating
that shipped file is its purpose, so it is replaced without --overwrite; another
--out that exists is replaced only with --overwrite. Not part of the unit
tests; timings on a shared machine are noisy (compare within one run).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import docs  # noqa: E402
import netopt  # noqa: E402
from netopt.cluster import ClusterSettings, local_cores  # noqa: E402
from netopt.robustness import robustness  # noqa: E402


def run(network, scenario, samples: int, workers: int, seed: int) -> dict:
    """One robustness run on a LocalCluster of ``workers`` processes; its timings."""
    finished: list[float] = []
    started: list[float] = []
    t0 = time.perf_counter()
    res = robustness(network, scenario, samples=samples, seed=seed, cluster=ClusterSettings(workers=workers),
                     progress=lambda k, n: finished.append(time.perf_counter()), on_start=lambda where, w: started.append(time.perf_counter()))
    wall = time.perf_counter() - t0
    per = [r.seconds for r in res.samples]
    steady = (len(finished) - 1) / (finished[-1] - finished[0]) * 60 if len(finished) > 1 and finished[-1] > finished[0] else None
    return {
        "scenario": scenario.name, "stages": len(scenario.stages), "samples": samples, "workers": workers, "seed": seed,
        "wall_s": round(wall, 2),
        "cluster_start_s": round(started[0] - t0, 2),
        "samples_per_minute_end_to_end": round(samples / wall * 60, 2),
        "samples_per_minute_steady": round(steady, 2) if steady else None,
        "per_sample_s_mean": round(statistics.fmean(per), 3),
        "per_sample_s_median": round(statistics.median(per), 3),
        "per_sample_s_max": round(max(per), 3),
        "statuses": sorted({r.status for r in res.samples}),
        "base_misses_cut": sum(1 for r in res.samples if not r.base_meets_cut),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog=docs.SHIPPED_NOTE)
    ap.add_argument("--samples", type=int, default=24, help="samples of cut-2027 per worker count (default 24)")
    ap.add_argument("--staged-samples", type=int, default=8, help="samples of the three-stage plan (default 8)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default=str(HERE / "robustness_results.json"))
    ap.add_argument("--overwrite", action="store_true", help="replace an --out other than benchmarks/robustness_results.json if it exists")
    args = ap.parse_args(argv)
    docs.check_results(args.out, shipped=HERE / "robustness_results.json", overwrite=args.overwrite)

    network = netopt.load_network()
    cut = netopt.load_scenario(HERE.parent / "scenarios" / "cut-2027.toml")
    staged = netopt.load_scenario(HERE.parent / "scenarios" / "stages-2025-2027.toml")
    runs = [run(network, cut, args.samples, w, args.seed) for w in (1, 2)]
    for r in runs:
        print(f"{r['scenario']}: {r['workers']} worker(s): {r['samples']} samples in {r['wall_s']} s "
              f"({r['samples_per_minute_end_to_end']} per minute end to end, {r['samples_per_minute_steady']} per minute steady); "
              f"per sample {r['per_sample_s_mean']} s mean", flush=True)
    one, two = runs
    speedup = two["samples_per_minute_steady"] / one["samples_per_minute_steady"] if one["samples_per_minute_steady"] and two["samples_per_minute_steady"] else None
    st = run(network, staged, args.staged_samples, 2, args.seed)
    print(f"{st['scenario']}: 2 workers: {st['samples']} samples in {st['wall_s']} s; per sample {st['per_sample_s_mean']} s mean, "
          f"{st['per_sample_s_max']} s max", flush=True)
    base_s = staged_base_solve_s(network, staged)
    per_worker = 10_000 / 100
    estimate = {
        "samples": 10_000, "workers": 100, "samples_per_worker": per_worker,
        "per_sample_s_mean_measured": st["per_sample_s_mean"],
        "base_solve_s": round(base_s, 2),
        "minutes": round((per_worker * st["per_sample_s_mean"] + base_s + st["cluster_start_s"]) / 60, 1),
        "minutes_if_every_sample_took_the_max": round((per_worker * st["per_sample_s_max"] + base_s + st["cluster_start_s"]) / 60, 1),
    }
    print(f"estimate: 10,000 samples of {staged.name} on 100 workers ≈ {estimate['minutes']} min "
          f"({per_worker:g} samples per worker × {st['per_sample_s_mean']} s + base solve {base_s:.1f} s); speed-up of 2 workers over 1: {speedup:.2f}")
    result = {
        "machine": {"python": platform.python_version(), "cores_usable": local_cores(), "platform": platform.platform(), "shared": True},
        "netopt_version": netopt.__version__,
        "cut_2027": runs, "speedup_2_over_1_steady": round(speedup, 2) if speedup else None,
        "stages_2025_2027": st, "estimate_10000_on_100_workers": estimate,
    }
    docs.write_results(args.out, json.dumps(result, indent=2, ensure_ascii=False) + "\n", shipped=HERE / "robustness_results.json", overwrite=args.overwrite)
    print(f"wrote {args.out}")
    return 0


def staged_base_solve_s(network, scenario) -> float:
    t0 = time.perf_counter()
    netopt.solve(network, scenario.with_(threads=1))
    return time.perf_counter() - t0


if __name__ == "__main__":
    from netopt.errors import NetoptError

    try:
        sys.exit(main())
    except NetoptError as exc:  # an output refused: said plainly, no traceback
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
