"""Scenarios: what a planner asks for, read from TOML files in ``scenarios/``.

A :class:`Scenario` is frozen and keyword-only; unknown keys and values out of
range are errors naming the key and the allowed range. Field by field
documentation: ``docs/scenarios.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from . import io
from .errors import ScenarioError

__all__ = ["Stage", "Scenario", "load_scenario", "default_scenario"]

OBJECTIVES = ("distance", "coverage", "visits_lost")


@dataclass(frozen=True, kw_only=True)
class Stage:
    """One budget year: the cut against 2024 and the extra allowance for flexible offices (MSEK per year)."""

    year: int
    cut_msek: float
    flexible_allowance_msek: float = 0.0


@dataclass(frozen=True, kw_only=True)
class Scenario:
    """A planning scenario. Distances in km, money in MSEK per year, time in seconds."""

    name: str = "scenario"
    description: str = ""
    stages: tuple = (Stage(year=2027, cut_msek=150.0, flexible_allowance_msek=10.0),)
    objective: str = "distance"
    coverage_km: float = 30.0
    fa_division: str = "fa2015"  # "fa2015" (shipped) or a path to a division CSV
    flexible: bool = True
    lock_open: tuple = ()
    lock_closed: tuple = ()
    max_growth: float | None = None  # e.g. 0.5 = a receiving office may grow by at most 50 %
    max_distance_km: float | None = None
    keep_municipalities: bool = False
    max_closures: int | None = None
    require_all_fa_regions: bool = False  # True: FA-regions without any office make the scenario infeasible
    parameters: dict = field(default_factory=dict)  # overrides of data/model/parameters.toml fields
    time_limit_s: float = 600.0
    threads: int = 1
    seed: int = 0
    relative_gap: float = 0.0
    tie_break: bool = True  # among plans with the same offices open: fewest changed, then the largest saving
    lang: str | None = None  # language of the outputs for people ("en", "sv"); None: English unless --lang says otherwise
    source: str = ""  # file the scenario was read from

    def with_(self, **kw) -> "Scenario":
        """A checked copy with some fields changed."""
        s = replace(self, **kw)
        s.check()
        return s

    def check(self) -> None:
        src = self.source or "scenario"
        if self.objective not in OBJECTIVES:
            raise ScenarioError(f"{src}: 'objective' = {self.objective!r} is not allowed. Fix: use one of {', '.join(OBJECTIVES)}")
        _range(src, "coverage_km", self.coverage_km, 0.1, 1000)
        _range(src, "time_limit_s", self.time_limit_s, 0.1, 86400)
        _range(src, "threads", self.threads, 1, 64, integer=True)
        _range(src, "seed", self.seed, 0, 2**31 - 1, integer=True)
        _range(src, "relative_gap", self.relative_gap, 0.0, 1.0)
        if self.max_growth is not None:
            _range(src, "max_growth", self.max_growth, 0.0, 100.0)
        if self.max_distance_km is not None:
            _range(src, "max_distance_km", self.max_distance_km, 1.0, 2000.0)
        if self.max_closures is not None:
            _range(src, "max_closures", self.max_closures, 0, 100000, integer=True)
        if self.lang is not None:
            from .i18n import LANGUAGES

            if self.lang not in LANGUAGES:
                raise ScenarioError(f"{src}: 'lang' = {self.lang!r} is not available. Fix: use one of {', '.join(LANGUAGES)}")
        if not self.stages:
            raise ScenarioError(f"{src}: at least one [[stage]] is needed. Fix: add [[stage]] with year and cut_msek")
        years = [s.year for s in self.stages]
        if years != sorted(years) or len(set(years)) != len(years):
            raise ScenarioError(f"{src}: stages must be in increasing years, each year once (got {years})")
        for st in self.stages:
            _range(src, "stage.year", st.year, 2000, 2100, integer=True)
            _range(src, "stage.cut_msek", st.cut_msek, -1000.0, 100000.0)
            _range(src, "stage.flexible_allowance_msek", st.flexible_allowance_msek, 0.0, 10000.0)
        both = set(self.lock_open) & set(self.lock_closed)
        if both:
            raise ScenarioError(f"{src}: offices both locked open and locked closed: {', '.join(sorted(both))}. Fix: keep each in one list")
        from .params import Parameters

        known = {f.name for f in fields(Parameters)} - {"reference_visits_by_region"}
        for k in self.parameters:
            if k not in known:
                raise ScenarioError(f"{src}: unknown key 'parameters.{k}'. Fix: use one of {', '.join(sorted(known))}")


def _range(src, key, value, lo, hi, integer=False):
    ok_type = isinstance(value, int) if integer else isinstance(value, (int, float))
    if isinstance(value, bool) or not ok_type or not (lo <= value <= hi):
        kind = "a whole number" if integer else "a number"
        raise ScenarioError(f"{src}: '{key}' = {value!r} is out of range. Fix: use {kind} from {lo:g} to {hi:g}")


_TOP = {
    "name": str, "description": str, "objective": str, "coverage_km": (int, float), "fa_division": str,
    "time_limit_s": (int, float), "threads": int, "seed": int, "relative_gap": (int, float), "tie_break": bool, "lang": str,
}
_CONSTRAINTS = {
    "lock_open": list, "lock_closed": list, "max_growth": (int, float), "max_distance_km": (int, float),
    "keep_municipalities": bool, "max_closures": int, "require_all_fa_regions": bool,
}
_MODES = {"flexible": bool}
_SOLVER = {"time_limit_s": (int, float), "threads": int, "seed": int, "relative_gap": (int, float), "tie_break": bool}
_BOOL_PARAMETERS = {"scale_fixed_costs_to_reference", "calibrate_to_reference"}
_STAGE = {"year": int, "cut_msek": (int, float), "flexible_allowance_msek": (int, float)}


def _take(src, section, body, spec, out):
    for k, v in body.items():
        where = f"{section}.{k}" if section else k
        if k not in spec:
            raise ScenarioError(f"{src}: unknown key '{where}'. Fix: use one of {', '.join(sorted(spec))} (see docs/scenarios.md)")
        typ = spec[k]
        if isinstance(v, bool) and typ is not bool and bool not in (typ if isinstance(typ, tuple) else (typ,)):
            raise ScenarioError(f"{src}: '{where}' = {v!r} has the wrong type. Fix: give {_typename(typ)}")
        if not isinstance(v, typ):
            raise ScenarioError(f"{src}: '{where}' = {v!r} has the wrong type. Fix: give {_typename(typ)}")
        out[k] = v


def _typename(typ):
    names = {str: "a quoted text", int: "a whole number", float: "a number", bool: "true or false", list: "a list like [\"a\", \"b\"]"}
    if isinstance(typ, tuple):
        return "a number"
    return names.get(typ, str(typ))


def scenario_from_dict(raw: dict, source: str = "scenario") -> Scenario:
    """Build and check a scenario from the TOML structure."""
    kw: dict = {}
    top = {k: v for k, v in raw.items() if not isinstance(v, (dict, list)) or k in ()}
    _take(source, "", top, _TOP, kw)
    stages = []
    for k, v in raw.items():
        if k in top:
            continue
        if k == "stage":
            if not isinstance(v, list) or not v:
                raise ScenarioError(f"{source}: 'stage' must be a list of [[stage]] tables")
            for n, st in enumerate(v, 1):
                if not isinstance(st, dict):
                    raise ScenarioError(f"{source}: stage {n} must be a table")
                d: dict = {}
                _take(source, f"stage[{n}]", st, _STAGE, d)
                for req in ("year", "cut_msek"):
                    if req not in d:
                        raise ScenarioError(f"{source}: stage {n} lacks '{req}'. Fix: add {req} = ...")
                stages.append(Stage(year=d["year"], cut_msek=float(d["cut_msek"]), flexible_allowance_msek=float(d.get("flexible_allowance_msek", 0.0))))
        elif k == "constraints":
            _expect_table(source, k, v)
            d = {}
            _take(source, k, v, _CONSTRAINTS, d)
            for lk in ("lock_open", "lock_closed"):
                if lk in d:
                    if not all(isinstance(x, str) for x in d[lk]):
                        raise ScenarioError(f"{source}: 'constraints.{lk}' must list office IDs as quoted texts")
                    d[lk] = tuple(d[lk])
            if "max_growth" in d:
                d["max_growth"] = float(d["max_growth"])
            if "max_distance_km" in d:
                d["max_distance_km"] = float(d["max_distance_km"])
            kw.update(d)
        elif k == "modes":
            _expect_table(source, k, v)
            _take(source, k, v, _MODES, kw)
        elif k == "solver":
            _expect_table(source, k, v)
            _take(source, k, v, _SOLVER, kw)
        elif k == "parameters":
            _expect_table(source, k, v)
            for pk, pv in v.items():
                if pk in _BOOL_PARAMETERS:
                    if not isinstance(pv, bool):
                        raise ScenarioError(f"{source}: 'parameters.{pk}' = {pv!r} must be true or false")
                elif isinstance(pv, bool) or not isinstance(pv, (int, float)):
                    raise ScenarioError(f"{source}: 'parameters.{pk}' = {pv!r} must be a number")
            kw["parameters"] = dict(v)
        else:
            raise ScenarioError(f"{source}: unknown key '{k}'. Fix: use name, description, objective, coverage_km, fa_division, lang, [[stage]], [constraints], [modes], [parameters], [solver] (see docs/scenarios.md)")
    if stages:
        kw["stages"] = tuple(stages)
    for k in ("coverage_km", "time_limit_s", "relative_gap"):
        if k in kw:
            kw[k] = float(kw[k])
    s = Scenario(**kw, source=source)
    s.check()
    if s.parameters:
        from .params import Parameters

        replace(Parameters(), **s.parameters).check(f"{source} [parameters]")  # range check of overrides, naming the file
    return s


def _expect_table(source, key, v):
    if not isinstance(v, dict):
        raise ScenarioError(f"{source}: '{key}' must be a table ([{key}])")


def load_scenario(path: str | Path) -> Scenario:
    """Read and check a scenario TOML file."""
    return scenario_from_dict(io.read_toml(path), source=str(path))


def default_scenario() -> Scenario:
    """The 2027 stage (150 MSEK lower, 10 MSEK allowance for flexible offices)."""
    return Scenario(name="cut-2027")
