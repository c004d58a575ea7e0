"""A plan's decisions read from a file: one ``office_id, decision`` per line.

``netopt evaluate --plan FILE`` measures such a plan. An edited ``plan.csv``
works as it is (its other columns are ignored), and so does the CSV that a
map's what-if panel downloads. Decisions: ``keep``, ``flexible``, ``close``;
for an extra candidate site also ``open`` (= keep) and ``not opened`` (= close,
as ``plan.csv`` writes it). Offices the file does not name are kept, candidate
sites it does not name are not opened (as in :func:`netopt.plan.evaluate`).
"""

from __future__ import annotations

import os

from . import io
from .data import Network, office_hint
from .errors import DataError, Problem

__all__ = ["read_decisions", "DECISION_WORDS"]

#: Words a plan file may use, and the decision each stands for.
DECISION_WORDS = {"keep": "keep", "open": "keep", "flexible": "flexible", "close": "close", "not opened": "close"}


def read_decisions(path: str | os.PathLike, network: Network) -> dict[str, str]:
    """Decisions of a plan file as ``{office_id: "keep" | "flexible" | "close"}``.

    Args:
      path: a CSV file with columns ``office_id`` and ``decision`` (others ignored).
      network: the network the plan is for; its ``office_id`` values (register
        and candidate sites) are the ones allowed.

    Raises :class:`~netopt.errors.DataError` listing every problem at once, each
    naming the file, line, column, value and fix: a missing column, an empty or
    unknown ``office_id``, an office listed twice, an unknown decision, or
    ``not opened`` for an office that is open today.
    """
    name = str(path)
    frame = io.read_table(path, required=("office_id", "decision"))
    off = network.offices
    existing = dict(zip(off["office_id"], off["existing"].astype(bool)))
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    out: dict[str, str] = {}
    for idx, oid, word in zip(frame.index, frame["office_id"], frame["decision"]):
        line = int(idx) + 2  # the header is line 1
        ok = True
        if oid == "":
            problems.append(Problem(name, line, "office_id", oid, "office_id is empty", "write the office's ID (netopt validate --list lists them) or delete the line"))
            ok = False
        elif oid not in existing:
            hint = office_hint(oid, off)
            problems.append(Problem(name, line, "office_id", oid, "unknown office", hint + "use office_id values of the register or the candidate sites (netopt validate --list)"))
            ok = False
        elif oid in seen:
            problems.append(Problem(name, line, "office_id", oid, f"office listed twice (also line {seen[oid]})", "keep one line per office"))
            ok = False
        else:
            seen[oid] = line
        key = " ".join(word.lower().split())
        decision = DECISION_WORDS.get(key)
        if decision is None:
            problems.append(Problem(name, line, "decision", word, "unknown decision", "write keep, flexible or close (for a candidate site also open or not opened)"))
            ok = False
        elif key == "not opened" and existing.get(oid, False):
            problems.append(Problem(name, line, "decision", word, "'not opened' is for candidate sites, and this office is open today", "write close to close it"))
            ok = False
        if ok:
            out[oid] = decision
    if problems:
        raise DataError(problems)
    return out
