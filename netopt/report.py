"""The outputs of a plan: ``plan.csv``, ``summary.json``, ``report.md`` and ``map.html``.

Every text from data files is escaped for its format (Markdown tables, HTML).
Outputs are deterministic: the same plan gives the same bytes, except the
elapsed-time fields of ``summary.json`` and ``report.md`` (``solve_seconds``,
``build_seconds``).
"""

from __future__ import annotations

import html
import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd

from . import io
from .data import fa_polygons, municipality_polygons
from .plan import Plan

__all__ = ["summary_dict", "plan_csv", "report_markdown", "map_html", "fa_table", "ssc_table", "write_outputs", "md_escape"]

URBAN_RURAL_LABELS = {"1": "metropolitan", "2": "dense", "3": "rural"}


def _clean(obj):
    """JSON-safe: numpy scalars → Python, NaN/inf → None, floats rounded to 6 significant decimals."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.bool_,)):
        return bool(obj)
    if isinstance(obj, (float, np.floating)):
        x = float(obj)
        if not math.isfinite(x):
            return None
        return float(f"{x:.10g}")
    return obj


def summary_dict(plan: Plan) -> dict:
    """``summary.json``: the final stage's summary, every stage, inputs and parameters."""
    prep = plan.prepared
    out = plan.summary(-1)
    out["stages"] = [plan.summary(s) for s in range(len(plan.stages))]
    for st in out["stages"]:
        st.pop("model_size", None)
    out["phase"] = plan.phase
    out["notes"] = list(plan.notes)
    sc = prep.scenario
    out["solver"] = {
        "name": {"highspy": "HiGHS (highspy)", "ortools-highs": "HiGHS via OR-Tools", "cp-sat": "OR-Tools CP-SAT"}.get(plan.backend, plan.backend or "none"),
        "backend": sc.solver.backend,
        "time_limit_s": sc.solver.time_limit_s,
        "threads": sc.solver.threads,
        "seed": sc.solver.seed,
        "relative_gap": sc.solver.relative_gap,
    }
    c = sc.constraints
    out["scenario_settings"] = {
        "source": sc.source,
        "description": sc.description,
        "objective": sc.objective,
        "coverage_km": sc.coverage_km,
        "flexible": sc.modes.flexible,
        "lock_open": list(c.lock_open),
        "lock_closed": list(c.lock_closed),
        "max_growth": c.max_growth,
        "max_distance_km": c.max_distance_km,
        "keep_municipalities": c.keep_municipalities,
        "max_closures": c.max_closures,
        "parameters": dict(sc.parameters),
    }
    p = prep.params
    out["model_parameters"] = {
        "detour_factor": p.detour_factor,
        "decay_km": p.decay_km,
        "floor": p.floor,
        "staff_per_visit_sek": p.staff_per_visit_sek,
        "site_per_visit_sek": p.site_per_visit_sek,
        "fixed_cost_scale": prep.costs.fixed_scale,
        "flexible_capacity_visits": p.flexible_capacity_visits,
        "rho_by_region": prep.visits.rho_by_region,
    }
    out["estimates"] = {
        "offices_with_estimated_visits": int(prep.visits.visits_estimated.sum()),
        "offices_with_estimated_cost": int(prep.costs.cost_estimated.sum()),
    }
    out["inputs"] = {k: _relative(v) for k, v in sorted(prep.network.sources.items())}
    t = plan.office_table()
    out["offices"] = [
        {
            "office_id": r.office_id,
            "decision": r.decision,
            "visits_before": r.visits_before,
            "visits_after": r.visits_after,
            "receiver_id": r.receiver_id or None,
            "receiver_distance_km": r.receiver_distance_km,
        }
        for r in t.itertuples()
    ]
    return _clean(out)


def _relative(path: str) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def plan_csv(plan: Plan, stage: int = -1) -> str:
    """``plan.csv``: one row per office."""
    t = plan.office_table(stage)
    cols = [
        "office_id", "office_name", "municipality_code", "municipality", "fa_code", "fa_name", "ssc_region",
        "decision", "visits_before", "visits_after", "cost_msek_before", "cost_msek_after", "cost_per_visit_sek",
        "receiver_id", "receiver_name", "receiver_distance_km", "visits_estimated", "cost_estimated",
    ]
    if not t["existing"].all():  # extra candidate sites in the run
        cols.append("existing")
    return t[cols].to_csv(index=False, lineterminator="\n", float_format="%.10g")


# --------------------------------------------------------------------------- tables


