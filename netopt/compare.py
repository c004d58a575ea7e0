"""Compare two plans written by ``netopt solve`` or ``netopt evaluate``.

Each plan is shown exactly as it was made: its folder's ``summary.json``
records the input files (path and SHA-256), the resolved visit and cost
parameters and the solver's status, and each plan is measured again on its
own inputs (found where they were, or given with ``--offices`` etc.) and
checked against the figures in its folder. A plan whose inputs cannot be found
unchanged is refused with a message naming the file. The two plans may rest on
different data (another register, say): the table then lists the offices of
both, and compare.md says which inputs differ.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import pandas as pd

from . import io
from .data import load_network
from .errors import DataError, Problem
from .params import PARAMETER_RANGES, Parameters
from .i18n import check_language, fmt, texts as texts_of
from .report import md_escape
from .scenario import Scenario, Stage
from .plan import Plan, evaluate
from .tables import plan_tables

__all__ = ["compare_dirs", "load_plan_dir", "INPUT_OPTIONS"]

#: Rows of compare.md: (summary key, format spec or None for text); the row
#: titles are the texts ``compare.row.<key>`` of netopt/i18n.
SUMMARY_KEYS = [
    ("status", None),
    ("cut_msek", "g"),
    ("savings_msek", ".1f"),
    ("flexible_allowance_used_msek", ".1f"),
    ("meets_budget", None),
    ("baseline_cost_msek", ".1f"),
    ("cost_msek", ".1f"),
    ("offices_kept", "d"),
    ("offices_flexible", "d"),
    ("offices_open", "d"),
    ("offices_closed", "d"),
    ("fa_regions_served", "d"),
    ("population_mean_distance_km", ".2f"),
    ("population_p90_distance_km", ".1f"),
    ("population_share_within_30km", "pct"),
    ("visits_lost", ".0f"),
    ("breaks", None),
]

#: What a plan breaks, in a word per kind (compare.md's row "Breaks").
BREAK_KINDS = ("every_office_closed", "budget", "fa_region", "municipality", "max_closures", "max_distance", "access_floor",
               "flexible_capacity", "growth", "lock_open", "lock_closed", "flexible_not_allowed", "open_count", "nesting")

#: Input files a planner can point compare to (role → CLI option); the
#: municipalities and SSC regions are always netopt's own.
INPUT_OPTIONS = {"offices": "--offices", "division": "--division", "population": "--population", "demand": "--demand", "candidates": "--candidates", "distances": "--distances"}

#: Figures of the final stage that a re-measured plan must reproduce.
_CHECKED = ("cost_msek", "savings_msek", "visits_after", "population_mean_distance_km", "offices_closed", "fa_regions_served")


def _summary(folder: Path) -> dict:
    sname = str(folder / "summary.json")
    try:
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError([Problem(sname, None, None, None, "file not found", "use a folder written by netopt solve or evaluate")]) from None
    except (OSError, ValueError) as exc:
        raise DataError([Problem(sname, None, None, None, f"not readable JSON ({exc})", "use a folder written by netopt solve or evaluate")]) from None
    if not isinstance(summary, dict):
        raise DataError([Problem(sname, None, None, None, "is not a JSON object", "use a folder written by netopt solve or evaluate")])
    return summary


def _inputs(folder: Path, summary: dict, files: dict) -> tuple[dict, list[Problem]]:
    """The input file of each role, found unchanged (by SHA-256) where the plan
    recorded it or where the planner points; problems for those not found."""
    sname = str(folder / "summary.json")
    recorded = summary.get("input_files")
    if not isinstance(recorded, dict) or not recorded:
        return {}, [Problem(sname, None, "input_files", None, "the plan does not record its input files and their checksums (written by an older netopt)", "solve or evaluate the plan again, then compare")]
    found, problems = {}, []
    for role, rec in sorted(recorded.items()):
        if not isinstance(rec, dict) or not isinstance(rec.get("path"), str) or not isinstance(rec.get("sha256"), str):
            problems.append(Problem(sname, None, f"input_files.{role}", None, "is damaged", "solve or evaluate the plan again"))
            continue
        tried = [Path(p) for p in (files.get(role), rec["path"]) if p]
        match = next((p for p in tried if p.is_file() and io.file_sha256(p) == rec["sha256"]), None)
        if match is not None:
            found[role] = match
            continue
        if role in INPUT_OPTIONS:
            fix = f"give the file the plan was made with: {INPUT_OPTIONS[role]} PATH"
        else:
            fix = "netopt's shipped data changed since the plan was made: compare with the netopt version that made it, or solve the plan again"
        seen = ", ".join(f"{p} ({'different content' if p.is_file() else 'not found'})" for p in tried)
        problems.append(Problem(sname, None, f"input_files.{role}", rec["path"], f"the {role} file this plan was made with is not available unchanged: {seen}", fix))
    return found, problems


def load_plan_dir(folder: str | Path, *, files: dict | None = None) -> Plan:
    """The plan saved in ``folder``, measured again exactly as it was made.

    Reads ``plan.csv`` (decisions) and ``summary.json`` (inputs with SHA-256,
    resolved parameters, the cut of the final stage, the solver's status, bound
    and gap); loads the plan's own input files (``files`` maps a role such as
    ``"offices"`` to where a moved file now lies) and evaluates the decisions.
    The returned plan keeps the folder's status (an OPTIMAL plan stays
    OPTIMAL). Raises :class:`DataError` when the folder is damaged, an input
    cannot be found unchanged, or the figures do not match the folder's.
    """
    folder = Path(folder)
    table = io.read_table(folder / "plan.csv", required=("office_id", "decision"))
    summary = _summary(folder)
    sname = str(folder / "summary.json")
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
    found, missing = _inputs(folder, summary, files or {})
    problems.extend(missing)
    params = None
    resolved = summary.get("parameters_resolved")
    unknown = sorted(set(resolved) - set(PARAMETER_RANGES)) if isinstance(resolved, dict) else []
    if unknown:  # written by a netopt whose parameters had other names
        problems += [Problem(sname, None, f"parameters_resolved.{k}", None, "is not a parameter of this netopt (the plan was made by another version)",
                             "solve or evaluate the plan again with this version, then compare") for k in unknown]
    else:
        try:
            params = Parameters(**resolved)
            params.check(f"{sname} parameters_resolved")
        except (TypeError, ValueError) as exc:
            if not missing:
                problems.append(Problem(sname, None, "parameters_resolved", None, f"the resolved parameters are missing or damaged ({exc})", "solve or evaluate the plan again"))
    if problems:
        raise DataError(problems)

    network = load_network(
        found.get("offices"), division=found.get("division"), population=found.get("population"), demand=found.get("demand"),
        candidates=found.get("candidates"), distances=found.get("distances"), division_name=summary.get("fa_division"),
    )
    settings = summary.get("scenario_settings", {})
    if not isinstance(settings, dict):
        settings = {}
    sc = Scenario(
        name=str(summary.get("scenario", folder.name)),
        stages=(Stage(year=fields["stage_year"], cut_msek=fields["cut_msek"], flexible_allowance_msek=fields["flexible_allowance_msek"]),),
        objective=settings.get("objective", "distance"),
        coverage_km=float(settings.get("coverage_km", 30.0)),
    )
    decisions = {o: d for o, d in zip(table["office_id"], table["decision"]) if d not in ("keep", "not opened")}
    plan = evaluate(network, decisions, sc, params=params)
    again = plan.summary()
    checked = _CHECKED + (("objective",) if len(summary.get("stages", [])) <= 1 else ())  # a staged plan's objective sums its stages
    differ = [k for k in checked if k in summary and not _same(summary[k], again[k])]
    if differ:
        raise DataError([Problem(sname, None, k, str(summary[k]), f"plan.csv measured on the plan's own inputs gives {k} = {again[k]!r}, not the folder's figure", "use the folder as netopt wrote it, or solve the plan again") for k in differ])
    return dataclasses.replace(
        plan,
        status=str(summary.get("status", plan.status)),
        solver_objective=summary.get("solver_objective"),
        best_bound=summary.get("best_bound"),
        gap=summary.get("gap"),
        phase=str(summary.get("phase", plan.phase)),
    )


def _same(a, b) -> bool:
    if isinstance(a, bool) or isinstance(b, bool) or isinstance(a, str) or isinstance(b, str):
        return a == b
    try:
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)
    except (TypeError, ValueError):
        return False


def _input_differences(a: Plan, b: Plan, tx=None) -> list[str]:
    """The inputs two plans do not share (files by SHA-256, and the parameters), one text each, in ``tx``'s language."""
    role_name = (lambda r: tx(f"compare.role.{r}") if tx is not None and tx.has(f"compare.role.{r}") else r)
    ca, cb = a.prepared.network.checksums, b.prepared.network.checksums
    sa, sb = a.prepared.network.sources, b.prepared.network.sources
    out = []
    for role in sorted(set(ca) | set(cb)):
        if ca.get(role) != cb.get(role):
            na, nb = (Path(src[role]).name if role in src else "–" for src in (sa, sb))
            if na == nb:  # same name, other content: show where each lies
                na, nb = sa[role], sb[role]
            out.append(f"{role_name(role)}: A {na}, B {nb}")
    if a.prepared.params != b.prepared.params:
        out.append(role_name("parameters") if tx is not None else "visit and cost parameters")
    return out


