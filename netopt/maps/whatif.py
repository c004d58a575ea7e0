"""The what-if on a plan's map, as a :class:`~netopt.maps.page.PageExtension`.

Clicking an office on ``map.html`` offers keep / flexible / close (a candidate
site: open / not opened); the page recomputes what ``netopt evaluate``
computes for the new decisions and redraws the map by the same style rules
as netopt draws it (:mod:`netopt.maps.style`). :func:`whatif_extension` puts
together what the page needs:

* **data**: the plan's arrays (:attr:`netopt.tables.PlanTables.whatif`, from
  :func:`netopt.whatif.whatif_payload`) plus ``page``: the style rules
  (:func:`~netopt.maps.style.page_style`, with the largest visits of the
  office layer, the top of its size scale), the growth above which a
  receiving office is ringed, the offices the plan rings and those whose
  estimate contradicts a public figure, and the texts of the page's language
  (``whatif.*`` in ``netopt/i18n/``);
* **panels**: the panel section (``templates/whatif_panel.html``, escaped),
  which the script moves to the end of the summary panel; on a network too
  large for a page, a note that says so;
* **js, css**: ``netopt/static/netopt-whatif.js`` (the evaluator in the page,
  the redraws, the popup buttons and the API that joins ``window.netopt``,
  see ``docs/map.md``) and ``netopt-whatif.css``;
* **init**: ``netoptWhatifInit(map, data)``, called after every layer is built.
"""

from __future__ import annotations

from ..i18n import Texts, texts as texts_of
from ..memo import given_pct
from ..templating import render
from . import layers, page, style

__all__ = ["whatif_extension", "WHATIF_ROWS", "WHATIF_FA_ROWS"]

#: Rows of the what-if table (keys of ``whatif.row.*``; ``within`` is
#: ``whatif.within``), in order; ``candidates`` only with candidate sites,
#: ``growth`` only with a growth limit.
WHATIF_ROWS = ("cut", "savings", "allowance", "met", "floor", "cost", "offices", "candidates", "visits", "moved", "lost", "fa", "mean", "mean_equivalent", "p90", "within", "capacity", "growth")
#: Rows of the table of the FA-region changed last.
WHATIF_FA_ROWS = ("offices", "mean", "p90", "within")

_PAGE_TEXTS = ("format.decimal_mark", "unit.msek", "unit.sek", "label.receiving")


def _page_texts(tx: Texts) -> dict:
    """The texts the page writes itself: the what-if's, the decisions' and the
    popups' (the what-if rewrites an office's or an FA-region's popup rows for
    the decisions in force)."""
    keys = [k for k in tx.strings if k.startswith(("whatif.", "decision.", "popup."))] + list(_PAGE_TEXTS)
    return {k: tx.strings[k] for k in sorted(set(keys))}


def _within_label(tx: Texts, coverage_m: float) -> str:
    km = coverage_m / 1000.0
    return tx("whatif.within", km=tx.num(km, 0 if km % 1 == 0 else 1))


def whatif_extension(tables, texts: Texts | None = None) -> page.PageExtension:
    """The what-if of a plan's map (:func:`netopt.maps.map_html`), in the language of ``texts``.

    ``tables``: :func:`netopt.tables.plan_tables` of the plan stage the map shows.
    """
    from . import growth_threshold, map_inputs, plan_offices

    tx = texts or texts_of("en")
    payload = tables.whatif
    css = page._static_text("netopt-whatif.css")
    js = page._static_text("netopt-whatif.js")
    if not payload.get("available"):
        def count(x) -> str:
            return tx.num(x, 0, sep=" ")

        note = tx("whatif.unavailable", points=count(payload["demand_points"]), offices=count(payload["offices"]),
                  pairs=count(payload["distances"]), limit=count(payload["limit"]))
        panel = render("netopt.maps", "templates", "whatif_panel.html", tx=tx, available=False, unavailable=note)
        data = {"available": False, "reason": payload["reason"]}
        return page.PageExtension(name="whatif", css=css, js=js, data=data, panels=(panel,), init="netoptWhatifInit")

    offices = plan_offices(tables, tx)
    candidates = 0 in payload["offices"]["existing"]
    rows = []
    for key in WHATIF_ROWS:
        if (key == "candidates" and not candidates) or (key == "growth" and payload["max_growth"] is None):
            continue
        if key == "floor":  # only with an access floor in force: whether it holds, as netopt evaluate judges it
            if "access_floor" in payload:
                fl = payload["access_floor"]
                name = "whatif.row.floor_fa" if fl["scope"] == "fa_region" else "whatif.row.floor"
                rows.append((key, tx(name, floor=given_pct(tx, fl["share"]), km=tx.localize(f"{fl['m'] / 1000:g}"))))
            continue
        if key == "mean_equivalent":  # only when flexible offices count farther (parameters.flexible_extra_distance_km)
            if "flexible_extra_m" in payload:
                rows.append((key, tx("whatif.row.mean_equivalent", km=tx.localize(f"{payload['flexible_extra_m'] / 1000:g}"))))
            continue
        rows.append((key, _within_label(tx, payload["coverage_m"]) if key == "within" else tx(f"whatif.row.{key}")))
    fa_rows = [(key, _within_label(tx, payload["coverage_m"]) if key == "within" else tx(f"whatif.fa_row.{key}")) for key in WHATIF_FA_ROWS]
    st = payload["stage"]
    stage = tx("whatif.stage", year=str(st["year"])) if st["stages"] > 1 else ""
    csv = tx("whatif.csv").split("{command}", 1)
    panel = render("netopt.maps", "templates", "whatif_panel.html", tx=tx, available=True, rows=rows, fa_rows=fa_rows, stage=stage, csv=csv,
                   floor="access_floor" in payload)
    flagged = tables.offices.loc[tables.offices["receiving_flag"].astype(bool), "office_id"]
    conflicts = offices.loc[offices["public_figure_conflict"].astype(str) != "", "office_id"]
    data = dict(payload, page={
        "style": dict(style.page_style(), max_visits=float(layers.max_visits(map_inputs(tables)[0]))),
        "growth_threshold": float(growth_threshold(tables)),
        "plan_receiving_flags": sorted(str(o) for o in flagged),
        "conflicts": sorted(str(o) for o in conflicts),
        "texts": _page_texts(tx),
    })
    if "access_floor" in payload:  # the floor as the panel's row names it (given_pct: as the planner gave it)
        fl = payload["access_floor"]
        data["page"]["floor_text"] = {"floor": given_pct(tx, fl["share"]), "km": tx.localize(f"{fl['m'] / 1000:g}")}
    return page.PageExtension(name="whatif", css=css, js=js, data=data, panels=(panel,), init="netoptWhatifInit")
