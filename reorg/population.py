"""Demand points from a population raster (`[population] raster = "FILE"`, `--population-raster`).

The raster (GeoTIFF of persons per cell, any CRS) says where people live, the pack's census how
many: each demand part of `reform.apply_merger` (an old commune, or its piece in one new commune
when the commune was split) is cut by a grid of `demand_cell_m` metres (in the province's UTM
zone); each grid cell with residents in the part gives one demand point at the
population-weighted centre of its raster cells (the raster cell of the group nearest to it when
the centre falls outside the part). The points of an old commune share its census population
(`pop_2019`) in proportion to their raster persons, so a split commune is shared by the raster,
not by area, and every old commune keeps its census population. A commune with no raster persons
(outside the raster, all nodata, no polygon) keeps today's point(s), with a warning. Special zones
without predecessor keep their single point.

Each point becomes a demand part of its own (`Reformed.demand` with `demand_id` and `area_km2`,
the area it stands for): the network gives it its own node, linked to its old commune's node off
road at the commune's speed, so the models and measures work unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from . import rasters
from ._errors import Problem
from .load import Pack
from .reform import Reformed
from .schema import CRS

MODEL_POINTS = "commune_points"
MODEL_RASTER = "raster"


@dataclass(frozen=True)
class RasterDemand:
    """The province after the merger with demand points from the raster (`reformed`), and what
    summary.json says of them (`summary`)."""

    reformed: Reformed
    file: str
    synthetic: bool
    fallback: tuple[str, ...]  # old communes without raster persons: today's point(s)

    def summary(self) -> dict[str, Any]:
        """summary.json `network.population`."""
        d = self.reformed.demand
        return {
            "model": MODEL_RASTER,
            "file": Path(self.file).name,
            "synthetic": self.synthetic,
            "demand_points": int(len(d)),
            "old_communes_from_raster": int(d.loc[d["old_code"] != "", "old_code"].nunique() - len(self.fallback)),
            "old_communes_commune_point": len(self.fallback),
        }


def part_geometries(reformed: Reformed, pack: Pack) -> gpd.GeoSeries:
    """The polygon (EPSG:4326) of each demand part: its old commune's inside its new commune (the
    pack's old and new polygons do not nest exactly); None for parts without polygon (special
    zones, communes without one)."""
    d = reformed.demand
    og = reformed.old.geometry.reindex(d["old_code"]).to_numpy()
    ng = pack.communes_after.geometry.reindex(d["new_code"]).to_numpy()
    both = ~(pd.isna(og) | pd.isna(ng))
    geoms = np.array(og, dtype=object)
    geoms[both] = shapely.intersection(og[both], ng[both])
    geoms[d["old_code"].to_numpy() == ""] = None
    return gpd.GeoSeries(geoms, crs=CRS)


def raster_demand(reformed: Reformed, raster: str | Path, pack: Pack, params: dict) -> RasterDemand:
    """`reformed` with its demand parts replaced by the raster's demand points (module docstring).
    InputError naming the file: not found, not a raster, no CRS, not over the province, no persons."""
    d = reformed.demand
    geoms = part_geometries(reformed, pack)
    province = rasters.Province(pack.province_code, pack.province_name, reformed.old.geometry)
    grid = rasters.read_over(raster, province)
    ids = rasters.commune_ids(grid, geoms)
    persons = np.nan_to_num(grid.values.astype(np.float64), nan=0.0)
    persons[persons < 0] = 0.0
    rows, cols = np.nonzero(ids > 0)  # every cell of a part: the area each point stands for
    if not (persons[rows, cols] > 0).any():
        raise rasters.no_data(grid, province)
    x, y = grid.centres(rows, cols)
    lon, lat = Transformer.from_crs(grid.crs, CRS, always_xy=True).transform(x, y)
    utm = gpd.GeoSeries(reformed.old.geometry.dropna(), crs=CRS).estimate_utm_crs()
    ux, uy = Transformer.from_crs(CRS, utm, always_xy=True).transform(lon, lat)
    cell = float(params["demand_cell_m"])
    weight = persons[rows, cols]
    every = pd.DataFrame(
        {
            "part": ids[rows, cols] - 1,
            "gx": np.floor(ux / cell).astype(np.int64),
            "gy": np.floor(uy / cell).astype(np.int64),
            "w": weight,
            "wx": weight * ux,
            "wy": weight * uy,
            "n": 1,
        }
    )
    all_groups = every.groupby(["part", "gy", "gx"], sort=True).sum()
    populated = weight > 0
    cells, lon, lat = every[populated].reset_index(drop=True), lon[populated], lat[populated]
    groups = all_groups[all_groups["w"] > 0].reset_index()
    groups = groups.sort_values(["part", "gy", "gx"], ascending=[True, False, True], kind="stable").reset_index(drop=True)
    cx, cy = groups["wx"].to_numpy() / groups["w"].to_numpy(), groups["wy"].to_numpy() / groups["w"].to_numpy()
    plon, plat = Transformer.from_crs(utm, CRS, always_xy=True).transform(cx, cy)
    plon, plat = _inside(groups, cells, lon, lat, plon, plat, geoms)

    old_code = d["old_code"].to_numpy()[groups["part"].to_numpy()]
    raster_total = pd.Series(groups["w"].to_numpy()).groupby(old_code).transform("sum").to_numpy()
    census = reformed.old["pop_2019"].astype(float).reindex(old_code).to_numpy()
    part_cells = every.groupby("part")["n"].sum()
    part_area = _part_area_km2(reformed, d).to_numpy()[groups["part"].to_numpy()]
    area = part_area * groups["n"].to_numpy() / part_cells.reindex(groups["part"]).to_numpy()
    points = pd.DataFrame(
        {
            "old_code": old_code,
            "new_code": d["new_code"].to_numpy()[groups["part"].to_numpy()],
            "district_code": d["district_code"].to_numpy()[groups["part"].to_numpy()],
            "population": census * groups["w"].to_numpy() / raster_total,
            "lon": plon,
            "lat": plat,
            "split": d["split"].to_numpy()[groups["part"].to_numpy()],
            "area_km2": area,
        }
    )
    covered = set(old_code)
    keep = d[(d["old_code"] == "") | ~d["old_code"].isin(covered)].assign(area_km2=np.nan)
    # a piece of a split commune where the raster has nobody: kept, with no residents, so that its
    # new commune keeps a demand part
    empty = np.setdiff1d(np.flatnonzero(d["old_code"].isin(covered).to_numpy()), groups["part"].to_numpy())
    keep = pd.concat([keep, d.iloc[empty].assign(population=0.0, area_km2=np.nan)])
    fallback = tuple(sorted(set(keep["old_code"]) - {""}))
    warnings = list(reformed.warnings) + [
        Problem.of("population.no_persons", file=grid.file, code=code, severity="warning") for code in fallback
    ]
    demand = pd.concat([points, keep], ignore_index=True)
    demand = demand.sort_values(["old_code", "new_code"], kind="stable").reset_index(drop=True)
    own = demand["old_code"].where(demand["old_code"] != "", demand["new_code"])
    demand.insert(0, "demand_id", [f"{c}-{k + 1:04d}" for c, k in zip(own, demand.groupby(own).cumcount())])
    new = reformed.new.copy()
    new["population"] = demand.groupby("new_code")["population"].sum().reindex(new.index).fillna(0.0)
    return RasterDemand(
        reformed=replace(reformed, new=new, demand=demand, warnings=warnings),
        file=grid.file,
        synthetic=grid.synthetic,
        fallback=fallback,
    )


def _part_area_km2(reformed: Reformed, d: pd.DataFrame) -> pd.Series:
    """Area of each demand part (km²): its old commune's, times its area share when split."""
    area = d["old_code"].map(reformed.old["area_km2"]).astype(float)
    share = d["population"] / d["old_code"].map(reformed.old["pop_2019"]).replace(0, np.nan)
    return area.where(~d["split"], area * share.fillna(1.0))


