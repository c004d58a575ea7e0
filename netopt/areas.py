"""Areas with high social exclusion: what a plan does to their access to an office.

The government's assignment (Fi2024/02222) asks SSC to show the consequences
for accessibility in rural areas and in areas with high social exclusion
("områden där utanförskapet är stort"). netopt ships the Police's 2025 list of
such areas (``data/areas/utsatta_omraden_2025.csv``: 65 areas, the centroid
and area of each official polygon; source and caveats in ``docs/data.md``); a
planner can supply another list in the same columns (``--areas PATH``), for
example SCB/Boverket's "Utanförskapets karta".

Method (the demand model has no polygons, so an area is related to demand points):

* an area's **demand points** are those within its equivalent radius
  R = √(area / π) of its centroid, or, if there is none, the demand point
  nearest to the centroid;
* its **population estimate** is the population of its demand points, a point
  shared by several areas split evenly between them (so no one is counted
  twice). A demand point can stand for more than the area (an urban grid point
  stands for a 1.5 km cell, a district point for a whole district), so this is
  the population *represented* by the area's points, an estimate;
* its **distance to the nearest office** is the population-weighted mean of
  its points' distances, the same distances the optimiser uses (straight line
  × detour, or the planner's matrix);
* **offices closed nearby** are the offices a plan closes or turns flexible
  within :data:`NEARBY_KM` of any of its points, by the same distances.

Functions are small and pure: :func:`load_areas` (validation: file, line,
column, fix), :func:`relate_areas`, :func:`areas_table` and :func:`areas_summary`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from . import geometry, io
from .data import LAT_RANGE, LON_RANGE, to_sweref
from .errors import DataError, Problem

__all__ = ["AREA_COLUMNS", "NEARBY_KM", "shipped_areas_path", "load_areas", "AreaDemand", "relate_areas", "areas_table", "areas_summary"]

#: Columns an area list must have (the Police's file has more; they are kept).
AREA_COLUMNS = ("area_name", "municipality_code", "lat", "lon", "area_m2")
#: An office closed within this travel distance (km) of an area is reported with it.
NEARBY_KM = 3.0
#: Largest area accepted (m²): 1 000 km², far beyond any residential area.
MAX_AREA_M2 = 1e9


def shipped_areas_path() -> Path:
    """The Police's 2025 list of areas with high social exclusion."""
    return io.DATA_DIR / "areas" / "utsatta_omraden_2025.csv"


