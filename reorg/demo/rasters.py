"""SYNTHETIC rasters of the demo province, written by `reorg demo-pack` beside the pack.

- `synthetic_dem_99.tif` (`DEM_FILE`): elevation in metres, EPSG:32648 (UTM 48N), 100 m cells,
  float32, nodata -9999. High ground in the west (a ridge falling to the east, its 200 m line
  west of the density rule's mountain edge, so that some communes the density rule calls
  mountain are lowland by Decree 272/2025) and a hill massif in the south-east (lowland
  communes that become mountain); a lake of nodata cells in the east.
- `synthetic_population_99.tif` (`POPULATION_FILE`): persons per cell, EPSG:4326, 0.001 degree
  cells, nodata outside the province: villages and hamlets of each old commune.

Every raster carries the GeoTIFF tag `REORG_SYNTHETIC=yes` (`reorg.rasters.SYNTHETIC_TAG`), so a
run using it says its inputs are made up. The same seed writes the same bytes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pyproj import Transformer

from ..rasters import SYNTHETIC_TAG
from ..schema import CRS
from .design import KM_PER_DEG_LAT, KM_PER_DEG_LON, LAT0, LON0, PROVINCE_CODE

DEM_FILE = f"synthetic_dem_{PROVINCE_CODE}.tif"
DEM_CRS = "EPSG:32648"
DEM_CELL_M = 100.0
DEM_NODATA = -9999.0
MARGIN_KM = 3.0
# the relief, in the local km plane of reorg.demo (x east, y north of LON0, LAT0)
RIDGE_X_KM = -13.0  # the western ridge's slope crosses 200 m about here
RIDGE_TOP_M = 700.0
RIDGE_WIDTH_KM = 3.0
HILL_XY_KM = (16.0, -11.0)
HILL_TOP_M = 480.0
HILL_SIGMA_KM = 6.0
LOWLAND_M = 15.0
NOISE_M = 12.0
LAKE_XY_KM, LAKE_RADIUS_KM = (20.0, 8.0), 1.5


def _to_km(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return (lon - LON0) * KM_PER_DEG_LON, (lat - LAT0) * KM_PER_DEG_LAT


def elevation_km(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The synthetic relief (metres) at local km coordinates, without noise."""
    ridge = RIDGE_TOP_M / (1.0 + np.exp((x - RIDGE_X_KM) / RIDGE_WIDTH_KM))
    hill = HILL_TOP_M * np.exp(-((x - HILL_XY_KM[0]) ** 2 + (y - HILL_XY_KM[1]) ** 2) / (2 * HILL_SIGMA_KM**2))
    return LOWLAND_M + ridge + hill


