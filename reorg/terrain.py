"""Terrain from an elevation model (`[terrain] dem = "FILE"`, `reorg run --dem FILE`).

Decree 272/2025/NĐ-CP (DOMAIN.md 1B): a commune is mountainous when at least 2/3
(`mountain_area_share`) of its natural area lies at `mountain_elevation_m` (200 m) or higher.
For each old commune polygon, the share of its area at or above that elevation is the share of
the DEM cells with data whose centre lies in the polygon (cells of one raster have one area; in
a raster in degrees the change of a cell's area with latitude inside a commune is neglected).

The rule replaces the density guess of `reform.classify_old_communes` for the rural communes
(xã) that the DEM covers: mountain (region III) when the share reaches `mountain_area_share`,
else lowland (region II). Wards and towns stay urban (region I), as in the guess. A commune is
covered when the cells with data in it make up at least `dem_min_coverage_share` of its area;
the others (outside the DEM, under nodata, without polygon) keep the guess, with a warning.

`apply_dem` returns the classification changed (`DemTerrain.classified`), the communes whose
class changed and the counts for summary.json (`DemTerrain.summary`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely

from . import rasters
from ._errors import Phrase, Problem
from .load import Pack
from .reform import OldCommunes

SOURCE_DEM = "dem"
SOURCE_DENSITY = "density_rule"
REGION_OF = {"urban": "I", "lowland": "II", "mountain": "III"}


@dataclass(frozen=True)
class DemTerrain:
    """The old communes classified with the DEM, and what changed.

    classified: `OldCommunes` whose `terrain`/`region` follow the DEM where it covers the commune
        (the warnings of the classification and those of the DEM).
    shares: by old code, `high_share` (share of the commune's area at or above the elevation,
        NaN when not covered), `coverage` (share of its area under cells with data), `source`
        ("dem" or "density_rule"), `guess` (the terrain the density rule gave).
    changed: the communes whose terrain changed: code, name, before, after, high_share.
    """

    classified: OldCommunes
    file: str
    synthetic: bool
    shares: pd.DataFrame
    changed: pd.DataFrame = field(default_factory=pd.DataFrame)

    def summary(self) -> dict[str, Any]:
        """summary.json `network.terrain`."""
        src = self.shares["source"]
        return {
            "source": SOURCE_DEM,
            "file": Path(self.file).name,
            "synthetic": self.synthetic,
            "communes_from_dem": int((src == SOURCE_DEM).sum()),
            "communes_density_rule": int((src == SOURCE_DENSITY).sum()),
            "changed": int(len(self.changed)),
            "changed_to_mountain": int((self.changed["after"] == "mountain").sum()),
            "changed_to_lowland": int((self.changed["after"] == "lowland").sum()),
        }


def high_shares(grid: rasters.Grid, geoms: Any, elevation_m: float) -> tuple[np.ndarray, np.ndarray]:
    """For each polygon of `geoms` (EPSG:4326): the share of its cells with data at or above
    `elevation_m` (NaN when it has none) and the share of its area under cells with data."""
    ids = rasters.commune_ids(grid, geoms)
    n = len(geoms)
    valid = ~np.isnan(grid.values)
    n_valid = np.bincount(ids[valid], minlength=n + 1)[1:].astype(float)
    high = valid & (np.nan_to_num(grid.values, nan=-np.inf) >= elevation_m)
    n_high = np.bincount(ids[high], minlength=n + 1)[1:].astype(float)
    area = np.nan_to_num(shapely.area(rasters.in_grid_crs(grid, geoms).to_numpy()), nan=0.0)  # in the raster's units
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(n_valid > 0, n_high / np.where(n_valid > 0, n_valid, 1), np.nan)
        coverage = np.where(area > 0, np.minimum(n_valid * grid.cell_area / np.where(area > 0, area, 1), 1.0), 0.0)
    return share, np.nan_to_num(coverage, nan=0.0)


def apply_dem(classified: OldCommunes, dem: str | Path, pack: Pack, params: dict) -> DemTerrain:
    """The old communes with terrain and region from the elevation model `dem` (module docstring).
    InputError naming the file: not found, not a raster, no CRS, not over the province, no data."""
    old = classified.frame
    province = rasters.Province(pack.province_code, pack.province_name, old.geometry)
    grid = rasters.read_over(dem, province)
    share, coverage = high_shares(grid, old.geometry, float(params["mountain_elevation_m"]))
    if not (coverage > 0).any():
        raise rasters.no_data(grid, province)
    guess = old["terrain"].to_numpy(dtype=object)
    rural = guess != "urban"
    covered = coverage >= float(params["dem_min_coverage_share"])
    use = rural & covered
    rule = np.where(share >= float(params["mountain_area_share"]), "mountain", "lowland")
    terrain = np.where(use, rule, guess)
    frame = old.copy()
    frame["terrain"] = terrain
    frame["region"] = frame["terrain"].map(REGION_OF)
    shares = pd.DataFrame(
        {
            "high_share": np.where(covered, share, np.nan),
            "coverage": coverage,
            "source": np.where(use, SOURCE_DEM, np.where(rural, SOURCE_DENSITY, "urban")),
            "guess": guess,
        },
        index=old.index,
    )
    warnings = list(classified.warnings)
    has_poly = ~(old.geometry.isna() | old.geometry.is_empty).to_numpy()
    for k in np.flatnonzero(rural & ~covered):
        code = old.index[k]
        key = "outside_dem" if has_poly[k] else "no_polygon_dem"
        warnings.append(
            Problem.of(
                f"terrain.{key}",
                file=grid.file,
                code=code,
                severity="warning",
                covered=float(coverage[k]),
                minimum=float(params["dem_min_coverage_share"]),
                terrain=Phrase.of(f"terrain.{guess[k]}"),
            )
        )
    moved = np.flatnonzero(terrain != guess)
    changed = pd.DataFrame(
        {
            "code": old.index[moved].to_numpy(),
            "name": old["commune_name"].to_numpy()[moved],
            "before": guess[moved],
            "after": terrain[moved],
            "high_share": share[moved],
        }
    )
    return DemTerrain(
        classified=replace(classified, frame=frame, warnings=warnings),
        file=grid.file,
        synthetic=grid.synthetic,
        shares=shares,
        changed=changed,
    )


def report_blocks(dem: DemTerrain | None, params: dict, lang: str) -> list[Any]:
    """The report's section on terrain from the elevation model (none without one): how many
    communes it classified and the communes whose class changed."""
    from . import document as doc
    from . import fmt, i18n

    if dem is None:
        return []
    t = i18n.translator(lang)
    s = dem.summary()
    elevation = fmt.number(params["mountain_elevation_m"], 0, lang)
    out: list[Any] = [
        doc.Heading(t("terrain.h_terrain")),
        doc.Para(
            t(
                "terrain.summary",
                dem=fmt.count(s["communes_from_dem"], lang),
                file=Path(dem.file).name,
                share=fmt.share(params["mountain_area_share"], 1, lang),
                elevation=elevation,
                density=fmt.count(s["communes_density_rule"], lang),
                changed=fmt.count(s["changed"], lang),
            )
        ),
    ]
    if not len(dem.changed):
        return [*out, doc.Para(t("terrain.none_changed"))]
    header = [t(f"terrain.col_{k}", elevation=elevation) for k in ("code", "name", "before", "after", "share")]
    rows = [
        [str(row.code), str(row.name), t(f"terrain.{row.before}"), t(f"terrain.{row.after}"), fmt.share(row.high_share, 1, lang)]
        for row in dem.changed.itertuples(index=False)
    ]
    return [*out, doc.Table(header, rows, "llllr")]
