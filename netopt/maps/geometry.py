"""Polygons for display: simplified, small, GeoJSON with rounded coordinates.

Polygons are simplified in SWEREF 99 TM (EPSG:3006) with
:data:`SIMPLIFY_TOLERANCE_M` metres, parts smaller than
:data:`MIN_PART_AREA_KM2` are dropped and coordinates are rounded to
:data:`COORD_DECIMALS` decimals (about 10 m), which keeps a national map (60
FA-regions, 290 municipalities, ~120 offices) well under 3 MB.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

__all__ = ["SIMPLIFY_TOLERANCE_M", "MIN_PART_AREA_KM2", "COORD_DECIMALS", "simplify_for_display", "geojson_geometry"]

#: Simplification tolerance (metres, in EPSG:3006) per polygon layer; ``print``
#: is the static overview map of report.html (a few centimetres of paper).
SIMPLIFY_TOLERANCE_M: dict[str, float] = {"fa": 400.0, "municipality": 400.0, "print": 1500.0}
#: Polygon parts (islands) smaller than this (km², after simplification) are
#: dropped, except the largest part of each region.
MIN_PART_AREA_KM2 = 1.0
#: Decimals of longitude/latitude in the HTML (1e-4 degrees is about 11 m).
COORD_DECIMALS = 4

DISPLAY_CRS = "EPSG:3006"


def simplify_for_display(geoms: gpd.GeoSeries, tolerance_m: float, *, crs: str = "EPSG:4326") -> list:
    """Simplify polygons for display; returns shapely geometries in ``crs`` (default EPSG:4326).

    Simplified with ``tolerance_m`` metres in EPSG:3006 (topology-preserving
    per polygon); parts under :data:`MIN_PART_AREA_KM2` dropped except the
    largest part of each geometry.  Missing/empty geometries give ``None``.
    """
    if geoms.crs is None:
        geoms = geoms.set_crs("EPSG:4326")
    projected = geoms.to_crs(DISPLAY_CRS)
    out_parts = []
    min_area = MIN_PART_AREA_KM2 * 1e6
    for geom in projected.values:
        if geom is None or geom.is_empty:
            out_parts.append(None)
            continue
        simple = shapely.simplify(geom, tolerance_m, preserve_topology=True)
        parts = [p for p in shapely.get_parts(simple) if p.geom_type == "Polygon" and not p.is_empty]
        if not parts:
            out_parts.append(None)
            continue
        largest = max(parts, key=lambda p: p.area)
        kept = [p for p in parts if p is largest or p.area >= min_area]
        out_parts.append(shapely.MultiPolygon(kept) if len(kept) > 1 else kept[0])
    back = gpd.GeoSeries(out_parts, crs=DISPLAY_CRS)
    if crs != DISPLAY_CRS:
        back = back.to_crs(crs)
    return [None if g is None or g.is_empty else g for g in back.values]


def _ring(coords: np.ndarray) -> list:
    rounded = np.round(np.asarray(coords)[:, :2], COORD_DECIMALS)
    out = []
    prev = None
    for x, y in rounded.tolist():
        pt = [x, y]
        if pt != prev:  # rounding can make consecutive points equal
            out.append(pt)
        prev = pt
    return out


def geojson_geometry(geom) -> dict | None:
    """GeoJSON dict with coordinates rounded to :data:`COORD_DECIMALS`; None when empty."""
    if geom is None or geom.is_empty:
        return None
    polys = []
    for p in shapely.get_parts(geom):
        if p.geom_type != "Polygon":
            continue
        rings = [_ring(p.exterior.coords)] + [_ring(r.coords) for r in p.interiors]
        rings = [r for r in rings if len(r) >= 4]
        if rings:
            polys.append(rings)
    if not polys:
        return None
    if len(polys) == 1:
        return {"type": "Polygon", "coordinates": polys[0]}
    return {"type": "MultiPolygon", "coordinates": polys}