def write_dem(folder: Path, outline_lonlat, seed: int) -> Path:
    """Write `DEM_FILE` into `folder` over the bounds of `outline_lonlat` (a polygon, EPSG:4326)."""
    import rasterio
    from rasterio.transform import from_origin

    to_utm = Transformer.from_crs(CRS, DEM_CRS, always_xy=True)
    to_ll = Transformer.from_crs(DEM_CRS, CRS, always_xy=True)
    w, s, e, n = outline_lonlat.bounds
    margin_deg = MARGIN_KM / KM_PER_DEG_LAT
    xs, ys = to_utm.transform(
        np.array([w - margin_deg, e + margin_deg, w - margin_deg, e + margin_deg]),
        np.array([s - margin_deg, s - margin_deg, n + margin_deg, n + margin_deg]),
    )
    x0 = np.floor(xs.min() / DEM_CELL_M) * DEM_CELL_M
    y1 = np.ceil(ys.max() / DEM_CELL_M) * DEM_CELL_M
    width = int(np.ceil((xs.max() - x0) / DEM_CELL_M))
    height = int(np.ceil((y1 - ys.min()) / DEM_CELL_M))
    cx = x0 + (np.arange(width) + 0.5) * DEM_CELL_M
    cy = y1 - (np.arange(height) + 0.5) * DEM_CELL_M
    gx, gy = np.meshgrid(cx, cy)
    lon, lat = to_ll.transform(gx, gy)
    kx, ky = _to_km(lon, lat)
    rng = np.random.default_rng(seed)
    dem = elevation_km(kx, ky) + rng.normal(0.0, NOISE_M, size=kx.shape)
    dem = np.round(dem, 1).astype(np.float32)
    dem[np.hypot(kx - LAKE_XY_KM[0], ky - LAKE_XY_KM[1]) < LAKE_RADIUS_KM] = DEM_NODATA
    path = Path(folder) / DEM_FILE
    profile = {
        "driver": "GTiff",
        "width": width,
        "height": height,
        "count": 1,
        "dtype": "float32",
        "crs": DEM_CRS,
        "transform": from_origin(x0, y1, DEM_CELL_M, DEM_CELL_M),
        "nodata": DEM_NODATA,
        "compress": "deflate",
        "tiled": False,
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(dem, 1)
        dst.update_tags(**{SYNTHETIC_TAG: "yes"}, DESCRIPTION="synthetic elevation (m) of the reorg demo province: not real data")
    return path


POPULATION_FILE = f"synthetic_population_{PROVINCE_CODE}.tif"
POPULATION_CELL_DEG = 0.001  # about 105 m x 111 m
POPULATION_NODATA = -99999.0
VILLAGE_SIGMA_KM = 1.2  # the commune's main village around its point
HAMLET_SIGMA_KM = 0.5
HAMLETS = 3  # per commune
HAMLET_SHARE = 0.4  # of a commune's residents


def write_population(folder: Path, built: dict, seed: int) -> Path:
    """Write `POPULATION_FILE` (persons per cell, EPSG:4326, float32; nodata outside the province)
    into `folder`: each old commune's residents (the pack's population) in a village around its
    point and `HAMLETS` hamlets at seeded places in it (Gaussian kernels in the local km plane)."""
    import rasterio
    import shapely
    from rasterio.transform import from_origin

    from .geometry import to_lonlat

    outline = to_lonlat(built["outline"])
    w, s, e, n = outline.bounds
    margin = MARGIN_KM / KM_PER_DEG_LAT
    lon0 = np.floor((w - margin) / POPULATION_CELL_DEG) * POPULATION_CELL_DEG
    lat1 = np.ceil((n + margin) / POPULATION_CELL_DEG) * POPULATION_CELL_DEG
    width = int(np.ceil((e + margin - lon0) / POPULATION_CELL_DEG))
    height = int(np.ceil((lat1 - (s - margin)) / POPULATION_CELL_DEG))
    lon = lon0 + (np.arange(width) + 0.5) * POPULATION_CELL_DEG
    lat = lat1 - (np.arange(height) + 0.5) * POPULATION_CELL_DEG
    glon, glat = np.meshgrid(lon, lat)
    kx, ky = _to_km(glon, glat)
    cell_km2 = (POPULATION_CELL_DEG * KM_PER_DEG_LON) * (POPULATION_CELL_DEG * KM_PER_DEG_LAT)
    rng = np.random.default_rng(seed + 1)
    density = np.zeros(kx.shape)

    def add(x: float, y: float, persons: float, sigma: float) -> None:
        near = (np.abs(kx - x) < 4 * sigma) & (np.abs(ky - y) < 4 * sigma)
        density[near] += persons * np.exp(-((kx[near] - x) ** 2 + (ky[near] - y) ** 2) / (2 * sigma**2)) / (2 * np.pi * sigma**2)

    for i, cell in enumerate(built["cells"]):
        pop = float(built["pop"][i])
        add(float(built["sites"][i, 0]), float(built["sites"][i, 1]), pop * (1 - HAMLET_SHARE), VILLAGE_SIGMA_KM)
        x0, y0, x1, y1 = cell.bounds
        placed = 0
        while placed < HAMLETS:
            x, y = rng.uniform(x0, x1), rng.uniform(y0, y1)
            if cell.contains(shapely.Point(x, y)):
                add(x, y, pop * HAMLET_SHARE / HAMLETS, HAMLET_SIGMA_KM)
                placed += 1
    persons = np.round(density * cell_km2, 2).astype(np.float32)
    persons[~shapely.contains_xy(outline, glon, glat)] = POPULATION_NODATA
    path = Path(folder) / POPULATION_FILE
    profile = {
        "driver": "GTiff",
        "width": width,
        "height": height,
        "count": 1,
        "dtype": "float32",
        "crs": CRS,
        "transform": from_origin(lon0, lat1, POPULATION_CELL_DEG, POPULATION_CELL_DEG),
        "nodata": POPULATION_NODATA,
        "compress": "deflate",
        "tiled": False,
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(persons, 1)
        dst.update_tags(
            **{SYNTHETIC_TAG: "yes"}, DESCRIPTION="synthetic persons per cell of the reorg demo province: not real data"
        )
    return path
