"""The problem data of a scenario: the numeric :class:`Instance` and :func:`prepare`.

:func:`prepare` is the one path from a network, a scenario and parameters to
the problem the model is built from::

    network (+ the scenario's FA division) → parameters (+ the scenario's overrides)
    → visit model → cost model → Instance

It returns a :class:`Prepared`, which keeps the calibrated models beside the
instance so that every number an output shows comes from the same data as the
optimisation.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np

from .costs import CostModel, fit_costs
from .data import Network, office_hint
from .errors import Problem, ScenarioError
from .params import Parameters, load_parameters
from .scenario import FLOOR_SCOPES, OBJECTIVES, Scenario
from .visits import VisitModel, existing_offices, fit_visits

__all__ = ["Instance", "Prepared", "prepare", "apply_fa_division", "unknown_office_problems", "FLOOR_SCOPES", "DISTANCE_CACHE_ENTRIES"]

#: An instance without a planner's matrix keeps its demand × office distances once computed
#: when there are at most this many (4·10^6 entries, 32 MB); larger ones compute them per plan.
DISTANCE_CACHE_ENTRIES = 4_000_000



@dataclass(frozen=True, eq=False)
class Instance:
    """The numeric core of a planning problem (no geometry objects, no pandas).

    Arrays are indexed by office (length ``n``, the order of ``office_ids``,
    sorted by ID) or by demand point (length ``m``). Distances are whole metres,
    costs SEK per year, visits per year. ``budgets_sek`` and ``allowances_sek``
    have one entry per stage.
    """

    office_ids: tuple
    ox: np.ndarray
    oy: np.ndarray
    dx: np.ndarray
    dy: np.ndarray
    population: np.ndarray  # int, inhabitants per demand point
    propensity: np.ndarray  # visits per year per demand point at distance 0
    detour_factor: float  # road distance = straight line × detour_factor (Parameters.detour_factor)
    floor: float
    decay_km: float
    fixed_full_sek: np.ndarray
    fixed_flex_sek: np.ndarray
    staff_per_visit_sek: float
    flex_capacity_visits: float
    baseline_visits: np.ndarray
    baseline_dist_m: np.ndarray
    fa_of_office: np.ndarray  # int index into fa codes, -1 if none
    n_fa: int
    muni_of_office: np.ndarray  # int index
    budgets_sek: tuple  # one per stage
    allowances_sek: tuple  # one per stage
    objective: str = "distance"
    coverage_m: int = 30000
    lock_open: np.ndarray | None = None
    lock_closed: np.ndarray | None = None
    flex_allowed: np.ndarray | None = None
    max_growth: float | None = None
    max_distance_m: int | None = None
    keep_municipalities: bool = False
    max_closures: int | None = None
    cover_fa: bool = True
    open_count: int | None = None  # exactly this many offices open (p-median); None = free
    existing: np.ndarray | None = None  # offices open today; None = all (False: extra candidate sites)
    dist_matrix_m: np.ndarray | None = None  # planner's travel distances (m × n, whole metres); None = straight line × detour
    access_floor_m: int | None = None  # the access floor's distance (whole metres); None = no floor
    access_floor_share: float | None = None  # share of the population (0–1) within access_floor_m of an open office; None = no floor
    access_floor_scope: str = "national"  # "national" (one share) or "fa_region" (the share in every FA-region)
    fa_of_point: np.ndarray | None = None  # int index into fa codes of each demand point, -1 if none
    flexible_extra_m: int = 0  # a flexible office counts as this much farther (whole metres; Parameters.flexible_extra_distance_km)

    def __post_init__(self):
        if self.objective not in OBJECTIVES:
            raise ValueError(f"objective must be one of {OBJECTIVES}, not {self.objective!r}")
        if self.access_floor_scope not in FLOOR_SCOPES:
            raise ValueError(f"access_floor_scope must be one of {FLOOR_SCOPES}, not {self.access_floor_scope!r}")
        if self.access_floor_scope == "fa_region" and self.access_floor_m is not None and self.fa_of_point is None:
            raise ValueError("access_floor_scope 'fa_region' needs fa_of_point (the FA-region of every demand point)")

    @property
    def has_access_floor(self) -> bool:
        """Whether the access floor is a constraint (distance and share both set)."""
        return self.access_floor_m is not None and self.access_floor_share is not None

    def floor_groups(self) -> tuple[np.ndarray, int]:
        """(group of every demand point, number of groups) of the access floor:
        one group (0) for the national scope, the FA-region index for
        ``"fa_region"`` (-1: a point in no FA-region, in no group)."""
        if self.access_floor_scope == "fa_region":
            group = np.asarray(self.fa_of_point, np.int64)
            # n_fa counts the division's FA-regions; a point's region may have no office
            return group, max(int(self.n_fa), int(group.max(initial=-1)) + 1)
        return np.zeros(self.m, np.int64), 1
        if not (isinstance(self.flexible_extra_m, (int, np.integer)) and self.flexible_extra_m >= 0):
            raise ValueError(f"flexible_extra_m must be a whole number of metres ≥ 0, not {self.flexible_extra_m!r}")

    @property
    def detour(self) -> float:
        """The detour factor (older name of :attr:`detour_factor`)."""
        return self.detour_factor

    def office_candidates(self, k):
        """Each demand point's ``k`` nearest offices (k may vary per point) by travel distance,
        as :class:`~netopt.geometry.Candidates`."""
        from . import geometry

        if self.dist_matrix_m is not None:
            return geometry.candidates_from_matrix(self.dist_matrix_m, k)
        return geometry.nearest_candidates(self.dx, self.dy, self.ox, self.oy, k, self.detour_factor)

    def candidates(self, k):
        """The candidate lists the model is built on, from each demand point's ``k``
        nearest offices: :meth:`office_candidates`, or, when a flexible office counts
        as :attr:`flexible_extra_m` farther and some office may become flexible, lists
        by equivalent distance with a kept and a flexible entry for each such office
        (:func:`~netopt.geometry.flexible_entries`)."""
        from . import geometry

        if not self.values_flexible_below_kept:
            return self.office_candidates(k)
        k = np.minimum(np.broadcast_to(np.asarray(k, np.int64), (self.m,)), self.n)
        return geometry.flexible_entries(self.office_candidates(np.minimum(k + 1, self.n)), k, self.flex_viable_mask, int(self.flexible_extra_m))

    @property
    def values_flexible_below_kept(self) -> bool:
        """True when a flexible office counts as farther than a kept one and some office may become flexible."""
        return self.flexible_extra_m > 0 and bool(self.flex_viable_mask.any())

    @property
    def flex_viable_mask(self) -> np.ndarray:
        """Offices that may become flexible (:attr:`flex_possible_mask`) and, when a flexible
        office counts :attr:`flexible_extra_m` > 0 farther, are not certainly over the
        flexible capacity as flexible offices.

        A demand point whose nearest office i is more than the extra distance nearer
        than every other office (d_i + δ < d_second) uses i whenever i is open,
        whatever else is open, and visits it π·g(d_i + δ) times a year; when these
        visits alone exceed the capacity, i can never be flexible. A presolve: it
        removes no feasible plan and only keeps such offices' flexible entries out
        of the candidate lists (the model fixes their f to 0). With δ = 0 it is
        :attr:`flex_possible_mask`.
        """
        possible = self.flex_possible_mask
        if self.flexible_extra_m <= 0 or not possible.any():
            return possible
        two = self.office_candidates(min(2, self.n))
        first = two.office[two.ptr[:-1]]
        d1 = two.dist_m[two.ptr[:-1]] + int(self.flexible_extra_m)
        d2 = np.where(two.sizes >= 2, two.dist_m[np.minimum(two.ptr[:-1] + 1, len(two.dist_m) - 1)], np.iinfo(np.int64).max)
        sure = (two.sizes >= 1) & (d1 < d2)
        lower = np.bincount(first[sure], weights=(self.propensity * self.g(d1))[sure], minlength=self.n)
        return possible & ~(lower > self.flex_capacity_visits + 1e-6)

    def nearest_open(self, is_open: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(office index, distance in m) of every demand point's nearest open office."""
        from . import geometry

        matrix = self.distances_m
        if matrix is not None:
            return geometry.nearest_open_matrix(matrix, is_open)
        return geometry.nearest_open(self.dx, self.dy, self.ox, self.oy, is_open, self.detour_factor)

    def nearest_by_modes(self, modes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(office index, equivalent distance in whole metres) of the office each demand
        point uses, for office modes (0 closed, 1 flexible, 2 kept): the open office
        with the smallest distance, a flexible one counted :attr:`flexible_extra_m`
        farther; ties to the lower office index. With no extra distance this is
        :meth:`nearest_open` of the open offices."""
        from . import geometry

        modes = np.asarray(modes)
        is_open = modes > 0
        if self.flexible_extra_m <= 0 or not (modes == 1).any():
            return self.nearest_open(is_open)
        extra = np.where(modes == 1, int(self.flexible_extra_m), 0).astype(np.int64)
        matrix = self.distances_m
        if matrix is not None:
            return geometry.nearest_open_matrix(matrix, is_open, extra)
        return geometry.nearest_open(self.dx, self.dy, self.ox, self.oy, is_open, self.detour_factor, extra_m=extra)

    @cached_property
    def distances_m(self) -> np.ndarray | None:
        """Travel distance from every demand point to every office (m × n, whole metres):
        the planner's matrix, or :func:`~netopt.geometry.distance_m` computed once and
        kept for this instance when it has at most :data:`DISTANCE_CACHE_ENTRIES`
        entries (the evaluator then reads instead of recomputing them on every
        plan; the same numbers, element by element). None for a larger instance
        without a matrix: :meth:`nearest_open` then computes them in chunks."""
        from . import geometry

        if self.dist_matrix_m is not None:
            return self.dist_matrix_m
        if self.m * self.n > DISTANCE_CACHE_ENTRIES:
            return None
        return geometry.distance_m(self.dx[:, None], self.dy[:, None], self.ox[None, :], self.oy[None, :], self.detour_factor)

    def __getstate__(self):
        # the computed distances are not part of the instance: not pickled (e.g. to a worker process)
        state = dict(self.__dict__)
        state.pop("distances_m", None)
        return state

    @property
    def existing_mask(self) -> np.ndarray:
        return np.ones(self.n, bool) if self.existing is None else np.asarray(self.existing, bool)

    @property
    def lock_open_mask(self) -> np.ndarray:
        return np.zeros(self.n, bool) if self.lock_open is None else np.asarray(self.lock_open, bool)

    @property
    def lock_closed_mask(self) -> np.ndarray:
        return np.zeros(self.n, bool) if self.lock_closed is None else np.asarray(self.lock_closed, bool)

    @property
    def flex_allowed_mask(self) -> np.ndarray:
        return np.ones(self.n, bool) if self.flex_allowed is None else np.asarray(self.flex_allowed, bool)

    @property
    def flex_possible_mask(self) -> np.ndarray:
        """Offices a plan may turn into flexible offices (allowed, and not locked open or closed)."""
        return self.flex_allowed_mask & ~self.lock_closed_mask & ~self.lock_open_mask

    @property
    def fa_regions_to_cover(self) -> np.ndarray:
        """FA-region indices that must keep an office: those with an office *today*
        (a region served only by candidate sites may stay without one)."""
        if not self.cover_fa:
            return np.zeros(0, np.int64)
        fa = self.fa_of_office[self.existing_mask]
        return np.unique(fa[fa >= 0])

    @property
    def n(self) -> int:
        return len(self.ox)

    @property
    def m(self) -> int:
        return len(self.dx)

    @property
    def n_stages(self) -> int:
        return len(self.budgets_sek)

    def g(self, dist_m) -> np.ndarray:
        """Visit-rate decay g(d) for distances in metres."""
        return self.floor + (1.0 - self.floor) * np.exp(-np.asarray(dist_m, float) / 1000.0 / self.decay_km)

    def with_(self, **changes) -> "Instance":
        """A copy with some fields changed (e.g. ``lock_open=mask`` for a re-solve)."""
        return replace(self, **changes)


@dataclass(frozen=True, eq=False)
class Prepared:
    """A network with its calibrated visit and cost models for one scenario, and the instance built from them."""

    network: Network
    scenario: Scenario
    params: Parameters
    visits: VisitModel
    costs: CostModel
    instance: Instance


def apply_fa_division(network: Network, scenario: Scenario) -> Network:
    """The network with the scenario's FA division (``scenario.fa_division``):
    unchanged when it is ``None`` or the division the network already has."""
    from .data import shipped_paths, with_division

    wanted = scenario.fa_division
    if wanted is None:
        return network
    path = shipped_paths()["division"] if wanted == "fa2015" else wanted
    have = network.sources.get("division")
    from pathlib import Path

    if have is not None and Path(have).resolve() == Path(path).resolve():
        return network
    return with_division(network, path)


def unknown_office_problems(given, network: Network, source: str, key: str) -> list[Problem]:
    """A problem for every ID in ``given`` that is not an office of the network, with a suggestion."""
    off = network.offices
    known = set(off["office_id"])
    out = []
    for x in given:
        if x in known:
            continue
        fix = office_hint(x, off) + "use office_id values of the register (netopt validate --list lists them)"
        out.append(Problem(source, None, key, repr(x), "names an office that is not in the register", fix))
    return out


def prepare(network: Network, scenario: Scenario, params: Parameters | None = None, *, visit_factor=None) -> Prepared:
    """Calibrate visits and costs and build the numeric instance for a scenario.

    Args:
      network: the loaded network; re-divided when the scenario names another FA division.
      scenario: the scenario (checked when it was made).
      params: visit and cost parameters (default: the shipped file), before the
        scenario's ``[parameters]`` overrides.
      visit_factor: per office (register order), a factor on its estimated
        2024 visits (:func:`netopt.visits.fit_visits`); default none.

    Raises:
      ScenarioError: locks naming offices that are not in the register (all of them, with suggestions).
      DataError: the scenario's FA division file is not valid.
    """
    network = apply_fa_division(network, scenario)
    params = params or load_parameters()
    if scenario.parameters:
        params = params.with_overrides(**scenario.parameters)
    src = scenario.source or "scenario"
    c = scenario.constraints
    problems = unknown_office_problems(c.lock_open, network, src, "constraints.lock_open") + unknown_office_problems(c.lock_closed, network, src, "constraints.lock_closed")
    if problems:
        raise ScenarioError(problems)
    off = network.offices
    ids = off["office_id"].tolist()
    vm = fit_visits(network, params, visit_factor)
    cm = fit_costs(network, vm, params)
    fa_codes = sorted(network.fa_regions["fa_code"])
    fa_index = {code: k for k, code in enumerate(fa_codes)}
    munis = sorted(off["municipality_code"].unique())
    mi = {code: k for k, code in enumerate(munis)}
    base = cm.baseline_cost_sek
    inst = Instance(
        office_ids=tuple(ids),
        ox=off["x_m"].to_numpy(float),
        oy=off["y_m"].to_numpy(float),
        dx=network.demand["x_m"].to_numpy(float),
        dy=network.demand["y_m"].to_numpy(float),
        population=network.demand["population"].to_numpy(np.int64),
        propensity=vm.propensity,
        detour_factor=params.detour_factor,
        floor=params.floor,
        decay_km=params.decay_km,
        fixed_full_sek=cm.fixed_full_sek,
        fixed_flex_sek=cm.fixed_flex_sek,
        staff_per_visit_sek=cm.staff_per_visit_sek,
        flex_capacity_visits=cm.flexible_capacity_visits,
        baseline_visits=vm.baseline_visits,
        baseline_dist_m=vm.baseline_dist_m,
        fa_of_office=np.array([fa_index.get(code, -1) for code in off["fa_code"]], dtype=np.int64),
        n_fa=len(fa_codes),
        muni_of_office=np.array([mi[code] for code in off["municipality_code"]], dtype=np.int64),
        budgets_sek=tuple(base - st.cut_msek * 1e6 for st in scenario.stages),
        allowances_sek=tuple(st.flexible_allowance_msek * 1e6 for st in scenario.stages),
        objective=scenario.objective,
        coverage_m=int(round(scenario.coverage_km * 1000)),
        lock_open=np.isin(ids, c.lock_open),
        lock_closed=np.isin(ids, c.lock_closed),
        flex_allowed=np.full(len(ids), bool(scenario.modes.flexible)),
        max_growth=c.max_growth,
        max_distance_m=None if c.max_distance_km is None else int(round(c.max_distance_km * 1000)),
        keep_municipalities=c.keep_municipalities,
        max_closures=c.max_closures,
        cover_fa=True,
        existing=existing_offices(network),
        dist_matrix_m=network.distance_matrix_m,
        access_floor_m=None if c.access_floor_km is None else int(round(c.access_floor_km * 1000)),
        access_floor_share=c.access_floor_share,
        access_floor_scope=c.access_floor_scope,
        fa_of_point=np.array([fa_index.get(code, -1) for code in network.demand["fa_code"]], dtype=np.int64),
        flexible_extra_m=int(round(params.flexible_extra_distance_km * 1000)),
    )
    return Prepared(network=network, scenario=scenario, params=params, visits=vm, costs=cm, instance=inst)