def _inside(groups, cells, lon, lat, plon, plat, geoms) -> tuple[np.ndarray, np.ndarray]:
    """Each point inside its part: a weighted centre outside it moves to the group's raster cell nearest to it."""
    plon, plat = np.asarray(plon, dtype=float).copy(), np.asarray(plat, dtype=float).copy()
    g = geoms.to_numpy()[groups["part"].to_numpy()]
    ok = shapely.contains_xy(g, plon, plat)
    if ok.all():
        return plon, plat
    key = cells[["part", "gy", "gx"]].to_numpy()
    for k in np.flatnonzero(~ok):
        p, gy, gx = groups.loc[k, ["part", "gy", "gx"]]
        members = np.flatnonzero((key[:, 0] == p) & (key[:, 1] == gy) & (key[:, 2] == gx))
        inside = members[shapely.contains_xy(g[k], lon[members], lat[members])]
        pool = inside if len(inside) else members
        j = pool[np.argmin((lon[pool] - plon[k]) ** 2 + (lat[pool] - plat[k]) ** 2)]
        plon[k], plat[k] = lon[j], lat[j]
        if not len(inside):  # the cell centre sits on the boundary: a point on the part instead
            q = shapely.point_on_surface(g[k])
            plon[k], plat[k] = q.x, q.y
    return plon, plat
