"""Popups, labels, the summary panel and the legend: HTML from autoescaped
Jinja2 templates (``netopt/maps/templates/``) in the page's language.

Each function takes plain values (a row, a summary dict) and returns
:class:`~markupsafe.Markup`; every text from data is escaped by the template
environment (:mod:`netopt.templating`).
"""

from __future__ import annotations

import json
import math
from typing import Any

import pandas as pd

from ..i18n import Texts
from ..memo import ARROW, given_pct, key_figures
from ..templating import Markup, escape, render
from . import style

__all__ = [
    "office_popup",
    "office_label",
    "office_tooltip",
    "region_popup",
    "region_tooltip",
    "area_popup",
    "plan_panel",
    "comparison_panel",
    "legend",
    "search_box",
    "shape_icon",
    "floor_verdict",
    "floor_share",
]

_DASH = "\u2013"


def _render(name: str, **context) -> Markup:
    return render("netopt.maps", "templates", name, arrow=ARROW, **context)


def missing(x: Any) -> bool:
    if x is None:
        return True
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


def _get(row, key, default=None):
    try:
        v = row[key]
    except (KeyError, IndexError):
        return default
    return default if missing(v) else v


def decision_label(tx: Texts, decision: str, existing: bool = True) -> str:
    """The decision's word; "Open" for a candidate site the plan keeps open."""
    return tx("whatif.open") if decision == "keep" and not existing else tx(f"decision.{decision}")


def _history(tx: Texts, row) -> str | None:
    """"flexible 2025, close 2026" for a staged plan's changes; None when nothing changed."""
    history = _get(row, "history")
    if not isinstance(history, dict) or len(history) < 2:
        return None
    parts, last = [], "keep"
    for year, decision in history.items():
        if decision != last:
            parts.append(tx("popup.history_item", decision=decision_label(tx, decision).lower(), year=str(year)))
            last = decision
    return ", ".join(parts) if parts else None


def office_popup(row, tx: Texts, *, received_from: str | None = None) -> Markup:
    """Popup of an office: decision (and its year in a staged plan; "candidate
    site" for an office that is not open today), municipality, FA-region,
    visits, cost, cost per visit, where its visitors go or where they come from.
    The rows that depend on the decisions carry ``data-row`` (decision, visits,
    cost, cost_per_visit, receiver, received_from, receiving_flag): the what-if
    (``netopt/static/netopt-whatif.js``) rewrites them for the decisions in force."""
    decision = row["decision"]
    mark = Markup(' <span class="netopt-est">') + escape(tx("popup.estimate")) + Markup("</span>")
    any_est = bool(_get(row, "estimated", False))
    visits_est = bool(_get(row, "visits_estimated", any_est))  # the register's own figures are not estimates
    cost_est = bool(_get(row, "cost_estimated", any_est))
    est = mark if any_est else Markup("")
    growth = _get(row, "receiving_growth")
    flag = bool(_get(row, "receiving_flag", False))
    conflict = _get(row, "public_figure_conflict", "")
    caveat = _get(row, "public_figure_caveat", "")
    cpv = tx.num(row["cost_per_visit_sek"], 0)
    o = {
        "name": row["office_name"],
        "colour": style.candidate_style()["color"] if decision == "not opened" else style.decision_colour(decision),
        "decision_label": decision_label(tx, decision, bool(_get(row, "existing", True))),
        "history": _history(tx, row),
        "municipality": row["municipality"],
        "fa_name": row["fa_name"],
        "fa_code": row["fa_code"],
        "visits_before": tx.num(row["visits_before"], 0),
        "visits_after": tx.num(row["visits_after"], 0),
        "growth": None if growth is None or not math.isfinite(float(growth)) else tx.pct(growth, 0, sign=True),
        "est": est,
        "visits_est": mark if visits_est else Markup(""),
        "cost_est": mark if cost_est else Markup(""),
        "cost_before": tx.num(row["cost_msek_before"], 2),
        "cost_after": tx.num(row["cost_msek_after"], 2),
        "cost_per_visit": cpv if cpv == _DASH else f"{cpv} {tx('unit.sek')}",
        "receiver": _get(row, "receiver_name") if decision == "close" else None,
        "receiver_km": tx.num(row["receiver_distance_km"]),
        "received_from": received_from,
        "receiving_flag": tx("popup.receiving_flag", growth=tx.pct(growth, 0, sign=True)) if flag and growth is not None else None,
        "conflict": tx("popup.conflict", text=conflict) if conflict else None,
        "caveat": tx("popup.caveat", text=caveat) if caveat else None,
        "location": tx("popup.location", why=_get(row, "location_uncertain", "")) if _get(row, "location_uncertain", "") else None,
        "candidate": not bool(_get(row, "existing", True)),
    }
    return _render("office_popup.html", tx=tx, o=o)


