"""Write every output of a plan into a folder, atomically.

:func:`write_outputs` computes the plan's tables once (:func:`netopt.tables.plan_tables`)
and hands them to one thin writer per format; the files appear together or
not at all (:func:`netopt.io.atomic_output_dir`).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from . import io
from .exports import plan_csv, summary_json
from .report import report_markdown
from .solve import Plan
from .tables import PlanTables, plan_tables

__all__ = ["write_outputs", "write_plan_files"]


def write_plan_files(tables: PlanTables, folder: str | Path, *, with_map: bool = True) -> list[str]:
    """Write a plan's files into an existing ``folder`` (not atomic: see :func:`write_outputs`).

    Returns the names written."""
    folder = Path(folder)
    texts = {
        "plan.csv": plan_csv(tables),
        "summary.json": summary_json(tables),
        "report.md": report_markdown(tables),
    }
    if with_map:
        from .maps import map_html

        texts["map.html"] = map_html(tables)
    if tables.staged:
        for year in list(tables.offices_by_stage)[:-1]:
            texts[f"plan-{year}.csv"] = plan_csv(tables, year)
    for name, text in texts.items():
        io.write_text(folder / name, text)
    return list(texts)


def write_outputs(plan: Plan, out: str | Path, *, overwrite: bool = False, with_map: bool = True, areas: pd.DataFrame | None = None) -> Path:
    """Write plan.csv, summary.json, report.md and map.html into ``out`` atomically.

    ``areas``: areas with high social exclusion for the report (default: the
    shipped list). Raises :class:`~netopt.errors.OutputError` when ``out``
    exists (without ``overwrite``) or cannot be written; nothing is left
    half-written."""
    tables = plan_tables(plan, areas=areas)
    with io.atomic_output_dir(out, overwrite=overwrite) as tmp:
        write_plan_files(tables, tmp, with_map=with_map)
    return Path(out)
