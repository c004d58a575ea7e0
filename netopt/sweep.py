"""The frontier of saving against access: one optimal plan per cut.

:func:`sweep` solves a scenario's last stage for each cut in a range and
returns one row per cut (saving, access measures, status, gap);
:func:`write_sweep` also keeps each cut's plan in its own folder
(``DIR/cut-150/`` with the usual outputs) and draws the frontier
(``frontier.html``: mean distance, 90th percentile, share within 30 km and
visits lost against the cut, each point linked to its plan's report, the
scenario's budget stages marked; :func:`frontier_html`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from importlib import resources
from pathlib import Path

import pandas as pd

from .data import Network
from .errors import InfeasibleError
from .scenario import Scenario, Stage

__all__ = ["sweep", "parse_cuts", "write_sweep", "frontier_html", "allowance_and_met", "cut_folder", "NO_PLAN_STATUSES"]


def parse_cuts(text: str) -> list[float]:
    """``START:STOP:STEP`` (STOP inclusive) or a comma list, in MSEK per year (at most 500 cuts)."""
    from .errors import ScenarioError

    try:
        if ":" in text:
            a, b, c = (float(x) for x in text.split(":"))
            if not all(math.isfinite(v) for v in (a, b, c)) or c <= 0 or b < a or (b - a) / c > 500:
                raise ValueError
            n = int(round((b - a) / c))
            cuts = [round(a + k * c, 6) for k in range(n + 1) if a + k * c <= b + 1e-9]
        else:
            cuts = [float(x) for x in text.split(",") if x.strip()]
            if not all(math.isfinite(x) for x in cuts):
                raise ValueError
    except ValueError:
        raise ScenarioError(f"--cuts {text!r}: write START:STOP:STEP (e.g. 0:200:10) or a list (50,100,150) in MSEK") from None
    if not cuts or len(cuts) > 500:
        raise ScenarioError(f"--cuts {text!r}: give between 1 and 500 cuts")
    return cuts


def cut_folder(cut: float) -> str:
    """The folder of a cut's plan: ``cut-150``, ``cut-12.5``, ``cut--10``."""
    text = f"{round(float(cut), 6):f}".rstrip("0").rstrip(".")
    return f"cut-{'0' if text in ('', '-0') else text}"


#: Statuses of a frontier row without a plan: proven infeasible, or stopped without a plan.
NO_PLAN_STATUSES = ("INFEASIBLE", "NO_PLAN")