def load_areas(path: str | Path | None = None, municipalities: pd.DataFrame | None = None) -> pd.DataFrame:
    """Read and validate an area list (default: the shipped Police list).

    Required columns: ``area_name, municipality_code, lat, lon`` (WGS84
    decimal degrees of the area's centroid) and ``area_m2`` (its area, m²);
    other columns (``category``, ``police_region`` …) are kept as text.
    ``municipalities`` (``municipality_code`` column), when given, is used to
    check the codes.

    Returns the table with ``x_m, y_m`` (SWEREF 99 TM) and ``radius_m`` (the
    equivalent radius) added, in file order.

    Raises:
      DataError: every problem at once, each naming file, line, column and fix.
    """
    path = Path(path) if path else shipped_areas_path()
    name = str(path)
    frame = io.read_table(path, required=AREA_COLUMNS)
    problems: list[Problem] = []
    known = None if municipalities is None else set(municipalities["municipality_code"])
    lat, lon, area = (np.full(len(frame), np.nan) for _ in range(3))
    seen: dict[tuple, int] = {}
    for pos, (idx, r) in enumerate(frame.iterrows()):
        line = int(idx) + 2
        if not r["area_name"].strip():
            problems.append(Problem(name, line, "area_name", r["area_name"], "area_name is empty", "write the area's name"))
        code = r["municipality_code"].strip()
        code = code.zfill(4) if code.isdigit() and len(code) < 4 else code
        frame.at[idx, "municipality_code"] = code
        if known is not None and code not in known:
            problems.append(Problem(name, line, "municipality_code", r["municipality_code"], "unknown municipality code", "use the 4-digit code of Statistics Sweden (e.g. 0180 for Stockholm)"))
        key = (r["area_name"].strip(), code)
        if key in seen:
            problems.append(Problem(name, line, "area_name", r["area_name"], f"area listed twice (also line {seen[key]})", "keep one line per area"))
        seen.setdefault(key, line)
        la, lo = _number(r["lat"]), _number(r["lon"])
        if la is None or lo is None or not (LAT_RANGE[0] <= la <= LAT_RANGE[1] and LON_RANGE[0] <= lo <= LON_RANGE[1]):
            col = "lat" if (la is None or not LAT_RANGE[0] <= la <= LAT_RANGE[1]) else "lon"
            problems.append(Problem(name, line, col, f"{r['lat']}, {r['lon']}", "the centroid is not a WGS84 coordinate in Sweden", "write decimal degrees, e.g. lat 59.40866, lon 17.92669"))
        else:
            lat[pos], lon[pos] = la, lo
        a = _number(r["area_m2"])
        if a is None or not (0 < a <= MAX_AREA_M2):
            problems.append(Problem(name, line, "area_m2", r["area_m2"], f"area_m2 is not a number above 0 and up to {MAX_AREA_M2:.0f}", "write the area in square metres (1 km² = 1 000 000)"))
        else:
            area[pos] = a
    if problems:
        raise DataError(problems)
    out = frame.copy()
    out["lat"], out["lon"], out["area_m2"] = lat, lon, area
    out["x_m"], out["y_m"] = to_sweref(lon, lat)
    out["radius_m"] = np.sqrt(area / np.pi)
    return out.reset_index(drop=True)


def _number(text) -> float | None:
    """A finite number written with '.' or ',' as decimal mark; None otherwise."""
    v = str(text).strip()
    if v.count(",") == 1 and "." not in v:
        v = v.replace(",", ".")
    try:
        x = float(v)
    except ValueError:
        return None
    return x if np.isfinite(x) else None


@dataclass(frozen=True, eq=False)
class AreaDemand:
    """Areas related to the demand points.

    Attributes:
      areas: the validated area table (:func:`load_areas`).
      points: per area, the indices of its demand points (int arrays).
      weights: per area, the population each of its points contributes to it
        (a shared point's population split evenly between its areas).
      population_estimate: per area, inhabitants (the sum of ``weights``).
    """

    areas: pd.DataFrame
    points: tuple
    weights: tuple
    population_estimate: np.ndarray


def relate_areas(areas: pd.DataFrame, demand: pd.DataFrame) -> AreaDemand:
    """Each area's demand points (within its equivalent radius, else the nearest) and population estimate."""
    dx, dy = demand["x_m"].to_numpy(float), demand["y_m"].to_numpy(float)
    w = demand["population"].to_numpy(float)
    points = []
    for ax, ay, r in zip(areas["x_m"], areas["y_m"], areas["radius_m"]):
        d = np.hypot(dx - ax, dy - ay)
        inside = np.flatnonzero(d <= r)
        points.append(inside if inside.size else np.array([int(np.argmin(d))]))
    shared = np.zeros(len(w))
    for js in points:
        shared[js] += 1
    weights = tuple(w[js] / shared[js] for js in points)
    return AreaDemand(areas=areas, points=tuple(points), weights=weights, population_estimate=np.array([float(x.sum()) for x in weights]))


def _mean_km(rel: AreaDemand, dist_m: np.ndarray) -> np.ndarray:
    out = []
    for js, wj in zip(rel.points, rel.weights):
        d = dist_m[js].astype(float)
        out.append(float(np.average(d, weights=wj)) / 1000.0 if wj.sum() > 0 else float(d.mean()) / 1000.0)
    return np.array(out)


