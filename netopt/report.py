"""``report.md``: the one-page memo of a plan, in Markdown.

:func:`report_markdown` formats a :class:`~netopt.tables.PlanTables`; it
computes nothing of its own. Every text from data files is escaped for
Markdown tables (:func:`md_escape`). Deterministic: the same tables give the
same text, except the elapsed-time line at the end.
"""

from __future__ import annotations

import html
import math
import re

import pandas as pd

from .tables import NEARBY_KM, PlanTables

__all__ = ["report_markdown", "md_escape", "fmt"]


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


def report_markdown(tables: PlanTables) -> str:
    """``report.md``: a one-page memo of what the plan does (text)."""
    s = tables.summary
    ctx = tables.context
    lines = []
    lines.append(f"# {md_escape(ctx['scenario_name'])}: {s['stage_year']}, {s['cut_msek']:g} MSEK lower\n")
    if ctx["description"]:
        lines.append(md_escape(ctx["description"]) + "\n")
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
        f"- Travel distance ({md_escape(ctx['distance_measure'])}) to the nearest office, population-weighted mean: {s['population_mean_distance_km_before']:.2f} → {s['population_mean_distance_km']:.2f} km; "
        f"90th percentile {s['population_p90_distance_km_before']:.1f} → {s['population_p90_distance_km']:.1f} km; "
        f"share within 30 km {100 * s['population_share_within_30km_before']:.1f} % → {100 * s['population_share_within_30km']:.1f} %."
    )
    lines.append(f"- Visits per year: {fmt(s['visits_before'], ',.0f')} → {fmt(s['visits_after'], ',.0f')} (lost because the next office is farther: {fmt(s['visits_lost'], ',.0f')}).".replace(",", " "))
    unit = {"distance": "inhabitant-metres", "coverage": f"inhabitants beyond {ctx['coverage_km']:g} km", "visits_lost": "visits lost per year"}[ctx["objective"]]
    bound = "–" if s["best_bound"] is None else f"{s['best_bound']:,.0f}".replace(",", " ")
    objective = f"{s['objective']:,.0f}".replace(",", " ")
    lines.append(f"- Solver: {status}; objective ({md_escape(ctx['objective'])}, {unit}) {objective}, best bound {bound}, gap {'–' if gap is None else f'{100 * gap:.4f} %'}. {proof}")
    b = tables.basis
    lines.append(f"- Estimates: visits of {b['estimated_visits']} and costs of {b['estimated_costs']} of {b['offices_total']} offices are netopt's estimates calibrated to the 2024 annual report (docs/calibration.md), not SSC's own figures.\n")
    lines.append(_basis_markdown(tables))

    if tables.staged:
        lines.append("## Stages\n")
        lines.append(_md_table(tables.stages, {"stage_year": ("Year", "d"), "cut_msek": ("Cut MSEK", ".0f"), "savings_msek": ("Saving MSEK", ".1f"), "offices_kept": ("Kept", "d"), "offices_flexible": ("Flexible", "d"), "offices_closed": ("Closed", "d"), "population_mean_distance_km": ("Mean km", ".2f")}) + "\n")

    cr = tables.closures
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
        lines.append(f"Travel km to it: {md_escape(ctx['receiver_distance_meaning'])}.\n")

    lines.append("## Urban and rural FA-regions\n")
    lines.append(_md_table(tables.urban_rural, {"urban_rural": ("Class", None), "fa_regions": ("FA-regions", "d"), "population": ("Population", "d"), "offices_before": ("Offices before", "d"), "offices_after": ("after", "d"), "mean_distance_km_before": ("Mean km before", ".2f"), "mean_distance_km_after": ("after", ".2f")}) + "\n")

    lines.append(_areas_markdown(tables))

    lines.append("## SSC regions\n")
    lines.append(_md_table(tables.ssc_regions, {"ssc_region": ("Region", None), "offices_before": ("Offices before", "d"), "offices_after": ("after", "d"), "visits_before": ("Visits before", ".0f"), "visits_after": ("after", ".0f"), "cost_msek_before": ("Cost MSEK before", ".1f"), "cost_msek_after": ("after", ".1f")}) + "\n")

    lines.append("## FA-regions\n")
    lines.append(_md_table(tables.fa_regions, {"fa_code": ("Code", None), "fa_name": ("FA-region", None), "urban_rural": ("Class", None), "population": ("Population", "d"), "offices_before": ("Offices before", "d"), "offices_after": ("after", "d"), "mean_distance_km_before": ("Mean km before", ".1f"), "mean_distance_km_after": ("after", ".1f")}) + "\n")

    lines.append(f"_Solved in {s['solve_seconds']:.1f} s (build {s['build_seconds']:.1f} s). Inputs: {', '.join(md_escape(v) for v in ctx['inputs'].values())}._\n")
    return "\n".join(lines)