def sweep(network: Network, scenario: Scenario, cuts: Iterable[float], progress: Callable[[int, int, float], None] | None = None, *, params=None,
          on_plan: Callable[[float, object], None] | None = None) -> pd.DataFrame:
    """Solve the scenario's last stage for every cut (MSEK), one row per cut in the order of ``cuts``.

    A cut no plan can meet is a row with status ``INFEASIBLE``; a cut whose
    solve stopped (time limit) without a plan that meets every constraint, a
    row with status ``NO_PLAN``; both carry a ``note``. The visit and cost
    models are calibrated once. The cuts are solved from the largest down,
    each starting from the plan of the next larger cut (which meets the
    smaller cut too). Each cut has the scenario's ``solver.time_limit_s``.
    ``on_plan(cut, plan)`` is called with each cut's plan (to keep or write it).
    """
    import dataclasses

    from .instance import prepare
    from .plan import solve_prepared

    cuts = list(cuts)
    last = scenario.stages[-1]
    base = prepare(network, scenario.with_(stages=(last,)), params)
    rows: dict[int, dict] = {}
    start = None
    infeasible_from = None  # the smallest cut proven infeasible so far
    done = 0
    for k in sorted(range(len(cuts)), key=lambda i: (-cuts[i], i)):
        cut = float(cuts[k])
        # one stage: the scenario's last year at this cut (its description, about the whole scenario, no longer applies)
        sc = scenario.with_(stages=(Stage(year=last.year, cut_msek=cut, flexible_allowance_msek=last.flexible_allowance_msek),), description="", description_sv="")
        if infeasible_from is not None and cut >= infeasible_from[0]:
            rows[k] = {"cut_msek": cuts[k], "status": "INFEASIBLE", "note": infeasible_from[1]}  # a larger cut than one proven infeasible
        else:
            inst = base.instance.with_(budgets_sek=(base.costs.baseline_cost_sek - cut * 1e6,))
            prep = dataclasses.replace(base, scenario=sc, instance=inst)
            try:
                plan = solve_prepared(prep, start=start)
                start = tuple(st.modes for st in plan.stages)
                s = plan.summary()
                rows[k] = {
                    "cut_msek": cuts[k], "status": s["status"], "gap": s["gap"], "savings_msek": s["savings_msek"], "cost_msek": s["cost_msek"],
                    "flexible_allowance_used_msek": s["flexible_allowance_used_msek"], "meets_budget": s["meets_budget"],
                    "offices_kept": s["offices_kept"], "offices_flexible": s["offices_flexible"], "offices_open": s["offices_open"], "offices_closed": s["offices_closed"],
                    "population_mean_distance_km": s["population_mean_distance_km"], "population_p90_distance_km": s["population_p90_distance_km"],
                    "population_share_within_30km": s["population_share_within_30km"], "visits_lost": s["visits_lost"], "solve_seconds": s["solve_seconds"],
                }
                if on_plan is not None:
                    on_plan(cuts[k], plan)
            except InfeasibleError as exc:
                note = str(exc).split(". ")[0]
                if exc.explanation.get("status") == "INFEASIBLE":
                    infeasible_from = (cut, note)
                    rows[k] = {"cut_msek": cuts[k], "status": "INFEASIBLE", "note": note}
                else:
                    rows[k] = {"cut_msek": cuts[k], "status": "NO_PLAN", "note": note}
        done += 1
        if progress:
            progress(done, len(cuts), cut)
    return pd.DataFrame([rows[k] for k in range(len(cuts))])


def allowance_and_met(row) -> tuple[float, bool]:
    """A frontier row's allowance for flexible offices used (MSEK) and whether its cut is met
    (saving + allowance used ≥ cut; the plan's ``meets_budget`` where the row has it)."""
    allowance = float(row.get("flexible_allowance_used_msek", 0.0) or 0.0)
    if allowance != allowance:  # NaN: a row without a plan
        allowance = 0.0
    met = row.get("meets_budget")
    if met is None or met != met:
        met = float(row["savings_msek"]) + allowance >= float(row["cut_msek"]) - 1e-6
    return allowance, bool(met)


def frontier_html(frame: pd.DataFrame, title: str, *, texts=None, stages: Iterable = (), with_plans: bool = True) -> str:
    """``frontier.html``: the frontier chart (:func:`netopt.charts.frontier_svg`) and a
    table of the cuts, each linked to its plan's folder (``with_plans``)."""
    from . import charts
    from .i18n import texts as texts_of
    from .templating import Markup, render

    tx = texts or texts_of("en")
    feasible = ~frame["status"].isin(NO_PLAN_STATUSES)
    links = [f"{cut_folder(c)}/report.html" if ok and with_plans else None for c, ok in zip(frame["cut_msek"], feasible)]
    chart = charts.frontier_svg(frame, tx, stages=list(stages), links=links if with_plans else None) if feasible.any() else ""
    notes = []
    for status, key in (("INFEASIBLE", "frontier.infeasible"), ("NO_PLAN", "frontier.no_plan")):
        listed = frame.loc[frame["status"] == status, "cut_msek"].tolist()
        if listed:
            notes.append(tx(key, cuts=", ".join(tx.localize(f"{c:g}") for c in listed), msek=tx("unit.msek")))
    note = " ".join(notes) or None
    msek = tx("unit.msek")
    columns = [(tx("frontier.col.cut", msek=msek), True), (tx("frontier.col.status"), False), (tx("frontier.col.saving", msek=msek), True),
               (tx("frontier.col.allowance", msek=msek), True), (tx("frontier.col.met"), False), (tx("memo.col.closed"), True), (tx("memo.col.flexible"), True), (tx("frontier.col.mean"), True), (tx("frontier.col.p90"), True),
               (tx("frontier.col.within"), True), (tx("frontier.col.lost"), True)]
    rows = []
    for _, r in frame.iterrows():
        cut = tx.localize(f"{r['cut_msek']:g}")
        if r["status"] in NO_PLAN_STATUSES:
            cells = [cut, tx("frontier.infeasible_status") if r["status"] == "INFEASIBLE" else tx("status.NO_PLAN")] + ["\u2013"] * (len(columns) - 2)
            rows.append((cells, []))
            continue
        status = tx(f"status.{r['status']}") if tx.has(f"status.{r['status']}") else str(r["status"])
        allowance, met = allowance_and_met(r)
        cells = [cut, status, tx.num(r["savings_msek"]), tx.num(allowance), tx("memo.stages.met_yes") if met else tx("memo.stages.met_no"), str(int(r["offices_closed"])), str(int(r["offices_flexible"])), tx.num(r["population_mean_distance_km"], 2),
                 tx.num(r["population_p90_distance_km"]), tx.pct(r["population_share_within_30km"]), tx.num(r["visits_lost"], 0)]
        folder = cut_folder(r["cut_msek"])
        plan_links = [(tx("frontier.report"), f"{folder}/report.html"), (tx("frontier.map"), f"{folder}/map.html"), (tx("frontier.folder"), f"{folder}/")] if with_plans else []
        rows.append((cells, plan_links))
    css = (resources.files("netopt") / "templates" / "report.css").read_text(encoding="utf-8")
    page = render("netopt", "templates", "frontier.html", lang=tx.lang, tx=tx, title=title, css=Markup(css), chart=Markup(chart), infeasible=note,
                  columns=columns, numeric=[n for _c, n in columns], rows=rows)
    return str(page) + "\n"