def office_label(row, tx: Texts) -> Markup | None:
    """The permanent label of a changed office ("Kista: closed 2026"; "Sveg:
    flexible 2025, closed 2027" when it changes twice) or of a
    receiving office that grows a lot ("Kungsholmen: +250 % visits"); None otherwise."""
    decision = row["decision"]
    name = escape(row["office_name"])
    changed_in = _get(row, "changed_in")
    staged = isinstance(_get(row, "history"), dict) and len(_get(row, "history")) > 1
    year = f" {int(changed_in)}" if staged and changed_in is not None else ""
    steps = [x.split(" ", 1) for x in str(_get(row, "changes", "") or "").split("; ") if x] if staged else []
    if len(steps) > 1 and all(d in ("close", "flexible") for _, d in steps):
        text = ", ".join(f"{tx(f'label.{d}')} {y}" for y, d in steps)  # flexible 2025, closed 2027
    elif decision in ("close", "flexible"):
        text = tx(f"label.{decision}") + year
    elif decision == "keep" and not bool(_get(row, "existing", True)):
        text = tx("label.opened") + year
    elif bool(_get(row, "receiving_flag", False)):
        text = tx("label.receiving", growth=tx.pct(_get(row, "receiving_growth"), 0, sign=True))
    else:
        return None
    mark = " \u26a0" if _get(row, "public_figure_conflict", "") else ""
    return name + Markup(": ") + escape(text + mark)


def office_tooltip(row, tx: Texts) -> Markup:
    """"Name (decision)"; "Name (not opened, candidate site)" for a candidate site."""
    existing = bool(_get(row, "existing", True))
    candidate = "" if existing else ", " + tx("popup.candidate")
    return escape(row["office_name"]) + Markup(" (") + escape(decision_label(tx, row["decision"], existing).lower() + candidate) + Markup(")")


def _region_values(row, tx: Texts) -> dict:
    before, after = row["mean_distance_km_before"], row["mean_distance_km_after"]
    delta = (float(after) - float(before)) if not (missing(before) or missing(after)) else None
    return {
        "name": row["fa_name"],
        "code": row["fa_code"],
        "population": tx.num(row["population"], 0),
        "offices_before": tx.num(row["offices_before"], 0),
        "offices_after": tx.num(row["offices_after"], 0),
        "before": tx.num(before),
        "after": tx.num(after),
        "delta": tx.num(delta, sign=True),
        "coverage": style.fa_coverage(row["offices_before"], row["offices_after"]),
    }


def region_popup(row, tx: Texts) -> Markup:
    return _render("region_popup.html", tx=tx, r=_region_values(row, tx))


def region_tooltip(row, tx: Texts) -> Markup:
    r = _region_values(row, tx)
    return escape(r["name"]) + Markup(": ") + escape(f"{r['delta']} km")


def _nearby(row, tx: Texts) -> str:
    """The offices closed or turned flexible near an area, in the page's language."""
    pairs = _get(row, "offices_changed_nearby")
    if not isinstance(pairs, (tuple, list)):
        return _get(row, "offices_closed_nearby", "")
    return "; ".join(f"{name} ({tx('memo.nearby.' + d)})" for name, d in pairs)


def area_popup(row, tx: Texts, nearby_km: float) -> Markup:
    a = {
        "name": row["area_name"],
        "category": _get(row, "category", ""),
        "population": tx.num(row["population_estimate"], 0),
        "before": tx.num(row["distance_km_before"]),
        "after": tx.num(row["distance_km_after"]),
        "nearest": row["nearest_office_after"],
        "closed_nearby": _nearby(row, tx),
        "closed_label": tx("popup.area_closed_nearby", km=tx.num(nearby_km, 0)),
    }
    return _render("area_popup.html", tx=tx, a=a)


def search_box(offices_frames: list[pd.DataFrame], tx: Texts) -> Markup:
    """The office search: every office of the frames, sorted by name, as
    "Name (municipality)"; a candidate site (``existing`` False, opened by the
    plan or not) as "Name (municipality), candidate site"."""
    seen: dict[str, tuple[str, str, bool]] = {}
    for frame in offices_frames:
        for _, row in frame.sort_values("office_id", key=lambda s: s.astype(str), kind="mergesort").iterrows():
            seen.setdefault(str(row["office_id"]), (str(row["office_name"]), str(row["municipality"]), not bool(_get(row, "existing", True))))
    items = sorted(seen.items(), key=lambda kv: (kv[1][0].casefold(), kv[0]))
    options = [(oid, tx("panel.search_candidate", name=name, municipality=muni) if candidate else f"{name} ({muni})")
               for oid, (name, muni, candidate) in items]
    return _render("search.html", tx=tx, options=options)


