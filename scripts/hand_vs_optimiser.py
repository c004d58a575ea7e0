"""A hand-written list of closures against the optimiser's plan at the same saving.

The hand-written rule is one planners often start from: close the offices with
the highest cost per visit, skipping any office that is the last one in its
FA-region, until the cut is met. The optimiser is then asked for the same
saving, and both plans are measured by the same yardstick.

    python scripts/hand_vs_optimiser.py [--cut 100] [--out maps/hand-vs-optimiser] [--overwrite]

Writes the two plans' outputs to OUT/hand and OUT/optimiser; existing ones are
replaced only with --overwrite (both checked before any solve).
"""

import argparse
import sys
from pathlib import Path

import numpy as np

import netopt
from netopt import io
from netopt.errors import NetoptError
from netopt.scenario import Stage

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cut", type=float, default=100.0, help="target cut in MSEK a year")
    ap.add_argument("--out", default=str(ROOT / "maps" / "hand-vs-optimiser"))
    ap.add_argument("--overwrite", action="store_true", help="replace OUT/hand and OUT/optimiser if they exist (only netopt's own outputs)")
    args = ap.parse_args()
    out = Path(args.out)
    for folder in (out / "hand", out / "optimiser"):  # both before any solve: never one written and the other refused
        io.check_output_dir(folder, overwrite=args.overwrite)
    network = netopt.load_network()
    base = netopt.load_scenario(ROOT / "scenarios" / "cut-2027.toml")
    scenario = base.with_(stages=(Stage(year=2027, cut_msek=args.cut),))

    # the hand-written rule, on the same cost estimates the optimiser uses
    prep = netopt.prepare(network, scenario)
    cost = prep.costs.fixed_full_sek + prep.costs.staff_per_visit_sek * prep.visits.baseline_visits
    per_visit = cost / np.maximum(prep.visits.baseline_visits, 1.0)
    left = network.offices.groupby("fa_code").size().to_dict()
    closures = {}
    for i in np.argsort(-per_visit, kind="stable"):
        fa = network.offices["fa_code"].iat[i]
        if left[fa] <= 1:
            continue
        closures[network.offices["office_id"].iat[i]] = "close"
        left[fa] -= 1
        if netopt.evaluate(network, closures, scenario).summary()["savings_msek"] >= args.cut:
            break
    hand = netopt.evaluate(network, closures, scenario)
    saving = hand.summary()["savings_msek"]
    best = netopt.solve(network, scenario.with_(stages=(Stage(year=2027, cut_msek=round(saving, 3)),), flexible=False))
    netopt.write_outputs(hand, out / "hand", overwrite=args.overwrite)
    netopt.write_outputs(best, out / "optimiser", overwrite=args.overwrite)
    print(f"{'':34}{'hand-written':>14}{'optimiser':>12}")
    for key, label, fmt in [
        ("savings_msek", "saving (MSEK/yr)", ".1f"),
        ("offices_closed", "offices closed", "d"),
        ("population_mean_distance_km", "mean distance (km)", ".2f"),
        ("population_p90_distance_km", "90th percentile (km)", ".1f"),
        ("population_share_within_30km", "share within 30 km", ".3f"),
        ("visits_lost", "visits lost per year", ".0f"),
    ]:
        print(f"{label:34}{format(hand.summary()[key], fmt):>14}{format(best.summary()[key], fmt):>12}")
    print(f"wrote {out}/hand and {out}/optimiser; compare with: netopt compare {out}/hand {out}/optimiser --out {out}/compare")


if __name__ == "__main__":
    try:
        main()
    except NetoptError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