def fa_table(plan: Plan, stage: int = -1) -> pd.DataFrame:
    """Per FA-region: population, offices before/after, mean distance (km) before/after."""
    prep = plan.prepared
    st = plan.stages[stage]
    dem = prep.network.demand
    w = dem["population"].to_numpy(float)
    d = pd.DataFrame({"fa_code": dem["fa_code"], "w": w, "wd_after": w * st.dist_m / 1000.0, "wd_before": w * prep.visits.baseline_dist_m / 1000.0})
    g = d.groupby("fa_code").sum()
    off = prep.network.offices
    before = off[prep.instance.existing_mask].groupby("fa_code").size()
    after = off[st.modes > 0].groupby("fa_code").size()
    fa = prep.network.fa_regions.set_index("fa_code")
    t = pd.DataFrame(
        {
            "fa_name": fa["fa_name"],
            "urban_rural": fa["urban_rural"].map(lambda v: URBAN_RURAL_LABELS.get(str(v), str(v))),
            "population": fa["population"].astype(int),
            "offices_before": before.reindex(fa.index).fillna(0).astype(int),
            "offices_after": after.reindex(fa.index).fillna(0).astype(int),
            "mean_distance_km_before": (g["wd_before"] / g["w"]).reindex(fa.index),
            "mean_distance_km_after": (g["wd_after"] / g["w"]).reindex(fa.index),
        }
    )
    t.index.name = "fa_code"
    return t.reset_index()


def ssc_table(plan: Plan, stage: int = -1) -> pd.DataFrame:
    """Per SSC region: offices, visits (per year) and cost (MSEK) before and after."""
    t = plan.office_table(stage)
    g = t.groupby("ssc_region").agg(
        offices_before=("existing", "sum"),
        offices_after=("decision", lambda s: int(s.isin(["keep", "flexible"]).sum())),
        visits_before=("visits_before", "sum"),
        visits_after=("visits_after", "sum"),
        cost_msek_before=("cost_msek_before", "sum"),
        cost_msek_after=("cost_msek_after", "sum"),
    )
    return g.reset_index()


def urban_rural_table(plan: Plan, stage: int = -1) -> pd.DataFrame:
    """Population-weighted mean distance (km) by urban-rural class of FA-region."""
    t = fa_table(plan, stage)
    t["wb"] = t["population"] * t["mean_distance_km_before"]
    t["wa"] = t["population"] * t["mean_distance_km_after"]
    g = t.groupby("urban_rural").agg(fa_regions=("fa_code", "count"), population=("population", "sum"), wb=("wb", "sum"), wa=("wa", "sum"), offices_before=("offices_before", "sum"), offices_after=("offices_after", "sum"))
    g["mean_distance_km_before"] = g["wb"] / g["population"]
    g["mean_distance_km_after"] = g["wa"] / g["population"]
    return g.drop(columns=["wb", "wa"]).reset_index()


def closure_reasons(plan: Plan, stage: int = -1) -> pd.DataFrame:
    """Closed or converted offices with what the change saves and what it costs in access."""
    prep = plan.prepared
    inst = prep.instance
    st = plan.stages[stage]
    t = plan.office_table(stage)
    base_near = prep.visits.baseline_office
    w = inst.population.astype(float)
    rows = []
    for i in np.flatnonzero((st.modes < 2) & inst.existing_mask):
        js = base_near == i
        pop = float(w[js].sum())
        extra = float((w[js] * (st.dist_m[js] - prep.visits.baseline_dist_m[js])).sum() / max(pop, 1.0) / 1000.0)
        saving = (t.at[i, "cost_msek_before"] - t.at[i, "cost_msek_after"]) - prep.costs.staff_per_visit_sek * float((inst.propensity[js] * (inst.g(st.dist_m[js]))).sum() - (st.visits_after[i] if st.modes[i] == 1 else 0.0)) / 1e6
        rows.append(
            {
                "office_id": t.at[i, "office_id"],
                "office_name": t.at[i, "office_name"],
                "decision": t.at[i, "decision"],
                "visits_before": t.at[i, "visits_before"],
                "saving_msek": saving,
                "population_served_before": int(pop),
                "extra_distance_km": extra,
                "receiver_name": t.at[i, "receiver_name"],
                "receiver_distance_km": t.at[i, "receiver_distance_km"],
            }
        )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- Markdown

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~>])")


def md_escape(text) -> str:
    """Escape text for a Markdown table cell: HTML-escaped and Markdown specials backslashed."""
    s = html.escape(str(text), quote=False).replace("\n", " ").replace("\r", " ")
    return _MD_SPECIAL.sub(r"\\\1", s)


