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
from .tables import NEARBY_KM, PlanTables, changes_text

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
            out[r["office_id"]] = tx("memo.mark.rank", figure=_figure_rank(r, tx), year=str(r["year"]), model=f"{r['model']:.0f}", then=then)
        else:
            key = "memo.mark.visits_at_least" if _open_end(r) else "memo.mark.visits"
            out[r["office_id"]] = tx(key, range=_range(r), year=str(r["year"]), model=tx.localize(f"{r['model']:.1f}"), then=then)
    return out


def _open_end(r: dict) -> bool:
    high = r["public_high"]
    return high is None or (isinstance(high, float) and math.isnan(high))


def _range(r: dict) -> str:
    """A public figure's range of visits a day: "250–300", "95"."""
    high = r["public_high"]
    return f"{r['public_low']:.0f}" + ("" if _open_end(r) or high == r["public_low"] else f"–{high:.0f}")


def _figure_rank(r: dict, tx: Texts) -> str:
    """A rank figure in words: "the most visited office" for rank 1, else "rank k"."""
    low = int(r["public_low"])
    return tx("memo.mark.most_visited") if low == 1 else tx("memo.mark.rank_k", k=str(low))


def given_pct(tx: Texts, share: float) -> str:
    """A share the planner gave (a floor, a growth limit) as a percentage, as
    given: 0.809 → "80.9 %", 1.0 → "100 %" (never rounded to another requirement)."""
    return tx.localize(f"{100.0 * float(share):.10g}") + "\N{NO-BREAK SPACE}%"


def _baseline_is_reference(basis: dict) -> bool:
    """The plan's 2024 baseline cost is the annual report's (to its 0.1 MSEK)."""
    c = basis["calibration"]
    ref, own = c.get("cost_reference_msek"), c.get("cost_total_msek")
    return ref is None or own is None or abs(float(own) - float(ref)) < 0.05


def caveat_texts(tables: PlanTables, tx: Texts) -> dict:
    """office_id → the public figure its estimate meets only on the network of
    the figure's year, with today's estimate and where its visitors went, in
    the memo's language (offices in id order). Visits a day to a tenth, as
    ``netopt calibrate`` gives them; the opening year of each office that
    took visitors, so that an office opened in the figure's year itself,
    counted as not yet open, shows."""
    names = dict(zip(tables.offices["office_id"], tables.offices["office_name"]))
    out = {}
    for r in tables.basis.get("public_figure_caveats", []):
        years = r.get("visitors_moved_to_opened") or [None] * len(r["visitors_moved_to"])
        moved = ", ".join(names.get(o, o) + ("" if y is None else tx("memo.caveat.opened", year=str(y))) for o, y in zip(r["visitors_moved_to"], years))
        common = dict(year=str(r["year"]), net=str(r["network_year"]), share=tx.localize(f"{r['visitors_moved_share']:.0f}"), moved=moved)
        if r["measure"] == "rank":
            text = tx("memo.caveat.rank", figure=_figure_rank(r, tx), model_then=f"{r['model']:.0f}", model_now=f"{r['model_2024']:.0f}", **common)
        else:
            dev = tx.localize(f"{r['deviation_pct']:+.1f}").replace("-", "\N{MINUS SIGN}")
            text = tx("memo.caveat.visits", range=_range(r), model_then=tx.localize(f"{r['model']:.1f}"), deviation=dev,
                      model_now=tx.localize(f"{r['model_2024']:.1f}"), **common)
        if r.get("model_with_opened_in_year") is not None:
            value = r["model_with_opened_in_year"]
            value = tx("memo.mark.rank_k", k=f"{value:.0f}") if r["measure"] == "rank" else tx("memo.caveat.a_day", n=tx.localize(f"{value:.1f}"))
            offices = ", ".join(names.get(o, o) for o in r["opened_in_year"]) or tx("memo.caveat.those")
            key = "memo.caveat.with_year_met" if r["within_tolerance_with_opened_in_year"] else "memo.caveat.with_year_not_met"
            text += tx(key, offices=offices, net=str(r["network_year"]), value=value)
        out[r["office_id"]] = text
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
    if b["estimated_visits"] == b["offices_total"] and b["estimated_costs"] == b["offices_total"]:
        lines.append(tx("caveat.estimates"))
    else:  # some figures are the register's own
        lines.append(tx("caveat.estimates_counts", visits=str(b["estimated_visits"]), costs=str(b["estimated_costs"]), total=str(b["offices_total"])))
    marks = b["public_figure_marks"]
    if marks:
        names = tables.offices.set_index("office_id")["office_name"]
        shown = [str(names[o]) for o in sorted(marks) if o in names.index]
        lines.append(tx("caveat.conflicts" if on_map else "caveat.conflicts_text", offices=", ".join(shown)))
    resting = _resting_on_uncertain_locations(tables)
    if resting:
        lines.append(tx("caveat.locations", offices=", ".join(str(r.office_name) for r, _, _ in resting)))
    caveats = b.get("public_figure_caveats", [])
    if caveats:
        names = tables.offices.set_index("office_id")["office_name"]
        shown = [f"{names[r['office_id']]} ({_rank_or_day(r, tx, names)})" for r in caveats if r["office_id"] in names.index]
        lines.append(tx("caveat.only_then", offices=", ".join(shown)))
    return lines


