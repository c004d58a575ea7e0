"""Compare two plans written by ``netopt solve`` or ``netopt evaluate``.

Each folder's ``plan.csv`` gives the decisions and ``summary.json`` the cut;
both plans are re-evaluated on the same network (so a plan made elsewhere and
one made by netopt are measured by the same yardstick) and written as a table,
a memo and a comparison map.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from . import io
from .data import Network
from .errors import DataError, Problem
from .report import map_inputs, md_escape
from .scenario import Scenario, Stage
from .plan import Plan, evaluate

__all__ = ["compare_dirs", "load_plan_dir"]

SUMMARY_KEYS = [
    ("savings_msek", "Saving (MSEK/yr)", ".1f"),
    ("cost_msek", "Cost (MSEK/yr)", ".1f"),
    ("offices_open", "Offices kept", "d"),
    ("offices_flexible", "Flexible offices", "d"),
    ("offices_closed", "Offices closed", "d"),
    ("fa_regions_served", "FA-regions served", "d"),
    ("population_mean_distance_km", "Mean distance (km)", ".2f"),
    ("population_p90_distance_km", "90th percentile distance (km)", ".1f"),
    ("population_share_within_30km", "Share within 30 km", ".3f"),
    ("visits_lost", "Visits lost per year", ".0f"),
]


def load_plan_dir(network: Network, folder: str | Path, params=None) -> Plan:
    """Re-evaluate the plan saved in ``folder`` (plan.csv + summary.json)."""
    folder = Path(folder)
    table = io.read_table(folder / "plan.csv", required=("office_id", "decision"))
    try:
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        summary = {}
    except (OSError, ValueError) as exc:
        raise DataError([Problem(str(folder / "summary.json"), None, None, None, f"not readable JSON ({exc})", "use a folder written by netopt solve or evaluate")]) from None
    sname = str(folder / "summary.json")
    if not isinstance(summary, dict):
        raise DataError([Problem(sname, None, None, None, "is not a JSON object", "use a folder written by netopt solve or evaluate")])
    allowed = {"keep", "flexible", "close", "not opened"}
    pname = str(folder / "plan.csv")
    problems = [
        Problem(pname, int(i) + 2, "decision", d, "decision must be keep, flexible or close", "fix the decision")
        for i, d in zip(table.index, table["decision"]) if d not in allowed
    ]
    seen: dict[str, int] = {}
    for i, o in zip(table.index, table["office_id"]):
        if o in seen:
            problems.append(Problem(pname, int(i) + 2, "office_id", o, f"office listed twice (also line {seen[o]})", "keep one line per office"))
        seen.setdefault(o, int(i) + 2)
    fields = {}
    for key, kind, default in (("stage_year", int, 2027), ("cut_msek", float, 0.0), ("flexible_allowance_msek", float, 0.0)):
        value = summary.get(key, default)
        try:
            if isinstance(value, bool):
                raise ValueError
            fields[key] = kind(value)
        except (TypeError, ValueError):
            problems.append(Problem(sname, None, key, str(value), f"{key} is not a number", "use a folder written by netopt solve or evaluate"))
    if problems:
        raise DataError(problems)
    decisions = {o: d for o, d in zip(table["office_id"], table["decision"]) if d not in ("keep", "not opened")}
    settings = summary.get("scenario_settings", {})
    if not isinstance(settings, dict):
        settings = {}
    sc = Scenario(
        name=str(summary.get("scenario", folder.name)),
        stages=(Stage(year=fields["stage_year"], cut_msek=fields["cut_msek"], flexible_allowance_msek=fields["flexible_allowance_msek"]),),
        objective=settings.get("objective", "distance"),
        coverage_km=float(settings.get("coverage_km", 30.0)),
        parameters=settings.get("parameters", {}) or {},
    )
    return evaluate(network, decisions, sc, params=params)


def compare_dirs(network: Network, dir_a, dir_b, out, *, overwrite: bool = False, params=None) -> Path:
    """Write compare.csv (offices whose decision differs first), compare.md and map.html."""
    from .maps import comparison_map_html

    a = load_plan_dir(network, dir_a, params)
    b = load_plan_dir(network, dir_b, params)
    ta, tb = a.office_table(), b.office_table()
    t = pd.DataFrame(
        {
            "office_id": ta["office_id"],
            "office_name": ta["office_name"],
            "municipality": ta["municipality"],
            "fa_name": ta["fa_name"],
            "decision_a": ta["decision"],
            "decision_b": tb["decision"],
            "visits_after_a": ta["visits_after"],
            "visits_after_b": tb["visits_after"],
        }
    )
    t["differs"] = t["decision_a"] != t["decision_b"]
    t = t.sort_values(["differs", "office_id"], ascending=[False, True])
    sa, sb = a.summary(), b.summary()
    la, lb = Path(dir_a).name, Path(dir_b).name
    lines = [f"# Comparison: {md_escape(la)} (A) and {md_escape(lb)} (B)\n", "| Measure | A | B |", "|---|---:|---:|"]
    for key, label, fmt in SUMMARY_KEYS:
        lines.append(f"| {label} | {format(sa[key], fmt)} | {format(sb[key], fmt)} |")
    diff = t[t["differs"]]
    lines.append(f"\n## Offices with different decisions ({len(diff)})\n")
    if diff.empty:
        lines.append("None: the plans make the same decisions.")
    else:
        lines.append("| Office | Municipality | A | B |\n|---|---|---|---|")
        for _, r in diff.iterrows():
            lines.append(f"| {md_escape(r['office_name'])} | {md_escape(r['municipality'])} | {r['decision_a']} | {r['decision_b']} |")
    oa, fa, munis, s_a = map_inputs(a)
    ob, fb, _, s_b = map_inputs(b)
    page = comparison_map_html(oa, ob, fa, fb, munis, s_a, s_b, label_a=la, label_b=lb, title=f"Comparison: {la} and {lb}")
    with io.atomic_output_dir(out, overwrite=overwrite) as tmp:
        io.write_csv(tmp / "compare.csv", t, float_format="%.10g")
        io.write_text(tmp / "compare.md", "\n".join(lines) + "\n")
        io.write_text(tmp / "map.html", page)
    return Path(out)
