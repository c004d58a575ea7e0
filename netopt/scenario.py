"""Scenarios: what a planner asks for, read from TOML files in ``scenarios/``.

A :class:`Scenario` is a nested, frozen, keyword-only dataclass: its stages,
its objective, the ``[modes]``, ``[constraints]``, ``[parameters]`` and
``[solver]`` sections, and the FA division. Every field's kind, allowed range
and meaning are declared once, in the field's metadata (:func:`setting`), and
checked by one validator when the object is made, from a file or from Python.
A file's problems are reported all at once, each naming the file, the key, the
value, what is allowed and the fix. Field by field documentation:
``docs/scenarios.md`` (a test keeps the two in step).

Why dataclasses and not pydantic: the settings are few and flat, the messages
must be netopt's own (file, key, value, allowed range, fix, all problems at
once), TOML already gives exact types, and frozen dataclasses are what the
rest of netopt uses; one small validator over field metadata does that
without a dependency or its import time in every command.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from types import MappingProxyType

from . import io
from .errors import Problem, ScenarioError
from .i18n import LANGUAGES

__all__ = [
    "Stage", "Modes", "Constraints", "SolverSettings", "Scenario",
    "load_scenario", "scenario_from_dict", "default_scenario", "setting", "BACKENDS", "OBJECTIVES",
]

OBJECTIVES = ("distance", "coverage", "visits_lost")
#: Scopes of the access floor (``[constraints] access_floor_scope``).
FLOOR_SCOPES = ("national", "fa_region")
#: Solver backends (netopt.solver.backends); the first is the default.
BACKENDS = ("highspy", "ortools-highs", "cp-sat")
SHIPPED_DIVISION = "fa2015"


# --------------------------------------------------------------------------- declaring settings


@dataclass(frozen=True)
class Spec:
    """What a setting may hold: kind, range or choices, meaning, and the fix to suggest."""

    kind: str  # "text", "number", "whole", "bool", "texts", "table", "section", "stages"
    doc: str
    low: float | None = None
    high: float | None = None
    choices: tuple = ()
    optional: bool = False  # None (left out) means "no limit"
    fix: str = ""

    def allowed(self) -> str:
        if self.choices:
            return "one of " + ", ".join(self.choices)
        if self.kind in ("number", "whole"):
            what = "a whole number" if self.kind == "whole" else "a number"
            return f"{what} from {number_text(self.low)} to {number_text(self.high)}"
        return {"text": "a quoted text", "bool": "true or false", "texts": 'a list of quoted texts, like ["a", "b"]',
                "table": "a table", "section": "a table", "stages": "[[stage]] tables"}[self.kind]


def number_text(v) -> str:
    """A range end as messages and docs/scenarios.md write it: whole numbers in full, with
    spaces between thousands from 10 000 on (86 400, not 86400 or 8.64e+04)."""
    v = float(v)
    if v.is_integer():
        return f"{int(v):,}".replace(",", " ") if abs(v) >= 10_000 else str(int(v))
    return f"{v:g}"


def setting(default=MISSING, *, kind: str, doc: str, default_factory=MISSING, **spec):
    """A dataclass field with its :class:`Spec` in the metadata (the one declaration)."""
    kw = {"default": default} if default_factory is MISSING else {"default_factory": default_factory}
    return field(**kw, metadata={"spec": Spec(kind=kind, doc=doc, **spec)})


def spec_of(f) -> Spec | None:
    return f.metadata.get("spec")


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def value_problem(spec: Spec, value) -> str | None:
    """Why ``value`` does not fit ``spec`` ("has the wrong type", "is out of range", ...), or None."""
    if value is None:
        return None if spec.optional else "is missing"
    k = spec.kind
    if k == "text":
        if not isinstance(value, str):
            return "has the wrong type"
        if spec.choices and value not in spec.choices:
            return "is not allowed"
        return None
    if k == "bool":
        return None if isinstance(value, bool) else "has the wrong type"
    if k == "texts":
        if not isinstance(value, (list, tuple)) or not all(isinstance(x, str) for x in value):
            return "has the wrong type"
        if len(set(value)) != len(value):
            return "names an office twice"
        return None
    if k in ("number", "whole"):
        if not _is_number(value) or (k == "whole" and not isinstance(value, int)):
            return "has the wrong type"
        if not math.isfinite(value) or not (spec.low <= value <= spec.high):
            return "is out of range"
        return None
    return None


def check_section(obj_or_values, cls, where: str, source: str) -> list[Problem]:
    """Every problem of one section's values against its fields' specs."""
    problems = []
    for f in fields(cls):
        spec = spec_of(f)
        if spec is None or spec.kind in ("section", "stages", "table"):
            continue
        value = obj_or_values.get(f.name, _default(f)) if isinstance(obj_or_values, Mapping) else getattr(obj_or_values, f.name)
        why = value_problem(spec, value)
        if why is not None:
            key = f"{where}{f.name}"
            fix = spec.fix or f"write {spec.allowed()}"
            if why == "is missing":
                problems.append(Problem(source, None, key, None, f"is missing (allowed: {spec.allowed()})", f"add {f.name} = ..."))
            else:
                problems.append(Problem(source, None, key, repr(value), f"{why} (allowed: {spec.allowed()})", fix))
    return problems


def _default(f):
    if f.default is not MISSING:
        return f.default
    if f.default_factory is not MISSING:
        return f.default_factory()
    return None


def _raise_if(problems: list[Problem]) -> None:
    if problems:
        raise ScenarioError(problems)


def _number(v):
    """TOML integers in number fields become floats (2 → 2.0), so equal settings compare equal."""
    return float(v) if _is_number(v) and not isinstance(v, float) else v


def _normalise(obj) -> None:
    for f in fields(obj):
        spec = spec_of(f)
        if spec is None:
            continue
        v = getattr(obj, f.name)
        if spec.kind == "number" and v is not None:
            object.__setattr__(obj, f.name, _number(v))
        elif spec.kind == "texts" and isinstance(v, list):
            object.__setattr__(obj, f.name, tuple(v))


# --------------------------------------------------------------------------- the sections


@dataclass(frozen=True, kw_only=True)
class Stage:
    """One budget year: the cut against 2024 and the extra allowance for flexible offices (MSEK per year)."""

    year: int = setting(kind="whole", low=2000, high=2100, doc="The budget year.")
    cut_msek: float = setting(kind="number", low=-1000.0, high=100000.0,
                              doc="How much lower than the 2024 cost the network must cost that year, MSEK per year; negative = a larger budget.")
    flexible_allowance_msek: float = setting(0.0, kind="number", low=0.0, high=10000.0,
                                             doc="Extra money only for the costs of flexible offices, MSEK per year (only the part spent counts).")

    def __post_init__(self):
        _raise_if(check_section(self, Stage, "stage.", "scenario"))
        _normalise(self)


@dataclass(frozen=True, kw_only=True)
class Modes:
    """``[modes]``: which office decisions a plan may make besides keep and close."""

    flexible: bool = setting(True, kind="bool", doc="Whether an office may be turned into a flexible office.")

    def __post_init__(self):
        _raise_if(check_section(self, Modes, "modes.", "scenario"))


@dataclass(frozen=True, kw_only=True)
class Constraints:
    """``[constraints]``: locks and the optional rules a plan must meet."""

    lock_open: tuple = setting((), kind="texts", doc="Offices that stay open with placed staff in every stage.")
    lock_closed: tuple = setting((), kind="texts", doc="Offices that close in every stage.")
    max_growth: float | None = setting(
        None, kind="number", low=0.0, high=5.0, optional=True,
        doc="A receiving office may grow by at most this share of its 2024 visits (0.5 = at most 50 % more).",
        fix="write a share of the 2024 visits: 0.5 means at most 50 % more (50 would mean +5,000 %); leave the key out for no limit")
    max_distance_km: float | None = setting(None, kind="number", low=1.0, high=2000.0, optional=True,
                                            doc="Nobody within this distance of an office today may end up farther than it.")
    keep_municipalities: bool = setting(False, kind="bool", doc="Every municipality with an office today keeps one.")
    max_closures: int | None = setting(None, kind="whole", low=0, high=100000, optional=True,
                                       doc="At most this many offices closed (flexible offices are not closed).")
    require_all_fa_regions: bool = setting(False, kind="bool",
                                           doc="An FA-region with no office in the register makes the scenario infeasible.")
    access_floor_km: float | None = setting(None, kind="number", low=0.1, high=2000.0, optional=True,
                                            doc="The access floor's distance: at least access_floor_share of the population lives within it of an open office.")
    access_floor_share: float | None = setting(
        None, kind="number", low=0.0, high=1.0, optional=True,
        doc="The access floor: the share of the population within access_floor_km of an open office, after the plan, is at least this (0.9 = 90 %).",
        fix="write a share: 0.9 means 90 % (90 would mean 9,000 %); leave the key out for no floor")
    access_floor_scope: str = setting("national", kind="text", choices=FLOOR_SCOPES,
                                      doc="Where the access floor holds: national (one share for Sweden) or fa_region (in every FA-region).")

    def __post_init__(self):
        _raise_if(self.problems("scenario"))
        _normalise(self)

    def problems(self, source: str, where: str = "constraints.") -> list[Problem]:
        out = check_section(self, Constraints, where, source)
        if out:
            return out
        both = sorted(set(self.lock_open) & set(self.lock_closed))
        if both:
            out.append(Problem(source, None, f"{where}lock_open", repr(list(both)), "names offices that are also in lock_closed", "keep each office in one list"))
        for given, missing in (("access_floor_km", "access_floor_share"), ("access_floor_share", "access_floor_km")):
            if getattr(self, given) is not None and getattr(self, missing) is None:
                out.append(Problem(source, None, f"{where}{given}", repr(getattr(self, given)), f"is given without {missing} (an access floor needs both)",
                                   f"add {missing} = ... or leave out {given}"))
        return out


@dataclass(frozen=True, kw_only=True)
class SolverSettings:
    """``[solver]``: explicit solver settings, recorded in every plan."""

    time_limit_s: float = setting(600.0, kind="number", low=0.1, high=86400.0, doc="Time for the whole solve, seconds.")
    threads: int = setting(1, kind="whole", low=1, high=64, doc="Solver threads; 1 gives the same plan on every run.")
    seed: int = setting(0, kind="whole", low=0, high=2**31 - 1, doc="Solver random seed.")
    relative_gap: float = setting(
        0.0, kind="number", low=0.0, high=0.5,
        doc="Stop when the plan is proven within this share of the best possible (0.01 = 1 %); 0 asks for a proven optimum.",
        fix="write a share: 0.01 means 1 % (1 would mean 100 %)")
    tie_break: bool = setting(True, kind="bool",
                              doc="Among plans with the same offices open as the optimum, take the one with the fewest changes, then the cheapest.")
    backend: str = setting(BACKENDS[0], kind="text", choices=BACKENDS, doc="The solver behind the model.")

    def __post_init__(self):
        _raise_if(check_section(self, SolverSettings, "solver.", "scenario"))
        _normalise(self)


def _stage_default():
    return (Stage(year=2027, cut_msek=150.0, flexible_allowance_msek=10.0),)


@dataclass(frozen=True, kw_only=True)
class Scenario:
    """A planning scenario. Distances in km, money in MSEK per year, time in seconds.

    ``parameters`` overrides fields of ``data/model/parameters.toml`` by their
    names. ``fa_division`` is ``None`` (keep the network's division),
    ``"fa2015"`` (the shipped one) or the path of a division CSV; a scenario
    file's relative path is resolved against the file's folder when it is read.
    """

    name: str = setting("scenario", kind="text", doc="Label in reports, maps and summary.json.")
    description: str = setting("", kind="text", doc="One paragraph shown under the title of report.md.")
    description_sv: str = setting("", kind="text", doc="The description in Swedish: shown instead of it in the outputs written in Swedish (--lang sv or lang = \"sv\"); empty: the description is shown.")
    objective: str = setting("distance", kind="text", choices=OBJECTIVES, doc="What the plan minimises, summed over the stages.")
    coverage_km: float = setting(30.0, kind="number", low=0.1, high=1000.0, doc='Distance that counts as "near an office".')
    fa_division: str | None = setting(None, kind="text", optional=True,
                                      doc='The FA division every region of which keeps an office: "fa2015" or the path of a division CSV.')
    lang: str | None = setting(None, kind="text", optional=True, choices=LANGUAGES,
                               doc="Language of the outputs people read (report, map, workbook); none means English unless --lang says otherwise.")
    stages: tuple = setting(kind="stages", default_factory=_stage_default, doc="The budget of each year.")
    modes: Modes = setting(kind="section", default_factory=Modes, doc="Which decisions a plan may make.")
    constraints: Constraints = setting(kind="section", default_factory=Constraints, doc="Locks and optional rules.")
    parameters: Mapping = setting(kind="table", default_factory=dict, doc="Overrides of data/model/parameters.toml, by name.")
    solver: SolverSettings = setting(kind="section", default_factory=SolverSettings, doc="Solver settings.")
    source: str = ""  # the file the scenario was read from

    def __post_init__(self):
        object.__setattr__(self, "stages", tuple(self.stages))
        object.__setattr__(self, "parameters", MappingProxyType(dict(self.parameters)))
        _raise_if(self.problems())
        _normalise(self)

    def problems(self) -> list[Problem]:
        """Every problem of the scenario (the sections check themselves when made)."""
        from .params import parameter_problems

        src = self.source or "scenario"
        out = check_section(self, Scenario, "", src)
        if not self.stages:
            out.append(Problem(src, None, "stage", None, "is empty: at least one [[stage]] is needed", "add [[stage]] with year and cut_msek"))
        years = [s.year for s in self.stages]
        if years != sorted(years) or len(set(years)) != len(years):
            out.append(Problem(src, None, "stage", repr(years), "must be in increasing years, each year once", "sort the [[stage]] tables by year"))
        for name, cls in (("modes", Modes), ("constraints", Constraints), ("solver", SolverSettings)):
            if not isinstance(getattr(self, name), cls):
                out.append(Problem(src, None, name, repr(getattr(self, name)), f"must be a {cls.__name__}", f"give {cls.__name__}(...)"))
        if not all(isinstance(s, Stage) for s in self.stages):
            out.append(Problem(src, None, "stage", None, "must be Stage objects", "give Stage(year=..., cut_msek=...)"))
        out += parameter_problems(self.parameters, src, prefix="parameters.")
        return out

    # ---- convenient reading (the settings live in their sections)
    @property
    def flexible(self) -> bool:
        return self.modes.flexible

    def with_(self, **changes) -> "Scenario":
        """A checked copy with some settings changed, named by their keys
        (``time_limit_s=30``, ``lock_closed=("visby",)``, ``stages=(...)``):
        each key is unique across the sections, so the section is found."""
        top, sections = {}, {}
        for key, value in changes.items():
            if key in _TOP_FIELDS:
                top[key] = value
            elif key in _SECTION_OF:
                sections.setdefault(_SECTION_OF[key], {})[key] = value
            else:
                raise ScenarioError(f"Scenario.with_: unknown setting '{key}'. Fix: use one of {', '.join(sorted(_TOP_FIELDS | set(_SECTION_OF)))}")
        for sec, kw in sections.items():
            top[sec] = replace(getattr(self, sec), **kw)
        return replace(self, **top)

    def settings(self) -> dict:
        """Every setting as plain data (JSON-able), the way the file writes it."""
        return {
            "name": self.name, "description": self.description, "description_sv": self.description_sv, "objective": self.objective, "coverage_km": self.coverage_km,
            "fa_division": self.fa_division, "lang": self.lang,
            "stages": [{f.name: getattr(s, f.name) for f in fields(Stage)} for s in self.stages],
            "modes": _plain(self.modes), "constraints": _plain(self.constraints),
            "parameters": dict(self.parameters), "solver": _plain(self.solver),
        }


def _plain(section) -> dict:
    return {f.name: (list(v) if isinstance(v := getattr(section, f.name), tuple) else v) for f in fields(section)}


_TOP_FIELDS = {f.name for f in fields(Scenario)} - {"modes", "constraints", "solver"}
_SECTIONS = {"modes": Modes, "constraints": Constraints, "solver": SolverSettings}
_SECTION_OF = {f.name: sec for sec, cls in _SECTIONS.items() for f in fields(cls)}


# --------------------------------------------------------------------------- reading TOML

#: Keys of [solver] that may also be written at the top level of a file.
_SOLVER_AT_TOP = {"time_limit_s", "threads", "seed", "relative_gap", "tie_break", "backend"}


def _unknown(source: str, key: str, allowed) -> Problem:
    leaf = key.rsplit(".", 1)[-1]
    close = difflib.get_close_matches(leaf, list(allowed), n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    return Problem(source, None, None, None, f"unknown key '{key}'", f"{hint}use one of {', '.join(sorted(allowed))} (see docs/scenarios.md)")


def _section_values(source: str, where: str, body, cls, problems: list[Problem]) -> dict | None:
    """The known keys of one TOML table, with every problem of its keys and values recorded."""
    if not isinstance(body, dict):
        problems.append(Problem(source, None, where.rstrip("."), repr(body), "must be a table", f"write it as [{where.rstrip('.')}]"))
        return None
    names = {f.name for f in fields(cls)}
    values = {}
    for k, v in body.items():
        if k not in names:
            problems.append(_unknown(source, f"{where}{k}", names))
        else:
            values[k] = v
    found = check_section(values, cls, where, source)
    problems += found
    return values


def scenario_from_dict(raw: dict, source: str = "scenario", base: Path | None = None) -> Scenario:
    """Build a scenario from the TOML structure, reporting every problem at once.

    ``base`` is the folder a relative ``fa_division`` path is read from (the
    scenario file's folder).
    """
    problems: list[Problem] = []
    top: dict = {}
    solver_top: dict = {}  # [solver] keys written at the top level
    sections: dict = {}
    stages: list = []
    top_names = {"name", "description", "description_sv", "objective", "coverage_km", "fa_division", "lang"}
    for k, v in raw.items():
        if k in top_names:
            top[k] = v
        elif k in _SOLVER_AT_TOP:
            solver_top[k] = v
        elif k == "stage":
            if not isinstance(v, list) or not v or not all(isinstance(x, dict) for x in v):
                problems.append(Problem(source, None, "stage", repr(v)[:60], "must be one or more [[stage]] tables", "write [[stage]] with year = ... and cut_msek = ..."))
                continue
            for n, body in enumerate(v, 1):
                values = _section_values(source, f"stage[{n}].", body, Stage, problems)
                if values is not None:
                    stages.append(values)
        elif k in _SECTIONS:
            values = _section_values(source, f"{k}.", v, _SECTIONS[k], problems)
            if values is not None:
                sections[k] = values
        elif k == "parameters":
            if not isinstance(v, dict):
                problems.append(Problem(source, None, "parameters", repr(v)[:60], "must be a table", "write it as [parameters]"))
            else:
                top["parameters"] = v
        else:
            close = difflib.get_close_matches(k, sorted(top_names | set(_SECTIONS) | {"stage", "parameters"} | _SOLVER_AT_TOP), n=1)
            problems.append(Problem(source, None, None, None, f"unknown key '{k}'",
                                    (f"did you mean '{close[0]}'? " if close else "")
                                    + "use name, description, description_sv, objective, coverage_km, fa_division, lang, [[stage]], [modes], [constraints], [parameters], [solver] (see docs/scenarios.md)"))
    problems += check_section(top, Scenario, "", source)
    for key, value in solver_top.items():
        problems += [q for q in check_section({key: value}, SolverSettings, "", source) if q.column == key]
        if key in sections.get("solver", {}):
            problems.append(Problem(source, None, f"solver.{key}", None, "is also given at the top level", "write it once, under [solver]"))
    if solver_top:
        sections["solver"] = {**solver_top, **sections.get("solver", {})}
    if "parameters" in top:
        from .params import parameter_problems

        problems += parameter_problems(top["parameters"], source, prefix="parameters.")
    if not problems and "constraints" in sections:
        problems += _constraint_problems(sections["constraints"], source)
    if not problems:
        years = [s.get("year") for s in stages]
        if stages and (years != sorted(years) or len(set(years)) != len(years)):
            problems.append(Problem(source, None, "stage", repr(years), "must be in increasing years, each year once", "sort the [[stage]] tables by year"))
    if not problems and isinstance(top.get("fa_division"), str):
        top["fa_division"], problem = resolve_division(top["fa_division"], source, base)
        if problem:
            problems.append(problem)
    _raise_if(problems)
    kw = dict(top)
    if stages:
        kw["stages"] = tuple(Stage(**s) for s in stages)
    if "modes" in sections:
        kw["modes"] = Modes(**sections["modes"])
    if "constraints" in sections:
        kw["constraints"] = Constraints(**sections["constraints"])
    if "solver" in sections:
        kw["solver"] = SolverSettings(**sections["solver"])
    if "parameters" in kw:
        from .params import Parameters

        Parameters().with_overrides(**kw["parameters"])  # cross-checks (fixed costs against the reference)
    return Scenario(**kw, source=source)


def _constraint_problems(values: dict, source: str) -> list[Problem]:
    c = Constraints.__new__(Constraints)
    for f in fields(Constraints):
        object.__setattr__(c, f.name, values.get(f.name, _default(f)))
    return c.problems(source)


def resolve_division(value: str, source: str, base: Path | None) -> tuple[str, Problem | None]:
    """``fa_division`` as used: ``"fa2015"``, or an absolute path (a relative one is
    read from ``base``, the scenario file's folder); a problem when the file is missing."""
    if value == SHIPPED_DIVISION:
        return value, None
    path = Path(value)
    if not path.is_absolute() and base is not None:
        path = base / path
    if not path.is_file():
        return value, Problem(source, None, "fa_division", repr(value), f"names no file ({path} does not exist; a relative path is read from the scenario file's folder)",
                              'write "fa2015" for the shipped division or the path of a division CSV (municipality_code, fa_code, fa_name)')
    return str(path.resolve()), None


def load_scenario(path: str | Path) -> Scenario:
    """Read and check a scenario TOML file; every problem is reported at once.

    ``path`` is a file, or the name of a shipped scenario (``"cut-2027"`` or
    ``"cut-2027.toml"``) when no such file exists here: those are read from the
    installed package, so ``load_scenario("cut-2027")`` works from any folder
    after ``pip install .``, as ``netopt solve cut-2027`` does.

    Raises:
      ScenarioError: listing each problem with the file, the key, the value, what is allowed and the fix.
    """
    path = Path(path)
    if not path.exists() and path.name == str(path):
        shipped = io.SCENARIOS_DIR / (path.name if path.name.endswith(".toml") else f"{path.name}.toml")
        if shipped.is_file():
            path = shipped
    return scenario_from_dict(io.read_toml(path), source=str(path), base=path.resolve().parent)


def default_scenario() -> Scenario:
    """The 2027 stage (150 MSEK lower, 10 MSEK allowance for flexible offices)."""
    return Scenario(name="cut-2027")
