"""What the memo of a plan says, in one language: sections of text and tables.

:func:`memo` turns a plan's tables (:class:`~netopt.tables.PlanTables`) into
a :class:`Memo` — a title, sections with paragraphs, bullet points and
tables — that ``report.md`` (:mod:`netopt.report`) and ``report.html``
(:mod:`netopt.report_html`) lay out, each in its own format. The writer
passes a :class:`Format` that escapes text from data and marks emphasis
for its format, so the memo never holds unescaped data text. Texts come
from ``netopt/i18n/<lang>.toml``; numbers are written the language's way.

Adding a section is adding one function here and one line in :func:`memo`;
both reports then show it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import pandas as pd

from .i18n import Texts, fmt
from .tables import NEARBY_KM, PlanTables

__all__ = ["Format", "Table", "Section", "Memo", "memo", "KeyFigures", "key_figures", "key_figures_more", "caveat"]

_DASH = "–"


@dataclass(frozen=True)
class Format:
    """How a writer escapes data text and marks emphasis (``strong``) and code."""

    escape: Callable[[Any], str]
    strong: Callable[[str], str]
    code: Callable[[str], str]


@dataclass(frozen=True)
class Table:
    """A table: column titles, which columns are numeric (right-aligned), rows of
    cells (already escaped and formatted)."""

    columns: tuple
    numeric: tuple
    rows: tuple


@dataclass(frozen=True)
class Section:
    """A memo section: ``key`` (stable, e.g. ``"closures"``), title, paragraphs
    before the bullets and table, bullets, a table and notes after it."""

    key: str
    title: str
    paragraphs: tuple = ()
    bullets: tuple = ()
    table: Table | None = None
    notes: tuple = ()


@dataclass(frozen=True)
class Memo:
    """The memo: title, lead (the scenario's description), sections, footer."""

    lang: str
    title: str
    lead: str | None
    sections: tuple = field(default_factory=tuple)
    footer: str = ""

    def section(self, key: str) -> Section | None:
        return next((s for s in self.sections if s.key == key), None)


def _missing(v) -> bool:
    return v is None or (isinstance(v, float) and not math.isfinite(v)) or (not isinstance(v, str) and pd.isna(v))


def _cell(tx: Texts, v, spec: str | None, fm: Format, words: dict | None = None) -> str:
    if spec is None:
        if words is not None and v in words:
            return fm.escape(words[v])
        return fm.escape(_DASH if v is None else v)
    if _missing(v):
        return _DASH
    if spec == "d":
        return tx.localize(format(int(v), "d"))
    return tx.localize(fmt(v, spec))


def _table(tx: Texts, frame: pd.DataFrame, formats: list, fm: Format) -> Table:
    """``formats``: (column, title, spec or None for text[, words: value → shown text])."""
    rows = []
    for _, r in frame.iterrows():
        rows.append(tuple(_cell(tx, r[c], spec, fm, rest[0] if rest else None) for c, _t, spec, *rest in formats))
    return Table(columns=tuple(t for _c, t, _s, *_ in formats), numeric=tuple(s is not None for _c, _t, s, *_ in formats), rows=tuple(rows))


def _big(tx: Texts, x, decimals: int = 0) -> str:
    """A large number with plain spaces between thousands (2 758 758)."""
    return tx.num(x, decimals, sep=" ")


def _decisions(tx: Texts) -> dict:
    return {d: tx(f"memo.decision.{d}") for d in ("keep", "flexible", "close", "not opened")}


def _nearby_words(tx: Texts) -> dict:
    return {"close": tx("memo.nearby.close"), "flexible": tx("memo.nearby.flexible")}


def _urban_rural(tx: Texts) -> dict:
    return {k: tx(f"memo.urban_rural.{k}") for k in ("metropolitan", "dense", "rural")}


def distance_measure(tables: PlanTables, tx: Texts) -> str:
    """How every distance is measured (the optimisation's own measure), in words."""
    ctx = tables.context
    if ctx["distance_source"] == "matrix":
        return tx("memo.distance.matrix", path=str(ctx["distance_matrix"]))
    return tx("memo.distance.detour", factor=tx.localize(f"{ctx['detour_factor']:g}"))


def receiver_distance_meaning(tables: PlanTables, tx: Texts) -> str:
    ctx = tables.context
    if ctx["distance_source"] == "matrix":
        return tx("memo.receiver.matrix")
    return tx("memo.receiver.detour", factor=tx.localize(f"{ctx['detour_factor']:g}"))


def conflict_texts(tables: PlanTables, tx: Texts) -> dict:
    """office_id → the public figure its estimate contradicts, in the memo's language
    (English: exactly the ``public_figure_conflict`` text of plan.csv)."""
    if tx.lang == "en":
        return dict(tables.basis["public_figure_marks"])
    from .calibration import comparison_year

    out = {}
    for r in tables.basis["public_figure_conflicts"]:
        when = comparison_year(r)
        then = "" if when is None else tx("memo.mark.then", year=str(when))
        if r["measure"] == "rank":
            out[r["office_id"]] = tx("memo.mark.rank", low=f"{r['public_low']:.0f}", year=str(r["year"]), model=f"{r['model']:.0f}", then=then)
        else:
            high = r["public_high"]
            open_end = high is None or (isinstance(high, float) and math.isnan(high))
            rng = f"{r['public_low']:.0f}" + ("" if open_end or high == r["public_low"] else f"–{high:.0f}")
            key = "memo.mark.visits_at_least" if open_end else "memo.mark.visits"
            out[r["office_id"]] = tx(key, range=rng, year=str(r["year"]), model=f"{r['model']:.0f}", then=then)
    return out


def calibration_statement(tables: PlanTables, tx: Texts) -> str:
    """What the 2024 baseline is calibrated to, in one sentence."""
    c = tables.basis["calibration"]
    if tx.lang == "en":
        return c["statement"]
    own = ""
    if c["offices_with_given_visits"] or c["offices_with_given_cost"]:
        own = tx("memo.calibration.own", visits=str(c["offices_with_given_visits"]), cost=str(c["offices_with_given_cost"]))
    key = "memo.calibration.reference" if c["calibrated_to"] == "reference" else "memo.calibration.register"
    return tx(
        key, ref_visits=_big(tx, c["visits_reference"]), ref_cost=_big(tx, c["cost_reference_msek"], 1), ref_offices=str(c["offices_reference"]),
        offices=str(c["offices"]), own=own, visits=_big(tx, c["visits_total"]), cost=_big(tx, c["cost_total_msek"], 1),
        given_visits=str(c["offices_with_given_visits"]), given_cost=str(c["offices_with_given_cost"]),
    )


# --------------------------------------------------------------------------- key figures


@dataclass(frozen=True)
class KeyFigures:
    """The figures a meeting reads first, formatted: ``headline`` (the cut, the
    saving and the allowance used, in that order), ``verdict`` (label, text,
    met?) and ``details`` (cost, offices, distances, FA-regions, solver)."""

    headline: tuple
    verdict: tuple
    details: tuple


ARROW = " \u2192 "


def key_figures(summary: dict, tx: Texts) -> KeyFigures:
    """Key figures of a stage summary (``Plan.summary``); a summary without
    ``meets_budget`` is judged by saving + allowance used against the cut."""
    g = summary.get
    msek = tx("unit.msek")
    saving, allowance, cut = float(g("savings_msek") or 0.0), float(g("flexible_allowance_used_msek") or 0.0), float(g("cut_msek") or 0.0)
    met = g("meets_budget")
    if met is None:
        met = saving + allowance >= cut - 1e-6
    if met:
        text = tx("panel.met_yes", saving=tx.num(saving), allowance=tx.num(allowance), total=tx.num(saving + allowance), cut=tx.num(cut), msek=msek)
    else:
        text = tx("panel.met_no", short=tx.num(cut - saving - allowance), msek=msek)
    gap = g("gap")
    gap_txt = _DASH if gap is None or (isinstance(gap, float) and math.isnan(gap)) else tx.pct(gap, 2)
    status = g("status")
    return KeyFigures(
        headline=(
            (tx("panel.cut"), f"{tx.num(cut)} {msek}"),
            (tx("panel.saving"), f"{tx.num(saving)} {msek}"),
            (tx("panel.allowance"), f"{tx.num(allowance)} {msek}"),
        ),
        verdict=(tx("panel.met"), text, bool(met)),
        details=(
            (tx("panel.cost"), f"{tx.num(g('baseline_cost_msek'))}{ARROW}{tx.num(g('cost_msek'))} {msek}"),
            (tx("panel.offices"), f"{tx.num(g('offices_kept'), 0)} / {tx.num(g('offices_flexible'), 0)} / {tx.num(g('offices_closed'), 0)}"),
            (tx("panel.mean_distance"), f"{tx.num(g('population_mean_distance_km_before'))}{ARROW}{tx.num(g('population_mean_distance_km'))} km"),
            (tx("panel.within_30"), f"{tx.pct(g('population_share_within_30km_before'))}{ARROW}{tx.pct(g('population_share_within_30km'))}"),
            (tx("panel.fa_served"), tx("panel.of", part=tx.num(g("fa_regions_served"), 0), whole=tx.num(g("fa_regions_total"), 0))),
            (tx("panel.solver"), tx("panel.solver_value", status=tx(f"status.{status}") if tx.has(f"status.{status}") else str(status), gap=gap_txt)),
        ),
    )


def key_figures_more(summary: dict, tx: Texts) -> tuple:
    """Key figures a printed report adds: the 90th percentile distance and the visits lost."""
    g = summary.get
    return (
        (tx("panel.p90"), f"{tx.num(g('population_p90_distance_km_before'))}{ARROW}{tx.num(g('population_p90_distance_km'))} km"),
        (tx("panel.visits_lost"), tx.num(g("visits_lost"), 0)),
    )


def caveat(tables: PlanTables, tx: Texts, *, on_map: bool = True) -> list[str]:
    """What the figures rest on, in short (plain text, not escaped): the
    register's coverage of SSC's offices, that visits and costs are
    estimates, and the offices whose estimate contradicts a public figure
    (``on_map``: marked by a dashed outline)."""
    b = tables.basis
    reg = b["register"]
    if reg is not None:
        lines = [tx("caveat.register", documented=str(reg["documented"]), inferred=str(reg["inferred"]), reference=str(b["reference_offices"]), missing=str(b["missing_offices"]))]
    else:
        lines = [tx("caveat.register_own", offices=str(b["offices_in_register"]), reference=str(b["reference_offices"]))]
    lines.append(tx("caveat.estimates"))
    marks = b["public_figure_marks"]
    if marks:
        names = tables.offices.set_index("office_id")["office_name"]
        shown = [str(names[o]) for o in sorted(marks) if o in names.index]
        lines.append(tx("caveat.conflicts" if on_map else "caveat.conflicts_text", offices=", ".join(shown)))
    return lines


# --------------------------------------------------------------------------- sections


def _what_the_plan_does(tables: PlanTables, tx: Texts, fm: Format) -> Section:
    s = tables.summary
    ctx = tables.context
    status, gap = s["status"], s["gap"]
    msek = tx("unit.msek")
    allowance = tx("memo.does.allowance", allowance=tx.localize(_f(s["flexible_allowance_used_msek"], ".1f")), msek=msek) if s["flexible_allowance_used_msek"] > 0 else ""
    met = tx("memo.does.met") if s["meets_budget"] else fm.strong(tx("memo.does.not_met"))
    proof_key = f"memo.proof.{status}"
    gap_text = tx("memo.proof.gap_unknown") if gap is None else f"{tx.localize(f'{100 * gap:.3f}')} %"
    requested = tx.localize(f"{100 * ctx['relative_gap']:g}") + " %"
    proof = tx(proof_key, gap=gap_text, requested=requested) if tx.has(proof_key) else status
    unit = tx(f"memo.objective_unit.{ctx['objective']}", km=tx.localize(f"{ctx['coverage_km']:g}"))
    bound = _DASH if s["best_bound"] is None else _big(tx, s["best_bound"])
    b = tables.basis
    bullets = (
        tx("memo.does.cost", cost=tx.localize(_f(s["cost_msek"], ".1f")), baseline=tx.localize(_f(s["baseline_cost_msek"], ".1f")),
           saving=fm.strong(f"{tx.localize(_f(s['savings_msek'], '.1f'))} {msek}"), allowance=allowance, cut=tx.localize(_f(s["cut_msek"], "g")), met=met, msek=msek),
        tx("memo.does.offices", kept=str(s["offices_kept"]), flexible=str(s["offices_flexible"]), open=str(s["offices_open"]), closed=str(s["offices_closed"]),
           total=str(s["offices_kept"] + s["offices_flexible"] + s["offices_closed"])),
        tx("memo.does.fa", division=fm.escape(s["fa_division"]), served=str(s["fa_regions_served"]), total=str(s["fa_regions_total"]), before=str(s["fa_regions_served_before"])),
        tx("memo.does.distance", measure=fm.escape(distance_measure(tables, tx)),
           mean_before=tx.localize(f"{s['population_mean_distance_km_before']:.2f}"), mean_after=tx.localize(f"{s['population_mean_distance_km']:.2f}"),
           p90_before=tx.localize(f"{s['population_p90_distance_km_before']:.1f}"), p90_after=tx.localize(f"{s['population_p90_distance_km']:.1f}"),
           within_before=tx.localize(f"{100 * s['population_share_within_30km_before']:.1f}"), within_after=tx.localize(f"{100 * s['population_share_within_30km']:.1f}")),
        tx("memo.does.visits", before=_big(tx, s["visits_before"]), after=_big(tx, s["visits_after"]), lost=_big(tx, s["visits_lost"])),
        tx("memo.does.solver", status=tx(f"status.{status}") if tx.has(f"status.{status}") else status, objective_name=fm.escape(tx(f"memo.objective_name.{ctx['objective']}")), unit=unit,
           objective=_big(tx, s["objective"]), bound=bound, gap=_DASH if gap is None else f"{tx.localize(f'{100 * gap:.4f}')} %", proof=proof),
        tx("memo.does.estimates", visits=str(b["estimated_visits"]), costs=str(b["estimated_costs"]), total=str(b["offices_total"])),
    )
    return Section("plan", tx("memo.does.title"), bullets=bullets)


def _f(x, spec: str) -> str:
    return fmt(x, spec)


def _basis(tables: PlanTables, tx: Texts, fm: Format) -> Section:
    b = tables.basis
    bullets = []
    reg = b["register"]
    if reg is not None:
        uncertain = reg["uncertain"]
        bullets.append(
            tx("memo.basis.register", offices=str(reg["offices"]), reference=str(b["reference_offices"]), documented=str(reg["documented"]), inferred=str(reg["inferred"]),
               uncertain=tx("memo.basis.uncertain", n=str(len(uncertain)), names=fm.escape(", ".join(uncertain))) if uncertain else "", missing=str(b["missing_offices"]))
        )
    else:
        bullets.append(tx("memo.basis.register_own", offices=str(b["offices_in_register"]), reference=str(b["reference_offices"])))
    bullets.append(tx("memo.basis.estimates", statement=fm.escape(calibration_statement(tables, tx))))
    for flag in b["calibration"]["flags"]:
        bullets.append(fm.strong(tx("memo.basis.flag")) + " " + fm.escape(flag) + ".")
    marks = conflict_texts(tables, tx)
    if marks:
        t = tables.offices.set_index("office_id")
        words = _decisions(tx)
        shown = [f"{fm.escape(t.at[o, 'office_name'])} ({words.get(t.at[o, 'decision'], t.at[o, 'decision'])}; {fm.escape(m)})" for o, m in sorted(marks.items()) if o in t.index]
        bullets.append(tx("memo.basis.conflicts", column=fm.code("public_figure_conflict"), offices="; ".join(shown)))
    f = b["flexible"]
    text = tx("memo.basis.flexible", days=tx.localize(f"{f['days_per_week']:g}"), weeks=tx.localize(f"{f['weeks_per_year']:g}"), open_days=tx.localize(f"{f['open_days']:g}"),
              capacity=_big(tx, f["capacity_visits"]), per_day=tx.localize(f"{f['visits_per_day']:g}"), site=f"{100 * f['site_share']:.0f}",
              travel=tx.localize(f"{f['travel_msek']:.2f}"), msek=tx("unit.msek"))
    if "extra_distance_km" in f:  # valued below a staffed office: say so, with the figure it gives
        s = tables.summary
        text += " " + tx("memo.basis.flexible_extra", extra=tx.localize(f"{f['extra_distance_km']:g}"), parameter=fm.code("flexible_extra_distance_km"),
                         equivalent=tx.localize(_f(s["population_mean_equivalent_distance_km"], ".2f")), travel=tx.localize(_f(s["population_mean_distance_km"], ".2f")))
    else:
        text += " " + tx("memo.basis.flexible_full")
    bullets.append(text)
    return Section("basis", tx("memo.basis.title"), bullets=tuple(bullets))


def _stages(tables: PlanTables, tx: Texts, fm: Format) -> Section:
    cols = [("stage_year", tx("memo.col.year"), "d"), ("cut_msek", tx("memo.col.cut_msek"), ".0f"), ("savings_msek", tx("memo.col.saving_msek"), ".1f"),
            ("offices_kept", tx("memo.col.kept"), "d"), ("offices_flexible", tx("memo.col.flexible"), "d"), ("offices_closed", tx("memo.col.closed"), "d"),
            ("population_mean_distance_km", tx("memo.col.mean_km"), ".2f")]
    return Section("stages", tx("memo.stages.title"), table=_table(tx, tables.stages, cols, fm))


def _closures(tables: PlanTables, tx: Texts, fm: Format) -> Section:
    cr = tables.closures
    title = tx("memo.closures.title")
    if cr.empty:
        return Section("closures", title, paragraphs=(tx("memo.closures.none"),))
    cr = cr.sort_values(["decision", "saving_msek", "office_id"], ascending=[True, False, True])
    cols = [("office_name", tx("memo.col.office"), None), ("decision", tx("memo.col.decision"), None, _decisions(tx))]
    if tables.staged:
        cols.append(("changed_in", tx("memo.col.year"), "d"))
    cols += [
        ("visits_before", tx("memo.col.visits_yr"), ".0f"),
        ("saving_msek", tx("memo.col.saves_msek"), ".2f"),
        ("population_served_before", tx("memo.col.inhabitants_served"), "d"),
        ("extra_distance_km", tx("memo.col.extra_km"), ".1f"),
        ("receiver_name", tx("memo.col.visitors_go_to"), None),
        ("receiver_distance_km", tx("memo.col.travel_km"), ".1f"),
    ]
    return Section("closures", title, paragraphs=(tx("memo.closures.why"),), table=_table(tx, cr, cols, fm),
                   notes=(tx("memo.closures.travel_note", column=tx("memo.col.travel_km"), meaning=fm.escape(receiver_distance_meaning(tables, tx))),))


def _urban_rural_section(tables: PlanTables, tx: Texts, fm: Format) -> Section:
    cols = [("urban_rural", tx("memo.col.class"), None, _urban_rural(tx)), ("fa_regions", tx("memo.col.fa_regions"), "d"), ("population", tx("memo.col.population"), "d"),
            ("offices_before", tx("memo.col.offices_before"), "d"), ("offices_after", tx("memo.col.after"), "d"),
            ("mean_distance_km_before", tx("memo.col.mean_km_before"), ".2f"), ("mean_distance_km_after", tx("memo.col.after"), ".2f")]
    return Section("urban_rural", tx("memo.urban_rural_section.title"), table=_table(tx, tables.urban_rural, cols, fm))


def _areas(tables: PlanTables, tx: Texts, fm: Format) -> Section:
    t = tables.areas
    s = tables.areas_summary
    source = tx("memo.areas.source_police") if tables.areas_source is None else tx("memo.areas.source_own")
    text = tx("memo.areas.summary", areas=str(s["areas"]), source=source, population=_big(tx, s["population_estimate"]),
              before=tx.localize(f"{s['mean_distance_km_before']:.2f}"), after=tx.localize(f"{s['mean_distance_km_after']:.2f}"),
              farther=str(s["areas_farther"]), population_farther=_big(tx, s["population_farther"]), nearby=str(s["areas_with_office_closed_nearby"]),
              km=tx.localize(f"{NEARBY_KM:g}"))
    hit = t[t["distance_grows"] | (t["offices_closed_nearby"] != "")].copy()
    table = None
    if len(hit):
        words = _nearby_words(tx)
        hit["offices_closed_nearby"] = ["; ".join(f"{name} ({words[d]})" for name, d in pairs) for pairs in hit["offices_changed_nearby"]]
        cols = [("area_name", tx("memo.col.area"), None), ("category", tx("memo.col.category"), None), ("population_estimate", tx("memo.col.inhabitants_est"), ".0f"),
                ("distance_km_before", tx("memo.col.km_before"), ".1f"), ("distance_km_after", tx("memo.col.after"), ".1f"),
                ("nearest_office_after", tx("memo.col.nearest_after"), None), ("offices_closed_nearby", tx("memo.col.closed_within", km=tx.localize(f"{NEARBY_KM:g}")), None)]
        table = _table(tx, hit, cols, fm)
    return Section("areas", tx("memo.areas.title"), paragraphs=(text,), table=table)


def _ssc(tables: PlanTables, tx: Texts, fm: Format) -> Section:
    cols = [("ssc_region", tx("memo.col.region"), None), ("offices_before", tx("memo.col.offices_before"), "d"), ("offices_after", tx("memo.col.after"), "d"),
            ("visits_before", tx("memo.col.visits_before"), ".0f"), ("visits_after", tx("memo.col.after"), ".0f"),
            ("cost_msek_before", tx("memo.col.cost_msek_before"), ".1f"), ("cost_msek_after", tx("memo.col.after"), ".1f")]
    return Section("ssc_regions", tx("memo.ssc.title"), table=_table(tx, tables.ssc_regions, cols, fm))


def _fa(tables: PlanTables, tx: Texts, fm: Format) -> Section:
    cols = [("fa_code", tx("memo.col.code"), None), ("fa_name", tx("memo.col.fa_region"), None), ("urban_rural", tx("memo.col.class"), None, _urban_rural(tx)),
            ("population", tx("memo.col.population"), "d"), ("offices_before", tx("memo.col.offices_before"), "d"), ("offices_after", tx("memo.col.after"), "d"),
            ("mean_distance_km_before", tx("memo.col.mean_km_before"), ".1f"), ("mean_distance_km_after", tx("memo.col.after"), ".1f")]
    return Section("fa_regions", tx("memo.fa.title"), table=_table(tx, tables.fa_regions, cols, fm))


def title(tables: PlanTables, tx: Texts) -> str:
    s = tables.summary
    return tx("memo.title", scenario=tables.context["scenario_name"], year=str(s["stage_year"]), cut=tx.localize(f"{s['cut_msek']:g}"), msek=tx("unit.msek"))


def memo(tables: PlanTables, tx: Texts, fm: Format) -> Memo:
    """The memo of a plan's tables in the language of ``tx``, escaped by ``fm``."""
    s = tables.summary
    ctx = tables.context
    sections = [_what_the_plan_does(tables, tx, fm), _basis(tables, tx, fm)]
    if tables.staged:
        sections.append(_stages(tables, tx, fm))
    sections += [_closures(tables, tx, fm), _urban_rural_section(tables, tx, fm), _areas(tables, tx, fm), _ssc(tables, tx, fm), _fa(tables, tx, fm)]
    footer = tx("memo.footer", solve=tx.localize(f"{s['solve_seconds']:.1f}"), build=tx.localize(f"{s['build_seconds']:.1f}"), inputs=", ".join(fm.escape(v) for v in ctx["inputs"].values()))
    return Memo(
        lang=tx.lang,
        title=fm.escape(title(tables, tx)),
        lead=fm.escape(ctx["description"]) if ctx["description"] else None,
        sections=tuple(sections),
        footer=footer,
    )
