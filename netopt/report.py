"""The outputs of a plan: ``plan.csv``, ``summary.json``, ``report.md`` and ``map.html``.

Every text from data files is escaped for its format (Markdown tables, HTML).
Outputs are deterministic: the same plan gives the same bytes, except the
elapsed-time fields of ``summary.json`` and ``report.md`` (``solve_seconds``,
``build_seconds``).
"""

from __future__ import annotations

import dataclasses
import html
import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd

from . import io
from .data import fa_polygons, municipality_polygons
from .solve import Plan

__all__ = ["summary_dict", "plan_csv", "report_markdown", "map_html", "fa_table", "ssc_table", "write_outputs", "md_escape", "fmt"]

URBAN_RURAL_LABELS = {"1": "metropolitan", "2": "dense", "3": "rural"}


def _clean(obj):
    """JSON-safe: numpy scalars → Python, NaN/inf → None. Numbers are written
    exactly (a float as its shortest exact repr): summary.json is read by
    programs; only report.md and the map round for reading."""
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
        return x
    return obj


#: Summary fields that hold the objective or its bound: whole numbers for the
#: integer objectives (inhabitant-metres, inhabitants), written as JSON integers.
_OBJECTIVE_KEYS = ("objective", "solver_objective", "best_bound")


def _exact_objective(summary: dict) -> dict:
    """Write an integer objective as an integer (197358299519, not 1.973582995e+11)."""
    if summary.get("objective_name") in ("distance", "coverage"):
        for key in _OBJECTIVE_KEYS:
            v = summary.get(key)
            if isinstance(v, float) and math.isfinite(v) and v == int(v):
                summary[key] = int(v)
    return summary


