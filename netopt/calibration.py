"""The calibration report: how well the visit and cost models reproduce the annual report.

:func:`calibration_report` returns what ``netopt calibrate --json`` prints:
predicted visits per SSC region against table 25, the national total, the
total cost against 1 003.1 MSEK, cost per visit by office size, and the
public sanity checks (Kista busiest; Linköping, Skellefteå, Haninge visits per day).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .costs import fit_costs
from .data import Network
from .params import REGIONS, Parameters
from .visits import fit_visits

__all__ = ["calibration_report", "OPEN_DAYS_PER_YEAR"]

#: Days an office is open per year (weekdays less public holidays), for visits per day.
OPEN_DAYS_PER_YEAR = 250

#: Public figures the model is compared with (reported, never used to fit it).
SANITY = (
    ("stockholm-kista", "Kista is SSC's busiest office"),
    ("linkoping-city", "Linköping takes roughly 250–300 visits a day"),
    ("skelleftea", "Skellefteå takes about 95 visits a day"),
    ("haninge-brandbergen", "Haninge Brandbergen takes about 100 visits a day"),
)


def calibration_report(network: Network, params: Parameters) -> dict:
    """Calibration figures (visits per year, MSEK per year, SEK per visit)."""
    vm = fit_visits(network, params)
    cm = fit_costs(network, vm, params)
    off = network.offices
    v = vm.baseline_visits
    by_region = pd.Series(v).groupby(off["ssc_region"].to_numpy()).sum()
    visits_by_region = {}
    for r in REGIONS:
        target = params.reference_visits_by_region.get(r)
        pred = float(by_region.get(r, 0.0))
        visits_by_region[r] = {
            "predicted": round(pred, 1),
            "annual_report": target,
            "error_pct": None if not target else round(100 * (pred - target) / target, 4),
        }
    cost = cm.fixed_full_sek + cm.staff_per_visit_sek * v
    total_cost = float(cost.sum()) / 1e6
    cpv = np.divide(cost, v, out=np.full(len(v), np.nan), where=v > 0)
    bins = [0, 5000, 10000, 20000, 40000, 80000, np.inf]
    labels = ["<5k", "5k–10k", "10k–20k", "20k–40k", "40k–80k", "≥80k"]
    size = pd.cut(v, bins=bins, labels=labels, right=False)
    tab = pd.DataFrame({"size": size, "cost": cost, "visits": v}).groupby("size", observed=False).agg(offices=("cost", "size"), cost=("cost", "sum"), visits=("visits", "sum"))
    by_size = {
        str(k): {"offices": int(r["offices"]), "cost_per_visit_sek": None if r["visits"] <= 0 else round(float(r["cost"] / r["visits"]), 1)}
        for k, r in tab.iterrows()
    }
    rank = pd.Series(v, index=off["office_id"]).rank(ascending=False, method="min")
    sanity = []
    ids = list(off["office_id"])
    for oid, text in SANITY:
        if oid not in ids:
            continue
        i = ids.index(oid)
        sanity.append({"office_id": oid, "check": text, "visits_per_year": round(float(v[i]), 1), "visits_per_day": round(float(v[i]) / OPEN_DAYS_PER_YEAR, 1), "rank": int(rank[oid])})
    order = np.argsort(-v, kind="stable")
    return {
        "visits_total": round(float(v.sum()), 1),
        "visits_total_annual_report": params.reference_visits_total,
        "visits_total_error_pct": round(100 * (float(v.sum()) - params.reference_visits_total) / params.reference_visits_total, 4),
        "visits_by_region": {r: d["predicted"] for r, d in visits_by_region.items()},
        "visits_by_region_detail": visits_by_region,
        "cost_total_msek": round(total_cost, 3),
        "cost_total_annual_report_msek": params.reference_cost_msek,
        "cost_total_error_pct": round(100 * (total_cost - params.reference_cost_msek) / params.reference_cost_msek, 4),
        "cost_per_visit_sek": round(total_cost * 1e6 / float(v.sum()), 1),
        "cost_per_visit_by_office_size": by_size,
        "cost_per_visit_sek_min_max": [round(float(np.nanmin(cpv)), 1), round(float(np.nanmax(cpv)), 1)],
        "rho_by_region": {k: round(x, 5) for k, x in vm.rho_by_region.items()},
        "parameters": {
            "staff_per_visit_sek": round(params.staff_per_visit_sek, 2),
            "site_per_visit_sek": round(params.site_per_visit_sek, 2),
            "fixed_cost_scale": round(cm.fixed_scale, 5),
            "decay_km": params.decay_km,
            "floor": params.floor,
            "detour_factor": params.detour_factor,
        },
        "busiest_offices": [{"office_id": ids[i], "visits_per_year": round(float(v[i]), 1), "visits_per_day": round(float(v[i]) / OPEN_DAYS_PER_YEAR, 1)} for i in order[:10]],
        "sanity_checks": sanity,
        "offices": len(off),
        "offices_with_given_visits": int((~vm.visits_estimated).sum()),
        "offices_with_given_cost": int((~cm.cost_estimated).sum()),
    }
