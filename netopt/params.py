"""Model parameters (visits and costs), read from ``data/model/parameters.toml``.

One vocabulary: a parameter has the same name everywhere, the name of its
:class:`Parameters` field. ``parameters.toml`` is a flat TOML file of those
names (plus the table ``[reference_visits_by_region]``), a scenario's
``[parameters]`` overrides use the same names, and so do
:meth:`Parameters.with_overrides` and ``summary.json``.

Each parameter's kind and allowed range are declared once, in
:data:`PARAMETER_RANGES`; :func:`parameter_problems` checks a table of
values against it and reports every problem at once, naming the file, the key,
the value, the allowed range and the fix.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from . import io
from .errors import Problem, ScenarioError

__all__ = ["Parameters", "load_parameters", "parameter_problems", "PARAMETER_RANGES"]

REGIONS = ("Nord", "Mitt", "Väst", "Syd", "Stockholm-Gotland", "Öst")


@dataclass(frozen=True, kw_only=True)
class Parameters:
    """Visit- and cost-model parameters; see the TOML file for derivations."""

    reference_cost_msek: float = 1003.1
    reference_visits_total: int = 2758758
    reference_offices_total: int = 148
    reference_visits_by_region: dict = field(default_factory=lambda: {
        "Nord": 223422, "Mitt": 528152, "Väst": 531306, "Syd": 511766, "Stockholm-Gotland": 676974, "Öst": 287138})
    decay_km: float = 40.0
    floor: float = 0.2
    detour_factor: float = 1.3
    cost_per_fte_msek: float = 0.7689
    citizen_service_employees: int = 907
    fte_per_employee: float = 0.8509
    min_fte_per_office: float = 2.0
    site_fixed_msek: float = 1.2
    scale_fixed_costs_to_reference: bool = True
    calibrate_to_reference: bool = True  # False: the register's own visits and costs (regional studies)
    flexible_site_share: float = 0.25
    flexible_days_per_week: float = 2
    flexible_weeks_per_year: float = 46
    flexible_travel_cost_per_day_sek: float = 6000
    flexible_visits_per_day: float = 40
    flexible_extra_distance_km: float = 0.0  # access to a flexible office counts as this many km farther (0: like a kept office)
    staff_cost_factor: float = 1.0  # multiplies staff cost per visit (sensitivity runs)

    # ---- derived figures (SEK, visits per year)
    @property
    def staff_total_msek(self) -> float:
        """Citizen-service staff cost, MSEK per year."""
        return self.citizen_service_employees * self.fte_per_employee * self.cost_per_fte_msek

    @property
    def min_staff_msek(self) -> float:
        """Cost of the minimum staffing of one office, MSEK per year."""
        return self.min_fte_per_office * self.cost_per_fte_msek

    @property
    def staff_per_visit_sek(self) -> float:
        """Staff cost that follows visits, SEK per visit."""
        fixed = self.reference_offices_total * self.min_staff_msek
        return (self.staff_total_msek - fixed) * 1e6 / self.reference_visits_total * self.staff_cost_factor

    @property
    def site_total_msek(self) -> float:
        """Premises, security, IT and overheads of the reference network, MSEK per year."""
        return self.reference_cost_msek - self.staff_total_msek

    @property
    def site_per_visit_sek(self) -> float:
        """Site cost that scales with an office's 2024 size, SEK per visit."""
        return (self.site_total_msek - self.reference_offices_total * self.site_fixed_msek) * 1e6 / self.reference_visits_total

    @property
    def flexible_capacity_visits(self) -> float:
        """Visits a flexible office can take per year."""
        return self.flexible_days_per_week * self.flexible_weeks_per_year * self.flexible_visits_per_day

    @property
    def flexible_travel_sek(self) -> float:
        """Staff travel to a flexible office, SEK per year."""
        return self.flexible_days_per_week * self.flexible_weeks_per_year * self.flexible_travel_cost_per_day_sek

    def with_overrides(self, **kw) -> "Parameters":
        """A copy with some fields changed (checked; names as in parameters.toml)."""
        problems = parameter_problems(kw, "parameters")
        if problems:
            raise ScenarioError(problems)
        p = replace(self, **kw)
        p.check()
        return p

    def check(self, source: str = "parameters") -> None:
        """Raise :class:`ScenarioError` listing every value out of range."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        problems = parameter_problems(values, source)
        if not problems and (self.site_per_visit_sek < 0 or self.staff_per_visit_sek < 0):
            problems.append(Problem(source, None, "site_fixed_msek", str(self.site_fixed_msek),
                                    "together with min_fte_per_office, the fixed costs exceed the reference cost (site or staff cost per visit would be negative)",
                                    "lower site_fixed_msek or min_fte_per_office, or raise reference_cost_msek"))
        if problems:
            raise ScenarioError(problems)


#: Kind and allowed range of every parameter: ``(kind, low, high)`` with kind
#: "number", "whole" (a whole number), "bool" or "visits by region". The one
#: place a parameter's range is declared.
PARAMETER_RANGES: dict[str, tuple[str, float | None, float | None]] = {
    "reference_cost_msek": ("number", 1.0, 1e6),
    "reference_visits_total": ("whole", 1, 1_000_000_000),
    "reference_offices_total": ("whole", 1, 100_000),
    "reference_visits_by_region": ("visits by region", 0, 1_000_000_000),
    "decay_km": ("number", 1.0, 1000.0),
    "floor": ("number", 0.0, 1.0),
    "detour_factor": ("number", 1.0, 3.0),
    "cost_per_fte_msek": ("number", 0.1, 5.0),
    "citizen_service_employees": ("whole", 0, 1_000_000),
    "fte_per_employee": ("number", 0.1, 1.0),
    "min_fte_per_office": ("number", 0.0, 20.0),
    "site_fixed_msek": ("number", 0.0, 50.0),
    "scale_fixed_costs_to_reference": ("bool", None, None),
    "calibrate_to_reference": ("bool", None, None),
    "flexible_site_share": ("number", 0.0, 1.0),
    "flexible_days_per_week": ("number", 0.5, 7.0),
    "flexible_weeks_per_year": ("number", 1.0, 52.0),
    "flexible_travel_cost_per_day_sek": ("number", 0.0, 1e6),
    "flexible_visits_per_day": ("number", 1.0, 1e4),
    "flexible_extra_distance_km": ("number", 0.0, 500.0),
    "staff_cost_factor": ("number", 0.1, 10.0),
}

#: Spellings of parameters.toml before one vocabulary (``[section] key``), and the name now.
OLD_SPELLINGS = {
    ("reference", "cost_msek"): "reference_cost_msek",
    ("reference", "visits_total"): "reference_visits_total",
    ("reference", "offices_total"): "reference_offices_total",
    ("reference", "visits_by_region"): "reference_visits_by_region",
    ("visits", "decay_km"): "decay_km",
    ("visits", "floor"): "floor",
    ("visits", "detour_factor"): "detour_factor",
    ("staff", "cost_per_fte_msek"): "cost_per_fte_msek",
    ("staff", "citizen_service_employees"): "citizen_service_employees",
    ("staff", "fte_per_employee"): "fte_per_employee",
    ("staff", "min_fte_per_office"): "min_fte_per_office",
    ("site", "site_fixed_msek"): "site_fixed_msek",
    ("register", "scale_fixed_costs_to_reference"): "scale_fixed_costs_to_reference",
    ("register", "calibrate_to_reference"): "calibrate_to_reference",
    ("flexible", "site_share"): "flexible_site_share",
    ("flexible", "days_per_week"): "flexible_days_per_week",
    ("flexible", "weeks_per_year"): "flexible_weeks_per_year",
    ("flexible", "travel_cost_per_day_sek"): "flexible_travel_cost_per_day_sek",
    ("flexible", "visits_per_day"): "flexible_visits_per_day",
}


def _range_text(kind: str, low, high) -> str:
    if kind == "bool":
        return "true or false"
    what = "a whole number" if kind in ("whole", "visits by region") else "a number"
    from .scenario import number_text

    return f"{what} from {number_text(low)} to {number_text(high)}"


def _value_problem(kind: str, low, high, value) -> str | None:
    """Why ``value`` is not allowed for a parameter of this kind and range (None when it is)."""
    if kind == "bool":
        return None if isinstance(value, bool) else "has the wrong type"
    if kind == "visits by region":
        if not isinstance(value, Mapping):
            return "has the wrong type"
        if set(value) - set(REGIONS):
            return "names unknown SSC regions (" + ", ".join(sorted(map(str, set(value) - set(REGIONS)))) + ")"
        if any(isinstance(v, bool) or not isinstance(v, int) or not (low <= v <= high) for v in value.values()):
            return "has a value that is not a whole number of visits from 0 to 1000000000"
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "has the wrong type"
    if kind == "whole" and not isinstance(value, int):
        return "has the wrong type"
    if not math.isfinite(value) or not (low <= value <= high):
        return "is out of range"
    return None


def parameter_problems(values: Mapping, source: str, prefix: str = "") -> list[Problem]:
    """Every problem of a table of parameter values (unknown names, wrong types,
    values out of range). ``prefix`` is put before each key in the messages
    (``"parameters."`` for a scenario's overrides)."""
    problems = []
    for key, value in values.items():
        spec = PARAMETER_RANGES.get(key)
        if spec is None:
            close = difflib.get_close_matches(str(key), PARAMETER_RANGES, n=1)
            hint = f"did you mean '{prefix}{close[0]}'? " if close else ""
            problems.append(Problem(source, None, None, None, f"unknown key '{prefix}{key}' (not a parameter)",
                                    f"{hint}use one of {', '.join(PARAMETER_RANGES)} (the names of data/model/parameters.toml)"))
            continue
        kind, low, high = spec
        why = _value_problem(kind, low, high, value)
        if why is not None:
            fix = f"write {_range_text(kind, low, high)}" if kind != "visits by region" else \
                "give a table of SSC regions (" + ", ".join(REGIONS) + ") and whole numbers of visits"
            problems.append(Problem(source, None, f"{prefix}{key}", repr(value), f"{why} (allowed: {_range_text(kind, low, high)})" if kind != "visits by region" else why, fix))
    return problems


def load_parameters(path: str | Path | None = None) -> Parameters:
    """Read parameters from TOML (default: the shipped file); every problem is reported at once.

    The file holds ``name = value`` lines with the names of :class:`Parameters`
    (missing names keep their default) and the table ``[reference_visits_by_region]``.
    """
    path = Path(path) if path else io.DATA_DIR / "model" / "parameters.toml"
    raw = io.read_toml(path)
    problems: list[Problem] = []
    values = {}
    old_sections = {sec for sec, _ in OLD_SPELLINGS}
    for key, value in raw.items():
        if isinstance(value, dict) and key in old_sections:
            for k in value:
                new = OLD_SPELLINGS.get((key, k))
                if new is not None:
                    problems.append(Problem(str(path), None, f"[{key}] {k}", None, "is an old spelling: parameters are written without sections, by their one name",
                                            f"write {new} = ... at the top of the file (the name a scenario's [parameters] uses)"))
                else:
                    problems += parameter_problems({k: None}, str(path), prefix=f"[{key}] ")
            continue
        values[key] = value
    problems += parameter_problems(values, str(path))
    if problems:
        raise ScenarioError(problems)
    p = Parameters(**values)
    p.check(str(path))
    return p
