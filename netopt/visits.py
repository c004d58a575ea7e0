"""Visits per office: a distance-decay demand model calibrated to table 25.

Model (a gravity model with a nearest-office choice rule)::

    visits_j  = w_j · ρ_r(j) · s_j · g(d_j)        visits per year from demand point j
    g(d)      = floor + (1 − floor) · exp(−d / decay_km)

``w_j`` is the population of demand point j, ``d_j`` the travel distance (km) to
its nearest open office, ``ρ_r`` the visit rate of SSC region r and ``s_j`` a
planner's correction (1 unless the register gives real visits). All of j's
visits go to the nearest open office: this is Huff's model in the limit of a
steep distance exponent. We use it instead of a probabilistic split because
(1) it is what a p-median optimiser can represent exactly, so the optimiser and
the reports use the same numbers, and (2) offices are sparse outside the big
cities, where the nearest office is the realistic choice. Where several offices
are close together (Stockholm, Göteborg, Malmö) it splits the city by distance.

Calibration (``Parameters.calibrate_to_reference``):

* to the national reference (default): ``ρ`` solves the 6×6 linear system
  "predicted visits at the offices of each SSC region = table 25", so the
  shipped network reproduces the annual report exactly. Visits of the offices
  the register lacks go to the nearest registered office (they are in the
  regional totals). Offices with a register figure then keep that figure.
* to the register's own totals (a regional study): every office of the register
  gives its ``visits``, and each catchment's rate is scaled to it; the national
  totals play no part.

Either way, a register figure is never replaced: an office with a figure but no
demand point of its own (for example one at the same place as another office)
is an error naming both offices. Closing an office moves each of its demand
points to the next open office, where ``g`` is smaller: the difference is the
visits lost.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import geometry
from .data import Network
from .errors import DataError, Problem
from .params import REGIONS, Parameters

__all__ = ["VisitModel", "decay", "demand_point_visits", "fit_visits", "existing_offices", "office_visits"]


def existing_offices(network: Network) -> np.ndarray:
    """True for offices open today; False for extra candidate sites (opened only by a plan)."""
    off = network.offices
    if "existing" not in off.columns:
        return np.ones(len(off), bool)
    return off["existing"].to_numpy(dtype=bool)


def decay(dist_m: np.ndarray, params: Parameters) -> np.ndarray:
    """g(d): share of the zero-distance visit rate at travel distance ``dist_m`` (m)."""
    d_km = np.asarray(dist_m, dtype=float) / 1000.0
    return params.floor + (1.0 - params.floor) * np.exp(-d_km / params.decay_km)


@dataclass(frozen=True, eq=False)
class VisitModel:
    """Calibrated visit model of a network.

    Attributes:
      propensity: π_j = w_j·ρ·s, visits per year of demand point j at distance 0.
      rho_by_region: calibrated visits per inhabitant and year at distance 0.
      baseline_office: nearest office of each demand point with every office open.
      baseline_dist_m: distance to it (m).
      baseline_visits: visits per year per office with every office open.
      visits_estimated: per office, True when its visits are the model's estimate.
      calibrated_to: ``"reference"`` (the annual report's national totals) or
        ``"register"`` (the register's own visits).
    """

    params: Parameters
    propensity: np.ndarray
    rho_by_region: dict
    baseline_office: np.ndarray
    baseline_dist_m: np.ndarray
    baseline_visits: np.ndarray
    visits_estimated: np.ndarray
    calibrated_to: str = "reference"

    def visits(self, dist_m: np.ndarray) -> np.ndarray:
        """Visits per year of each demand point at the given distances (m)."""
        return self.propensity * decay(dist_m, self.params)


def fit_visits(network: Network, params: Parameters, visit_factor: np.ndarray | None = None) -> VisitModel:
    """Calibrate the visit model of a network.

    Returns a :class:`VisitModel` (visits per year). ρ per SSC region is solved
    to table 25; offices with a ``visits`` figure in the register keep it, by
    scaling their catchment's rate. With ``params.calibrate_to_reference``
    False every office must have a figure.

    ``visit_factor`` (one positive number per office, in the register's order;
    default all 1) multiplies the estimated visits of each office's 2024
    catchment *before* the calibration, so the totals of table 25 still hold
    and visits shift between the offices of a region: how a sample of
    :mod:`netopt.uncertainty` varies each office's estimate. An office with a
    register figure keeps its figure whatever its factor.

    Raises:
      DataError: an office's figure cannot be kept (its catchment is empty: no
        demand point has it as nearest office, or they have no inhabitants), or
        offices lack figures when calibrating to the register's own totals.
    """
    off, dem = network.offices, network.demand
    ox, oy = off["x_m"].to_numpy(), off["y_m"].to_numpy()
    dx, dy = dem["x_m"].to_numpy(), dem["y_m"].to_numpy()
    existing = existing_offices(network)
    if network.distance_matrix_m is not None:
        near, dist = geometry.nearest_open_matrix(network.distance_matrix_m, existing)
    else:
        near, dist = geometry.nearest_open(dx, dy, ox, oy, existing, params.detour_factor)
    w = dem["population"].to_numpy(dtype=float)
    if visit_factor is not None:
        factor = np.asarray(visit_factor, dtype=float)
        if factor.shape != (len(off),) or not np.all(np.isfinite(factor) & (factor > 0)):
            raise ValueError(f"visit_factor must hold one positive number per office ({len(off)}), not {factor.shape} values")
        w = w * factor[near]
    g = decay(dist, params)

    regions = [r for r in REGIONS if r in params.reference_visits_by_region]
    idx = {r: k for k, r in enumerate(regions)}
    dem_r = np.array([idx.get(r, -1) for r in dem["ssc_region"]])
    off_r = np.array([idx.get(r, -1) for r in off["ssc_region"]])
    target = np.array([params.reference_visits_by_region[r] for r in regions], dtype=float)
    # A[R, R'] = visits at offices of region R from demand of region R' at ρ = 1.
    a = np.zeros((len(regions), len(regions)))
    ok = (dem_r >= 0) & (off_r[near] >= 0)
    np.add.at(a, (off_r[near][ok], dem_r[ok]), (w * g)[ok])
    rho = _solve_rates(a, target)
    rate = np.where(dem_r >= 0, rho[np.maximum(dem_r, 0)], float(np.mean(rho)))
    propensity = w * rate

    visits = np.bincount(near, weights=propensity * g, minlength=len(off))
    given = off["visits_given"].to_numpy(dtype=float)
    _check_given_visits(network, params, given, visits, near)
    has = ~np.isnan(given)
    scale = np.ones(len(off))
    scale[has] = np.divide(given[has], visits[has], out=np.zeros(int(has.sum())), where=visits[has] > 0)
    propensity = propensity * scale[near]
    visits = np.bincount(near, weights=propensity * g, minlength=len(off))
    return VisitModel(
        params=params,
        propensity=propensity,
        rho_by_region={r: float(rho[k]) for r, k in idx.items()},
        baseline_office=near,
        baseline_dist_m=dist,
        baseline_visits=visits,
        visits_estimated=~has,
        calibrated_to="reference" if params.calibrate_to_reference else "register",
    )


def office_visits(network: Network, model: VisitModel, is_open: np.ndarray, level: np.ndarray | None = None) -> np.ndarray:
    """Visits per year per office when only the offices ``is_open`` are open.

    The calibrated model as the optimiser uses it: every demand point makes
    π_j·g(d_j) visits at its nearest open office (straight line × detour
    factor, or the network's distance matrix), times ``level`` (one factor
    per demand point; default 1). With every office of today open and no
    level this is ``model.baseline_visits``.

    Raises:
      ValueError: no office is open.
    """
    near, v = demand_point_visits(network, model, is_open, level)
    return np.bincount(near, weights=v, minlength=len(network.offices))


def demand_point_visits(network: Network, model: VisitModel, is_open: np.ndarray, level: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Each demand point's office and visits per year when only ``is_open`` are open.

    Returns (office index per demand point, shape (m,); visits per year per
    demand point, shape (m,)): the terms :func:`office_visits` sums.

    Raises:
      ValueError: no office is open.
    """
    is_open = np.asarray(is_open, bool)
    if network.distance_matrix_m is not None:
        near, dist = geometry.nearest_open_matrix(network.distance_matrix_m, is_open)
    else:
        off, dem = network.offices, network.demand
        near, dist = geometry.nearest_open(dem["x_m"].to_numpy(), dem["y_m"].to_numpy(), off["x_m"].to_numpy(), off["y_m"].to_numpy(), is_open, model.params.detour_factor)
    v = model.propensity * decay(dist, model.params)
    if level is not None:
        v = v * np.asarray(level, float)
    return near, v


def _check_given_visits(network: Network, params: Parameters, given, estimated, near) -> None:
    """Every register figure can be kept: raise :class:`DataError` otherwise."""
    off = network.offices
    ids = off["office_id"].to_list()
    existing = existing_offices(network)
    where = _where(off)
    problems = []
    for i in np.flatnonzero(~np.isnan(given) & (given > 0) & ~(estimated > 0)):
        file, line = where(i)
        if not existing[i]:
            problems.append(Problem(file, line, "visits", f"{given[i]:g}", f"candidate site {ids[i]} is closed today, so it has no 2024 visits", "leave visits empty for candidate sites"))
            continue
        # who serves the demand around this office: the office whose catchment
        # holds the demand point nearest to it
        d_here = np.hypot(network.demand["x_m"].to_numpy() - off["x_m"].iat[i], network.demand["y_m"].to_numpy() - off["y_m"].iat[i])
        j = int(np.argmin(d_here))
        other = ids[int(near[j])]
        same = [ids[k] for k in np.flatnonzero(existing) if k != i and off["x_m"].iat[k] == off["x_m"].iat[i] and off["y_m"].iat[k] == off["y_m"].iat[i]]
        why = (f"it stands at the same place as {', '.join(same)}" if same else f"every demand point near it is nearer to {other}")
        problems.append(Problem(
            file, line, "visits", f"{given[i]:g}",
            f"office {ids[i]} has {given[i]:g} visits in the register but no demand point of its own ({why}), so netopt cannot keep its figure",
            f"merge {ids[i]} with {same[0] if same else other} into one row (their visits add up), or give {ids[i]} the coordinates of its own premises",
        ))
    if not params.calibrate_to_reference:
        lacking = [i for i in np.flatnonzero(existing & np.isnan(given))]
        for i in lacking[:20]:
            file, line = where(i)
            problems.append(Problem(file, line, "visits", "", f"office {ids[i]} has no visits, but the calibration is to the register's own totals (calibrate_to_reference = false)", "give every office its visits in 2024, or calibrate to the national reference"))
        if len(lacking) > 20:
            problems.append(Problem(where(lacking[0])[0], None, "visits", None, f"{len(lacking) - 20} more offices have no visits", "give every office its visits in 2024"))
    if problems:
        raise DataError(problems)


def _where(off):
    """(file, line) of office row i, as far as the network knows them."""
    files = off["source_file"].to_list() if "source_file" in off.columns else [""] * len(off)
    lines = off["source_line"].to_list() if "source_line" in off.columns else [None] * len(off)

    def where(i: int):
        line = lines[i]
        return files[i] or "office register", (None if line is None or line != line else int(line))

    return where


def _solve_rates(a: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Rates ρ ≥ 0 with A·ρ = target; falls back to the diagonal fit if needed."""
    diag = np.divide(target, a.sum(axis=0), out=np.zeros_like(target), where=a.sum(axis=0) > 0)
    try:
        rho = np.linalg.solve(a, target)
    except np.linalg.LinAlgError:
        return diag
    return rho if np.all(rho > 0) and np.all(np.isfinite(rho)) else diag
