"""How the 2027 plan changes with the model's assumptions.

Re-solves the 2027 stage with staff cost per visit ±20 %, the detour factor at
the ends of the Swedish range (1.2, 1.45) and the visit decay halved and
doubled, and prints how many offices each run closes and what it does to access.

    python scripts/sensitivity.py [--out maps/sensitivity.csv] [--overwrite]

An existing CSV is replaced only with --overwrite (checked before any solve);
the file is written whole or not at all.
"""

import argparse
import sys
from pathlib import Path

import pandas as pd

import netopt
from netopt import io
from netopt.errors import NetoptError

ROOT = Path(__file__).resolve().parent.parent

RUNS = [
    ("base", {}),
    ("staff cost per visit −20 %", {"staff_cost_factor": 0.8}),
    ("staff cost per visit +20 %", {"staff_cost_factor": 1.2}),
    ("detour factor 1.2", {"detour_factor": 1.2}),
    ("detour factor 1.45", {"detour_factor": 1.45}),
    ("visit decay 20 km", {"decay_km": 20.0}),
    ("visit decay 80 km", {"decay_km": 80.0}),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "maps" / "sensitivity.csv"))
    ap.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    args = ap.parse_args()
    io.check_output_file(args.out, overwrite=args.overwrite)  # before the seven solves
    network = netopt.load_network()
    # runs are compared on the offices they close (those change access)
    base = netopt.load_scenario(ROOT / "scenarios" / "cut-2027.toml")
    base_plan = None
    rows = []
    for label, params in RUNS:
        plan = netopt.solve(network, base.with_(parameters=params))
        s = plan.summary()
        closed = set(plan.office_table().query("decision == 'close'")["office_id"])
        base_plan = base_plan or closed
        rows.append({
            "run": label, "status": s["status"], "closed": s["offices_closed"], "flexible": s["offices_flexible"],
            "closures_differing_from_base": len(closed ^ base_plan), "mean_km": round(s["population_mean_distance_km"], 2),
            "within_30km": round(s["population_share_within_30km"], 4), "visits_lost": round(s["visits_lost"]),
        })
    frame = pd.DataFrame(rows)
    with io.atomic_output_file(args.out, overwrite=args.overwrite) as tmp:
        io.write_csv(tmp, frame)
    print(frame.to_string(index=False))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    try:
        main()
    except NetoptError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