def _basis_markdown(tables: PlanTables) -> str:
    """What the figures rest on: the register, the calibration target, estimates
    that contradict public figures, and what a flexible office keeps."""
    b = tables.basis
    lines = ["## What these figures rest on\n"]
    reg = b["register"]
    if reg is not None:
        uncertain = reg["uncertain"]
        lines.append(
            f"- The register holds {reg['offices']} of the {b['reference_offices']} offices SSC ran at the end of 2024: {reg['documented']} documented by public sources, {reg['inferred']} inferred"
            " (an FA-region that had an office by 2019 but has none old enough in the register)"
            + (f"; {len(uncertain)} uncertain ({md_escape(', '.join(uncertain))})" if uncertain else "")
            + f". The other {b['missing_offices']} offices are missing, so their visitors count at the nearest registered office."
        )
    else:
        lines.append(f"- The register holds {b['offices_in_register']} offices (SSC ran {b['reference_offices']} at the end of 2024).")
    lines.append(f"- Visits and costs per office are estimates unless the register gives them. {md_escape(b['calibration']['statement'])}")
    for flag in b["calibration"]["flags"]:
        lines.append(f"- **Flag:** {md_escape(flag)}.")
    marks = b["public_figure_marks"]
    if marks:
        t = tables.offices.set_index("office_id")
        shown = [f"{md_escape(t.at[o, 'office_name'])} ({t.at[o, 'decision']}; {md_escape(m)})" for o, m in sorted(marks.items()) if o in t.index]
        lines.append(f"- Estimates that contradict a public figure (column `public_figure_conflict` in plan.csv): {'; '.join(shown)}.")
    f = b["flexible"]
    capacity = f"{f['capacity_visits']:,.0f}".replace(",", " ")
    lines.append(
        f"- A flexible office has no placed staff: staff travel there {f['days_per_week']:g} days a week, {f['weeks_per_year']:g} weeks a year"
        f" ({f['open_days']:g} open days), and it takes at most {capacity} visits a year"
        f" ({f['visits_per_day']:g} a day). Its site costs {100 * f['site_share']:.0f} % of a staffed office's, plus {f['travel_msek']:.2f} MSEK of staff travel."
        " In the distances above it counts as full access, like a staffed office.\n"
    )
    return "\n".join(lines)


def _areas_markdown(tables: PlanTables) -> str:
    """The section on areas with high social exclusion (:mod:`netopt.areas`)."""
    t = tables.areas
    s = tables.areas_summary
    lines = ["## Areas with high social exclusion\n"]
    pop, farther = (f"{x:,.0f}".replace(",", " ") for x in (s["population_estimate"], s["population_farther"]))
    source = "the Police's list of 2025" if tables.areas_source is None else "the list given with --areas"
    lines.append(
        f"{s['areas']} areas ({source}; about {pop} inhabitants, an estimate from the demand points within each area, docs/data.md). "
        f"Population-weighted mean distance to the nearest office: {s['mean_distance_km_before']:.2f} → {s['mean_distance_km_after']:.2f} km. "
        f"The distance grows for {s['areas_farther']} areas with about {farther} inhabitants; {s['areas_with_office_closed_nearby']} areas have an office closed or turned flexible within {NEARBY_KM:g} km.\n"
    )
    hit = t[t["distance_grows"] | (t["offices_closed_nearby"] != "")]
    if len(hit):
        lines.append(_md_table(hit, {"area_name": ("Area", None), "category": ("Category", None), "population_estimate": ("Inhabitants (est.)", ".0f"), "distance_km_before": ("km before", ".1f"), "distance_km_after": ("after", ".1f"), "nearest_office_after": ("Nearest office after", None), "offices_closed_nearby": (f"Closed within {NEARBY_KM:g} km", None)}) + "\n")
    return "\n".join(lines)
