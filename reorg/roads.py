"""Road network input (`[travel] roads = "FILE"`, `reorg run --roads FILE`): OSM ways -> directed edges in minutes.

Accepted files: an OpenStreetMap extract (`.osm.pbf`, read with pyosmium) or a GeoPackage/GeoJSON
of lines carrying OSM tags as columns (`highway`, and when present `maxspeed`, `surface`,
`smoothness`, `tracktype`, `oneway`, `junction`, `route`, `duration`; read with pyogrio). Only the
ways with a `highway` tag the speed table knows, and `route=ferry`, are kept; the province's
outline grown by `roads_buffer_km` clips them, so a national extract can be given.

Reader chosen by measurement (benchmarks/roads_reader.py; figures in benchmarks/RESULTS.md): on a
synthetic PBF of about 1,000,000 segments, GDAL's OSM driver through pyogrio reads the `lines`
layer fastest and pyrosm and pyosmium are close to each other, but GDAL 3.12 in the pyogrio wheel
fails on pyosmium's zlib-compressed blocks past a few thousand nodes ("error during the parsing
of data"; zlib is what Geofabrik extracts use), and its `lines` layer gives coordinates, not node
ids, with the tags other than `highway` in an hstore text to parse again. pyrosm installs here
(with pyrobuf, cykhash and rapidjson besides) and was not faster. reorg reads PBF with
pyosmium, the Python binding of libosmium, the reference OSM library: it reads every PBF
(compressed or not), keeps node ids so ways meet exactly where OSM says they do, and its
KeyFilter runs in C++ after the node locations are stored, so only the highway ways reach Python.

Edge minutes (the contract of point 2 of issue 12, re-checked by tests/test_roads.py):
minutes = 60 x km / (speed x multiplier x `season_speed_factor`), with km the great-circle length
of the segment, speed the class speed (`road_speed_<class>_kmh`, the motorbike profile of DOMAIN
1H) capped by a numeric `maxspeed`, multiplier the smallest of the surface, smoothness and
tracktype multipliers the way has (1 when it has none; smoothness=impassable drops the way). A
ferry takes its `duration` (shared along its segments by length) or runs at `ferry_speed_kmh`.
`oneway=yes/true/1` (or `junction=roundabout`) keeps the forward direction only, `oneway=-1`
the backward one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from ._errors import InputError, Problem

# OSM highway value -> speed class (parameter road_speed_<class>_kmh)
HIGHWAY_CLASS: dict[str, str] = {
    "motorway": "motorway",
    "motorway_link": "motorway",
    "trunk": "trunk",
    "trunk_link": "trunk",
    "primary": "primary",
    "primary_link": "primary",
    "secondary": "secondary",
    "secondary_link": "secondary",
    "tertiary": "tertiary",
    "tertiary_link": "tertiary",
    "unclassified": "unclassified",
    "residential": "residential",
    "road": "residential",
    "living_street": "service",
    "service": "service",
    "track": "track",
    "path": "path",
    "cycleway": "path",
    "bridleway": "path",
    "footway": "footway",
    "pedestrian": "footway",
    "steps": "footway",
}
SURFACE_FACTOR: dict[str, str | None] = {  # surface value -> multiplier parameter (None: 1, asphalt)
    "asphalt": None,
    "paved": "surface_paved_factor",
    "concrete": "surface_paved_factor",
    "concrete:plates": "surface_paved_factor",
    "paving_stones": "surface_paved_factor",
    "compacted": "surface_compacted_factor",
    "fine_gravel": "surface_compacted_factor",
    **{
        s: "surface_unpaved_factor"
        for s in ("unpaved", "ground", "dirt", "earth", "soil", "gravel", "sand", "mud", "grass", "pebblestone")
    },
}
SMOOTHNESS = ("excellent", "good", "intermediate", "bad", "very_bad", "horrible", "very_horrible")
TRACKTYPE = ("grade1", "grade2", "grade3", "grade4", "grade5")
UNDEFINED_COORDINATE = 2_147_483_647  # libosmium's Location::undefined_coordinate: a node not in the file
COORDINATE_PRECISION = 10_000_000  # libosmium's fixed-point unit: 1e-7 degree
LINE_TAGS = ("highway", "maxspeed", "surface", "smoothness", "tracktype", "oneway", "junction", "route", "duration")


@dataclass
class RoadEdges:
    """Directed road edges between numbered nodes (`lon`, `lat`, degrees): edge k runs u[k] -> v[k]
    in `minutes[k]` over `km[k]`; a two-way segment is two edges. `ways`: OSM ways (or lines) kept."""

    lon: np.ndarray
    lat: np.ndarray
    u: np.ndarray
    v: np.ndarray
    minutes: np.ndarray
    km: np.ndarray
    ways: int
    ferries: int


def multiplier(tags: dict[str, str], params: dict) -> float:
    """The speed multiplier of a way from its surface, smoothness and tracktype: the smallest known one."""
    out = 1.0
    surface = tags.get("surface")
    if surface in SURFACE_FACTOR:
        name = SURFACE_FACTOR[surface]
        out = min(out, params[name] if name else 1.0)
    smooth = tags.get("smoothness")
    if smooth == "impassable":
        return 0.0
    if smooth in SMOOTHNESS:
        k = SMOOTHNESS.index(smooth)
        out = min(out, 1.0 - (1.0 - params["smoothness_worst_factor"]) * k / (len(SMOOTHNESS) - 1))
    track = tags.get("tracktype")
    if track in TRACKTYPE:
        k = TRACKTYPE.index(track)
        out = min(out, 1.0 - (1.0 - params["tracktype_worst_factor"]) * k / (len(TRACKTYPE) - 1))
    return out


def _maxspeed(text: str | None) -> float | None:
    """A numeric maxspeed in km/h ("50", "30 mph"), else None."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(mph|km/h|kmh)?\s*", text or "")
    if not m:
        return None
    v = float(m.group(1))
    return v * 1.609344 if m.group(2) == "mph" else v


