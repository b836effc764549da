"""A small SYNTHETIC geodata pack: one made-up province, "Tỉnh Mẫu (demo)", code 99.

`make_demo_pack(out_dir, seed)` writes the five files of a real pack (schema.py; format in
../shared/geodata/MANIFEST.md) plus `MANIFEST.md`, the empty marker `SYNTHETIC` that
`load.is_synthetic_pack` looks for, a synthetic road network (`roads_synthetic.osm.pbf`,
demo/roads.py) and synthetic raster inputs (`reorg.demo.rasters`: an elevation model for
`reorg run --dem`, a population raster for `--population-raster`). Nothing in it is real: the outline, boundaries, names and
population are drawn from `seed`, so the demo runs anywhere without data.

Construction (in a local kilometre plane, then mapped to longitude/latitude near 105.8 E, 18.9 N):

- the province outline is an irregular star-shaped polygon of about 60 km x 50 km;
- 40 old communes are the Voronoi cells (`shapely.voronoi_polygons`) of seeded points, spaced
  wider in the mountainous west than in the lowland east, clipped to the outline;
- 4 old districts (990-993) grow over the adjacency graph of the cells (contiguous); each is the
  dissolve of its communes. 990 is a thị xã with a few phường, the others are huyện with exactly
  one thị trấn (the district seat);
- 12 new communes grow over the adjacency graph inside each district (2-5 old communes each).
  One old commune is cut by a straight line and split between two new communes
  (`partly_merged`, `n_new_targets` = 2, `area_share` from the two pieces in EPSG:6933);
- population density is 20-80 persons/km² in the west (mountain) and 300-1500 in the east
  (lowland), higher in towns and wards; new communes sum their parts (the split commune by area
  share, rounded so that the province total is conserved).

The same seed gives the same geometries and a byte-identical merger CSV (and, as far as GDAL
allows, identical GeoPackages: their timestamp is pinned with OGR_CURRENT_DATE).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from shapely.geometry import MultiPoint

from ..outputs import GPKG_DATE, fixed_gpkg_timestamp
from ..schema import COMMUNES_AFTER, COMMUNES_BEFORE, CRS, DISTRICTS_BEFORE, MERGER, PROVINCES_AFTER
from . import geometry, rasters
from .design import (
    AREA_CRS,
    DISTRICTS,
    LAT0,
    LON0,
    MARKER,
    MERGER_COLUMNS,
    MOUNTAIN_EAST_EDGE,
    N_NEW,
    N_OLD,
    N_PHUONG,
    PROVINCE_CODE,
    PROVINCE_NAME,
    TYPE_PREFIX,
)
from .roads import FILE as DEMO_ROADS
from .roads import write_demo_roads

# --- the pack ---------------------------------------------------------------------------------


def _build(seed: int):
    rng = np.random.default_rng(seed)
    outline = geometry.outline(rng)
    sites = geometry.sites(outline, rng)
    cells = geometry.cells(outline, sites)
    adj = geometry.adjacency(cells)
    centres = np.array([[c.centroid.x, c.centroid.y] for c in cells])
    dist = geometry.districts(cells, adj, centres, outline, rng)
    x0, _, x1, _ = outline.bounds

    # types: one thị trấn per huyện (cell nearest the district's centre), N_PHUONG wards in the thị xã
    ctype = np.array(["xa"] * N_OLD, dtype=object)
    for di, d in enumerate(DISTRICTS):
        in_district = np.flatnonzero(dist == di)
        dc = shapely.union_all([cells[i] for i in in_district]).centroid
        by_distance = in_district[
            np.argsort(np.hypot(centres[in_district, 0] - dc.x, centres[in_district, 1] - dc.y), kind="stable")
        ]
        if d[2] == "huyen":
            ctype[by_distance[0]] = "thi_tran"
        else:
            ctype[by_distance[:N_PHUONG]] = "phuong"

    # codes: by district, the seat / wards first, then north to south, west to east
    rank = {"thi_tran": 0, "phuong": 0, "xa": 1}
    order = sorted(
        range(N_OLD), key=lambda i: (DISTRICTS[dist[i]][0], rank[str(ctype[i])], -round(sites[i, 1], 3), round(sites[i, 0], 3))
    )
    perm = np.array(order)
    sites, centres, dist, ctype = sites[perm], centres[perm], dist[perm], ctype[perm]
    cells = [cells[i] for i in perm]
    inv = {int(old): new for new, old in enumerate(perm)}
    adj = [{inv[j] for j in adj[int(old)]} for old in perm]
    codes = [f"{PROVINCE_CODE}{i + 1:03d}" for i in range(N_OLD)]

    # names
    seat_stems = {di: geometry.district_stem(d[1]) for di, d in enumerate(DISTRICTS)}
    taken = set(seat_stems.values())
    stems = geometry.stems(rng, N_OLD, taken)
    names, stem_of = [], []
    seat_given: set[int] = set()
    for i in range(N_OLD):
        stem = stems[i]
        if ctype[i] in ("thi_tran", "phuong") and dist[i] not in seat_given:
            stem = seat_stems[dist[i]]
            seat_given.add(dist[i])
        stem_of.append(stem)
        names.append(f"{TYPE_PREFIX[ctype[i]]} {stem}")

    # population: density by terrain (west mountain, east lowland), denser in towns and wards
    fx = (sites[:, 0] - x0) / (x1 - x0)
    areas = gpd.GeoSeries([geometry.to_lonlat(c) for c in cells], crs=CRS).to_crs(AREA_CRS).area.to_numpy() / 1e6
    dens = np.where(fx < MOUNTAIN_EAST_EDGE, rng.uniform(20, 80, N_OLD), 300.0 * 5.0 ** rng.uniform(0, 1, N_OLD) ** 2)
    dens = np.where(ctype == "thi_tran", np.clip(dens * 2.5, 350, 2000), dens)
    dens = np.where(ctype == "phuong", rng.uniform(800, 2000, N_OLD), dens)
    pop = np.rint(dens * areas).astype(np.int64)

    # new communes: contiguous groups of 2-4 cells inside each district (one receives the split piece: 5 at most)
    group = np.full(N_OLD, -1)
    next_group = 0
    for di, d in enumerate(DISTRICTS):
        members = [int(i) for i in np.flatnonzero(dist == di)]
        label = geometry.groups(members, d[5], adj, centres, rng)
        if label is None:  # pragma: no cover
            raise RuntimeError(f"could not group the communes of district {d[0]}")
        # number the groups by their lowest old code
        firsts = sorted(range(d[5]), key=lambda g: min(i for i, lab in label.items() if lab == g))
        renum = {g: next_group + k for k, g in enumerate(firsts)}
        for i, lab in label.items():
            group[i] = renum[lab]
        next_group += d[5]
    assert next_group == N_NEW

    # the split commune: an interior xã on the border of another group of its district
    boundary = outline.boundary
    cands: list[tuple[int, int]] = []
    for i in range(N_OLD):
        if ctype[i] != "xa" or cells[i].intersection(boundary).length > 0:
            continue
        others = sorted({int(group[j]) for j in adj[i] if dist[j] == dist[i] and group[j] != group[i]})
        if (group == group[i]).sum() >= 3 and others:
            cands.extend((i, g2) for g2 in others)
    split = None
    for k in rng.permutation(len(cands)):
        i, g2 = cands[int(k)]
        g2_geom = shapely.union_all([cells[j] for j in np.flatnonzero(group == g2)])
        border = shapely.intersection(cells[i].boundary, g2_geom.boundary)
        line = shapely.line_merge(border) if border.geom_type == "MultiLineString" else border
        at = line.interpolate(0.5, normalized=True) if line.geom_type == "LineString" else line.centroid
        mid = np.array(at.coords[0])
        c = np.array(cells[i].centroid.coords[0])
        d = (mid - c) / np.hypot(*(mid - c))
        piece2 = shapely.intersection(cells[i], geometry.halfplane(c + 0.2 * (mid - c), d))
        piece1 = shapely.difference(cells[i], geometry.halfplane(c + 0.2 * (mid - c), d))
        if piece1.geom_type != "Polygon" or piece2.geom_type != "Polygon":
            continue
        if shapely.union(g2_geom, piece2).geom_type != "Polygon":
            continue
        split = (i, int(g2), piece1, piece2)
        break
    if split is None:  # pragma: no cover
        raise RuntimeError("no commune to split")
    si, sg2, piece1, piece2 = split
    a1, a2 = gpd.GeoSeries([geometry.to_lonlat(piece1), geometry.to_lonlat(piece2)], crs=CRS).to_crs(AREA_CRS).area.to_numpy()
    share2 = round(float(a2 / (a1 + a2)), 4)
    share1 = round(1.0 - share2, 4)
    pop2 = int(round(pop[si] * share2))
    pop1 = int(pop[si]) - pop2

    # merger rows: (old index, new group, partly, n targets, share, population part)
    rows = []
    for i in range(N_OLD):
        if i == si:
            rows.append((i, int(group[i]), True, 2, share1, pop1))
            rows.append((i, sg2, True, 2, share2, pop2))
        else:
            rows.append((i, int(group[i]), False, 1, 1.0, int(pop[i])))

    # new commune geometry, population, type and name
    new_geoms, new_pop, new_n, new_type, new_name = [], [], [], [], []
    for g in range(N_NEW):
        whole = [i for i in range(N_OLD) if group[i] == g and i != si]
        parts = [cells[i] for i in whole]
        if g == group[si]:
            parts.append(piece1)
        if g == sg2:
            parts.append(piece2)
        new_geoms.append(geometry.polygon(shapely.union_all(parts, grid_size=1e-6)))
        new_pop.append(sum(r[5] for r in rows if r[1] == g))
        new_n.append(sum(1 for r in rows if r[1] == g))
        t = "phuong" if any(ctype[i] == "phuong" for i in whole + ([si] if g == group[si] else [])) else "xa"
        new_type.append(t)
        head = max(whole, key=lambda i: (ctype[i] in ("thi_tran", "phuong"), pop[i]))
        new_name.append(f"{TYPE_PREFIX[t]} {stem_of[head]}")
    new_codes = [f"{PROVINCE_CODE}{101 + g}" for g in range(N_NEW)]

    return {
        "outline": outline,
        "sites": sites,
        "cells": cells,
        "dist": dist,
        "ctype": ctype,
        "codes": codes,
        "names": names,
        "pop": pop,
        "rows": rows,
        "new_geoms": new_geoms,
        "new_pop": new_pop,
        "new_n": new_n,
        "new_type": new_type,
        "new_name": new_name,
        "new_codes": new_codes,
        "split": si,
    }


def _areas_km2(geoms: gpd.GeoSeries) -> np.ndarray:
    return np.round(geoms.to_crs(AREA_CRS).area.to_numpy() / 1e6, 3)


def _frames(b: dict):
    cells_ll = gpd.GeoSeries([geometry.multi(geometry.to_lonlat(c)) for c in b["cells"]], crs=CRS)
    dcode = [DISTRICTS[d][0] for d in b["dist"]]
    dname = [DISTRICTS[d][1] for d in b["dist"]]
    dtype = [DISTRICTS[d][2] for d in b["dist"]]
    lonlat = geometry.to_lonlat(MultiPoint(b["sites"]))
    lon = np.round([p.x for p in lonlat.geoms], 6)
    lat = np.round([p.y for p in lonlat.geoms], 6)
    for i, g in enumerate(cells_ll):  # keep the rounded point inside its polygon
        if not g.contains(shapely.Point(lon[i], lat[i])):  # pragma: no cover
            p = g.point_on_surface()
            lon[i], lat[i] = round(p.x, 6), round(p.y, 6)
    n = len(b["codes"])
    si = b["split"]
    before = gpd.GeoDataFrame(
        {
            "commune_code": b["codes"],
            "commune_name": b["names"],
            "commune_type": list(b["ctype"]),
            "district_code": dcode,
            "district_name": dname,
            "district_type": dtype,
            "province_code": PROVINCE_CODE,
            "province_name": PROVINCE_NAME,
            "new_province_code": PROVINCE_CODE,
            "predecessors_2025_01": b["codes"],
            "pop_2019": b["pop"].astype(np.int64),
            "pop_2019_note": ["synthetic"] * n,
            "area_km2": _areas_km2(cells_ll),
            "geometry_source": ["synthetic_voronoi"] * n,
            "n_source_polygons_2009": np.zeros(n, dtype=np.int64),
            "lon": lon,
            "lat": lat,
            "lonlat_source": ["synthetic_voronoi_site"] * n,
            "qa_flags": ["synthetic;split_between_2_targets" if i == si else "synthetic" for i in range(n)],
            "name_vietnamadminunits": [""] * n,
        },
        geometry=cells_ll,
        crs=CRS,
    )

    new_ll = gpd.GeoSeries([geometry.multi(geometry.to_lonlat(g)) for g in b["new_geoms"]], crs=CRS)
    proj = new_ll.to_crs(AREA_CRS)
    cen = gpd.GeoSeries(proj.centroid, crs=AREA_CRS).to_crs(CRS)
    inside = np.array([g.contains(p) for g, p in zip(new_ll, cen)])
    pts = [p if ok else g.point_on_surface() for g, p, ok in zip(new_ll, cen, inside)]
    m = len(b["new_codes"])
    new_area = _areas_km2(new_ll)
    after = gpd.GeoDataFrame(
        {
            "commune_code": b["new_codes"],
            "commune_name": b["new_name"],
            "commune_type": b["new_type"],
            "province_code": PROVINCE_CODE,
            "province_name": PROVINCE_NAME,
            "area_km2_official": np.round(new_area, 2),
            "area_km2": new_area,
            "pop_dossier": np.rint(np.array(b["new_pop"]) * 1.18).astype(np.int64),
            "pop_2019": np.array(b["new_pop"], dtype=np.int64),
            "n_old_communes": np.array(b["new_n"], dtype=np.int64),
            "admin_lon": np.round([p.x for p in pts], 6),
            "admin_lat": np.round([p.y for p in pts], 6),
            "admin_point_source": ["centroid" if ok else "point_on_surface" for ok in inside],
            "admin_centre_address": [f"Trụ sở UBND {name} (demo)" for name in b["new_name"]],
        },
        geometry=new_ll,
        crs=CRS,
    )
    assert m == N_NEW

    drows, dgeoms = [], []
    for di, d in enumerate(DISTRICTS):
        members = np.flatnonzero(b["dist"] == di)
        dgeoms.append(
            geometry.multi(
                geometry.to_lonlat(geometry.polygon(shapely.union_all([b["cells"][i] for i in members], grid_size=1e-6)))
            )
        )
        drows.append(
            {
                "province_code": PROVINCE_CODE,
                "province_name": PROVINCE_NAME,
                "district_code": d[0],
                "district_name": d[1],
                "district_type": d[2],
                "in_2025_01_list": True,
                "geometry_source": "synthetic_communes_dissolved",
                "source_district_codes": d[0],
                "n_communes_before": int(len(members)),
                "pop_2019": int(b["pop"][members].sum()),
            }
        )
    dgeo = gpd.GeoSeries(dgeoms, crs=CRS)
    districts = gpd.GeoDataFrame(pd.DataFrame(drows).assign(area_km2=_areas_km2(dgeo)), geometry=dgeo, crs=CRS)
    districts["n_communes_before"] = districts["n_communes_before"].astype(np.int64)
    districts["pop_2019"] = districts["pop_2019"].astype(np.int64)

    pgeo = gpd.GeoSeries(
        [geometry.multi(geometry.to_lonlat(geometry.polygon(shapely.union_all(b["new_geoms"], grid_size=1e-6))))], crs=CRS
    )
    provinces = gpd.GeoDataFrame(
        {
            "province_code": [PROVINCE_CODE],
            "province_name": [PROVINCE_NAME],
            "n_communes": np.array([m], dtype=np.int64),
            "n_xa": np.array([sum(t == "xa" for t in b["new_type"])], dtype=np.int64),
            "n_phuong": np.array([sum(t == "phuong" for t in b["new_type"])], dtype=np.int64),
            "n_dac_khu": np.array([0], dtype=np.int64),
            "n_old_communes": np.array([N_OLD], dtype=np.int64),
            "old_province_codes": [PROVINCE_CODE],
            "pop_2019": np.array([int(after["pop_2019"].sum())], dtype=np.int64),
            "pop_dossier": np.array([int(after["pop_dossier"].sum())], dtype=np.int64),
            "area_km2_official": [round(float(after["area_km2_official"].sum()), 2)],
            "area_km2": _areas_km2(pgeo),
        },
        geometry=pgeo,
        crs=CRS,
    )

    mrows = []
    for i, g, partly, ntar, share, _ in b["rows"]:
        mrows.append(
            {
                "old_commune_code": b["codes"][i],
                "old_commune_name": b["names"][i],
                "old_district_code": dcode[i],
                "old_district_name": dname[i],
                "old_province_code": PROVINCE_CODE,
                "old_province_name": PROVINCE_NAME,
                "new_commune_code": b["new_codes"][g],
                "new_commune_name": b["new_name"][g],
                "new_province_code": PROVINCE_CODE,
                "new_province_name": PROVINCE_NAME,
                "partly_merged": bool(partly),
                "n_new_targets": int(ntar),
                "area_share": float(share),
                "pair_source": "synthetic_demo",
                "old_predecessors_2025_01": b["codes"][i],
                "crosschecked_with_independent_mapping": False,
                "agrees_with_independent_mapping": None,
                "pair_in_independent_mapping": None,
                "independent_mapping_targets": None,
            }
        )
    merger = (
        pd.DataFrame(mrows, columns=MERGER_COLUMNS).sort_values(["old_commune_code", "new_commune_code"]).reset_index(drop=True)
    )
    return before, after, districts, provinces, merger


def _manifest(before, after, districts, merger, seed: int) -> str:
    split = merger[merger["n_new_targets"] > 1]
    total = int(before["pop_2019"].sum())
    lines = [
        f'# SYNTHETIC demo pack generated by `reorg.demo` (made-up province "{PROVINCE_NAME}", code {PROVINCE_CODE}): not real data',
        "",
        f"Generated with seed {seed} by `reorg.demo.make_demo_pack` (`reorg demo-pack`). Every boundary, name, code and",
        "population figure in this folder is invented. The outline lies in central Vietnam (around",
        f"{LON0} E, {LAT0} N) only so that coordinates pass the Vietnam checks; it overlaps real land and",
        "has nothing to do with it. The empty file `SYNTHETIC` marks the pack as synthetic: every run on it",
        "says so in its outputs.",
        "",
        "The files have the names, layers, columns and types of the real pack (see the real pack's",
        "MANIFEST.md, sections 1-5, and `reorg/schema.py`). EPSG:4326, MultiPolygon geometry; areas in km²",
        "computed in EPSG:6933.",
        "",
        "| file | content |",
        "|---|---|",
        f"| {COMMUNES_BEFORE.file} | layer `{COMMUNES_BEFORE.layer}`: {len(before)} old communes (Voronoi cells of seeded points) |",
        f"| {COMMUNES_AFTER.file} | layer `{COMMUNES_AFTER.layer}`: {len(after)} new communes (contiguous groups of 2-5 old communes) |",
        f"| {DISTRICTS_BEFORE.file} | layer `{DISTRICTS_BEFORE.layer}`: {len(districts)} old districts (dissolve of their communes) |",
        f"| {PROVINCES_AFTER.file} | layer `{PROVINCES_AFTER.layer}`: 1 province (dissolve of the new communes) |",
        f"| {MERGER.file} | {len(merger)} old->new pairs (UTF-8, codes as text, booleans True/False) |",
        "",
        "Design: a mountainous west (20-80 persons/km²) and a lowland east (300-1500 persons/km²); one",
        "thị trấn (district seat) per huyện, a few phường in the thị xã. "
        f"Old commune {split['old_commune_code'].iloc[0]} is split by a straight line between new communes "
        f"{' and '.join(split['new_commune_code'])} (area shares {' / '.join(f'{s:g}' for s in split['area_share'])}); "
        "its population is shared by area share. "
        f"Population {total:,} persons (2019, made up), conserved from old to new communes.",
        "",
        "Columns that only make sense for real data are filled with plain markers: `pop_2019_note` and",
        "`qa_flags` = `synthetic`, `geometry_source` = `synthetic_voronoi`, `pair_source` = `synthetic_demo`,",
        "`pop_dossier` = 1.18 x `pop_2019`, `area_km2_official` = `area_km2` rounded.",
        "",
        "## Synthetic rasters (inputs of `reorg run --dem`)",
        "",
        f"- `{rasters.DEM_FILE}`: SYNTHETIC elevation model (metres, {rasters.DEM_CRS}, {rasters.DEM_CELL_M:g} m cells,",
        f"  nodata {rasters.DEM_NODATA:g}): a ridge in the west, a hill massif in the south-east, a lake of nodata",
        "  cells; made up so that some communes change class under Decree 272/2025. Tagged",
        "  `REORG_SYNTHETIC=yes`: a run using it says so in every output.",
        f"- `{rasters.POPULATION_FILE}`: SYNTHETIC population raster (persons per cell, EPSG:4326,",
        f"  {rasters.POPULATION_CELL_DEG:g} degree cells, nodata outside the province): each old commune's made-up",
        "  residents in a village around its point and a few hamlets; input of `reorg run --population-raster`.",
        "  Tagged `REORG_SYNTHETIC=yes`.",
        "",
    ]
    return "\n".join(lines)


def make_demo_pack(out_dir: Path, seed: int = 7) -> Path:
    """Write the synthetic demo pack (province 99, "Tỉnh Mẫu (demo)") into `out_dir`; returns it.

    The files are written into a temporary folder next to `out_dir` and moved in at the end, the
    `SYNTHETIC` marker last, so an interrupted run never leaves a pack that looks complete.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    built = _build(seed)
    before, after, districts, provinces, merger = _frames(built)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        with fixed_gpkg_timestamp(GPKG_DATE):
            for gdf, layer in (
                (before, COMMUNES_BEFORE),
                (after, COMMUNES_AFTER),
                (districts, DISTRICTS_BEFORE),
                (provinces, PROVINCES_AFTER),
            ):
                pyogrio.write_dataframe(gdf, tmp / layer.file, layer=layer.layer, driver="GPKG", geometry_type="MultiPolygon")
        merger.to_csv(tmp / MERGER.file, index=False, encoding="utf-8", lineterminator="\n")
        (tmp / "MANIFEST.md").write_text(_manifest(before, after, districts, merger, seed), encoding="utf-8")
        rasters.write_dem(tmp, geometry.to_lonlat(built["outline"]), seed)
        rasters.write_population(tmp, built, seed)
        write_demo_roads(before, tmp / DEMO_ROADS)
        names = [
            COMMUNES_BEFORE.file,
            COMMUNES_AFTER.file,
            DISTRICTS_BEFORE.file,
            PROVINCES_AFTER.file,
            MERGER.file,
            "MANIFEST.md",
            rasters.DEM_FILE,
            rasters.POPULATION_FILE,
            DEMO_ROADS,
        ]
        marker = out_dir / MARKER
        if marker.exists():
            marker.unlink()
        for name in names:
            os.replace(tmp / name, out_dir / name)
        marker.write_bytes(b"")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out_dir


def ensure_demo_pack(path: str | os.PathLike, seed: int = 7) -> Path:
    """The demo pack at `path`, generated only when its `SYNTHETIC` marker is missing."""
    path = Path(path)
    if not (path / MARKER).exists() or not (path / DEMO_ROADS).exists():
        make_demo_pack(path, seed)
    return path
