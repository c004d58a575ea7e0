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

__all__ = [
    "Candidates", "distance_m", "nearest_candidates", "nearest_open", "candidates_from_matrix", "nearest_open_matrix",
    "flexible_entries", "entry_open", "ANY", "FLEXIBLE_ONLY", "KEPT_ONLY",
]

#: What opens a candidate entry (:attr:`Candidates.kind`): the office open in
#: either mode, only as a flexible office, or only kept with placed staff.
ANY, FLEXIBLE_ONLY, KEPT_ONLY = 0, 1, 2


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

    ``kind`` (None: every entry :data:`ANY`) says what opens each entry. With
    flexible offices valued as an extra distance (:func:`flexible_entries`)
    an office that may become flexible has two entries, kept
    (:data:`KEPT_ONLY`, at its distance) and flexible (:data:`FLEXIBLE_ONLY`,
    at its distance + the extra), and ``dist_m`` is the *equivalent*
    distance; entries are then sorted by (equivalent distance, office, kind).
    """

    ptr: np.ndarray
    office: np.ndarray
    dist_m: np.ndarray
    next_m: np.ndarray
    kind: np.ndarray | None = None

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


def nearest_open(dx, dy, ox, oy, is_open: np.ndarray, detour: float, chunk: int = 4096, extra_m: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Nearest open office of every demand point by brute force (exact).

    Returns (office index, distance in m); ties go to the lower office index.
    Independent of the KD-tree used to build the model. ``extra_m`` (whole
    metres per office) is added to each office's distance before the
    comparison and in the result: the equivalent distance.
    """
    open_idx = np.flatnonzero(is_open)
    if open_idx.size == 0:
        raise ValueError("no open office")
    ox_o, oy_o = np.asarray(ox)[open_idx], np.asarray(oy)[open_idx]
    add = None if extra_m is None else np.asarray(extra_m, np.int64)[open_idx][None, :]
    best_i = np.empty(len(dx), dtype=np.int64)
    best_d = np.empty(len(dx), dtype=np.int64)
    for s in range(0, len(dx), chunk):
        d = distance_m(dx[s : s + chunk, None], dy[s : s + chunk, None], ox_o[None, :], oy_o[None, :], detour)
        if add is not None:
            d = d + add
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


def nearest_open_matrix(dist_m: np.ndarray, is_open: np.ndarray, extra_m: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Nearest open office from a distance matrix (m × n, whole metres); ties to the lower index.
    ``extra_m`` as in :func:`nearest_open`."""
    open_idx = np.flatnonzero(is_open)
    if open_idx.size == 0:
        raise ValueError("no open office")
    sub = dist_m[:, open_idx]
    if extra_m is not None:
        sub = sub + np.asarray(extra_m, np.int64)[open_idx][None, :]
    a = np.argmin(sub, axis=1)
    return open_idx[a], sub[np.arange(len(a)), a].astype(np.int64)


def flexible_entries(base: Candidates, k: np.ndarray, flexible: np.ndarray, extra_m: int) -> Candidates:
    """Candidate lists in which an office that may become flexible appears twice:
    kept at its distance d (:data:`KEPT_ONLY`) and flexible at d + ``extra_m``
    (:data:`FLEXIBLE_ONLY`); other offices once (:data:`ANY`).

    ``base`` holds each demand point's ``k[j] + 1`` nearest offices (all of
    them when ``k[j]`` is the number of offices); the first ``k[j]`` are the
    point's offices, the next one the boundary. The result keeps exactly the
    entries that come before the boundary office in the order (equivalent
    distance, office, kind), so every list is a prefix of the point's full
    list in that order and ``next_m`` is the boundary's distance (-1 when
    the list holds every office): the truncated lists remain a relaxation.
    ``extra_m`` must be ≥ 1 (whole metres).
    """
    if extra_m < 1:
        raise ValueError("extra_m must be at least 1 m; with 0 use the office lists themselves")
    m = len(base.ptr) - 1
    sizes = base.sizes
    k = np.broadcast_to(np.asarray(k, np.int64), (m,))
    row = np.repeat(np.arange(m), sizes)
    pos = np.arange(base.n_entries) - base.ptr[row]
    listed = pos < k[row]
    has_boundary = sizes > k
    b_at = base.ptr[:-1] + np.minimum(k, np.maximum(sizes - 1, 0))
    b_dist = np.where(has_boundary, base.dist_m[b_at], -1)
    b_office = np.where(has_boundary, base.office[b_at], -1)
    o, d, r = base.office[listed], base.dist_m[listed], row[listed]
    flex = np.asarray(flexible, bool)[o]
    office = np.concatenate([o, o[flex]])
    dist = np.concatenate([d, d[flex] + int(extra_m)])
    rows = np.concatenate([r, r[flex]])
    kind = np.concatenate([np.where(flex, KEPT_ONLY, ANY), np.full(int(flex.sum()), FLEXIBLE_ONLY)])
    before = ~has_boundary[rows] | (dist < b_dist[rows]) | ((dist == b_dist[rows]) & (office < b_office[rows]))
    office, dist, rows, kind = office[before], dist[before], rows[before], kind[before]
    order = np.lexsort((kind, office, dist, rows))
    counts = np.bincount(rows, minlength=m)
    ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return Candidates(ptr=ptr, office=office[order].astype(np.int64), dist_m=dist[order].astype(np.int64),
                      next_m=np.where(has_boundary, b_dist, -1).astype(np.int64), kind=kind[order].astype(np.int64))


def entry_open(cand: Candidates, kept: np.ndarray, flexible: np.ndarray) -> np.ndarray:
    """Whether each candidate entry is open, for offices ``kept`` (with placed staff)
    and ``flexible`` (boolean arrays, one per office): an :data:`ANY` entry when its
    office is either, a :data:`KEPT_ONLY` entry when it is kept, a
    :data:`FLEXIBLE_ONLY` entry when it is flexible."""
    kept = np.asarray(kept, bool)[cand.office]
    flexible = np.asarray(flexible, bool)[cand.office]
    if cand.kind is None:
        return kept | flexible
    return np.where(cand.kind == KEPT_ONLY, kept, np.where(cand.kind == FLEXIBLE_ONLY, flexible, kept | flexible))