def duration_minutes(text: str | None) -> float | None:
    """An OSM `duration` ("HH:MM", "HH:MM:SS", "MM", ISO 8601 "PT1H30M") in minutes, else None."""
    if not text:
        return None
    t = text.strip()
    m = re.fullmatch(r"(\d+)(?::(\d{1,2}))?(?::(\d{1,2}))?", t)
    if m:
        if m.group(2) is None:
            return float(m.group(1))
        return int(m.group(1)) * 60 + int(m.group(2)) + int(m.group(3) or 0) / 60
    m = re.fullmatch(r"PT(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?", t)
    if m and any(m.groups()):
        h, mi, s = (float(g or 0) for g in m.groups())
        return h * 60 + mi + s / 60
    return None


def way_speed(tags: dict[str, str], params: dict) -> tuple[float, float | None, int] | None:
    """(speed km/h, total minutes of a ferry with a duration or None, direction) of a way, or None
    when the way is not travelled: direction 1 forward only, -1 backward only, 0 both ways."""
    highway = tags.get("highway")
    if tags.get("route") == "ferry":
        return params["ferry_speed_kmh"], duration_minutes(tags.get("duration")), 0
    cls = HIGHWAY_CLASS.get(highway or "")
    if cls is None:
        return None
    speed = params[f"road_speed_{cls}_kmh"]
    cap = _maxspeed(tags.get("maxspeed"))
    if cap is not None and cap > 0:
        speed = min(speed, cap)
    speed *= multiplier(tags, params) * params["season_speed_factor"]
    if speed <= 0:
        return None
    oneway = (tags.get("oneway") or "").lower()
    direction = 0
    if oneway in ("yes", "true", "1") or (tags.get("junction") == "roundabout" and oneway != "no"):
        direction = 1
    elif oneway in ("-1", "reverse"):
        direction = -1
    return speed, None, direction


class _Ways:
    """Collects ways (node keys, coordinates, tags) and turns them into directed edges at once:
    the per-way work in Python is only the tags; lengths, minutes and clipping are vectorised."""

    def __init__(self, params: dict, area: Any) -> None:
        self.params = params
        self.area = area  # prepared shapely geometry (degrees) or None
        self.keys: list[np.ndarray] = []
        self.lons: list[np.ndarray] = []
        self.lats: list[np.ndarray] = []
        self.speed: list[float] = []  # per way
        self.total: list[float] = []  # per way: a ferry's duration in minutes, else nan
        self.direction: list[int] = []
        self.ferry: list[bool] = []

    def add(self, keys: np.ndarray, lon: np.ndarray, lat: np.ndarray, tags: dict[str, str]) -> None:
        if len(keys) < 2:
            return
        got = way_speed(tags, self.params)
        if got is None:
            return
        speed, total, direction = got
        self.keys.append(keys)
        self.lons.append(lon)
        self.lats.append(lat)
        self.speed.append(speed)
        self.total.append(np.nan if total is None else total)
        self.direction.append(direction)
        self.ferry.append(tags.get("route") == "ferry")

    def edges(self) -> RoadEdges:
        from .network import haversine_km

        empty = np.zeros(0)
        none = RoadEdges(empty, empty, empty.astype(np.int64), empty.astype(np.int64), empty, empty, 0, 0)
        if not self.keys:
            return none
        sizes = np.array([len(k) for k in self.keys])
        way = np.repeat(np.arange(len(sizes)), sizes)
        keys = np.concatenate(self.keys)
        lon, lat = np.concatenate(self.lons), np.concatenate(self.lats)
        seg = np.flatnonzero(way[:-1] == way[1:])  # segment k: position k -> k + 1
        sway = way[seg]
        km = np.asarray(haversine_km(lon[seg], lat[seg], lon[seg + 1], lat[seg + 1]), dtype=float)
        speed, total = np.array(self.speed), np.array(self.total)
        minutes = 60.0 * km / speed[sway]
        timed = ~np.isnan(total[sway])
        if timed.any():  # a ferry with a duration: shared along its segments by length
            way_km = np.bincount(sway, weights=km, minlength=len(sizes))
            nseg = np.bincount(sway, minlength=len(sizes))
            share = np.where(way_km[sway] > 0, km / np.where(way_km[sway] > 0, way_km[sway], 1.0), 1.0 / nseg[sway])
            minutes = np.where(timed, total[sway] * share, minutes)
        keep = np.ones(len(seg), dtype=bool)
        if self.area is not None:
            inside = shapely.contains_xy(self.area, lon, lat)
            keep = inside[seg] & inside[seg + 1]
        direction = np.array(self.direction)[sway]
        fwd, bwd = keep & (direction >= 0), keep & (direction <= 0)
        if not (fwd.any() or bwd.any()):
            return none
        _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        node = inverse.reshape(-1)
        u = np.concatenate([node[seg[fwd]], node[seg[bwd] + 1]])
        v = np.concatenate([node[seg[fwd] + 1], node[seg[bwd]]])
        # only the nodes of kept edges (a node clipped away is no place to snap to)
        used, renum = np.unique(np.concatenate([u, v]), return_inverse=True)
        u, v = renum[: len(u)], renum[len(u) :]
        first = first[used]
        used_ways = np.unique(sway[keep])
        return RoadEdges(
            lon=lon[first],
            lat=lat[first],
            u=u.astype(np.int64),
            v=v.astype(np.int64),
            minutes=np.concatenate([minutes[fwd], minutes[bwd]]),
            km=np.concatenate([km[fwd], km[bwd]]),
            ways=int(len(used_ways)),
            ferries=int(np.count_nonzero(np.array(self.ferry)[used_ways])),
        )