def _breaks_cell(tables, tx) -> str:
    """What a plan breaks, in words per kind with the years ("growth limit (2027)"), or "none"."""
    if not tables.breaks:
        return tx("compare.md.no_breaks")
    kinds: dict = {}
    for b in tables.breaks:
        kinds.setdefault(b["kind"], []).append(str(b["year"]))
    words = [(tx(f"compare.break.{k}") if tx.has(f"compare.break.{k}") else k) + f" ({', '.join(sorted(set(y)))})" for k, y in kinds.items()]
    return "**" + "; ".join(words) + "**"


def compare_dirs(dir_a, dir_b, out, *, overwrite: bool = False, files: dict | None = None, lang: str | None = None) -> Path:
    """Write compare.csv (offices whose decision differs first), compare.md and map.html
    (both plans at once; ``lang``: ``"en"``, the default, or ``"sv"`` for compare.md and the map).

    Each plan is loaded by :func:`load_plan_dir` (its own inputs, parameters
    and status); ``files`` maps an input role to where a moved input file now
    lies. Offices of only one plan's register show "–" in the other column.
    """
    from .maps import comparison_html

    io.check_output_dir(out, overwrite=overwrite)
    a = load_plan_dir(dir_a, files=files)
    b = load_plan_dir(dir_b, files=files)
    cols = ["office_id", "office_name", "municipality", "fa_name", "decision", "visits_after"]
    ta_full, tb_full = plan_tables(a), plan_tables(b)
    ta, tb = ta_full.offices[cols], tb_full.offices[cols]
    t = ta.merge(tb, on="office_id", how="outer", suffixes=("_a", "_b"), sort=True)
    for c in ("office_name", "municipality", "fa_name"):
        t[c] = t[f"{c}_a"].fillna(t[f"{c}_b"])
    t["decision_a"] = t["decision_a"].fillna("–")
    t["decision_b"] = t["decision_b"].fillna("–")
    t = t[["office_id", "office_name", "municipality", "fa_name", "decision_a", "decision_b", "visits_after_a", "visits_after_b"]]
    t["differs"] = t["decision_a"] != t["decision_b"]
    t = t.sort_values(["differs", "office_id"], ascending=[False, True])
    sa, sb = ta_full.summary, tb_full.summary
    la, lb = Path(dir_a).name, Path(dir_b).name
    tx = texts_of(check_language(lang or "en", "lang"))
    msek = tx("unit.msek")
    words = {d: tx(f"memo.decision.{d}") for d in ("keep", "flexible", "close", "not opened")}
    lines = [f"# {tx('compare.md.title', a=md_escape(la), b=md_escape(lb))}\n"]
    lines.append(tx("compare.md.as_made") + "\n")
    diff_inputs = _input_differences(a, b, tx)
    if diff_inputs:
        lines.append(f"**{tx('compare.md.different_data')}**: " + md_escape("; ".join(diff_inputs)) + ". " + tx("compare.md.only_one") + "\n")
    else:
        lines.append(tx("compare.md.same_data") + "\n")
    lines += [f"| {tx('compare.md.measure')} | A | B |", "|---|---:|---:|"]
    for key, spec in SUMMARY_KEYS:
        if key == "meets_budget":
            cells = [tx("compare.md.yes") if s[key] else f"**{tx('compare.md.no')}**" for s in (sa, sb)]
        elif key == "status":
            cells = [md_escape(tx(f"status.{s[key]}") if tx.has(f"status.{s[key]}") else s[key]) for s in (sa, sb)]
        elif key == "breaks":
            cells = [_breaks_cell(tt, tx) for tt in (ta_full, tb_full)]
        elif spec == "pct":
            cells = [tx.pct(s[key], 1) for s in (sa, sb)]
        elif spec is None:
            cells = [md_escape(s[key]) for s in (sa, sb)]
        else:
            cells = [tx.localize(fmt(s[key], spec)) for s in (sa, sb)]
        lines.append(f"| {tx(f'compare.row.{key}', msek=msek)} | {cells[0]} | {cells[1]} |")
        if key == "population_mean_distance_km" and any("population_mean_equivalent_distance_km" in s for s in (sa, sb)):
            # a plan valuing flexible offices below staffed ones (flexible_extra_distance_km); the other counts them as full access
            cells = [tx.localize(fmt(s.get("population_mean_equivalent_distance_km", s[key]), ".2f")) + f" (+{tx.localize(fmt(s.get('flexible_extra_distance_km', 0.0), 'g'))} km)"
                     for s in (sa, sb)]
            lines.append(f"| {tx('compare.row.population_mean_equivalent_distance_km')} | {cells[0]} | {cells[1]} |")
    diff = t[t["differs"]]
    lines.append(f"\n## {tx('compare.md.differ', n=str(len(diff)))}\n")
    if diff.empty:
        lines.append(tx("compare.md.none"))
    else:
        lines.append(f"| {tx('memo.col.office')} | {tx('popup.municipality')} | A | B |\n|---|---|---|---|")
        for _, r in diff.iterrows():
            lines.append(f"| {md_escape(r['office_name'])} | {md_escape(r['municipality'])} | {words.get(r['decision_a'], r['decision_a'])} | {words.get(r['decision_b'], r['decision_b'])} |")
    page = comparison_html(ta_full, tb_full, label_a=la, label_b=lb, texts=tx)
    with io.atomic_output_dir(out, overwrite=overwrite) as tmp:
        io.write_csv(tmp / "compare.csv", t)
        io.write_text(tmp / "compare.md", "\n".join(lines) + "\n")
        io.write_text(tmp / "map.html", page)
    return Path(out)