def write_sweep(network: Network, scenario: Scenario, cuts: Iterable[float], out, *, overwrite: bool = False, params=None, lang: str | None = None,
                with_map: bool = True, with_plans: bool = True, progress: Callable[[int, int, float], None] | None = None) -> pd.DataFrame:
    """Sweep the cuts and write ``out``: ``frontier.csv``, ``frontier.html`` and,
    with ``with_plans``, each feasible cut's plan in ``out/cut-<MSEK>/`` (plan.csv,
    summary.json, report.md, report.html with the plan on the frontier, map.html,
    plan.xlsx, plan.gpkg). Atomic: the folder appears complete or not at all.
    Returns the frontier table. The plans' tables are kept in memory until
    they are written (about 1 MB per cut on the shipped network).
    """
    from . import io
    from .i18n import check_language, texts as texts_of
    from .outputs import write_plan_files
    from .report_html import Frontier
    from .tables import plan_tables

    lang = check_language(lang or scenario.lang or "en", "lang")
    io.check_output_dir(out, overwrite=overwrite)
    kept: dict = {}
    shared: dict = {}

    def keep(cut, plan):
        if with_plans:
            t = plan_tables(plan, fa_geometry=shared.get("fa"))
            shared.setdefault("fa", t.fa_geometry)
            kept[cut] = t

    frame = sweep(network, scenario, cuts, progress, params=params, on_plan=keep)
    if with_plans:
        frame["folder"] = [cut_folder(c) if s not in NO_PLAN_STATUSES else "" for c, s in zip(frame["cut_msek"], frame["status"])]
    stages = tuple((st.year, st.cut_msek) for st in scenario.stages)
    tx = texts_of(lang)
    title = tx("frontier.title", scenario=scenario.name)
    with io.atomic_output_dir(out, overwrite=overwrite) as tmp:
        io.write_csv(tmp / "frontier.csv", frame)
        io.write_text(tmp / "frontier.html", frontier_html(frame, title, texts=tx, stages=stages, with_plans=with_plans))
        links = tuple(f"../{cut_folder(c)}/report.html" if s not in NO_PLAN_STATUSES else None for c, s in zip(frame["cut_msek"], frame["status"]))
        for cut, t in kept.items():
            folder = Path(tmp) / cut_folder(cut)
            folder.mkdir()
            write_plan_files(t, folder, with_map=with_map, lang=lang, frontier=Frontier(frame=frame, stages=stages, cut=float(cut), links=links))
    return frame