def _rank_or_day(r: dict, tx: Texts, names) -> str:
    """An estimate then and today, short: "rank 1 among the offices opened
    before 2023 (2 counting Stockholm Rinkeby), 64 today" / "204.3 a day
    counting only the offices opened before 2021, 142.5 today"."""
    also = r.get("model_with_opened_in_year")
    rank = r["measure"] == "rank"
    fmt = (lambda x: f"{x:.0f}") if rank else (lambda x: tx.localize(f"{x:.1f}"))
    counting = "" if also is None else tx("caveat.counting", value=fmt(also), offices=", ".join(str(names.get(o, o)) for o in r["opened_in_year"]))
    key = "caveat.rank_then_now" if rank else "caveat.day_then_now"
    return tx(key, then=fmt(r["model"]), year=str(r["network_year"]), counting=counting, now=fmt(r["model_2024"]))


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
    if status == "WITHIN_GAP" and not ctx["relative_gap"] and gap is not None:
        # no gap was requested: the solver's proof holds up to its numerical tolerance
        proof_key = "memo.proof.WITHIN_TOLERANCE"
        gap_text = f"{tx.localize(f'{100 * gap:.2g}')} %"
    proof = tx(proof_key, gap=gap_text, requested=requested) if tx.has(proof_key) else status
    unit = tx(f"memo.objective_unit.{ctx['objective']}", km=tx.localize(f"{ctx['coverage_km']:g}"))
    bound = _DASH if s["best_bound"] is None else _big(tx, s["best_bound"])
    b = tables.basis
    bullets = (
        tx("memo.does.cost" if _baseline_is_reference(b) else "memo.does.cost_own", cost=tx.localize(_f(s["cost_msek"], ".1f")),
           baseline=tx.localize(_f(s["baseline_cost_msek"], ".1f")), reference=tx.localize(_f(b["calibration"].get("cost_reference_msek"), ".1f")),
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
    u = getattr(tables, "unnamed", None)
    if u:  # a hand-written plan that names only some offices: say what happens to the rest
        sites = tx("memo.does.unnamed_sites", n=str(u["not_opened"])) if u["not_opened"] else ""
        bullets = (bullets[0], bullets[1], tx("memo.does.unnamed", named=str(u["named"]), offices=str(u["offices"]), kept=str(u["kept"]), sites=sites,
                                                    what=tx("memo.does.unnamed_both" if u["candidates"] else "memo.does.unnamed_offices")), *bullets[2:])
    if s.get("access_floor_km") is not None and s.get("access_floor_share_required") is not None:
        scope = "fa" if s.get("access_floor_scope") == "fa_region" else "national"
        bullets += (tx(f"memo.does.floor_{scope}", share=given_pct(tx, s["access_floor_share_required"]), km=tx.localize(f"{s['access_floor_km']:g}"),
                       achieved=tx.pct(s["access_floor_share_achieved"], 1), before=tx.pct(s["access_floor_share_before"], 1),
                       met=tx("memo.does.met") if s.get("access_floor_met") else fm.strong(tx("memo.does.not_met"))),)
    if tables.alternative is not None:
        paragraph = tx("memo.does.alternative", rank=str(tables.alternative["rank"]))
        return Section("plan", tx("memo.does.title"), paragraphs=(fm.strong(paragraph),), bullets=bullets)
    return Section("plan", tx("memo.does.title"), bullets=bullets)


def _f(x, spec: str) -> str:
    return fmt(x, spec)


def scenario_description(ctx: dict, tx: Texts) -> str:
    """The scenario's description in the language of ``tx``: ``description_sv`` in
    Swedish when the scenario gives one, else ``description``."""
    if tx.lang == "sv" and ctx.get("description_sv"):
        return ctx["description_sv"]
    return ctx.get("description") or ""


def _resting_on_uncertain_locations(tables: PlanTables) -> list:
    """(office row, receiving office_id or None, the office_ids with a
    ``location_uncertain`` mark among the two) of each office the plan closes
    or turns flexible that rests on an uncertain register location or name,
    by name."""
    t = tables.offices
    if "location_uncertain" not in t.columns:
        return []
    why = dict(zip(t["office_id"], t["location_uncertain"]))
    out = []
    changed = t[t["decision"].isin(("close", "flexible")) & t["existing"].astype(bool)].sort_values(["office_name", "office_id"], kind="mergesort")
    for r in changed.itertuples(index=False):
        receiver = r.receiver_id if isinstance(r.receiver_id, str) and r.receiver_id else None
        flagged = [o for o in (r.office_id, receiver) if o and why.get(o)]
        if flagged:
            out.append((r, receiver, flagged))
    return out


def location_caveats(tables: PlanTables, tx: Texts, fm: Format) -> str | None:
    """The changes of the plan that rest on an uncertain register location or name (text), or None.

    Each office closed or turned flexible is listed when it, or the office
    that receives its visitors, has a ``location_uncertain`` mark
    (:func:`netopt.tables.uncertain_locations`), with the register's note and
    the distance to the receiving office (the optimisation's distance).
    """
    t = tables.offices
    if "location_uncertain" not in t.columns:
        return None
    why = dict(zip(t["office_id"], t["location_uncertain"]))
    names = dict(zip(t["office_id"], t["office_name"]))
    words = _decisions(tx)
    entries = []
    for r, receiver, flagged in _resting_on_uncertain_locations(tables):
        to = (tx("memo.basis.location_receiver", office=fm.escape(names.get(receiver, receiver)), km=tx.localize(_f(r.receiver_distance_km, ".1f")))
              if receiver else "")
        reasons = "; ".join(tx("memo.basis.location_reason", office=fm.escape(names.get(o, o)), why=fm.escape(why[o])) for o in flagged)
        entries.append(tx("memo.basis.location_entry", office=fm.escape(r.office_name), decision=words.get(r.decision, r.decision), receiver=to, reasons=reasons))
    if not entries:
        return None
    return tx("memo.basis.locations", column=fm.code("location_uncertain"), offices="; ".join(entries))


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
    caveats = caveat_texts(tables, tx)
    if caveats:
        t = tables.offices.set_index("office_id")
        words = _decisions(tx)
        shown = [f"{fm.escape(t.at[o, 'office_name'])} ({words.get(t.at[o, 'decision'], t.at[o, 'decision'])}; {fm.escape(m)})" for o, m in caveats.items() if o in t.index]
        bullets.append(tx("memo.basis.caveats", column=fm.code("visits"), offices="; ".join(shown)))
    locations = location_caveats(tables, tx, fm)
    if locations:
        bullets.append(locations)
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
    # a saving is set against its cut together with the allowance used: saving + allowance ≥ cut is "met"
    met = {True: tx("memo.stages.met_yes"), False: tx("memo.stages.met_no")}
    cols = [("stage_year", tx("memo.col.year"), "d"), ("cut_msek", tx("memo.col.cut_msek"), ".0f"), ("savings_msek", tx("memo.col.saving_msek"), ".1f"),
            ("flexible_allowance_used_msek", tx("memo.col.allowance_msek"), ".1f"), ("meets_budget", tx("memo.col.cut_met"), None, met),
            ("offices_kept", tx("memo.col.kept"), "d"), ("offices_flexible", tx("memo.col.flexible"), "d"), ("offices_closed", tx("memo.col.closed"), "d"),
            ("population_mean_distance_km", tx("memo.col.mean_km"), ".2f")]
    frame = tables.stages.assign(meets_budget=tables.stages["meets_budget"].astype(bool))
    return Section("stages", tx("memo.stages.title"), table=_table(tx, frame, cols, fm), notes=(tx("memo.stages.note"),))


def _closures(tables: PlanTables, tx: Texts, fm: Format) -> Section:
    cr = tables.closures
    title = tx("memo.closures.title")
    if cr.empty:
        return Section("closures", title, paragraphs=(tx("memo.closures.none"),))
    cr = cr.sort_values(["decision", "saving_msek", "office_id"], ascending=[True, False, True]).copy()
    cols = [("office_name", tx("memo.col.office"), None), ("decision", tx("memo.col.decision"), None, _decisions(tx))]
    if tables.staged:
        # the year of each change: "2025 flexible; 2027 close"
        cr["changes"] = [changes_text(h, e, _decisions(tx)) for h, e in zip(cr["history"], cr["existing"])]
        cols.append(("changes", tx("memo.col.when"), None))
    cols += [
        ("visits_before", tx("memo.col.visits_yr"), ".0f"),
        ("saving_msek", tx("memo.col.saves_msek"), ".2f"),
        ("population_served_before", tx("memo.col.inhabitants_served"), "d"),
        ("extra_distance_km", tx("memo.col.extra_km"), ".1f"),
        ("receiver_name", tx("memo.col.visitors_go_to"), None),
        ("receiver_distance_km", tx("memo.col.travel_km"), ".1f"),
    ]
    status = tables.summary["status"]
    why = tx("memo.closures.why_evaluated") if status == "EVALUATED" else tx("memo.closures.why" if status == "OPTIMAL" else "memo.closures.why_unproven")
    if cr["board_decision"].any():
        cols.append(("board_decision", tx("memo.col.board"), None, {True: tx("memo.municipalities.board"), False: ""}))
    return Section("closures", title, paragraphs=(why,), table=_table(tx, cr, cols, fm),
                   notes=(tx("memo.closures.travel_note", column=tx("memo.col.travel_km"), meaning=fm.escape(receiver_distance_meaning(tables, tx))),))


def _km(tx: Texts, x) -> str:
    """A difference of a national mean distance, with its unit: "0.011 km", or in
    metres below 1 m's worth of km ("0.2 m"), so that a small difference does not read as 0."""
    if _missing(x):
        return _DASH
    if abs(float(x)) < 0.0005:
        return f"{tx.num(1000 * float(x), 1)} m"
    return f"{tx.num(x, 3)} km"


def _status_note(tx: Texts, status: str, gap) -> str:
    """"" for a proven optimum; else "(status, gap X %)"."""
    if status == "OPTIMAL":
        return ""
    label = tx(f"status.{status}") if tx.has(f"status.{status}") else status
    return " " + tx("memo.resolve.not_proven", status=label, gap=_DASH if gap is None or _missing(gap) else tx.pct(gap, 3))


def _breaks(tables: PlanTables, tx: Texts, fm: Format) -> Section:
    """What an evaluated plan breaks, by name (instead of the optimiser's reasons)."""
    title = tx("memo.breaks.title")
    if not tables.breaks:
        return Section("breaks", title, paragraphs=(tx("memo.breaks.none"),))
    bullets = []
    for b in tables.breaks:
        v = b["values"]
        items = b["items"]
        details = b["details"]
        kind = b["kind"]
        if kind == "access_floor" and details:
            shown = [f"{fm.escape(x)} ({tx.pct(d, 2)})" for x, d in zip(items, details)]
        elif kind == "growth":
            shown = [f"{fm.escape(x)} ({tx.pct(d, 0, sign=True)})" for x, d in zip(items, details)]
        elif kind == "flexible_capacity":
            shown = [f"{fm.escape(x)} ({_big(tx, d)})" for x, d in zip(items, details)]
        else:
            shown = [fm.escape(x) for x in items]
        fields = {"year": str(b["year"]), "items": ", ".join(shown), "n": str(len(items)), "msek": tx("unit.msek")}
        for key, value in v.items():
            if key == "scope":
                continue
            if key in ("floor", "limit"):  # a planner's requirement: as given, never rounded to another one
                fields[key] = given_pct(tx, value)
            elif key == "share":
                fields[key] = tx.pct(value, 2)
            elif key in ("km", "cut"):
                fields[key] = tx.localize(f"{value:g}")
            elif key in ("people", "points", "closed", "open", "p"):
                fields[key] = _big(tx, value)
            else:
                fields[key] = tx.num(value, 1)
        key = f"memo.breaks.{kind}" + ("_fa" if kind == "access_floor" and v.get("scope") == "fa_region" else "")
        bullets.append(fm.strong(tx(key, **fields)) if kind in ("budget", "fa_region") else tx(key, **fields))
    return Section("breaks", title, paragraphs=(tx("memo.breaks.lead"),), bullets=tuple(bullets))


def _planner(tables: PlanTables, tx: Texts, fm: Format) -> Section | None:
    """The planner's locks, and what they cost (the scenario solved without them)."""
    locks = tables.locks
    if locks is None or locks.empty:
        return None
    words = _decisions(tx)
    lock_words = {"open": tx("memo.planner.lock_open"), "closed": tx("memo.planner.lock_closed")}
    t = locks.copy()
    cols = [("office_name", tx("memo.col.office"), None), ("municipality", tx("memo.col.municipality"), None), ("lock", tx("memo.col.lock"), None, lock_words),
            ("decision", tx("memo.col.decision"), None, words)]
    paragraphs = [tx("memo.planner.lead", n=str(len(t)))]
    price = tables.lock_price
    if tables.summary["status"] == "EVALUATED":
        pass
    elif price is None:
        paragraphs.append(tx("memo.planner.not_priced"))
    elif price.objective_without is None:
        label = tx(f"status.{price.status}") if tx.has(f"status.{price.status}") else price.status
        paragraphs.append(tx("memo.planner.no_plan", status=label))
    else:
        t = t.merge(price.locks[["office_id", "decision_without"]], on="office_id", how="left")
        cols.append(("decision_without", tx("memo.col.without_locks"), None, words))
        rel = price.delta_objective / max(abs(price.objective_without), 1e-9)
        name = dict(zip(tables.offices["office_id"], tables.offices["office_name"]))
        changed = fm.escape(", ".join(sorted(str(name.get(o, o)) for o in price.offices_changed)) or _DASH)
        paragraphs.append(fm.strong(tx("memo.planner.price", km=_km(tx, price.delta_mean_km), with_km=tx.num(price.mean_km_with, 3), without_km=tx.num(price.mean_km_without, 3),
                                       pct=tx.pct(rel, 2), n=str(len(price.offices_changed))))
                          + " " + tx("memo.planner.changed", offices=changed)
                          + _status_note(tx, price.status, price.gap))
    return Section("planner", tx("memo.planner.title"), paragraphs=tuple(paragraphs), table=_table(tx, t, cols, fm))


def _verb(tx: Texts, before: str, after: str) -> str:
    """What happens to an office in a re-solve, in words ("closes", "stays open", ...)."""
    if after == "keep":
        return tx("memo.keep.verb.open") if before == "not opened" else tx("memo.keep.verb.keep")
    return tx(f"memo.keep.verb.{'close' if after in ('close', 'not opened') else 'flexible'}")


def _instead(tx: Texts, text: str, fm: Format) -> str:
    """``"Name: keep → close; …"`` (keep_costs.csv) in words: "Malmö city closes, Södertälje 2 stays open"."""
    parts = []
    for item in filter(None, text.split("; ")):
        name, _, change = item.rpartition(": ")
        before, _, after = change.partition(" → ")
        parts.append(f"{fm.escape(name)} {_verb(tx, before, after)}")
    return ", ".join(parts)


def _keep_costs(tables: PlanTables, tx: Texts, fm: Format) -> Section | None:
    """What keeping each office would cost, one sentence per office."""
    kc = tables.keep_costs
    if kc is None:
        return None
    msek = tx("unit.msek")
    bullets = []
    for _, r in kc.table.iterrows():
        name = fm.strong(fm.escape(r["office_name"]))
        if r["status"] == "INFEASIBLE":
            bullets.append(tx("memo.keep.infeasible", office=name))
            continue
        if _missing(r["objective_if_kept"]):
            bullets.append(tx("memo.keep.not_solved", office=name))
            continue
        money = tx("memo.keep.money", msek_value=tx.num(r["cut_smaller_by_msek"], 1), msek=msek) if r["cut_smaller_by_msek"] > 0 else tx("memo.keep.money_none")
        instead = _instead(tx, r["changes_instead"], fm)
        bullets.append(tx("memo.keep.sentence", office=name, km=_km(tx, r["delta_mean_km"]), money=money,
                          instead=tx("memo.keep.instead", changes=instead) if instead else tx("memo.keep.nothing_else"))
                       + _status_note(tx, r["status"], r["gap"]))
    notes = [tx("memo.keep.skipped", offices=", ".join(fm.escape(o) for o, _ in kc.skipped))] if kc.skipped else []
    return Section("keep_costs", tx("memo.keep.title"), paragraphs=(tx("memo.keep.lead", column=fm.code("keep_costs.csv")),), bullets=tuple(bullets), notes=tuple(notes))


def _alternatives(tables: PlanTables, tx: Texts, fm: Format) -> Section | None:
    """Near-optimal alternatives: how many materially different plans lie within 1 %."""
    alt = tables.alternatives
    if alt is None:
        return None
    k, complete = alt.count_within()
    count = tx("memo.alternatives.count_exact" if complete else "memo.alternatives.count_at_least", n=str(k), pct=tx.pct(0.01, 0))
    paragraphs = [count + " " + tx("memo.alternatives.material"),
                  tx("memo.alternatives.search", n=str(alt.n), within=tx.pct(alt.within, 2 if alt.within < 0.01 else 0), found=str(len(alt.table)),
                     stopped=tx("memo.alternatives.stopped_exhausted") if alt.exhausted else tx("memo.alternatives.stopped_n") if len(alt.table) >= alt.n else tx("memo.alternatives.stopped_time"))]
    if alt.table.empty:
        return Section("alternatives", tx("memo.alternatives.title"), paragraphs=tuple(paragraphs))
    names = dict(zip(tables.offices["office_id"], tables.offices["office_name"]))
    muni = dict(zip(tables.offices["office_id"], tables.offices["municipality_code"]))
    t = alt.table.copy()

    def differs(text: str, sign: str) -> str:
        return ", ".join(names.get(x[1:], x[1:]) for x in filter(None, text.split("; ")) if x[0] == sign)

    t["kept_here"] = [differs(x, "+") for x in t["differs_from_optimum"]]
    t["kept_there"] = [differs(x, "-") for x in t["differs_from_optimum"]]
    swaps = sum(_swaps_within_municipality(x, muni) for x in t["differs_from_optimum"])
    if swaps:
        paragraphs.append(tx("memo.alternatives.swaps", n=str(swaps)))
    cols = [("rank", tx("memo.col.rank"), "d"), ("gap_to_optimum", tx("memo.col.above_optimum"), ".3f"), ("delta_mean_km", tx("memo.col.delta_km"), ".3f"),
            ("savings_msek", tx("memo.col.saving_msek"), ".1f"), ("flexible_allowance_used_msek", tx("memo.col.allowance_msek"), ".1f"),
            ("offices_closed", tx("memo.col.closed"), "d"), ("offices_flexible", tx("memo.col.flexible"), "d"),
            ("kept_here", tx("memo.col.kept_instead"), None), ("kept_there", tx("memo.col.not_kept_instead"), None), ("folder", tx("memo.col.folder"), None)]
    t["gap_to_optimum"] = 100 * t["gap_to_optimum"]
    return Section("alternatives", tx("memo.alternatives.title"), paragraphs=tuple(paragraphs), table=_table(tx, t, cols, fm))


def _swaps_within_municipality(text: str, muni: dict) -> bool:
    """Whether an alternative only swaps offices within municipalities (as many kept as
    not kept in each municipality it touches)."""
    plus = [muni.get(x[1:]) for x in filter(None, text.split("; ")) if x[0] == "+"]
    minus = [muni.get(x[1:]) for x in filter(None, text.split("; ")) if x[0] == "-"]
    return bool(plus) and sorted(plus) == sorted(minus)


def _receiving(tables: PlanTables, tx: Texts, fm: Format) -> Section:
    """The offices that take visitors of closed offices: growth, where they come from, flags."""
    r = tables.receiving
    limit = tables.context["max_growth"]
    title = tx("memo.receiving.title")
    if limit is None:
        lead = tx("memo.receiving.no_limit", flag=tx.pct(0.5, 0))
    else:
        lead = tx("memo.receiving.limit", limit=tx.pct(limit, 0))
    if r.empty:
        return Section("receiving", title, paragraphs=(lead, tx("memo.receiving.none")))
    t = r.copy()
    t["growth_pct"] = 100 * t["growth"]
    flag_word = tx("memo.receiving.flag_limit") if limit is not None else tx("memo.receiving.flag_large")
    flagged = int(t["flag"].sum())
    paragraphs = [lead]
    if flagged:
        names = ", ".join(fm.escape(n) for n in t.loc[t["flag"], "office_name"])
        paragraphs.append(fm.strong(tx("memo.receiving.flagged_limit" if limit is not None else "memo.receiving.flagged", n=str(flagged), offices=names)))
    cols = [("office_name", tx("memo.col.office"), None), ("municipality", tx("memo.col.municipality"), None), ("visits_before", tx("memo.col.visits_before"), ".0f"),
            ("visits_after", tx("memo.col.after"), ".0f"), ("growth_pct", tx("memo.col.growth_pct"), "+.1f"), ("from_offices", tx("memo.col.visitors_from"), None),
            ("flag", tx("memo.col.flag"), None, {True: flag_word, False: ""})]
    return Section("receiving", title, paragraphs=tuple(paragraphs), table=_table(tx, t, cols, fm))


def _municipalities(tables: PlanTables, tx: Texts, fm: Format) -> Section:
    """Municipalities whose offices change: offices and mean distance before and after; board decisions."""
    m = tables.municipalities
    title = tx("memo.municipalities.title")
    changed = m[m["changes"] != ""].copy()
    if changed.empty:
        return Section("municipalities", title, paragraphs=(tx("memo.municipalities.none"),))
    board = changed[changed["board_decision"]]
    lead = tx("memo.municipalities.lead", n=str(len(changed)), column=fm.code("municipalities.csv"))
    paragraphs = [lead]
    if len(board):
        paragraphs.append(fm.strong(tx("memo.municipalities.board_lead", n=str(len(board)), names=", ".join(fm.escape(x) for x in board["municipality"]))))
    else:
        paragraphs.append(tx("memo.municipalities.no_board"))
    words = _decisions(tx)
    changed["changes_words"] = ["; ".join(_change_words(x, words)) for x in changed["changes"]]
    cols = [("municipality", tx("memo.col.municipality"), None), ("offices_before", tx("memo.col.offices_before"), "d"), ("offices_after", tx("memo.col.after"), "d"),
            ("mean_distance_km_before", tx("memo.col.mean_km_before"), ".2f"), ("mean_distance_km_after", tx("memo.col.after"), ".2f"),
            ("changes_words", tx("memo.col.changes"), None), ("board_decision", tx("memo.col.board"), None, {True: tx("memo.municipalities.board"), False: ""})]
    return Section("municipalities", title, paragraphs=tuple(paragraphs), table=_table(tx, changed, cols, fm))


def _change_words(text: str, words: dict) -> list[str]:
    """``"Name close; Name flexible"`` (the municipality table) with the decisions in the memo's language."""
    out = []
    for item in filter(None, text.split("; ")):
        name, _, decision = item.rpartition(" ")
        out.append(f"{name} ({words.get(decision, decision)})")
    return out


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
    sections = [_what_the_plan_does(tables, tx, fm)]
    if s["status"] == "EVALUATED":
        sections.append(_breaks(tables, tx, fm))
    sections += [x for x in (_planner(tables, tx, fm),) if x is not None]
    sections.append(_basis(tables, tx, fm))
    if tables.staged:
        sections.append(_stages(tables, tx, fm))
    sections.append(_closures(tables, tx, fm))
    sections += [x for x in (_keep_costs(tables, tx, fm), _alternatives(tables, tx, fm)) if x is not None]
    sections += [_receiving(tables, tx, fm), _municipalities(tables, tx, fm), _urban_rural_section(tables, tx, fm), _areas(tables, tx, fm), _ssc(tables, tx, fm), _fa(tables, tx, fm)]
    footer = tx("memo.footer", solve=tx.localize(f"{s['solve_seconds']:.1f}"), build=tx.localize(f"{s['build_seconds']:.1f}"), inputs=", ".join(fm.escape(v) for v in ctx["inputs"].values()))
    return Memo(
        lang=tx.lang,
        title=fm.escape(title(tables, tx)),
        lead=fm.escape(scenario_description(ctx, tx)) if scenario_description(ctx, tx) else None,
        sections=tuple(sections),
        footer=footer,
    )