def _read_pbf(path: Path, ways: _Ways) -> None:
    import osmium

    # the filter runs in C++ after the node locations are stored: no node reaches Python
    fp = (
        osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
        .with_locations()
        .with_filter(osmium.filter.KeyFilter("highway", "route"))
    )
    for obj in fp:
        if not isinstance(obj, osmium.osm.Way):
            continue
        tags = obj.tags
        if "highway" not in tags and tags.get("route") != "ferry":
            continue
        # node id and fixed-point location (libosmium's int32 x, y: degrees x 1e7), one array per way
        rows = np.array([(n.ref, n.x, n.y) for n in obj.nodes], dtype=np.int64).reshape(-1, 3)
        if (rows[:, 1:] == UNDEFINED_COORDINATE).any():  # a node missing from the extract
            continue
        xy = rows[:, 1:] / COORDINATE_PRECISION  # what osmium's Location.lon/lat give
        ways.add(rows[:, 0], xy[:, 0], xy[:, 1], {k: str(tags.get(k)) for k in LINE_TAGS if k in tags})


def _read_lines(path: Path, ways: _Ways) -> None:
    import pyogrio

    gdf = pyogrio.read_dataframe(path)
    if gdf.crs is not None and not gdf.crs.equals("EPSG:4326"):
        gdf = gdf.to_crs("EPSG:4326")
    cols = [c for c in LINE_TAGS if c in gdf.columns]
    for geom, *values in zip(gdf.geometry, *(gdf[c] for c in cols)):
        if geom is None or geom.is_empty:
            continue
        tags = {c: str(v) for c, v in zip(cols, values) if v is not None and v == v}
        parts = geom.geoms if geom.geom_type == "MultiLineString" else [geom]
        for part in parts:
            xy = np.asarray(part.coords, dtype=float)[:, :2]
            # lines meet where they share a vertex: the vertex's coordinates (1e-7 degree) name it
            grid = np.round(xy * 1e7).astype(np.int64)
            keys = grid[:, 0] * 4_000_000_000 + grid[:, 1]
            ways.add(keys, xy[:, 0], xy[:, 1], tags)


def read_roads(path: str | Path, params: dict, outline: Any = None, *, file: str | None = None) -> RoadEdges:
    """The road edges of `path` clipped to `outline` (a shapely geometry in degrees) grown by
    `roads_buffer_km`; InputError naming the file when it cannot be read or holds no road."""
    path = Path(path)
    file = file or str(path)
    if not path.is_file():
        raise InputError(Problem.of("roads.not_found", file=file))
    area = None
    if outline is not None:
        import geopandas as gpd

        shape = gpd.GeoSeries([outline], crs="EPSG:4326")
        utm = shape.estimate_utm_crs()
        area = shape.to_crs(utm).buffer(params["roads_buffer_km"] * 1000.0).to_crs("EPSG:4326").iloc[0]
        shapely.prepare(area)
    ways = _Ways(params, area)
    try:
        if path.name.lower().endswith((".osm.pbf", ".pbf")):
            _read_pbf(path, ways)
        else:
            _read_lines(path, ways)
    except InputError:
        raise
    except Exception as exc:  # a file the reader cannot parse
        raise InputError(
            Problem.of("roads.unreadable", file=file, reason=str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        ) from None
    edges = ways.edges()
    if len(edges.u) == 0:
        raise InputError(Problem.of("roads.no_highways", file=file))
    return edges
