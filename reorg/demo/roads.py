"""A SYNTHETIC road network for the demo province: `roads_synthetic.osm.pbf`, written with pyosmium.

Nothing in it is real. Every old commune's point (`lon`, `lat` of the pack) is a road junction,
except the westernmost mountain commune, left with no road (its point is flagged as farther than
`snap_max_km` from any road). The roads are the minimum spanning tree of the other points plus,
for each point, the link to its second-nearest neighbour (loops, so there are alternative routes),
each drawn as a gently winding line with a vertex about every 400 m (nodes of degree 2 that the
simplification contracts). Classes and surfaces follow the terrain: in the mountainous west
tracks (gravel, tracktype grade3 or grade4, some with smoothness=bad) and unclassified roads
(compacted); in the lowland east residential (concrete), tertiary (asphalt) and secondary
(asphalt, maxspeed 50); the shortest route from the westernmost to the easternmost junction is
a primary road (asphalt). Two more ways: a one-way residential street (`oneway=yes`) straight
between two eastern junctions, and a ferry (`route=ferry`, `duration=00:25`) between two
junctions that are far apart by road. Every way carries `note=synthetic`, and the file's header
names it synthetic.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
from scipy.sparse.csgraph import minimum_spanning_tree
from scipy.spatial import distance_matrix

FILE = "roads_synthetic.osm.pbf"
STEP_KM = 0.4  # a vertex about every 400 m
KM_PER_DEG_LAT = 111.2


def _plane(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Local km plane (equirectangular about the mean latitude), for lengths and neighbours."""
    k = np.cos(np.radians(lat.mean()))
    return np.column_stack([lon * KM_PER_DEG_LAT * k, lat * KM_PER_DEG_LAT])


def road_layout(before: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int, dict[str, str]]], list]:
    """The junctions (lon, lat), the ways between junctions as (i, j, tags), and the excluded commune codes."""
    order = np.argsort(before["commune_code"].to_numpy())
    lon = before["lon"].to_numpy(dtype=float)[order]
    lat = before["lat"].to_numpy(dtype=float)[order]
    codes = before["commune_code"].to_numpy()[order]
    xy = _plane(lon, lat)
    west_cut = np.median(xy[:, 0])
    remote = int(np.argmin(xy[:, 0]))  # the westernmost commune: no road
    keep = np.array([k for k in range(len(lon)) if k != remote])
    dist = distance_matrix(xy[keep], xy[keep])
    tree = minimum_spanning_tree(dist).tocoo()
    pairs = {(min(a, b), max(a, b)) for a, b in zip(tree.row.tolist(), tree.col.tolist())}
    for a in range(len(keep)):
        second = int(np.argsort(dist[a])[2])
        pairs.add((min(a, second), max(a, second)))
    pairs_l = sorted(pairs)
    g = nx.Graph()
    for a, b in pairs_l:
        g.add_edge(a, b, km=dist[a, b])
    wi, ei = int(np.argmin(xy[keep, 0])), int(np.argmax(xy[keep, 0]))
    path = nx.shortest_path(g, wi, ei, weight="km")
    primary = {(min(a, b), max(a, b)) for a, b in zip(path[:-1], path[1:])}
    east_lengths = sorted(dist[a, b] for a, b in pairs_l if xy[keep[a], 0] > west_cut and xy[keep[b], 0] > west_cut)
    cut1, cut2 = np.quantile(east_lengths, [1 / 3, 2 / 3]) if east_lengths else (0.0, 0.0)
    ways: list[tuple[int, int, dict[str, str]]] = []
    for n, (a, b) in enumerate(pairs_l):
        east = xy[keep[a], 0] > west_cut and xy[keep[b], 0] > west_cut
        west = xy[keep[a], 0] <= west_cut and xy[keep[b], 0] <= west_cut
        if (a, b) in primary:
            tags = {"highway": "primary", "surface": "asphalt", "ref": "QL-DEMO"}
        elif east:
            length = dist[a, b]
            if length <= cut1:
                tags = {"highway": "residential", "surface": "concrete"}
            elif length <= cut2:
                tags = {"highway": "tertiary", "surface": "asphalt"}
            else:
                tags = {"highway": "secondary", "surface": "asphalt", "maxspeed": "50"}
        elif west:
            tags = {"highway": "track", "surface": "gravel", "tracktype": "grade3" if n % 2 else "grade4"}
            if n % 3 == 0:
                tags["smoothness"] = "bad"
        else:
            tags = {"highway": "unclassified", "surface": "compacted"}
        ways.append((int(keep[a]), int(keep[b]), tags))
    # a one-way street straight between the two nearest eastern junctions not yet joined directly
    east_nodes = [k for k in range(len(keep)) if xy[keep[k], 0] > west_cut]
    best = min(
        ((dist[a, b], a, b) for i, a in enumerate(east_nodes) for b in east_nodes[i + 1 :] if (a, b) not in pairs),
        default=None,
    )
    if best is not None:
        ways.append((int(keep[best[1]]), int(keep[best[2]]), {"highway": "residential", "oneway": "yes", "surface": "asphalt"}))
    # a ferry between two junctions far apart by road compared with the straight line
    by_road = dict(nx.all_pairs_dijkstra_path_length(g, weight="km"))
    ratio, fa, fb = max(
        (by_road[a][b] / dist[a, b], a, b) for a in range(len(keep)) for b in range(a + 1, len(keep)) if 2 < dist[a, b] < 8
    )
    ways.append((int(keep[fa]), int(keep[fb]), {"route": "ferry", "duration": "00:25", "name": "Phà Mẫu (synthetic)"}))
    return lon, lat, ways, [str(codes[remote])]


