"""Data files of a plan for programs, spreadsheets and GIS: ``plan.csv``, ``summary.json``.

Thin writers over :class:`~netopt.tables.PlanTables`: they choose columns
and encode; every figure comes from the tables, unrounded (the office table
rounds once). Deterministic: the same tables give the same bytes.
"""

from __future__ import annotations

import json

from .tables import PLAN_CSV_COLUMNS, PlanTables

__all__ = ["plan_csv", "summary_json"]


def plan_csv(tables: PlanTables, year: int | None = None) -> str:
    """``plan.csv`` (text): one row per office; ``year``: that stage's table (default: the tables' stage)."""
    t = tables.offices if year is None else tables.offices_by_stage[year]
    cols = list(PLAN_CSV_COLUMNS)
    if not t["existing"].all():  # extra candidate sites in the run
        cols.append("existing")
    cols.append("public_figure_conflict")
    # figures are rounded once, in the office table; the writer adds no rounding
    return t[cols].to_csv(index=False, lineterminator="\n")


def summary_json(tables: PlanTables) -> str:
    """``summary.json`` (text): the final stage's summary, every stage, inputs and parameters."""
    return json.dumps(tables.context["json"], indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"

