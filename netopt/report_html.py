"""``report.html``: the memo of a plan as a printable page (A4, "print to PDF").

:func:`report_html` lays out the memo (:mod:`netopt.memo`) with the key
figures first, a static overview map, the distance distribution before and
after and, when the plan was made by ``netopt sweep``, the plan on the
frontier of saving against access (figures from :mod:`netopt.charts`). One
self-contained file: the figures are inline SVG, the style sheet is inline,
nothing is fetched. Every text from data is escaped (the memo by its HTML
:class:`~netopt.memo.Format`, the rest by the autoescaped template);
deterministic like the other outputs (only the elapsed-time footer varies).
"""

from __future__ import annotations

import dataclasses
import html
from importlib import resources

import pandas as pd

from . import charts
from .i18n import Texts, texts as texts_of
from .memo import Format, Memo, Section, Table, caveat, key_figures, key_figures_more, memo
from .tables import PlanTables
from .templating import Markup, render

__all__ = ["report_html", "HTML", "Frontier"]

HTML = Format(escape=lambda value: html.escape(str(value), quote=True), strong=lambda text: f"<strong>{text}</strong>", code=lambda text: f"<code>{text}</code>")


@dataclasses.dataclass(frozen=True)
class Frontier:
    """The frontier a plan lies on (from ``netopt sweep``): ``frame`` (frontier.csv),
    ``stages`` ((year, cut) pairs to mark), ``cut`` (this plan's cut, MSEK),
    ``links`` (per row of ``frame``, the report of that cut's plan, relative to this one)."""

    frame: pd.DataFrame
    stages: tuple
    cut: float
    links: tuple = ()


def _markup(m: Memo) -> Memo:
    """The memo's strings, escaped by :data:`HTML`, as Markup for the template."""
    def table(t: Table | None) -> Table | None:
        if t is None:
            return None
        return Table(columns=tuple(Markup(c) for c in t.columns), numeric=t.numeric, rows=tuple(tuple(Markup(c) for c in r) for r in t.rows))

    def section(s: Section) -> Section:
        return dataclasses.replace(s, title=Markup(s.title), paragraphs=tuple(Markup(p) for p in s.paragraphs), bullets=tuple(Markup(b) for b in s.bullets), table=table(s.table), notes=tuple(Markup(n) for n in s.notes))

    return dataclasses.replace(m, title=Markup(m.title), lead=None if m.lead is None else Markup(m.lead), sections=tuple(section(s) for s in m.sections), footer=Markup(m.footer))


def report_html(tables: PlanTables, texts: Texts | None = None, *, frontier: Frontier | None = None) -> str:
    """``report.html`` of a plan's tables, in the language of ``texts`` (default English)."""
    tx = texts or texts_of("en")
    key = key_figures(tables.summary, tx)
    frontier_svg = None
    if frontier is not None:
        frontier_svg = Markup(charts.frontier_svg(frontier.frame, tx, stages=list(frontier.stages), highlight_cut=frontier.cut, links=list(frontier.links) or None,
                                                       measures=charts.FRONTIER_MEASURES[:1], width_in=3.5, height_in=2.6))
    map_svg, map_keys = charts.overview_map_svg(tables, tx)
    words = {d: tx(f"memo.decision.{d}") for d in ("keep", "flexible", "close")}
    page = render(
        "netopt", "templates", "report.html",
        lang=tx.lang,
        tx=tx,
        css=Markup((resources.files("netopt") / "templates" / "report.css").read_text(encoding="utf-8")),
        memo=_markup(memo(tables, tx, HTML)),
        key=key,
        details=key.details + key_figures_more(tables.summary, tx),
        map_svg=Markup(map_svg),
        map_keys=[(name, [(n, office, words.get(d, d)) for n, office, d in key]) for name, key in map_keys],
        distance_svg=Markup(charts.distance_distribution_svg(tables.distances_km, tx)),
        frontier_svg=frontier_svg,
        caveat=caveat(tables, tx, on_map=False),
    )
    return str(page) + "\n"
