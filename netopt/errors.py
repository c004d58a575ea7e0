"""netopt's errors: one base class, each also a built-in exception.

Every error carries a message a planner can act on. :class:`DataError` carries
a list of :class:`Problem` so that validation reports every problem at once.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "NetoptError",
    "Problem",
    "DataError",
    "ScenarioError",
    "InfeasibleError",
    "OutputError",
]


class NetoptError(Exception):
    """Base class of every error netopt raises on purpose."""

    exit_code = 2


@dataclass(frozen=True)
class Problem:
    """One problem in one input file.

    ``row`` is the 1-based line number in the file as a spreadsheet shows it
    (the header is line 1), or ``None`` when the problem concerns the whole file.
    """

    file: str
    row: int | None
    column: str | None
    value: str | None
    message: str
    fix: str

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", line {self.row}"
        if self.column:
            where += f", column '{self.column}'"
        value = "" if self.value is None else f" (value {_short(self.value)!r})"
        return f"{where}: {self.message}{value}. Fix: {self.fix}"

    def as_dict(self) -> dict:
        return {
            "file": self.file,
            "row": self.row,
            "column": self.column,
            "value": self.value,
            "message": self.message,
            "fix": self.fix,
        }


def _short(value: str, limit: int = 80) -> str:
    value = str(value)
    return value if len(value) <= limit else value[: limit - 1] + "…"


class DataError(NetoptError, ValueError):
    """Input data that netopt cannot use; ``problems`` lists every problem found."""

    exit_code = 2

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} in the input data"
        super().__init__(head + ":\n" + "\n".join(f"  - {p}" for p in self.problems))


class ScenarioError(NetoptError, ValueError):
    """A scenario file or parameter that is not allowed (names the key and the range).

    Built from a message, or from a list of :class:`Problem` (``column`` holds the
    key, e.g. ``solver.threads``) so that every problem of a file is reported at once.
    """

    exit_code = 2

    def __init__(self, message: "str | list[Problem]"):
        if isinstance(message, str):
            self.problems: list[Problem] = []
            super().__init__(message)
            return
        self.problems = list(message)
        lines = [_scenario_line(p) for p in self.problems]
        if len(lines) == 1:
            super().__init__(lines[0])
        else:
            files = sorted({p.file for p in self.problems})
            head = f"{len(lines)} problems in {', '.join(files)}"
            super().__init__(head + ":\n" + "\n".join(f"  - {line}" for line in lines))


def _scenario_line(p: Problem) -> str:
    """``file: 'key' = value message. Fix: ...`` (one line per problem)."""
    where = p.file
    if p.column:
        where += f": '{p.column}'"
        if p.value is not None:
            where += f" = {_short(p.value)}"
    return f"{where} {p.message}. Fix: {p.fix}" if p.column else f"{where}: {p.message}. Fix: {p.fix}"


class InfeasibleError(NetoptError, RuntimeError):
    """No plan meets every constraint; ``explanation`` says why, with numbers."""

    exit_code = 1

    def __init__(self, message: str, explanation: dict | None = None):
        self.explanation = explanation or {}
        super().__init__(message)


class OutputError(NetoptError, OSError):
    """Outputs could not be written (folder exists, not writable, disk full)."""

    exit_code = 2
