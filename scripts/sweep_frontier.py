"""The frontier of saving against access: how much access each extra MSEK costs.

    python scripts/sweep_frontier.py [--cuts 0:200:50] [--out maps/frontier] [--overwrite]

Writes frontier.csv, frontier.html and each cut's plan in its own folder
(cut-0/, cut-50/ …); the full 20-point sweep is
`netopt sweep scenarios/cut-2027.toml --cuts 0:190:10 --out DIR`. An existing
--out folder is replaced only with --overwrite (checked before any solve), and
only when it holds nothing but netopt's outputs, as with `netopt sweep`.
"""

import argparse
import sys
from pathlib import Path

import netopt
from netopt.errors import NetoptError
from netopt.sweep import parse_cuts, write_sweep

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cuts", default="0:200:50", help="START:STOP:STEP in MSEK")
    ap.add_argument("--out", default=str(ROOT / "maps" / "frontier"))
    ap.add_argument("--overwrite", action="store_true", help="replace --out if it exists (only netopt's own outputs)")
    args = ap.parse_args()
    network = netopt.load_network()
    scenario = netopt.load_scenario(ROOT / "scenarios" / "cut-2027.toml")
    frame = write_sweep(network, scenario, parse_cuts(args.cuts), args.out, overwrite=args.overwrite, progress=lambda k, n, c: print(f"  {k}/{n}: {c:g} MSEK", flush=True))
    cols = ["cut_msek", "status", "offices_closed", "offices_flexible", "population_mean_distance_km", "population_share_within_30km"]
    print(frame[[c for c in cols if c in frame]].to_string(index=False))


if __name__ == "__main__":
    try:
        main()
    except NetoptError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
