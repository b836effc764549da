"""Geometry for display on the maps: coverage simplification, rounding, points inside polygons.

Polygons are simplified as a coverage (`shapely.coverage_simplify`), so neighbours keep shared edges
and no gaps open between them, then rounded to `DECIMALS` (about 1 m). GeoJSON geometry is written
by GEOS (`shapely.to_geojson`) and embedded as text, so the same geometry always gives the same bytes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely

from .leaflet import RawJSON

#: display tolerance of `shapely.coverage_simplify`, degrees (about 70 m)
SIMPLIFY_TOLERANCE = 0.0007
#: decimals kept in coordinates (1e-5 degree is about 1 m)
DECIMALS = 5


def round_coords(geoms: Any, decimals: int = DECIMALS) -> Any:
    """`geoms` (a geometry or an array of them) with coordinates rounded to `decimals`."""
    scale = 10**decimals
    return shapely.transform(geoms, lambda c: np.rint(c * scale) / scale)


def display_polygons(geoms: Any, tolerance: float = SIMPLIFY_TOLERANCE) -> np.ndarray:
    """Coverage-simplified copies of `geoms` (None and empty geometries become None), unrounded."""
    arr = np.asarray(geoms, dtype=object)
    out = np.full(len(arr), None, dtype=object)
    ok = np.array([g is not None and not shapely.is_empty(g) for g in arr], dtype=bool)
    if ok.any():
        out[ok] = shapely.coverage_simplify(arr[ok], tolerance=tolerance)
    return out


def drop_small_holes(g: Any, min_area: float = 2e-5) -> Any:
    """`g` without holes smaller than `min_area` (square degrees): slivers between source polygons
    would draw as stray outlines. A one-part multipolygon comes back as its polygon."""
    if g is None or g.is_empty:
        return g
    parts = list(g.geoms) if g.geom_type == "MultiPolygon" else [g]
    parts = [p for p in parts if p.geom_type == "Polygon"]
    holes = shapely.get_num_interior_rings(parts)
    if holes.any():  # the hole areas of every part at once; a part with no small hole is kept as it is
        rings = shapely.polygons([r for p, n in zip(parts, holes) if n for r in p.interiors])
        small = iter(shapely.area(rings) < min_area)
        for i, n in enumerate(holes.tolist()):
            drop = [next(small) for _ in range(n)]
            if any(drop):
                p = parts[i]
                parts[i] = shapely.Polygon(p.exterior, [r for r, d in zip(p.interiors, drop) if not d])
    return parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)


def unions(groups: list[list[Any]]) -> list[Any]:
    """The union of each group of polygons: as a coverage (fast) while the groups are clean
    coverages, by overlay (slower, any polygons) from the first group that is not."""
    out = []
    coverage = True
    for geoms in groups:
        u = None
        if coverage:
            try:
                u = shapely.coverage_union_all(geoms)
                if not u.is_valid:
                    u = None
            except shapely.errors.GEOSException:
                u = None
            coverage = u is not None
        out.append(u if u is not None else shapely.union_all(geoms))
    return out


def label_points(geoms: np.ndarray) -> list[list[float] | None]:
    """[lat, lon] of a point inside each polygon (where a search opens its popup); None for None."""
    out: list[list[float] | None] = []
    for g in geoms:
        if g is None or g.is_empty:
            out.append(None)
            continue
        p = g.representative_point()
        out.append([round(p.y, DECIMALS), round(p.x, DECIMALS)])
    return out


def point(lon: float, lat: float) -> dict:
    """A GeoJSON point, rounded."""
    return {"type": "Point", "coordinates": [round(float(lon), DECIMALS), round(float(lat), DECIMALS)]}


def geojson(geoms: np.ndarray) -> list[RawJSON | None]:
    """GeoJSON geometry text of each geometry (None stays None)."""
    arr = np.asarray(geoms, dtype=object)
    ok = np.array([g is not None for g in arr], dtype=bool)
    out: list[RawJSON | None] = [None] * len(arr)
    if ok.any():
        for i, text in zip(np.flatnonzero(ok), shapely.to_geojson(arr[ok])):
            out[int(i)] = RawJSON(text)
    return out