def summary_dict(plan: Plan) -> dict:
    """``summary.json``: the final stage's summary, every stage, inputs and parameters."""
    prep = plan.prepared
    out = _exact_objective(plan.summary(-1))
    out["stages"] = [_exact_objective(plan.summary(s)) for s in range(len(plan.stages))]
    for st in out["stages"]:
        st.pop("model_size", None)
    out["phase"] = plan.phase
    out["notes"] = list(plan.notes)
    out["solver"] = {
        "name": "HiGHS via OR-Tools",
        "time_limit_s": prep.scenario.time_limit_s,
        "threads": prep.scenario.threads,
        "seed": prep.scenario.seed,
        "relative_gap": prep.scenario.relative_gap,
    }
    sc = prep.scenario
    out["scenario_settings"] = {
        "source": sc.source,
        "description": sc.description,
        "objective": sc.objective,
        "coverage_km": sc.coverage_km,
        "flexible": sc.flexible,
        "lock_open": list(sc.lock_open),
        "lock_closed": list(sc.lock_closed),
        "max_growth": sc.max_growth,
        "max_distance_km": sc.max_distance_km,
        "keep_municipalities": sc.keep_municipalities,
        "max_closures": sc.max_closures,
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
    # what `netopt compare` needs to show this plan exactly as it was made
    out["input_files"] = {
        k: {"path": str(Path(v).resolve()), "sha256": prep.network.checksums.get(k)} for k, v in sorted(prep.network.sources.items())
    }
    out["parameters_resolved"] = dataclasses.asdict(prep.params)
    matrix = prep.network.distance_matrix_m is not None
    out["distances"] = {
        "source": "matrix" if matrix else "straight line × detour factor",
        "matrix": _relative(prep.network.sources["distances"]) if matrix else None,
        "detour_factor": None if matrix else p.detour_factor,
        "unit": "km (whole metres inside netopt)",
        "receiver_distance_km": receiver_distance_meaning(plan),
    }
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


def distance_measure(plan: Plan) -> str:
    """In words: how every distance in the outputs is measured (the optimisation's own measure)."""
    net = plan.prepared.network
    if net.distance_matrix_m is not None:
        return f"travel distances from the planner's matrix ({_relative(net.sources['distances'])})"
    return f"straight line × detour factor {plan.prepared.params.detour_factor:g}"


def receiver_distance_meaning(plan: Plan) -> str:
    """What ``receiver_distance_km`` holds (plan.csv, summary.json, report.md, map)."""
    if plan.prepared.network.distance_matrix_m is not None:
        return "km from the closed office to the office that receives its visitors: the planner's matrix distance from the demand point nearest the closed office (the matrix has no office-to-office distances)"
    return f"km from the closed office to the office that receives its visitors: straight line × detour factor {plan.prepared.params.detour_factor:g}, as in the optimisation"


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
    from .calibration import public_figure_checks, public_figure_marks

    marks = public_figure_marks(public_figure_checks(plan.prepared.network, plan.prepared.visits.baseline_visits))
    t["public_figure_conflict"] = [marks.get(o, "") for o in t["office_id"]]
    cols.append("public_figure_conflict")
    # figures are rounded once, in the office table; the writer adds no rounding
    return t[cols].to_csv(index=False, lineterminator="\n")


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

_NEGATIVE_ZERO = re.compile(r"^-(?=[0.,\u00a0 ]*$)")


def fmt(value, spec: str) -> str:
    """``format(value, spec)`` without a negative zero: -0.04 at ".1f" is "0.0", not "-0.0"."""
    return _NEGATIVE_ZERO.sub("", format(value, spec))


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
            spec = formats[c][1]
            v = r[c]
            if spec is None:
                cells.append(md_escape(v))
            elif v is None or (isinstance(v, float) and not math.isfinite(v)):
                cells.append("–")
            else:
                cells.append(fmt(v, spec))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def report_markdown(plan: Plan, stage: int = -1, areas: pd.DataFrame | None = None) -> str:
    """``report.md``: a one-page memo of what the plan does.

    ``areas``: areas with high social exclusion (:func:`netopt.areas.load_areas`;
    default: the shipped Police list)."""
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
        "FEASIBLE": f"The solver stopped at its time limit: this plan is feasible but not proven optimal (gap {100 * (gap or 0):.3f} %).",
        "EVALUATED": "This is a plan written by hand, measured with the same yardstick (no optimisation).",
    }.get(status, status)
    lines.append("## What the plan does\n")
    lines.append(
        f"- Cost: {fmt(s['cost_msek'], '.1f')} MSEK per year against {fmt(s['baseline_cost_msek'], '.1f')} MSEK in 2024: saving **{fmt(s['savings_msek'], '.1f')} MSEK**"
        + (f" plus {fmt(s['flexible_allowance_used_msek'], '.1f')} MSEK of the allowance for flexible offices" if s["flexible_allowance_used_msek"] > 0 else "")
        + f" (cut asked: {fmt(s['cut_msek'], 'g')} MSEK; {'met' if s['meets_budget'] else '**not met**'})."
    )
    lines.append(f"- Offices: {s['offices_kept']} kept, {s['offices_flexible']} turned into flexible offices ({s['offices_open']} open), {s['offices_closed']} closed (of {s['offices_kept'] + s['offices_flexible'] + s['offices_closed']}).")
    lines.append(f"- FA-regions ({md_escape(s['fa_division'])}) with an office: {s['fa_regions_served']} of {s['fa_regions_total']} (before: {s['fa_regions_served_before']}).")
    lines.append(
        f"- Travel distance ({md_escape(distance_measure(plan))}) to the nearest office, population-weighted mean: {s['population_mean_distance_km_before']:.2f} → {s['population_mean_distance_km']:.2f} km; "
        f"90th percentile {s['population_p90_distance_km_before']:.1f} → {s['population_p90_distance_km']:.1f} km; "
        f"share within 30 km {100 * s['population_share_within_30km_before']:.1f} % → {100 * s['population_share_within_30km']:.1f} %."
    )
    lines.append(f"- Visits per year: {fmt(s['visits_before'], ',.0f')} → {fmt(s['visits_after'], ',.0f')} (lost because the next office is farther: {fmt(s['visits_lost'], ',.0f')}).".replace(",", " "))
    unit = {"distance": "inhabitant-metres", "coverage": f"inhabitants beyond {sc.coverage_km:g} km", "visits_lost": "visits lost per year"}[sc.objective]
    bound = "–" if s["best_bound"] is None else f"{s['best_bound']:,.0f}".replace(",", " ")
    objective = f"{s['objective']:,.0f}".replace(",", " ")
    lines.append(f"- Solver: {status}; objective ({md_escape(sc.objective)}, {unit}) {objective}, best bound {bound}, gap {'–' if gap is None else f'{100 * gap:.4f} %'}. {proof}")
    est_v = int(prep.visits.visits_estimated.sum())
    est_c = int(prep.costs.cost_estimated.sum())
    lines.append(f"- Estimates: visits of {est_v} and costs of {est_c} of {len(prep.network.offices)} offices are netopt's estimates calibrated to the 2024 annual report (docs/calibration.md), not SSC's own figures.\n")
    lines.append(_basis_markdown(plan, stage))

    if len(plan.stages) > 1:
        lines.append("## Stages\n")
        st_rows = pd.DataFrame([plan.summary(k) for k in range(len(plan.stages))])
        lines.append(_md_table(st_rows, {"stage_year": ("Year", "d"), "cut_msek": ("Cut MSEK", ".0f"), "savings_msek": ("Saving MSEK", ".1f"), "offices_kept": ("Kept", "d"), "offices_flexible": ("Flexible", "d"), "offices_closed": ("Closed", "d"), "population_mean_distance_km": ("Mean km", ".2f")}) + "\n")

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
                    "receiver_distance_km": ("Travel km to it", ".1f"),
                },
            )
            + "\n"
        )
        lines.append(f"Travel km to it: {md_escape(receiver_distance_meaning(plan))}.\n")

    lines.append("## Urban and rural FA-regions\n")
    ur = urban_rural_table(plan, stage)
    lines.append(_md_table(ur, {"urban_rural": ("Class", None), "fa_regions": ("FA-regions", "d"), "population": ("Population", "d"), "offices_before": ("Offices before", "d"), "offices_after": ("after", "d"), "mean_distance_km_before": ("Mean km before", ".2f"), "mean_distance_km_after": ("after", ".2f")}) + "\n")

    lines.append(_areas_markdown(plan, stage, areas))

    lines.append("## SSC regions\n")
    lines.append(_md_table(ssc_table(plan, stage), {"ssc_region": ("Region", None), "offices_before": ("Offices before", "d"), "offices_after": ("after", "d"), "visits_before": ("Visits before", ".0f"), "visits_after": ("after", ".0f"), "cost_msek_before": ("Cost MSEK before", ".1f"), "cost_msek_after": ("after", ".1f")}) + "\n")

    lines.append("## FA-regions\n")
    fa = fa_table(plan, stage)
    lines.append(_md_table(fa, {"fa_code": ("Code", None), "fa_name": ("FA-region", None), "urban_rural": ("Class", None), "population": ("Population", "d"), "offices_before": ("Offices before", "d"), "offices_after": ("after", "d"), "mean_distance_km_before": ("Mean km before", ".1f"), "mean_distance_km_after": ("after", ".1f")}) + "\n")

    lines.append(f"_Solved in {s['solve_seconds']:.1f} s (build {s['build_seconds']:.1f} s). Inputs: {', '.join(md_escape(v) for v in summary_dict(plan)['inputs'].values())}._\n")
    return "\n".join(lines)


