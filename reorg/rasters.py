"""GeoTIFF inputs (an elevation model, a population raster): read the part over a province.

`read_over(path, province)` opens a raster in any CRS (rasterio), checks that it has one and that
it overlaps the province, and returns the cells over the province (`Grid`: values as float32 with
NaN where the raster has no data, its transform and CRS). `commune_ids(grid, geoms)` burns polygons
(EPSG:4326) into the grid: each cell gets the number (1..n) of the polygon that contains its
centre, 0 elsewhere. Every problem is an `InputError` naming the file ([error.raster] keys).

A raster written by `reorg demo-pack` carries the GeoTIFF tag `REORG_SYNTHETIC=yes`
(`SYNTHETIC_TAG`): `Grid.synthetic` says so, and every output of a run using it says it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np

from ._errors import InputError, Problem
from .schema import CRS

SYNTHETIC_TAG = "REORG_SYNTHETIC"
_DENSIFY = 21  # points per edge when a box changes CRS


@dataclass(frozen=True)
class Province:
    """What a raster is checked against: the province's code, name and polygons (EPSG:4326)."""

    code: str
    name: str
    geoms: gpd.GeoSeries


@dataclass(frozen=True)
class Grid:
    """The cells of a raster over a province: `values` (rows x columns, float32, NaN = no data),
    `transform` (rasterio Affine of the window), `crs` (rasterio CRS), `file` (as given),
    `synthetic` (the raster says it was made up)."""

    values: np.ndarray
    transform: Any
    crs: Any
    file: str
    synthetic: bool

    @property
    def cell_area(self) -> float:
        """Area of one cell in the raster's CRS units squared."""
        t = self.transform
        return abs(t.a * t.e - t.b * t.d)

    def centres(self, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """x, y (raster CRS) of the centres of cells (`rows`, `cols`)."""
        t = self.transform
        c, r = cols + 0.5, rows + 0.5
        return t.a * c + t.b * r + t.c, t.d * c + t.e * r + t.f


def _problem(key: str, file: str, **fields: Any) -> InputError:
    return InputError(Problem.of(f"raster.{key}", file=file, **fields))


def read_over(path: str | Path, province: Province) -> Grid:
    """The cells of raster `path` (band 1) over the bounding box of `province`'s polygons, with a
    margin of one cell. InputError: no such file, not a raster, no CRS, no overlap."""
    import rasterio
    from affine import Affine
    from rasterio.errors import RasterioIOError
    from rasterio.warp import transform_bounds

    file = str(path)
    if not Path(path).is_file():
        raise _problem("not_found", file)
    try:
        src = rasterio.open(path)
    except RasterioIOError as exc:
        raise _problem("unreadable", file, reason=str(exc)) from None
    with src:
        if src.crs is None:
            raise _problem("no_crs", file)
        lonlat = tuple(float(v) for v in province.geoms.total_bounds)
        west, south, east, north = transform_bounds(CRS, src.crs, *lonlat, densify_pts=_DENSIFY)
        left, bottom, right, top = src.bounds
        ix0, iy0, ix1, iy1 = max(west, left), max(south, bottom), min(east, right), min(north, top)
        if not (ix0 < ix1 and iy0 < iy1):
            rw, rs, re, rn = transform_bounds(src.crs, CRS, left, bottom, right, top, densify_pts=_DENSIFY)
            raise _problem(
                "no_overlap",
                file,
                province=province.code,
                name=province.name,
                west=rw,
                east=re,
                south=rs,
                north=rn,
                pwest=lonlat[0],
                psouth=lonlat[1],
                peast=lonlat[2],
                pnorth=lonlat[3],
            )
        inv = ~src.transform
        corners = [inv @ (x, y) for x in (ix0, ix1) for y in (iy0, iy1)]
        cols = [c for c, _ in corners]
        rows = [r for _, r in corners]
        c0 = max(0, math.floor(min(cols)) - 1)
        c1 = min(src.width, math.ceil(max(cols)) + 1)
        r0 = max(0, math.floor(min(rows)) - 1)
        r1 = min(src.height, math.ceil(max(rows)) + 1)
        window = rasterio.windows.Window(c0, r0, c1 - c0, r1 - r0)
        band = src.read(1, window=window, masked=True)
        values = np.ma.filled(band.astype(np.float32), np.nan)  # float32: a 30 m DEM of a large province is big
        values[~np.isfinite(values)] = np.nan
        return Grid(
            values=values,
            transform=src.transform @ Affine.translation(c0, r0),
            crs=src.crs,
            file=file,
            synthetic=src.tags().get(SYNTHETIC_TAG, "").lower() == "yes",
        )


def no_data(grid: Grid, province: Province) -> InputError:
    """The error of a raster with no data over the province (every cell there is nodata)."""
    return _problem("no_data", grid.file, province=province.code, name=province.name)


def in_grid_crs(grid: Grid, geoms: gpd.GeoSeries) -> gpd.GeoSeries:
    """`geoms` (EPSG:4326) in the raster's CRS."""
    return geoms.to_crs(grid.crs.to_wkt())


def commune_ids(grid: Grid, geoms: gpd.GeoSeries) -> np.ndarray:
    """int32 grid: 1 + the position in `geoms` (EPSG:4326) of the polygon containing each cell's
    centre, 0 for cells in none; `geoms` without geometry burn nothing."""
    from rasterio.features import rasterize

    projected = in_grid_crs(grid, geoms)
    shapes = [(g, k + 1) for k, g in enumerate(projected) if g is not None and not g.is_empty]
    if not shapes:
        return np.zeros(grid.values.shape, dtype=np.int32)
    return rasterize(shapes, out_shape=grid.values.shape, transform=grid.transform, fill=0, dtype="int32")
