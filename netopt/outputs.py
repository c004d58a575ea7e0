"""Write every output of a plan into a folder, atomically.

:func:`write_outputs` computes the plan's tables once (:func:`netopt.tables.plan_tables`)
and hands them to one thin writer per format; the files appear together or
not at all (:func:`netopt.io.atomic_output_dir`).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from . import io
from .exports import alternatives_csv, keep_costs_csv, municipalities_csv, plan_csv, plan_gpkg_layers, plan_xlsx, summary_json
from .i18n import LANGUAGES, Texts, check_language, texts as texts_of
from .report import report_markdown
from .report_html import Frontier, report_html
from .plan import Plan
from .tables import PlanTables, plan_tables

__all__ = ["write_outputs", "write_plan_files", "output_language", "map_extensions"]


def output_language(plan: Plan, lang: str | None = None) -> str:
    """The language of a plan's outputs: ``lang`` if given, else the scenario's ``lang``, else English."""
    chosen = lang or getattr(plan.scenario, "lang", None) or LANGUAGES[0]
    return check_language(chosen, "lang")


def map_extensions(tables: PlanTables, texts: Texts) -> list:
    """What a plan's ``map.html`` carries besides netopt's layers: the what-if
    (:func:`netopt.maps.whatif.whatif_extension`)."""
    from .maps import whatif_extension

    return [whatif_extension(tables, texts)]


def write_plan_files(tables: PlanTables, folder: str | Path, *, with_map: bool = True, lang: str = "en", frontier: Frontier | None = None) -> list[str]:
    """Write a plan's files into an existing ``folder`` (not atomic: see :func:`write_outputs`).

    ``lang``: the language of the files for people (report.md, report.html,
    map.html); ``frontier``: the frontier the plan lies on (``netopt sweep``),
    drawn in report.html.
    Returns the names written."""
    folder = Path(folder)
    tx = texts_of(lang)
    texts = {
        "plan.csv": plan_csv(tables),
        "summary.json": summary_json(tables),
        "municipalities.csv": municipalities_csv(tables),
        "report.md": report_markdown(tables, tx),
        "report.html": report_html(tables, tx, frontier=frontier),
    }
    if with_map:
        from .maps import map_html

        texts["map.html"] = map_html(tables, tx, extensions=map_extensions(tables, tx))
    if tables.staged:
        for year in list(tables.offices_by_stage)[:-1]:
            texts[f"plan-{year}.csv"] = plan_csv(tables, year)
    for name, text in (("keep_costs.csv", keep_costs_csv(tables)), ("alternatives.csv", alternatives_csv(tables))):
        if text is not None:
            texts[name] = text
    for name, text in texts.items():
        io.write_text(folder / name, text)
    io.write_bytes(folder / "plan.xlsx", plan_xlsx(tables, tx))
    io.write_geopackage(folder / "plan.gpkg", plan_gpkg_layers(tables, tx))
    return list(texts) + ["plan.xlsx", "plan.gpkg"]


def write_outputs(plan: Plan, out: str | Path, *, overwrite: bool = False, with_map: bool = True, areas: pd.DataFrame | None = None, lang: str | None = None,
                  consultation=None) -> Path:
    """Write plan.csv, summary.json, municipalities.csv, report.md, report.html,
    map.html, plan.xlsx and plan.gpkg (and plan-YEAR.csv for the earlier stages
    of a staged plan) into ``out`` atomically.

    ``consultation`` (:func:`netopt.consult.consult`): the price of the locks
    and, when computed, ``keep_costs.csv``, ``alternatives.csv`` and each
    alternative's own outputs in ``out/alternatives/alt-K/``; the report says
    what they show. ``areas``: areas with high social exclusion for the report
    (default: the shipped list). ``lang``: ``"en"`` or ``"sv"`` for the files
    people read (default: the scenario's ``lang``, else English). Raises
    :class:`~netopt.errors.OutputError` when ``out`` exists (without
    ``overwrite``) or cannot be written, :class:`~netopt.errors.ScenarioError`
    for an unknown language; nothing is left half-written."""
    lang = output_language(plan, lang)
    tables = plan_tables(plan, areas=areas, consultation=consultation)
    alts = () if consultation is None or consultation.alternatives is None else consultation.alternatives.plans
    with io.atomic_output_dir(out, overwrite=overwrite) as tmp:
        write_plan_files(tables, tmp, with_map=with_map, lang=lang)
        for rank, alt in enumerate(alts, 1):
            folder = Path(tmp) / "alternatives" / f"alt-{rank}"
            folder.mkdir(parents=True)
            write_plan_files(plan_tables(alt, areas=areas, fa_geometry=tables.fa_geometry), folder, with_map=with_map, lang=lang)
    return Path(out)