def _basis_markdown(plan: Plan, stage: int) -> str:
    """What the figures rest on: the register, the calibration target, estimates
    that contradict public figures, and what a flexible office keeps."""
    from .calibration import calibration_basis, public_figure_checks, public_figure_marks

    prep = plan.prepared
    p = prep.params
    off = prep.network.offices[prep.instance.existing_mask]
    basis = calibration_basis(prep.network, prep.visits, prep.costs, p)
    lines = ["## What these figures rest on\n"]
    if "basis" in off.columns:
        documented = int((off["basis"] == "documented").sum())
        inferred = int(off["basis"].str.startswith("inferred").sum())
        uncertain = off.loc[off.get("confidence", pd.Series("", index=off.index)) == "conflicting", "office_name"].tolist()
        lines.append(
            f"- The register holds {len(off)} of the {p.reference_offices_total} offices SSC ran at the end of 2024: {documented} documented by public sources, {inferred} inferred"
            " (an FA-region that had an office by 2019 but has none old enough in the register)"
            + (f"; {len(uncertain)} uncertain ({md_escape(', '.join(uncertain))})" if uncertain else "")
            + f". The other {max(p.reference_offices_total - len(off), 0)} offices are missing, so their visitors count at the nearest registered office."
        )
    else:
        lines.append(f"- The register holds {len(off)} offices (SSC ran {p.reference_offices_total} at the end of 2024).")
    lines.append(f"- Visits and costs per office are estimates unless the register gives them. {md_escape(basis['statement'])}")
    for flag in basis["flags"]:
        lines.append(f"- **Flag:** {md_escape(flag)}.")
    marks = public_figure_marks(public_figure_checks(prep.network, prep.visits.baseline_visits))
    if marks:
        t = plan.office_table(stage).set_index("office_id")
        shown = [f"{md_escape(t.at[o, 'office_name'])} ({t.at[o, 'decision']}; {md_escape(m)})" for o, m in sorted(marks.items()) if o in t.index]
        lines.append(f"- Estimates that contradict a public figure (column `public_figure_conflict` in plan.csv): {'; '.join(shown)}.")
    capacity = f"{p.flexible_capacity_visits:,.0f}".replace(",", " ")
    lines.append(
        f"- A flexible office has no placed staff: staff travel there {p.flexible_days_per_week:g} days a week, {p.flexible_weeks_per_year:g} weeks a year"
        f" ({p.flexible_days_per_week * p.flexible_weeks_per_year:g} open days), and it takes at most {capacity} visits a year"
        f" ({p.flexible_visits_per_day:g} a day). Its site costs {100 * p.flexible_site_share:.0f} % of a staffed office's, plus {p.flexible_travel_sek / 1e6:.2f} MSEK of staff travel."
        " In the distances above it counts as full access, like a staffed office.\n"
    )
    return "\n".join(lines)


