"""Model parameters (visits and costs), read from ``data/model/parameters.toml``.

Each field has its unit in its name. :func:`load_parameters` rejects unknown
keys and values out of range, naming the key and the allowed range.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from . import io
from .errors import ScenarioError

__all__ = ["Parameters", "load_parameters"]

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
        """A copy with some fields changed (checked)."""
        p = replace(self, **kw)
        p.check()
        return p

    def check(self, source: str = "parameters") -> None:
        """Raise :class:`ScenarioError` naming the first out-of-range field."""
        ranges = {
            "decay_km": (1.0, 1000.0),
            "floor": (0.0, 1.0),
            "detour_factor": (1.0, 3.0),
            "cost_per_fte_msek": (0.1, 5.0),
            "fte_per_employee": (0.1, 1.0),
            "min_fte_per_office": (0.0, 20.0),
            "site_fixed_msek": (0.0, 50.0),
            "flexible_site_share": (0.0, 1.0),
            "flexible_days_per_week": (0.5, 7.0),
            "flexible_weeks_per_year": (1.0, 52.0),
            "flexible_travel_cost_per_day_sek": (0.0, 1e6),
            "flexible_visits_per_day": (1.0, 1e4),
            "staff_cost_factor": (0.1, 10.0),
            "reference_cost_msek": (1.0, 1e6),
            "reference_visits_total": (1.0, 1e9),
            "reference_offices_total": (1.0, 1e5),
            "citizen_service_employees": (0.0, 1e6),
        }
        for key, (lo, hi) in ranges.items():
            v = getattr(self, key)
            if not isinstance(v, (int, float)) or isinstance(v, bool) or not (lo <= v <= hi):
                raise ScenarioError(f"{source}: '{key}' = {v!r} is out of range. Fix: use a number from {lo:g} to {hi:g}")
        for key in ("scale_fixed_costs_to_reference", "calibrate_to_reference"):
            if not isinstance(getattr(self, key), bool):
                raise ScenarioError(f"{source}: '{key}' = {getattr(self, key)!r} has the wrong type. Fix: write true or false")
        if self.site_per_visit_sek < 0 or self.staff_per_visit_sek < 0:
            raise ScenarioError(f"{source}: the fixed costs exceed the reference cost (site or staff cost per visit would be negative). Fix: lower site_fixed_msek or min_fte_per_office")


_TOML_KEYS = {
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


def load_parameters(path: str | Path | None = None) -> Parameters:
    """Read parameters from TOML (default: the shipped file); unknown keys are errors."""
    path = Path(path) if path else io.DATA_DIR / "model" / "parameters.toml"
    raw = io.read_toml(path)
    kw = {}
    for section, body in raw.items():
        if not isinstance(body, dict):
            raise ScenarioError(f"{path}: unknown top-level key '{section}'. Fix: use the sections of data/model/parameters.toml")
        for key, value in body.items():
            name = _TOML_KEYS.get((section, key))
            if name is None:
                allowed = ", ".join(f"[{s}] {k}" for s, k in _TOML_KEYS)
                raise ScenarioError(f"{path}: unknown key '[{section}] {key}'. Fix: use one of {allowed}")
            kw[name] = value
    vbr = kw.get("reference_visits_by_region")
    if vbr is not None:
        if not isinstance(vbr, dict) or any(not isinstance(v, int) or v < 0 for v in vbr.values()):
            raise ScenarioError(f"{path}: '[reference.visits_by_region]' must map region names to whole numbers of visits ≥ 0")
    known = {f.name for f in fields(Parameters)}
    assert set(kw) <= known
    p = Parameters(**kw)
    p.check(str(path))
    return p
