"""Data files of a plan for programs, spreadsheets and GIS: ``plan.csv``,
``summary.json``, ``municipalities.csv``, ``keep_costs.csv``,
``alternatives.csv``, ``plan.xlsx`` and the layers of ``plan.gpkg``.

Thin writers over :class:`~netopt.tables.PlanTables`: they choose columns
and encode; every figure comes from the tables, unrounded (the office table
rounds once). Deterministic: the same tables give the same bytes.
"""

from __future__ import annotations

import io
import json
import re
import zipfile

import numpy as np
import pandas as pd

from .i18n import Texts, texts as texts_of
from .memo import Format, _breaks, caveat, conflict_texts
from .tables import PLAN_CSV_COLUMNS, PlanTables, changes_text

__all__ = ["plan_csv", "summary_json", "plan_xlsx", "plan_gpkg_layers", "municipalities_csv", "keep_costs_csv", "alternatives_csv",
           "XLSX_SHEETS", "GPKG_LAYERS", "MUNICIPALITY_CSV_COLUMNS"]


def plan_csv(tables: PlanTables, year: int | None = None) -> str:
    """``plan.csv`` (text): one row per office; ``year``: that stage's table (default: the tables' stage)."""
    t = tables.offices if year is None else tables.offices_by_stage[year]
    cols = list(PLAN_CSV_COLUMNS)
    if not t["existing"].all():  # extra candidate sites in the run
        cols.append("existing")
    cols.append("public_figure_conflict")
    # figures are rounded once, in the office table; the writer adds no rounding
    return t[cols].to_csv(index=False, lineterminator="\n")


#: Columns of ``municipalities.csv`` (one row per municipality), in order.
MUNICIPALITY_CSV_COLUMNS = (
    "municipality_code", "municipality", "fa_code", "fa_name", "population", "offices_before", "offices_after",
    "mean_distance_km_before", "mean_distance_km_after", "changes", "board_decision",
)


def municipalities_csv(tables: PlanTables) -> str:
    """``municipalities.csv`` (text): per municipality, offices and mean distance (km)
    before and after, the offices changed, and ``board_decision`` (SSC leaves the
    municipality: its board decides)."""
    return tables.municipalities[list(MUNICIPALITY_CSV_COLUMNS)].to_csv(index=False, lineterminator="\n")


def keep_costs_csv(tables: PlanTables) -> str | None:
    """``keep_costs.csv`` (text) when the keep costs were computed
    (:class:`netopt.consult.KeepCosts`, columns :data:`netopt.consult.KEEP_COST_COLUMNS`), else None."""
    if tables.keep_costs is None:
        return None
    return tables.keep_costs.table.to_csv(index=False, lineterminator="\n")


def alternatives_csv(tables: PlanTables) -> str | None:
    """``alternatives.csv`` (text) when alternatives were searched for
    (:class:`netopt.consult.Alternatives`, columns :data:`netopt.consult.ALTERNATIVE_COLUMNS`), else None."""
    if tables.alternatives is None:
        return None
    return tables.alternatives.table.to_csv(index=False, lineterminator="\n")


