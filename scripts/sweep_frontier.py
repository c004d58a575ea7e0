"""The frontier of saving against access: how much access each extra MSEK costs.

    python scripts/sweep_frontier.py [--cuts 0:200:50] [--out maps/frontier]

Writes frontier.csv and frontier.html; the full 20-point sweep is
`netopt sweep scenarios/cut-2027.toml --cuts 0:190:10 --out DIR`.
"""

import argparse
from pathlib import Path

import netopt
from netopt import io
from netopt.sweep import frontier_svg, parse_cuts, sweep

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cuts", default="0:200:50", help="START:STOP:STEP in MSEK")
    ap.add_argument("--out", default=str(ROOT / "maps" / "frontier"))
    args = ap.parse_args()
    network = netopt.load_network()
    scenario = netopt.load_scenario(ROOT / "scenarios" / "cut-2027.toml")
    frame = sweep(network, scenario, parse_cuts(args.cuts), progress=lambda k, n, c: print(f"  {k}/{n}: {c:g} MSEK", flush=True))
    with io.atomic_output_dir(args.out, overwrite=True) as tmp:
        io.write_csv(tmp / "frontier.csv", frame, float_format="%.10g")
        io.write_text(tmp / "frontier.html", frontier_svg(frame, "Saving against access"))
    cols = ["cut_msek", "status", "offices_closed", "offices_flexible", "population_mean_distance_km", "population_share_within_30km"]
    print(frame[[c for c in cols if c in frame]].to_string(index=False))


if __name__ == "__main__":
    main()