def _md_table(frame: pd.DataFrame, formats: dict) -> str:
    cols = list(formats)
    head = "| " + " | ".join(formats[c][0] for c in cols) + " |"
    sep = "|" + "|".join("---:" if formats[c][1] else "---" for c in cols) + "|"
    lines = [head, sep]
    for _, r in frame.iterrows():
        cells = []
        for c in cols:
            fmt = formats[c][1]
            v = r[c]
            if fmt is None:
                cells.append(md_escape(v))
            elif v is None or (isinstance(v, float) and not math.isfinite(v)):
                cells.append("–")
            else:
                cells.append(format(v, fmt))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def report_markdown(plan: Plan, stage: int = -1) -> str:
    """``report.md``: a one-page memo of what the plan does."""
    s = plan.summary(stage)
    prep = plan.prepared
    sc = prep.scenario
    lines = []
    lines.append(f"# {md_escape(sc.name)}: {s['stage_year']}, {s['cut_msek']:g} MSEK lower\n")
    if sc.description:
        lines.append(md_escape(sc.description) + "\n")
    status = s["status"]
    gap = s["gap"]
    proof = {
        "OPTIMAL": "The solver proved this plan optimal (gap 0).",
        "WITHIN_GAP": f"The solver stopped within the requested gap of {100 * sc.solver.relative_gap:g} %: this plan meets every constraint and is within {100 * (gap or 0):.3f} % of the best possible, but it is not proven optimal.",
        "TIME_LIMIT": f"The solver stopped at its time limit: this plan meets every constraint but is not proven optimal (gap {'unknown' if gap is None else f'{100 * gap:.3f} %'}).",
        "EVALUATED": "This is a plan written by hand, measured with the same yardstick (no optimisation).",
    }.get(status, status)
    lines.append("## What the plan does\n")
    lines.append(
        f"- Cost: {s['cost_msek']:.1f} MSEK per year against {s['baseline_cost_msek']:.1f} MSEK in 2024: saving **{s['savings_msek']:.1f} MSEK**"
        + (f" plus {s['flexible_allowance_used_msek']:.1f} MSEK of the allowance for flexible offices" if s["flexible_allowance_used_msek"] > 0 else "")
        + f" (cut asked: {s['cut_msek']:g} MSEK; {'met' if s['meets_budget'] else '**not met**'})."
    )
    lines.append(f"- Offices: {s['offices_open']} kept, {s['offices_flexible']} turned into flexible offices, {s['offices_closed']} closed (of {s['offices_open'] + s['offices_flexible'] + s['offices_closed']}).")
    lines.append(f"- FA-regions ({md_escape(s['fa_division'])}) with an office: {s['fa_regions_served']} of {s['fa_regions_total']} (before: {s['fa_regions_served_before']}).")
    lines.append(
        f"- Travel distance to the nearest office, population-weighted mean: {s['population_mean_distance_km_before']:.2f} → {s['population_mean_distance_km']:.2f} km; "
        f"90th percentile {s['population_p90_distance_km_before']:.1f} → {s['population_p90_distance_km']:.1f} km; "
        f"share within 30 km {100 * s['population_share_within_30km_before']:.1f} % → {100 * s['population_share_within_30km']:.1f} %."
    )
    lines.append(f"- Visits per year: {s['visits_before']:,.0f} → {s['visits_after']:,.0f} (lost because the next office is farther: {s['visits_lost']:,.0f}).".replace(",", " "))
    unit = {"distance": "inhabitant-metres", "coverage": f"inhabitants beyond {sc.coverage_km:g} km", "visits_lost": "visits lost per year"}[sc.objective]
    bound = "–" if s["best_bound"] is None else f"{s['best_bound']:,.0f}".replace(",", " ")
    objective = f"{s['objective']:,.0f}".replace(",", " ")
    lines.append(f"- Solver: {status}; objective ({md_escape(sc.objective)}, {unit}) {objective}, best bound {bound}, gap {'–' if gap is None else f'{100 * gap:.4f} %'}. {proof}")
    est_v = int(prep.visits.visits_estimated.sum())
    est_c = int(prep.costs.cost_estimated.sum())
    lines.append(f"- Estimates: visits of {est_v} and costs of {est_c} of {len(prep.network.offices)} offices are netopt's estimates calibrated to the 2024 annual report (docs/calibration.md), not SSC's own figures.\n")

    if len(plan.stages) > 1:
        lines.append("## Stages\n")
        st_rows = pd.DataFrame([plan.summary(k) for k in range(len(plan.stages))])
        lines.append(_md_table(st_rows, {"stage_year": ("Year", "d"), "cut_msek": ("Cut MSEK", ".0f"), "savings_msek": ("Saving MSEK", ".1f"), "offices_open": ("Kept", "d"), "offices_flexible": ("Flexible", "d"), "offices_closed": ("Closed", "d"), "population_mean_distance_km": ("Mean km", ".2f")}) + "\n")

    cr = closure_reasons(plan, stage)
    lines.append("## Offices closed or turned flexible, and why\n")
    if cr.empty:
        lines.append("None.\n")
    else:
        cr = cr.sort_values(["decision", "saving_msek", "office_id"], ascending=[True, False, True])
        lines.append("The model gives these offices up because, together, they meet the cut with the least loss of access the FA-region rule allows: they save much for their cost in distance, usually because another office is close. Each row: what the change saves per year, whom it affects (the inhabitants it served, and how much farther they now travel on average) and where its visitors go.\n")
        lines.append(
            _md_table(
                cr,
                {
                    "office_name": ("Office", None),
                    "decision": ("Decision", None),
                    "visits_before": ("Visits/yr", ".0f"),
                    "saving_msek": ("Saves MSEK/yr", ".2f"),
                    "population_served_before": ("Inhabitants served", "d"),
                    "extra_distance_km": ("Extra km (mean)", ".1f"),
                    "receiver_name": ("Visitors go to", None),
                    "receiver_distance_km": ("km away", ".1f"),
                },
            )
            + "\n"
        )

    lines.append("## Urban and rural FA-regions\n")
    ur = urban_rural_table(plan, stage)
    lines.append(_md_table(ur, {"urban_rural": ("Class", None), "fa_regions": ("FA-regions", "d"), "population": ("Population", "d"), "offices_before": ("Offices before", "d"), "offices_after": ("after", "d"), "mean_distance_km_before": ("Mean km before", ".2f"), "mean_distance_km_after": ("after", ".2f")}) + "\n")

    lines.append("## SSC regions\n")
    lines.append(_md_table(ssc_table(plan, stage), {"ssc_region": ("Region", None), "offices_before": ("Offices before", "d"), "offices_after": ("after", "d"), "visits_before": ("Visits before", ".0f"), "visits_after": ("after", ".0f"), "cost_msek_before": ("Cost MSEK before", ".1f"), "cost_msek_after": ("after", ".1f")}) + "\n")

    lines.append("## FA-regions\n")
    fa = fa_table(plan, stage)
    lines.append(_md_table(fa, {"fa_code": ("Code", None), "fa_name": ("FA-region", None), "urban_rural": ("Class", None), "population": ("Population", "d"), "offices_before": ("Offices before", "d"), "offices_after": ("after", "d"), "mean_distance_km_before": ("Mean km before", ".1f"), "mean_distance_km_after": ("after", ".1f")}) + "\n")

    lines.append(f"_Solved in {s['solve_seconds']:.1f} s (build {s['build_seconds']:.1f} s). Inputs: {', '.join(md_escape(v) for v in summary_dict(plan)['inputs'].values())}._\n")
    return "\n".join(lines)


