"""``report.md``: the one-page memo of a plan, in Markdown.

:func:`report_markdown` lays out the memo (:mod:`netopt.memo`) of a plan's
tables in Markdown; it computes nothing of its own. Every text from data files is escaped for
Markdown tables (:func:`md_escape`). Deterministic: the same tables give the
same text, except the elapsed-time line at the end.
"""

from __future__ import annotations

import html
import re

from .i18n import Texts, fmt, texts as texts_of
from .memo import Format, Table, memo
from .tables import PlanTables

__all__ = ["report_markdown", "md_escape", "fmt", "MARKDOWN"]


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~>])")


def md_escape(text) -> str:
    """Escape text for a Markdown table cell: HTML-escaped and Markdown specials backslashed."""
    s = html.escape(str(text), quote=False).replace("\n", " ").replace("\r", " ")
    return _MD_SPECIAL.sub(r"\\\1", s)


MARKDOWN = Format(escape=md_escape, strong=lambda text: f"**{text}**", code=lambda text: f"`{text}`")


def _md_table(table: Table) -> str:
    head = "| " + " | ".join(table.columns) + " |"
    sep = "|" + "|".join("---:" if n else "---" for n in table.numeric) + "|"
    return "\n".join([head, sep] + ["| " + " | ".join(row) + " |" for row in table.rows])


def report_markdown(tables: PlanTables, texts: Texts | None = None) -> str:
    """``report.md``: the memo of what the plan does (:func:`netopt.memo.memo`), in Markdown."""
    m = memo(tables, texts or texts_of("en"), MARKDOWN)
    lines = [f"# {m.title}\n"]
    if m.lead:
        lines.append(m.lead + "\n")
    for sec in m.sections:
        lines.append(f"## {sec.title}\n")
        lines.extend(p + "\n" for p in sec.paragraphs)
        if sec.bullets:
            lines.append("\n".join(f"- {b}" for b in sec.bullets) + "\n")
        if sec.table is not None:
            lines.append(_md_table(sec.table) + "\n")
        lines.extend(n + "\n" for n in sec.notes)
    lines.append(f"_{m.footer}_\n")
    return "\n".join(lines)