def verdict(summary: dict, tx: Texts) -> tuple[str, str, str]:
    """(label, text, css class) of "is the cut met" (:func:`netopt.memo.key_figures`)."""
    label, text, met = key_figures(summary, tx).verdict
    return label, text, "netopt-met-yes" if met else "netopt-met-no"


def floor_share(tx: Texts, share: float, floor: float) -> str:
    """A population share measured against an access floor (both 0–1), as a
    percentage with two decimals, more (up to six) where two would show a
    share that misses the floor (:func:`netopt.metrics.floor_met`) as reaching it."""
    d = 2
    while d < 6 and share < floor - 1e-9 and round(100.0 * share, d) >= round(100.0 * floor, d):
        d += 1
    return tx.pct(share, d)


def floor_verdict(summary: dict, tx: Texts) -> tuple[str, str, str] | None:
    """(label, text, css class) of "is the access floor met" as ``netopt
    evaluate`` judges it (``access_floor_*`` of the summary); None without a
    floor. With ``access_floor_scope = "fa_region"`` the text names the
    FA-regions below the floor, with their shares, from
    ``summary["access_floor_below"]`` (``[("code name", share), ...]``, the
    plan's breaks: :func:`netopt.maps.map_inputs`)."""
    g = summary.get
    if g("access_floor_share_required") is None or g("access_floor_km") is None:
        return None
    floor = float(g("access_floor_share_required"))
    values = {"floor": given_pct(tx, floor), "km": tx.localize(f"{float(g('access_floor_km')):g}")}
    met = bool(g("access_floor_met"))
    achieved = g("access_floor_share_achieved")
    achieved = _DASH if missing(achieved) else floor_share(tx, float(achieved), floor)
    if g("access_floor_scope") == "fa_region":
        below = list(g("access_floor_below") or [])
        if met:
            text = tx("panel.floor_fa_yes", achieved=achieved, **values)
        else:
            items = ", ".join(f"{name} ({floor_share(tx, float(share), floor)})" for name, share in below) or _DASH
            text = tx("panel.floor_fa_no", n=str(len(below) or int(g("access_floor_groups_below") or 0)), items=items, **values)
        label = tx("panel.floor_fa")
    else:
        text = tx("panel.floor_yes" if met else "panel.floor_no", achieved=achieved, **values)
        label = tx("panel.floor")
    return label, text, "netopt-met-yes" if met else "netopt-met-no"


def headline_rows(summary: dict, tx: Texts) -> list[tuple[str, str]]:
    """The cut, the saving and the allowance used, in that order (the verdict follows)."""
    return list(key_figures(summary, tx).headline)


def detail_rows(summary: dict, tx: Texts) -> list[tuple[str, str]]:
    return list(key_figures(summary, tx).details)


def plan_panel(title: str, summary: dict, search: Markup, tx: Texts, *, notes: list[str] = (), gotos: list[tuple[str, list]] = ()) -> Markup:
    """The summary panel: title, scenario, the cut, the saving, the allowance used
    and whether the cut is met, whether the access floor holds (with a floor in
    force: :func:`floor_verdict`), always shown; then the details (collapsible)."""
    return _render(
        "plan_panel.html",
        tx=tx,
        title=title,
        scenario=summary.get("scenario"),
        headline=headline_rows(summary, tx),
        verdict=verdict(summary, tx),
        floor=floor_verdict(summary, tx),
        details=detail_rows(summary, tx),
        notes=list(notes),
        gotos=[(label, json.dumps(bounds)) for label, bounds in gotos],
        search=search,
    )


def comparison_panel(title: str, label_a: str, label_b: str, summary_a: dict, summary_b: dict, search: Markup, tx: Texts, *, differ: int) -> Markup:
    """Both plans' figures side by side, each with its own status, whether its cut
    is met and, with an access floor, whether the floor holds."""
    ha, hb = headline_rows(summary_a, tx), headline_rows(summary_b, tx)
    va, vb = verdict(summary_a, tx), verdict(summary_b, tx)
    headline = [(k, a, b) for (k, a), (_, b) in zip(ha, hb)] + [(va[0], va[1], vb[1])]
    fa_, fb_ = floor_verdict(summary_a, tx), floor_verdict(summary_b, tx)
    if fa_ or fb_:  # whether each plan's own floor holds (a plan without one: "–")
        headline.append(((fa_ or fb_)[0], fa_[1] if fa_ else _DASH, fb_[1] if fb_ else _DASH))
    da, db = detail_rows(summary_a, tx), detail_rows(summary_b, tx)
    return _render(
        "compare_panel.html",
        tx=tx,
        title=title,
        label_a=label_a,
        label_b=label_b,
        scenario_a=summary_a.get("scenario"),
        scenario_b=summary_b.get("scenario"),
        headline=headline,
        details=[(k, a, b) for (k, a), (_, b) in zip(da, db)],
        differ=tx.num(differ, 0),
        search=search,
    )


