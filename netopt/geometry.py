"""Travel distances between demand points and offices.

Distance = straight line in SWEREF 99 TM (EPSG:3006) × detour factor, rounded
to whole metres. Whole metres make every sum over demand points an exact
integer (population × metres < 2**53), so the optimiser's objective and the
independent evaluation agree to the last digit. Ties are broken by office
order, the same way everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

__all__ = ["Candidates", "distance_m", "nearest_candidates", "nearest_open", "candidates_from_matrix", "nearest_open_matrix"]


def distance_m(ax, ay, bx, by, detour: float) -> np.ndarray:
    """Travel distance in whole metres between points a and b (arrays broadcast)."""
    return np.rint(np.hypot(np.subtract(ax, bx), np.subtract(ay, by)) * detour).astype(np.int64)


@dataclass(frozen=True)
class Candidates:
    """Each demand point's nearest offices, nearest first (CSR layout).

    ``office[ptr[j]:ptr[j+1]]`` are the candidate offices of demand point j and
    ``dist_m[...]`` their travel distances (m), sorted by (distance, office
    index). ``next_m[j]`` is the distance to the nearest office *not* in the
    list (a lower bound used when all candidates are closed), or -1 when the
    list holds every office.
    """

    ptr: np.ndarray
    office: np.ndarray
    dist_m: np.ndarray
    next_m: np.ndarray

    @property
    def n_entries(self) -> int:
        return int(self.ptr[-1])

    @property
    def sizes(self) -> np.ndarray:
        return np.diff(self.ptr)


def nearest_candidates(dx, dy, ox, oy, k: np.ndarray | int, detour: float) -> Candidates:
    """The ``k[j]`` nearest offices of every demand point (k may vary per point)."""
    n = len(ox)
    m = len(dx)
    k = np.broadcast_to(np.minimum(np.asarray(k, dtype=np.int64), n), (m,)).copy()
    kmax = int(k.max()) if m else 0
    kq = min(kmax + 1, n)
    tree = cKDTree(np.column_stack([ox, oy]))
    _, idx = tree.query(np.column_stack([dx, dy]), k=kq)
    idx = np.asarray(idx).reshape(m, kq)
    d = distance_m(dx[:, None], dy[:, None], np.asarray(ox)[idx], np.asarray(oy)[idx], detour)
    order = np.argsort(d * (n + 1) + idx, axis=1, kind="stable")  # by (distance, office index)
    idx = np.take_along_axis(idx, order, axis=1)
    d = np.take_along_axis(d, order, axis=1)
    cols = np.arange(kq)[None, :]
    keep = cols < k[:, None]
    ptr = np.concatenate([[0], np.cumsum(k)])
    next_m = np.where(k < n, d[np.arange(m), np.minimum(k, kq - 1)], -1)
    return Candidates(ptr=ptr.astype(np.int64), office=idx[keep].astype(np.int64), dist_m=d[keep].astype(np.int64), next_m=next_m.astype(np.int64))


def nearest_open(dx, dy, ox, oy, is_open: np.ndarray, detour: float, chunk: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """Nearest open office of every demand point by brute force (exact).

    Returns (office index, distance in m); ties go to the lower office index.
    Independent of the KD-tree used to build the model.
    """
    open_idx = np.flatnonzero(is_open)
    if open_idx.size == 0:
        raise ValueError("no open office")
    ox_o, oy_o = np.asarray(ox)[open_idx], np.asarray(oy)[open_idx]
    best_i = np.empty(len(dx), dtype=np.int64)
    best_d = np.empty(len(dx), dtype=np.int64)
    for s in range(0, len(dx), chunk):
        d = distance_m(dx[s : s + chunk, None], dy[s : s + chunk, None], ox_o[None, :], oy_o[None, :], detour)
        a = np.argmin(d, axis=1)  # first minimum = lowest office index among ties
        best_i[s : s + chunk] = open_idx[a]
        best_d[s : s + chunk] = d[np.arange(len(a)), a]
    return best_i, best_d


def candidates_from_matrix(dist_m: np.ndarray, k: np.ndarray | int) -> Candidates:
    """Like :func:`nearest_candidates`, from a planner's distance matrix (m × n, whole metres)."""
    m, n = dist_m.shape
    k = np.broadcast_to(np.minimum(np.asarray(k, dtype=np.int64), n), (m,)).copy()
    idx = np.broadcast_to(np.arange(n), (m, n))
    order = np.argsort(dist_m * (n + 1) + idx, axis=1, kind="stable")  # by (distance, office index)
    d = np.take_along_axis(dist_m, order, axis=1)
    keep = np.arange(n)[None, :] < k[:, None]
    ptr = np.concatenate([[0], np.cumsum(k)])
    next_m = np.where(k < n, d[np.arange(m), np.minimum(k, n - 1)], -1)
    return Candidates(ptr=ptr.astype(np.int64), office=order[keep].astype(np.int64), dist_m=d[keep].astype(np.int64), next_m=next_m.astype(np.int64))


def nearest_open_matrix(dist_m: np.ndarray, is_open: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nearest open office from a distance matrix (m × n, whole metres); ties to the lower index."""
    open_idx = np.flatnonzero(is_open)
    if open_idx.size == 0:
        raise ValueError("no open office")
    sub = dist_m[:, open_idx]
    a = np.argmin(sub, axis=1)
    return open_idx[a], sub[np.arange(len(a)), a].astype(np.int64)