def summary_json(tables: PlanTables) -> str:
    """``summary.json`` (text): the final stage's summary, every stage, inputs and parameters."""
    return json.dumps(tables.context["json"], indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"



# --------------------------------------------------------------------------- spreadsheet

#: Sheets of plan.xlsx: key → (table attribute, columns). The summary sheet is built apart.
XLSX_SHEETS = {
    # every stage's saving set against its cut, with the allowance used (a staged plan's summary sheet is its last stage)
    "stages": ("stages", (
        "stage_year", "cut_msek", "savings_msek", "flexible_allowance_used_msek", "meets_budget", "offices_kept", "offices_flexible", "offices_closed",
        "population_mean_distance_km",
    )),
    "offices": ("offices", (
        "office_id", "office_name", "municipality_code", "municipality", "fa_code", "fa_name", "ssc_region", "lat", "lon",
        "decision", "changed_in", "changes", "locked", "board_decision", "visits_before", "visits_after", "receiving_growth", "cost_msek_before", "cost_msek_after",
        "cost_per_visit_sek", "receiver_id", "receiver_name", "receiver_distance_km", "visits_estimated", "cost_estimated",
        "public_figure_conflict", "location_uncertain",
    )),
    "fa_regions": ("fa_regions", (
        "fa_code", "fa_name", "urban_rural", "population", "offices_before", "offices_after",
        "mean_distance_km_before", "mean_distance_km_after", "coverage",
    )),
    "municipalities": ("municipalities", (
        "municipality_code", "municipality", "fa_code", "fa_name", "population", "offices_before", "offices_after",
        "mean_distance_km_before", "mean_distance_km_after", "board_decision",
    )),
    "receiving": ("receiving", (
        "office_id", "office_name", "municipality", "decision", "visits_before", "visits_after", "growth",
        "visits_received", "from_offices", "flag",
    )),
}
#: Columns holding a share (0–1), shown as percentages in the spreadsheet.
_SHARE_COLUMNS = {"receiving_growth", "growth"}
#: The fixed created/modified date of the workbook and of the zip entries, so reruns give the same bytes.
XLSX_DATE = "2000-01-01T00:00:00Z"


#: Plain text for a spreadsheet cell: data as it is, no emphasis marks.
_PLAIN = Format(escape=str, strong=lambda text: text, code=lambda text: text)
#: The unit of a summary row shown as a percentage with two decimals (the
#: access floor's shares, as the terminal and report.md give them); "%": one.
_PCT2 = "%.2"


def _floor_rows(s: dict, tx: Texts) -> list[tuple]:
    """The access floor of the summary sheet (none without a floor): the share
    asked for, the share after the plan (nationally, or in the FA-region with
    the lowest share) and before it, and whether the floor holds, as ``netopt
    evaluate`` judges it (``access_floor_*`` of summary.json)."""
    if s.get("access_floor_share_required") is None or s.get("access_floor_km") is None:
        return []
    km = tx.localize(f"{float(s['access_floor_km']):g}")
    fa = s.get("access_floor_scope") == "fa_region"
    suffix = "_fa" if fa else ""
    return [
        (tx(f"xlsx.summary.floor{suffix}", km=km), float(s["access_floor_share_required"]), _PCT2),
        (tx(f"xlsx.summary.floor_after{suffix}"), float(s["access_floor_share_achieved"]), _PCT2),
        (tx(f"xlsx.summary.floor_before{suffix}"), float(s["access_floor_share_before"]), _PCT2),
        (tx(f"panel.floor{suffix}"), bool(s["access_floor_met"]), ""),
    ]


def _summary_rows(tables: PlanTables, tx: Texts) -> list[tuple]:
    """(label, value, unit) rows of the summary sheet: numbers as numbers; with
    an access floor its rows (:func:`_floor_rows`) after whether the cut is met;
    for an evaluated plan, what it breaks (as report.md words it, one row each,
    or a row saying it breaks nothing) before the notes."""
    s = tables.summary
    msek = tx("unit.msek")
    rows = [
        (tx("xlsx.summary.scenario"), tables.context["scenario_name"], ""),
        (tx("xlsx.summary.year"), int(s["stage_year"]), ""),
        (tx("panel.cut"), float(s["cut_msek"]), msek),
        (tx("panel.saving"), float(s["savings_msek"]), msek),
        (tx("panel.allowance"), float(s["flexible_allowance_used_msek"]), msek),
        (tx("panel.met"), bool(s["meets_budget"]), ""),
        *_floor_rows(s, tx),
        (tx("xlsx.summary.cost_before"), float(s["baseline_cost_msek"]), msek),
        (tx("xlsx.summary.cost_after"), float(s["cost_msek"]), msek),
        (tx("memo.col.kept"), int(s["offices_kept"]), ""),
        (tx("memo.col.flexible"), int(s["offices_flexible"]), ""),
        (tx("memo.col.closed"), int(s["offices_closed"]), ""),
        (tx("xlsx.summary.mean_before"), float(s["population_mean_distance_km_before"]), "km"),
        (tx("xlsx.summary.mean_after"), float(s["population_mean_distance_km"]), "km"),
        (tx("xlsx.summary.p90_before"), float(s["population_p90_distance_km_before"]), "km"),
        (tx("xlsx.summary.p90_after"), float(s["population_p90_distance_km"]), "km"),
        (tx("xlsx.summary.within_before"), float(s["population_share_within_30km_before"]), "%"),
        (tx("xlsx.summary.within_after"), float(s["population_share_within_30km"]), "%"),
        (tx("xlsx.summary.visits_before"), float(s["visits_before"]), ""),
        (tx("xlsx.summary.visits_after"), float(s["visits_after"]), ""),
        (tx("panel.visits_lost"), float(s["visits_lost"]), ""),
        (tx("panel.fa_served"), int(s["fa_regions_served"]), ""),
        (tx("xlsx.summary.fa_total"), int(s["fa_regions_total"]), ""),
        (tx("panel.solver"), tx(f"status.{s['status']}") if tx.has(f"status.{s['status']}") else s["status"], ""),
        (tx("xlsx.summary.objective"), s["objective"], tx(f"memo.objective_unit.{tables.context['objective']}", km=tx.localize(f"{tables.context['coverage_km']:g}"))),
        (tx("xlsx.summary.bound"), s["best_bound"], ""),
        (tx("xlsx.summary.gap"), s["gap"], "%"),
    ]
    if s["status"] == "EVALUATED":  # as report.md: only a plan written by hand can break a constraint
        broken = _breaks(tables, tx, _PLAIN)
        rows += [(tx("memo.breaks.title"), text, "") for text in (broken.bullets or broken.paragraphs)]
    rows += [(tx("xlsx.summary.note"), note, "") for note in caveat(tables, tx, on_map=False)]
    return rows


def plan_xlsx(tables: PlanTables, texts: Texts | None = None) -> bytes:
    """``plan.xlsx`` (bytes): sheets for the summary, the stages, offices, FA-regions,
    municipalities and receiving offices, in the language of ``texts``.

    Numbers are numbers (shares as fractions formatted as percentages),
    column titles and decisions are in the language, identifiers (office_id,
    codes) stay as they are. Written with pandas and openpyxl; the workbook's
    created/modified dates and the zip entries' times are fixed
    (:data:`XLSX_DATE`), so the same plan gives the same bytes.
    """
    import openpyxl  # noqa: F401  (the engine; a clear ImportError if missing)

    tx = texts or texts_of("en")
    words = {d: tx(f"memo.decision.{d}") for d in ("keep", "flexible", "close", "not opened")}
    coverage = {k: tx(f"xlsx.coverage.{k}") for k in ("served", "lost", "never")}
    urban = {k: tx(f"memo.urban_rural.{k}") for k in ("metropolitan", "dense", "rural")}
    conflicts = conflict_texts(tables, tx)
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as writer:
        summary = pd.DataFrame(_summary_rows(tables, tx), columns=[tx("xlsx.col.measure"), tx("xlsx.col.value"), tx("xlsx.col.unit")])
        summary.to_excel(writer, sheet_name=tx("xlsx.sheet.summary"), index=False)
        for key, (attr, cols) in XLSX_SHEETS.items():
            t = getattr(tables, attr)[list(cols)].copy()
            for c in ("decision",):
                if c in t:
                    t[c] = t[c].map(lambda v: words.get(v, v))
            if "coverage" in t:
                t["coverage"] = t["coverage"].map(coverage)
            if "urban_rural" in t:
                t["urban_rural"] = t["urban_rural"].map(lambda v: urban.get(v, v))
            if "changed_in" in t:
                t["changed_in"] = t["changed_in"].astype("Int64")
            if "changes" in t:
                t["changes"] = [changes_text(h, e, words) for h, e in zip(getattr(tables, attr)["history"], getattr(tables, attr)["existing"])]
            if "locked" in t:
                t["locked"] = t["locked"].map(lambda v: tx(f"xlsx.locked.{v}") if v else "")
            if "public_figure_conflict" in t:
                t["public_figure_conflict"] = [conflicts.get(o, "") for o in t["office_id"]]
            t = t.replace([float("inf"), float("-inf")], float("nan"))
            t.columns = [tx(f"xlsx.col.{c}") for c in cols]
            t.to_excel(writer, sheet_name=tx(f"xlsx.sheet.{key}"), index=False)
        _layout(writer, tables, tx)
    return _fixed_zip(buf.getvalue())


def _layout(writer, tables: PlanTables, tx: Texts) -> None:
    """Column widths, a frozen header row and number formats (the values stay numbers)."""
    from openpyxl.utils import get_column_letter

    share_titles = {tx(f"xlsx.col.{c}") for c in _SHARE_COLUMNS}
    for ws in writer.book.worksheets:
        ws.freeze_panes = "A2"
        for k, column in enumerate(ws.iter_cols(min_row=1, max_row=ws.max_row), start=1):
            title = str(column[0].value or "")
            width = max([len(title)] + [len(str(c.value)) for c in column[1:60] if c.value is not None])
            ws.column_dimensions[get_column_letter(k)].width = min(max(width + 2, 8), 60)
            if title in share_titles:
                for c in column[1:]:
                    c.number_format = "0.0%"
    summary = writer.book.worksheets[0]
    for row in summary.iter_rows(min_row=2):
        if row[2].value in ("%", _PCT2) and isinstance(row[1].value, (int, float)):
            row[1].number_format = "0.0000%" if row[0].value == tx("xlsx.summary.gap") else ("0.00%" if row[2].value == _PCT2 else "0.0%")
            row[2].value = tx("xlsx.summary.share_unit")  # the cell holds a share (0–1) shown as a percentage
    summary.column_dimensions["A"].width = 48
    summary.column_dimensions["B"].width = 24


def _fixed_zip(data: bytes) -> bytes:
    """The workbook with fixed dates: docProps/core.xml's created/modified and every zip entry's time."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                text = body.decode("utf-8")
                text = re.sub(r"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)", lambda m: m.group(1) + XLSX_DATE + m.group(3), text)
                body = text.encode("utf-8")
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            dst.writestr(fixed, body)
    return out.getvalue()


# --------------------------------------------------------------------------- GeoPackage

#: Layers of plan.gpkg, in order (table names; their titles are in the output's language).
GPKG_LAYERS = ("offices", "fa_regions", "closures")


def plan_gpkg_layers(tables: PlanTables, texts: Texts | None = None) -> dict:
    """The layers of ``plan.gpkg`` in SWEREF 99 TM (EPSG:3006): name → (GeoDataFrame, layer options).

    * ``offices``: points, one per office, with its decision and figures
      (the columns of plan.csv plus ``changed_in``, ``receiving_growth``,
      ``receiving_flag``);
    * ``fa_regions``: polygons (municipalities dissolved by FA-region) with
      population, offices and mean distance before and after, its change and
      ``coverage`` (served, lost, never);
    * ``closures``: lines from each closed office to the office that
      receives its visitors, with the distance (km, as in the optimisation).

    Field names are the English identifiers of plan.csv in every language;
    each layer's title (``IDENTIFIER``) and ``DESCRIPTION`` are in the
    language of ``texts``.
    """
    import geopandas as gpd
    from shapely.geometry import LineString

    tx = texts or texts_of("en")
    o = tables.offices[tables.offices["decision"] != "not opened"].copy()
    cols = [c for c in XLSX_SHEETS["offices"][1]] + ["receiving_flag"]
    o = o[cols].copy()
    o["changed_in"] = o["changed_in"].astype("Int64")
    o["public_figure_conflict"] = o["public_figure_conflict"].astype(str)
    o = o.replace([float("inf"), float("-inf")], float("nan"))
    offices = gpd.GeoDataFrame(o.reset_index(drop=True), geometry=gpd.points_from_xy(o["lon"], o["lat"]), crs="EPSG:4326").to_crs("EPSG:3006")

    fa = tables.fa_geometry.merge(tables.fa_regions, on="fa_code").sort_values("fa_code", kind="mergesort").reset_index(drop=True)
    # the difference of two correctly rounded means, from their exact inhabitant-metres (metrics.mean_km_difference)
    d = fa["population"].clip(lower=1).astype("int64") * 1000
    fa["mean_distance_km_change"] = (np.rint(fa["mean_distance_km_after"] * d) - np.rint(fa["mean_distance_km_before"] * d)) / d
    regions = gpd.GeoDataFrame(fa, geometry="geometry", crs=tables.fa_geometry.crs or "EPSG:4326").to_crs("EPSG:3006")

    where = offices.set_index("office_id").geometry
    closed = offices[(offices["decision"] == "close") & offices["receiver_id"].isin(where.index)]
    lines = gpd.GeoDataFrame(
        {
            "office_id": closed["office_id"].to_numpy(),
            "office_name": closed["office_name"].to_numpy(),
            "receiver_id": closed["receiver_id"].to_numpy(),
            "receiver_name": closed["receiver_name"].to_numpy(),
            "receiver_distance_km": closed["receiver_distance_km"].to_numpy(float),
            "visits_before": closed["visits_before"].to_numpy(float),
        },
        geometry=[LineString([a, where[r]]) for a, r in zip(closed.geometry, closed["receiver_id"])],
        crs="EPSG:3006",
    )
    return {
        name: (frame, {"IDENTIFIER": tx(f"gpkg.{name}.title"), "DESCRIPTION": tx(f"gpkg.{name}.description", scenario=tables.context["scenario_name"], year=str(tables.year))})
        for name, frame in (("offices", offices), ("fa_regions", regions), ("closures", lines))
    }
