"""The three budget stages in one go: 2025 → 2026 → 2027 with nested decisions.

An office closed in 2025 stays closed; each year meets its own cut (50, 100,
150 MSEK a year lower; 10 MSEK allowance for flexible offices from 2026).

    python scripts/budget_stages.py [--out maps/stages-2025-2027] [--overwrite]

An existing --out folder is replaced only with --overwrite (checked before the
solve), as with `netopt solve`; the folder is written whole or not at all.
"""

import argparse
import sys
from pathlib import Path

import netopt
from netopt import io
from netopt.errors import NetoptError

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "maps" / "stages-2025-2027"))
    ap.add_argument("--overwrite", action="store_true", help="replace --out if it exists (only netopt's own outputs)")
    args = ap.parse_args()
    io.check_output_dir(args.out, overwrite=args.overwrite)  # before the solve
    network = netopt.load_network()
    scenario = netopt.load_scenario(ROOT / "scenarios" / "stages-2025-2027.toml")
    plan = netopt.solve(network, scenario)
    netopt.write_outputs(plan, args.out, overwrite=args.overwrite)
    print(f"status {plan.status}, gap {plan.gap}")
    print("year  cut  saving  kept  flexible  closed  mean_km  within_30km")
    for k, stage in enumerate(scenario.stages):
        s = plan.summary(k)
        print(f"{stage.year}  {stage.cut_msek:>4.0f}  {s['savings_msek'] + s['flexible_allowance_used_msek']:>6.1f}  {s['offices_kept']:>4}  {s['offices_flexible']:>8}  {s['offices_closed']:>6}  {s['population_mean_distance_km']:>7.2f}  {100 * s['population_share_within_30km']:>10.1f}%")
    print(f"wrote {args.out}/ (plan.csv is 2027; plan-2025.csv and plan-2026.csv the earlier years)")


if __name__ == "__main__":
    try:
        main()
    except NetoptError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