# --------------------------------------------------------------------------- map


def map_inputs(plan: Plan, stage: int = -1):
    """The tables :mod:`netopt.maps` draws for one stage of a plan."""
    offices = plan.office_table(stage)
    offices = offices[offices["decision"] != "not opened"].reset_index(drop=True)
    fa = fa_table(plan, stage)
    polys = fa_polygons(plan.prepared.network)
    gfa = polys[["fa_code", "geometry"]].merge(fa, on="fa_code")
    s = plan.summary(stage)
    s["scenario"] = plan.scenario.name
    return offices, gfa, municipality_polygons(), s


def map_html(plan: Plan, stage: int = -1) -> str:
    """``map.html``: the self-contained interactive map of one stage."""
    from .maps import plan_map_html

    offices, gfa, munis, s = map_inputs(plan, stage)
    title = f"{plan.scenario.name}: {s['stage_year']}, {s['cut_msek']:g} MSEK lower"
    return plan_map_html(offices, gfa, munis, s, title=title)


def write_outputs(plan: Plan, out: str | Path, *, overwrite: bool = False, with_map: bool = True) -> Path:
    """Write plan.csv, summary.json, report.md and map.html into ``out`` atomically."""
    texts = {
        "plan.csv": plan_csv(plan),
        "summary.json": json.dumps(summary_dict(plan), indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n",
        "report.md": report_markdown(plan),
    }
    if with_map:
        texts["map.html"] = map_html(plan)
    if len(plan.stages) > 1:
        for k in range(len(plan.stages) - 1):
            texts[f"plan-{plan.scenario.stages[k].year}.csv"] = plan_csv(plan, k)
    with io.atomic_output_dir(out, overwrite=overwrite) as tmp:
        for name, text in texts.items():
            io.write_text(tmp / name, text)
    return Path(out)