def shape_icon(shape: str, fill: str, stroke: str = "#1a1a1a", *, size: int = 14, weight: float = 1.2, dash: str | None = None, hollow: bool = False) -> Markup:
    """An inline SVG icon of a marker shape (the legend's key), as the map draws it."""
    r = size / 2 - 2.0
    c = size / 2
    if shape == "circle":
        body = f'<circle cx="{c:g}" cy="{c:g}" r="{r:.2f}"'
    else:
        if shape == "diamond":
            d = r * 1.1
            pts = [(0, -d), (d, 0), (0, d), (-d, 0)]
        else:
            s, w, k = r * 1.15, r * 0.38, math.sqrt(0.5)
            plus = [(-w, -s), (w, -s), (w, -w), (s, -w), (s, w), (w, w), (w, s), (-w, s), (-w, w), (-s, w), (-s, -w), (-w, -w)]
            pts = [((x - y) * k, (x + y) * k) for x, y in plus]
        body = '<path d="M' + "L".join(f"{c + x:.2f},{c + y:.2f}" for x, y in pts) + 'z"'
    fill_attr = "#ffffff" if hollow else fill
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    return Markup(f'<svg width="{size}" height="{size}" viewBox="0 0 {size} {size}" aria-hidden="true">{body} fill="{fill_attr}" stroke="{stroke}" stroke-width="{weight:g}"{dash_attr}/></svg>')


def legend(tx: Texts, *, areas: bool = True, places: bool = True, compare: bool = False, growth_threshold: float | None = None,
           years: tuple[int, ...] = (), candidates: bool = False) -> Markup:
    """The legend, from the same style tables the layers use; ``growth_threshold``:
    the growth (share) above which a receiving office is marked; ``years``: the
    years of a staged plan, each with its ring (:func:`~netopt.maps.style.year_ring_style`);
    ``candidates``: the map draws candidate sites the plan does not open."""
    decisions = [(shape_icon(style.DECISION_SHAPES[d], style.DECISION_COLOURS[d]), tx(f"decision.{d}")) for d in style.DECISIONS]
    if candidates:
        c = style.candidate_style()
        decisions.append((shape_icon("circle", c["fillColor"], c["color"], weight=c["weight"], dash=c["dashArray"]), tx("legend.candidate")))
    receiving = tx("legend.receiving_any") if growth_threshold is None else tx("legend.receiving", limit=tx.pct(growth_threshold, 0))
    marks = [
        (shape_icon("circle", style.DECISION_COLOURS["keep"], style.RECEIVING_COLOUR, weight=3), receiving),
        (shape_icon("circle", style.DECISION_COLOURS["keep"], "#1a1a1a", dash="3 2"), tx("legend.conflict")),
    ]
    if compare:
        marks.append((shape_icon("circle", style.DECISION_COLOURS["keep"], style.DIFFERS_COLOUR, weight=3), tx("legend.differs")))
    else:
        marks.append((Markup('<span class="netopt-swatch" style="border-radius:3px;background:#fff"></span>'), tx("legend.labels")))
    if years:
        marks.append((Markup(""), tx("legend.years")))
        for k, year in enumerate(years):
            ring = style.year_ring_style(k, 3.0)
            marks.append((shape_icon("circle", "#ffffff", ring["color"], weight=2, dash=ring["dashArray"], hollow=True), str(year)))
    bins = [(colour, tx(f"legend.bin.{k}")) for k, (_u, colour, _label) in enumerate(style.DISTANCE_CHANGE_BINS)]
    return _render(
        "legend.html",
        tx=tx,
        decisions=decisions,
        marks=marks,
        bins=bins,
        no_data=style.NO_DATA_COLOUR,
        areas=areas,
        area_icon=shape_icon("circle", style.AREA_COLOUR, style.AREA_COLOUR, hollow=True, weight=2),
        places=places,
        compare=compare,
        compare_b_colour=style.RECEIVING_COLOUR,
    )

