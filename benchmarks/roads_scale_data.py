"""SYNTHETIC road network and population raster at a province's OSM scale, for benchmarks/roads_scale.py.

Everything here is made up by code from a seed; only the province's outline, old communes (points,
polygons, census population, districts) come from the geodata pack, so that the run goes through
the real pipeline. Built in a local km plane (equirectangular about the province's mean latitude).

Road network (`write_roads`, an .osm.pbf written with pyosmium), with the structure of a rural
Vietnamese province's OSM roads:

- villages: each old commune gets about one per `PERSONS_PER_VILLAGE` residents (at least 3),
  placed at random inside its polygon;
- commune roads: the minimum spanning tree of the old communes' points plus each point's link to
  its second-nearest neighbour (loops). The union of the shortest paths from the most populous
  district seat to every other seat is `primary` (asphalt; the first ones `trunk`), the other links
  `secondary` (asphalt, some maxspeed 60) or `tertiary` (asphalt/concrete) in the lowland,
  `unclassified` (compacted) in the mountains;
- village roads: the minimum spanning tree of every commune point and village (over each point's
  8 nearest neighbours): `residential` (concrete) in the lowland, `track` (gravel/dirt, tracktype
  grade2-grade5, some smoothness=bad) or `path` in the mountains; a few extra loop links, one in
  ten of them a one-way street; dead-end spurs from a third of the villages (`service`/`track`);
- one ferry (`route=ferry`, `duration=00:20`) between two commune points 2-8 km apart that are
  farthest apart by road compared with the straight line;
- every link is drawn as a winding line with a vertex every `step` km, the step chosen so that
  the file holds about `segments` segments: the nodes of degree 2 that the simplification
  contracts (OSM draws roads with a vertex every few tens of metres).

Population raster (`write_population`): persons per cell, EPSG:4326, 0.001 degree cells (about
100 m, as WorldPop), nodata outside the province: each village's residents (its commune's census
population shared by its villages) spread by a Gaussian kernel; cells far from every village are 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from scipy.ndimage import gaussian_filter
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra, minimum_spanning_tree
from scipy.spatial import cKDTree

KM_PER_DEG_LAT = 110.574
PERSONS_PER_VILLAGE = 250.0
LOWLAND_DENSITY = 250.0  # persons/km²: communes denser than this have lowland roads
CELL_DEG = 0.001
NODATA = -99999.0
VILLAGE_SIGMA_CELLS = 4.0  # about 400 m


@dataclass
class Province:
    """The pack's province in the local km plane."""

    outline: Any  # shapely (lon/lat)
    codes: np.ndarray
    xy: np.ndarray  # old communes' points, km
    pop: np.ndarray
    lowland: np.ndarray  # bool per old commune
    seats: np.ndarray  # index of each district's most populous commune
    polygons: list  # per old commune (lon/lat) or None
    lon0: float
    lat0: float
    kx: float  # km per degree of longitude

    def to_km(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        return np.column_stack([(lon - self.lon0) * self.kx, (lat - self.lat0) * KM_PER_DEG_LAT])

    def to_lonlat(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.lon0 + xy[:, 0] / self.kx, self.lat0 + xy[:, 1] / KM_PER_DEG_LAT


def province(geodata: str, code: str) -> Province:
    from reorg.load import load_pack

    pack = load_pack(geodata, code)
    old = pack.communes_before.sort_index()
    geoms = pack.communes_after.geometry
    outline = shapely.union_all(geoms[~(geoms.isna() | geoms.is_empty)].to_numpy())
    lon, lat = old["lon"].to_numpy(dtype=float), old["lat"].to_numpy(dtype=float)
    lon0, lat0 = float(lon.mean()), float(lat.mean())
    kx = 111.320 * np.cos(np.radians(lat0))
    pop = old["pop_2019"].to_numpy(dtype=float)
    area = np.maximum(old["area_km2"].to_numpy(dtype=float), 0.1)
    district = old["district_code"].astype(str).to_numpy()
    seats = np.array(sorted(int(np.flatnonzero(district == d)[np.argmax(pop[district == d])]) for d in sorted(set(district))))
    polys = [None if g is None or g.is_empty else g for g in old.geometry]
    xy = np.column_stack([(lon - lon0) * kx, (lat - lat0) * KM_PER_DEG_LAT])
    return Province(outline, old.index.to_numpy(), xy, pop, pop / area >= LOWLAND_DENSITY, seats, polys, lon0, lat0, kx)


def villages(prov: Province, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Village points (km), their commune index and residents."""
    pts, owner, persons = [], [], []
    for i, poly in enumerate(prov.polygons):
        n = int(max(3, round(prov.pop[i] / PERSONS_PER_VILLAGE)))
        got = np.zeros((0, 2))
        if poly is not None:
            x0, y0, x1, y1 = poly.bounds
            for _ in range(50):
                lon = rng.uniform(x0, x1, 4 * n)
                lat = rng.uniform(y0, y1, 4 * n)
                ok = shapely.contains_xy(poly, lon, lat)
                got = np.concatenate([got, prov.to_km(lon[ok], lat[ok])])[:n]
                if len(got) >= n:
                    break
        if len(got) == 0:  # no polygon: around the commune's point
            got = prov.xy[i] + rng.normal(0.0, 1.0, (n, 2))
        pts.append(got)
        owner.append(np.full(len(got), i))
        persons.append(np.full(len(got), prov.pop[i] / len(got)))
    return np.concatenate(pts), np.concatenate(owner), np.concatenate(persons)


def _mst_pairs(xy: np.ndarray, k: int) -> np.ndarray:
    """Edges (i < j) of the minimum spanning forest of the k-nearest-neighbour graph of `xy`."""
    k = min(k, len(xy) - 1)
    dist, idx = cKDTree(xy).query(xy, k + 1)
    rows = np.repeat(np.arange(len(xy)), k)
    graph = coo_matrix((np.maximum(dist[:, 1:].ravel(), 1e-9), (rows, idx[:, 1:].ravel())), shape=(len(xy), len(xy)))
    tree = minimum_spanning_tree(graph.tocsr()).tocoo()
    return np.unique(np.sort(np.column_stack([tree.row, tree.col]), axis=1), axis=0)


def road_links(prov: Province, vxy: np.ndarray, vowner: np.ndarray, rng: np.random.Generator):
    """Every link as (end a, end b) point indices into `points` plus its tags; returns (points km, links, tags)."""
    nc = len(prov.xy)
    # commune roads: MST + second-nearest links
    cpairs = {tuple(p) for p in _mst_pairs(prov.xy, 12).tolist()}
    _, second = cKDTree(prov.xy).query(prov.xy, 3)
    cpairs |= {(min(a, b), max(a, b)) for a, b in zip(range(nc), second[:, 2].tolist())}
    clinks = np.array(sorted(cpairs))
    clen = np.hypot(*(prov.xy[clinks[:, 0]] - prov.xy[clinks[:, 1]]).T)
    graph = coo_matrix((np.r_[clen, clen], (np.r_[clinks[:, 0], clinks[:, 1]], np.r_[clinks[:, 1], clinks[:, 0]])), (nc, nc))
    hub = int(prov.seats[np.argmax(prov.pop[prov.seats])])
    _, pred = dijkstra(graph.tocsr(), indices=hub, return_predecessors=True)
    primary: set[tuple[int, int]] = set()
    for s in prov.seats.tolist():
        while s != hub and pred[s] >= 0:
            primary.add((min(s, int(pred[s])), max(s, int(pred[s]))))
            s = int(pred[s])
    cut = np.median(clen)
    tags: list[dict[str, str]] = []
    for (a, b), length in zip(clinks.tolist(), clen.tolist()):
        low = prov.lowland[a] and prov.lowland[b]
        if (a, b) in primary:
            t = {"highway": "trunk" if len(tags) % 5 == 0 else "primary", "surface": "asphalt"}
        elif low and length > cut:
            t = {"highway": "secondary", "surface": "asphalt"} | ({"maxspeed": "60"} if len(tags) % 3 == 0 else {})
        elif low:
            t = {"highway": "tertiary", "surface": "asphalt" if len(tags) % 2 else "concrete"}
        else:
            t = {"highway": "unclassified", "surface": "compacted"}
        tags.append(t)
    links = [clinks]
    # village roads: MST over commune points and villages
    points = np.concatenate([prov.xy, vxy])
    owner = np.concatenate([np.arange(nc), vowner])
    vpairs = _mst_pairs(points, 8)
    vpairs = vpairs[~((vpairs[:, 0] < nc) & (vpairs[:, 1] < nc))]  # commune-commune: the roads above
    _, near = cKDTree(points).query(points[nc:], 4)
    loop_at = np.flatnonzero(rng.random(len(vxy)) < 0.08)
    loops = np.sort(np.column_stack([nc + loop_at, near[loop_at, 3]]), axis=1)
    for k, (a, _b) in enumerate(np.concatenate([vpairs, loops]).tolist()):
        low = prov.lowland[owner[a]]
        is_loop = k >= len(vpairs)
        if low:
            t = {"highway": "residential", "surface": "concrete"}
            if is_loop and k % 10 == 0:
                t = {"highway": "residential", "surface": "asphalt", "oneway": "yes"}
        elif k % 10 == 3:
            t = {"highway": "path", "surface": "ground"}
        else:
            t = {"highway": "track", "surface": "gravel" if k % 2 else "dirt", "tracktype": f"grade{2 + k % 4}"}
            if k % 7 == 0:
                t["smoothness"] = "bad"
        tags.append(t)
    links += [vpairs, loops]
    # dead-end spurs from a third of the villages
    spur_at = np.flatnonzero(rng.random(len(vxy)) < 0.33)
    angle = rng.uniform(0, 2 * np.pi, len(spur_at))
    length = rng.uniform(0.3, 1.2, len(spur_at))
    ends = vxy[spur_at] + np.column_stack([np.cos(angle), np.sin(angle)]) * length[:, None]
    lon, lat = prov.to_lonlat(ends)
    inside = shapely.contains_xy(prov.outline, lon, lat)
    spur_at, ends = spur_at[inside], ends[inside]
    first = len(points)
    points = np.concatenate([points, ends])
    links.append(np.column_stack([nc + spur_at, first + np.arange(len(ends))]))
    for a in spur_at.tolist():
        low = prov.lowland[vowner[a]]
        tags.append({"highway": "service"} if low else {"highway": "track", "tracktype": "grade4", "surface": "dirt"})
    # a ferry between two commune points 2-8 km apart, farthest apart by road for their distance
    by_road = dijkstra(graph.tocsr(), directed=False)
    straight = np.hypot(*(prov.xy[:, None, :] - prov.xy[None, :, :]).transpose(2, 0, 1))
    ratio = np.where((straight > 2) & (straight < 8) & np.isfinite(by_road), by_road / np.maximum(straight, 1e-9), 0)
    fa, fb = np.unravel_index(int(np.argmax(ratio)), ratio.shape)
    links.append(np.array([[min(fa, fb), max(fa, fb)]]))
    tags.append({"route": "ferry", "duration": "00:20", "name": "Phà tổng hợp (synthetic)"})
    return points, np.concatenate(links).astype(np.int64), tags


def polylines(points: np.ndarray, links: np.ndarray, tags: list[dict[str, str]], segments: int, rng: np.random.Generator):
    """Vertices (km) of every link: (ends' point ids kept, interior vertices added). Returns
    (xy of the interior vertices, per link its list of vertex ids: ends are point indices, interior
    vertices len(points) + k)."""
    a, b = points[links[:, 0]], points[links[:, 1]]
    length = np.hypot(*(b - a).T)
    straight = np.array([t.get("route") == "ferry" for t in tags])
    step = length[~straight].sum() / segments
    steps = np.where(straight, 1, np.maximum(1, np.rint(length / step))).astype(np.int64)
    inner = steps - 1
    link = np.repeat(np.arange(len(links)), inner)
    s = np.arange(inner.sum()) - np.repeat(np.cumsum(inner) - inner, inner) + 1
    t = s / steps[link]
    d = b - a
    norm = np.maximum(length, 1e-9)
    perp = np.column_stack([-d[:, 1], d[:, 0]]) / norm[:, None]
    amp = rng.uniform(-0.08, 0.08, len(links)) * length
    waves = rng.integers(1, 4, len(links))
    bend = amp[link] * np.sin(np.pi * t * waves[link]) + rng.normal(0.0, 0.004, len(t))
    xy = a[link] + t[:, None] * d[link] + bend[:, None] * perp[link]
    start = np.cumsum(inner) - inner
    ids = []
    for k in range(len(links)):
        mid = list(range(len(points) + start[k], len(points) + start[k] + inner[k]))
        ids.append([int(links[k, 0]), *mid, int(links[k, 1])])
    return xy, ids


def write_roads(prov: Province, path: Path, seed: int, segments: int) -> tuple[dict[str, Any], np.ndarray, np.ndarray]:
    """Write the synthetic road network; returns what it holds (for the benchmark's table), and
    the villages (km) and their residents (for the population raster)."""
    import osmium

    rng = np.random.default_rng(seed)
    vxy, vowner, vpersons = villages(prov, rng)
    points, links, tags = road_links(prov, vxy, vowner, rng)
    inner, ids = polylines(points, links, tags, segments, rng)
    lon, lat = prov.to_lonlat(np.concatenate([points, inner]))
    header = osmium.io.Header()
    header.set("generator", "reorg benchmarks/roads_scale_data.py (SYNTHETIC road network, not real data)")
    writer = osmium.SimpleWriter(str(path), header=header)
    try:
        for k, (x, y) in enumerate(zip(lon.tolist(), lat.tolist())):
            writer.add_node(osmium.osm.mutable.Node(id=k + 1, location=osmium.osm.Location(x, y), version=1))
        for w, (way, t) in enumerate(zip(ids, tags), start=1):
            writer.add_way(osmium.osm.mutable.Way(id=w, nodes=[i + 1 for i in way], tags={**t, "note": "synthetic"}, version=1))
    finally:
        writer.close()
    classes: dict[str, int] = {}
    for t in tags:
        key = t.get("highway", "ferry")
        classes[key] = classes.get(key, 0) + 1
    info = {
        "villages": len(vxy),
        "ways": len(ids),
        "nodes": len(lon),
        "segments": int(sum(len(w) - 1 for w in ids)),
        "oneway": sum(t.get("oneway") == "yes" for t in tags),
        "ferries": sum(t.get("route") == "ferry" for t in tags),
        "classes": classes,
    }
    return info, vxy, vpersons


def write_population(prov: Province, vxy: np.ndarray, vpersons: np.ndarray, path: Path) -> int:
    """Write the synthetic population raster; returns the number of populated cells."""
    import rasterio
    from rasterio.transform import from_origin

    from reorg.rasters import SYNTHETIC_TAG

    w, s, e, n = prov.outline.bounds
    lon0 = np.floor((w - 0.02) / CELL_DEG) * CELL_DEG
    lat1 = np.ceil((n + 0.02) / CELL_DEG) * CELL_DEG
    width = int(np.ceil((e + 0.02 - lon0) / CELL_DEG))
    height = int(np.ceil((lat1 - (s - 0.02)) / CELL_DEG))
    vlon, vlat = prov.to_lonlat(vxy)
    col = np.clip(((vlon - lon0) / CELL_DEG).astype(np.int64), 0, width - 1)
    row = np.clip(((lat1 - vlat) / CELL_DEG).astype(np.int64), 0, height - 1)
    grid = np.zeros((height, width))
    np.add.at(grid, (row, col), vpersons)
    grid = gaussian_filter(grid, VILLAGE_SIGMA_CELLS, truncate=4.0)
    grid[grid < 0.01] = 0.0
    glon, glat = np.meshgrid(lon0 + (np.arange(width) + 0.5) * CELL_DEG, lat1 - (np.arange(height) + 0.5) * CELL_DEG)
    persons = np.round(grid, 2).astype(np.float32)
    persons[~shapely.contains_xy(prov.outline, glon, glat)] = NODATA
    profile = {
        "driver": "GTiff",
        "width": width,
        "height": height,
        "count": 1,
        "dtype": "float32",
        "crs": "EPSG:4326",
        "transform": from_origin(lon0, lat1, CELL_DEG, CELL_DEG),
        "nodata": NODATA,
        "compress": "deflate",
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(persons, 1)
        dst.update_tags(**{SYNTHETIC_TAG: "yes"}, DESCRIPTION="SYNTHETIC persons per cell (benchmarks/roads_scale.py)")
    return int(np.count_nonzero(persons > 0))


def synthetic_inputs(geodata: str, code: str, folder: Path, seed: int, segments: int) -> dict[str, Any]:
    """Write `roads.osm.pbf` and `population.tif` for province `code` into `folder`; what they hold."""
    prov = province(geodata, code)
    info, vxy, vpersons = write_roads(prov, folder / "roads.osm.pbf", seed, segments)
    info["populated_cells"] = write_population(prov, vxy, vpersons, folder / "population.tif")
    info["old_communes"] = len(prov.codes)
    return info