def _areas_markdown(plan: Plan, stage: int, areas: pd.DataFrame | None) -> str:
    """The section on areas with high social exclusion (:mod:`netopt.areas`)."""
    from .areas import NEARBY_KM, areas_summary, areas_table, relate_areas

    rel = None if areas is None else relate_areas(areas, plan.prepared.network.demand)
    t = areas_table(plan, stage, rel)
    s = areas_summary(t)
    lines = ["## Areas with high social exclusion\n"]
    pop, farther = (f"{x:,.0f}".replace(",", " ") for x in (s["population_estimate"], s["population_farther"]))
    source = "the Police's list of 2025" if areas is None else "the list given with --areas"
    lines.append(
        f"{s['areas']} areas ({source}; about {pop} inhabitants, an estimate from the demand points within each area, docs/data.md). "
        f"Population-weighted mean distance to the nearest office: {s['mean_distance_km_before']:.2f} → {s['mean_distance_km_after']:.2f} km. "
        f"The distance grows for {s['areas_farther']} areas with about {farther} inhabitants; {s['areas_with_office_closed_nearby']} areas have an office closed or turned flexible within {NEARBY_KM:g} km.\n"
    )
    hit = t[t["distance_grows"] | (t["offices_closed_nearby"] != "")]
    if len(hit):
        lines.append(_md_table(hit, {"area_name": ("Area", None), "category": ("Category", None), "population_estimate": ("Inhabitants (est.)", ".0f"), "distance_km_before": ("km before", ".1f"), "distance_km_after": ("after", ".1f"), "nearest_office_after": ("Nearest office after", None), "offices_closed_nearby": (f"Closed within {NEARBY_KM:g} km", None)}) + "\n")
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
    from .whatif import whatif_payload

    offices, gfa, munis, s = map_inputs(plan, stage)
    title = f"{plan.scenario.name}: {s['stage_year']}, {s['cut_msek']:g} MSEK lower"
    return plan_map_html(offices, gfa, munis, s, title=title, whatif=whatif_payload(plan, stage))


def write_outputs(plan: Plan, out: str | Path, *, overwrite: bool = False, with_map: bool = True, areas: pd.DataFrame | None = None) -> Path:
    """Write plan.csv, summary.json, report.md and map.html into ``out`` atomically.

    ``areas``: areas with high social exclusion for the report (default: the shipped list)."""
    texts = {
        "plan.csv": plan_csv(plan),
        "summary.json": json.dumps(summary_dict(plan), indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n",
        "report.md": report_markdown(plan, areas=areas),
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
