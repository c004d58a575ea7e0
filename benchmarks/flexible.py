"""What valuing flexible offices below staffed ones costs the optimiser.

``python benchmarks/flexible.py`` solves the shipped 2027 scenario and the
nested 2025-2027 stages with ``flexible_extra_distance_km`` δ = 0, 2, 5 and
15 km (each ``--repeats`` times, in one run, so the cases share the machine's
conditions) and writes ``benchmarks/flexible_results.json``: model size, the
median solve and build seconds, and the plan (offices kept / flexible /
closed, mean travel and equivalent distance). The table in
docs/scenarios.md ("Flexible offices valued below staffed ones") comes from it.
Regenerating that shipped file is its purpose, so it is replaced without
--overwrite; another --out that exists is replaced only with --overwrite.
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

SCENARIOS = ("cut-2027.toml", "stages-2025-2027.toml")
DELTAS_KM = (0.0, 2.0, 5.0, 15.0)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", default=str(HERE / "flexible_results.json"))
    ap.add_argument("--overwrite", action="store_true", help="replace an --out other than benchmarks/flexible_results.json if it exists")
    args = ap.parse_args(argv)
    docs.check_results(args.out, shipped=HERE / "flexible_results.json", overwrite=args.overwrite)
    network = netopt.load_network()
    params = netopt.load_parameters()
    rows = []
    for name in SCENARIOS:
        scenario = netopt.load_scenario(HERE.parent / "scenarios" / name)
        for delta in DELTAS_KM:
            solve_s, build_s, wall_s = [], [], []
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                plan = netopt.solve(network, scenario, params=params.with_overrides(flexible_extra_distance_km=delta))
                wall_s.append(time.perf_counter() - t0)
                s = plan.summary()
                solve_s.append(float(s["solve_seconds"]))
                build_s.append(float(s["build_seconds"]))
            row = {
                "scenario": name, "flexible_extra_distance_km": delta, "status": str(s["status"]), "model_size": s["model_size"],
                "solve_seconds_median": statistics.median(solve_s), "build_seconds_median": statistics.median(build_s),
                "wall_seconds_median": statistics.median(wall_s), "repeats": args.repeats,
                "offices_kept": s["offices_kept"], "offices_flexible": s["offices_flexible"], "offices_closed": s["offices_closed"],
                "population_mean_distance_km": s["population_mean_distance_km"],
                "population_mean_equivalent_distance_km": s.get("population_mean_equivalent_distance_km", s["population_mean_distance_km"]),
                "objective": s["objective"],
            }
            rows.append(row)
            print(json.dumps(row), flush=True)
    out = {"machine": {"python": platform.python_version(), "platform": platform.platform(), "processor": platform.processor()}, "runs": rows}
    docs.write_results(args.out, json.dumps(out, indent=1) + "\n", shipped=HERE / "flexible_results.json", overwrite=args.overwrite)


if __name__ == "__main__":
    from netopt.errors import NetoptError

    try:
        main()
    except NetoptError as exc:  # an output refused: said plainly, no traceback
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