def areas_table(plan, stage: int = -1, rel: AreaDemand | None = None) -> pd.DataFrame:
    """Per area, what a plan stage does to its access.

    Args:
      plan: a :class:`~netopt.plan.Plan`.
      stage: index of the plan stage (default the last).
      rel: areas related to the plan's demand (default: the shipped Police list).

    Returns one row per area, in the list's order: ``area_name, municipality_code,
    category, population_estimate`` (inhabitants), ``distance_km_before,
    distance_km_after`` (population-weighted mean over its demand points, km),
    ``distance_grows`` (bool), ``nearest_office_before, nearest_office_after``
    (office names), ``offices_closed_nearby`` (offices closed or turned flexible
    within :data:`NEARBY_KM`, "; "-separated), ``offices_changed_nearby`` (the
    same as a tuple of (office name, ``"close"`` or ``"flexible"``)).
    """
    prep = plan.prepared
    inst = prep.instance
    st = plan.stages[stage]
    if rel is None:
        rel = relate_areas(load_areas(municipalities=prep.network.municipalities), prep.network.demand)
    names = np.asarray(prep.network.offices["office_name"])
    before_m = prep.visits.baseline_dist_m
    after_m = st.dist_m
    changed = np.flatnonzero(inst.existing_mask & (st.modes < 2))
    rows = []
    for k, (js, pop) in enumerate(zip(rel.points, rel.population_estimate)):
        a = rel.areas.iloc[k]
        nearby, pairs = [], ()
        if changed.size:
            if inst.dist_matrix_m is not None:
                d = inst.dist_matrix_m[np.ix_(js, changed)]
            else:
                d = geometry.distance_m(inst.dx[js][:, None], inst.dy[js][:, None], inst.ox[changed][None, :], inst.oy[changed][None, :], inst.detour_factor)
            close = changed[d.min(axis=0) <= NEARBY_KM * 1000]
            nearby = [f"{names[i]} ({'closed' if st.modes[i] == 0 else 'flexible'})" for i in close]
            pairs = tuple((str(names[i]), "close" if st.modes[i] == 0 else "flexible") for i in close)
        j0 = js[int(np.argmax(rel.weights[k]))] if len(js) else js[0]
        rows.append(
            {
                "area_name": a["area_name"],
                "municipality_code": a["municipality_code"],
                "category": a.get("category", ""),
                "population_estimate": float(pop),
                "distance_km_before": 0.0,
                "distance_km_after": 0.0,
                "nearest_office_before": names[prep.visits.baseline_office[j0]],
                "nearest_office_after": names[st.nearest[j0]],
                "offices_closed_nearby": "; ".join(nearby),
                "offices_changed_nearby": pairs,
            }
        )
    t = pd.DataFrame(rows)
    if len(t):
        t["distance_km_before"] = _mean_km(rel, before_m)
        t["distance_km_after"] = _mean_km(rel, after_m)
    t["distance_grows"] = t["distance_km_after"] > t["distance_km_before"] if len(t) else pd.Series(dtype=bool)
    return t


def areas_summary(table: pd.DataFrame) -> dict:
    """Totals of :func:`areas_table`: areas, their population estimate, and how many
    areas (and inhabitants) get farther from an office or lose one nearby."""
    grows = table["distance_grows"].astype(bool)
    near = table["offices_closed_nearby"] != ""
    return {
        "areas": int(len(table)),
        "population_estimate": float(table["population_estimate"].sum()),
        "areas_farther": int(grows.sum()),
        "population_farther": float(table.loc[grows, "population_estimate"].sum()),
        "areas_with_office_closed_nearby": int(near.sum()),
        "mean_distance_km_before": float(np.average(table["distance_km_before"], weights=table["population_estimate"])) if table["population_estimate"].sum() > 0 else float("nan"),
        "mean_distance_km_after": float(np.average(table["distance_km_after"], weights=table["population_estimate"])) if table["population_estimate"].sum() > 0 else float("nan"),
    }
