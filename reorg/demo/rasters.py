"""SYNTHETIC rasters of the demo province, written by `reorg demo-pack` beside the pack.

- `synthetic_dem_99.tif` (`DEM_FILE`): elevation in metres, EPSG:32648 (UTM 48N), 100 m cells,
  float32, nodata -9999. High ground in the west (a ridge falling to the east, its 200 m line
  west of the density rule's mountain edge, so that some communes the density rule calls
  mountain are lowland by Decree 272/2025) and a hill massif in the south-east (lowland
  communes that become mountain); a lake of nodata cells in the east.

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