def write_demo_roads(before: gpd.GeoDataFrame, path: Path) -> Path:
    """Write the synthetic road network of the demo pack's old communes `before` to `path` (.osm.pbf)."""
    import osmium

    lon, lat, ways, _ = road_layout(before)
    xy = _plane(lon, lat)
    node_id = {k: k + 1 for k in range(len(lon))}  # junction k is OSM node k + 1
    next_node = len(lon) + 1
    nodes: list[tuple[int, float, float]] = [(node_id[k], lon[k], lat[k]) for k in range(len(lon))]
    way_nodes: list[tuple[list[int], dict[str, str]]] = []
    for n, (a, b, tags) in enumerate(ways):
        length = float(np.hypot(*(xy[b] - xy[a])))
        steps = 1 if tags.get("route") == "ferry" or tags.get("oneway") else max(1, int(round(length / STEP_KM)))
        ids = [node_id[a]]
        for s in range(1, steps):
            t = s / steps
            wiggle = 0.03 * length * np.sin(np.pi * t) * (1 if n % 2 else -1)  # a gentle bend, km
            dx, dy = xy[b] - xy[a]
            norm = np.hypot(dx, dy) or 1.0
            px = xy[a][0] + t * dx - wiggle * dy / norm
            py = xy[a][1] + t * dy + wiggle * dx / norm
            k = np.cos(np.radians(lat.mean()))
            nodes.append((next_node, px / (KM_PER_DEG_LAT * k), py / KM_PER_DEG_LAT))
            ids.append(next_node)
            next_node += 1
        ids.append(node_id[b])
        way_nodes.append((ids, {**tags, "note": "synthetic"}))
    if path.exists():
        path.unlink()
    header = osmium.io.Header()
    header.set("generator", "reorg demo-pack (synthetic road network, not real data)")
    writer = osmium.SimpleWriter(str(path), header=header)
    try:
        for nid, x, y in nodes:
            writer.add_node(osmium.osm.mutable.Node(id=nid, location=osmium.osm.Location(float(x), float(y)), version=1))
        for wid, (ids, tags) in enumerate(way_nodes, start=1):
            writer.add_way(osmium.osm.mutable.Way(id=wid, nodes=ids, tags=tags, version=1))
    finally:
        writer.close()
    return path
