"""Travel minutes on a road network (issue 12 point 2): the `roads` travel model.

For a demand point d and a facility f (the contract other tools can re-check):

    minutes(d, f) = min(direct, routed)
    routed = off-road km from d to its nearest road node / `offroad_speed_kmh`
             + shortest path on the road graph from that node to f's nearest road node
             + off-road km from f's nearest road node to f / `offroad_speed_kmh`
    direct = great-circle km from d to f x `circuity_factor` / `offroad_speed_kmh`

Edge minutes come from reorg/roads.py (class speed x multipliers x season; one-way streets are
travelled one way; ferries by their duration or `ferry_speed_kmh`). "Nearest road node" is the
nearest vertex of any kept way (every OSM node, before simplification). Islands: the sea links of
the adjacency model (network.py, at `sea_speed_kmh`) are kept: each link's two ends become graph
nodes joined by the crossing, and each end is joined off-road to its nearest road node when one
lies within `snap_max_km`. An island the road file does not cover (no road node within
`snap_max_km` of any of its places) keeps the adjacency model's links between its places. These
places are snapping targets like road nodes, so a point on an island with no road still reaches
the mainland by sea. A point farther than `snap_max_km` from
every road node is flagged (a warning naming the commune and the distance) and still routed.
There is no within-commune access time: the minutes are those of the formula, door to door.

The graph is simplified before the shortest paths: every node with exactly two neighbours that no
point snaps to is contracted (its two edges become one per direction, minutes added), which keeps
every shortest path. `scipy.sparse.csgraph.dijkstra` then runs on the reversed graph from the
nodes of all facilities (in chunks, keeping only the columns of snapped nodes), so each row gives
the minutes from every node TO a facility. Staff moves (`station_station[a, b]`: a -> b) and
rotations (`centre_station[c, s]`: c -> s) use the same formula between facilities.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from ._errors import Problem
from .network import Network, build_network, haversine_km
from .roads import RoadEdges

if TYPE_CHECKING:
    from .reform import Reformed

DIJKSTRA_CHUNK = 32  # sources per scipy call: the chunk's rows x all nodes are held at once


@dataclass
class RoadGraph:
    """A directed graph in minutes: edge k u[k] -> v[k]; nodes at lon/lat (degrees)."""

    lon: np.ndarray
    lat: np.ndarray
    u: np.ndarray
    v: np.ndarray
    minutes: np.ndarray


@dataclass
class Snap:
    """Nearest graph node of each point and the great-circle km to it."""

    node: np.ndarray
    km: np.ndarray


@dataclass
class RoadStats:
    """What summary.json `network.roads` reports."""

    ways: int
    ferries: int
    nodes_before: int
    edges_before: int
    nodes_after: int
    edges_after: int
    sea_links: int
    snapped_points: int
    flagged_points: int
    flagged: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _xyz(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    lo, la = np.radians(lon), np.radians(lat)
    return np.column_stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])


def node_tree(node_lon: np.ndarray, node_lat: np.ndarray) -> cKDTree:
    """The search tree of `snap` over nodes (built once for many snaps: a million road nodes)."""
    return cKDTree(_xyz(node_lon, node_lat))


def snap(lon: Any, lat: Any, node_lon: np.ndarray, node_lat: np.ndarray, tree: cKDTree | None = None) -> Snap:
    """The nearest node to each point (great-circle: the nearest chord on the unit sphere);
    `tree`: `node_tree(node_lon, node_lat)` when already built."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    if len(lon) == 0 or len(node_lon) == 0:
        return Snap(np.zeros(len(lon), dtype=np.int64), np.full(len(lon), np.inf))
    _, idx = (tree if tree is not None else node_tree(node_lon, node_lat)).query(_xyz(lon, lat))
    idx = np.asarray(idx, dtype=np.int64)
    return Snap(idx, np.asarray(haversine_km(lon, lat, node_lon[idx], node_lat[idx]), dtype=float))


def undirected_pairs(u: np.ndarray, v: np.ndarray, minutes: np.ndarray) -> pd.DataFrame:
    """One row per pair of neighbour nodes a < b: the least minutes a -> b (`ab`) and b -> a (`ba`),
    inf where there is no edge that way."""
    a, b = np.minimum(u, v), np.maximum(u, v)
    fwd = u < v
    frame = pd.DataFrame({"a": a, "b": b, "ab": np.where(fwd, minutes, np.inf), "ba": np.where(fwd, np.inf, minutes)})
    frame = frame[frame["a"] != frame["b"]]
    return frame.groupby(["a", "b"], sort=True, as_index=False).min()


def contract(pairs: pd.DataFrame, n: int, keep: np.ndarray) -> pd.DataFrame:
    """Contract every node with exactly two neighbours that is not in `keep` (bool, n): the chain
    s - x1 - ... - xk - t becomes one pair s - t with the minutes added each way (parallel pairs:
    the least). Cycles of contractible nodes alone are dropped (no point reaches them)."""
    a, b = pairs["a"].to_numpy(), pairs["b"].to_numpy()
    ab, ba = pairs["ab"].to_numpy(), pairs["ba"].to_numpy()
    src = np.concatenate([a, b])
    dst = np.concatenate([b, a])
    out_w = np.concatenate([ab, ba])
    in_w = np.concatenate([ba, ab])
    order = np.argsort(src, kind="stable")
    src, dst, out_w, in_w = src[order], dst[order], out_w[order], in_w[order]
    indptr = np.searchsorted(src, np.arange(n + 1))
    degree = np.diff(indptr)
    through = (degree == 2) & ~keep
    # a pair between two nodes that stay is kept as it is (vectorised); chains are walked in Python
    direct = ~through[a] & ~through[b]
    frames = [pairs[direct]]
    src_l, dst_l, out_l, in_l, ptr = src.tolist(), dst.tolist(), out_w.tolist(), in_w.tolist(), indptr.tolist()
    through_l = through.tolist()
    rows: list[tuple[int, int, float, float]] = []
    starts = np.flatnonzero(~through[src] & through[dst])  # an edge from a node that stays into a chain
    for e in starts.tolist():
        prev, cur, w_out, w_in = src_l[e], dst_l[e], out_l[e], in_l[e]
        s = prev
        while through_l[cur]:
            e0 = ptr[cur]
            nxt = e0 if dst_l[e0] != prev else e0 + 1
            prev, cur = cur, dst_l[nxt]
            w_out += out_l[nxt]
            w_in += in_l[nxt]
        if s < cur:
            rows.append((s, cur, w_out, w_in))
        elif s > cur:
            rows.append((cur, s, w_in, w_out))
    walked = np.array(rows, dtype=float).reshape(-1, 4)
    frames.append(
        pd.DataFrame(
            {"a": walked[:, 0].astype(np.int64), "b": walked[:, 1].astype(np.int64), "ab": walked[:, 2], "ba": walked[:, 3]}
        )
    )
    frame = pd.concat(frames, ignore_index=True)
    frame = frame[np.isfinite(frame["ab"]) | np.isfinite(frame["ba"])]
    return frame.groupby(["a", "b"], sort=True, as_index=False).min()


def minutes_to(pairs: pd.DataFrame, n: int, targets: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """dist[k, c]: least minutes from node columns[c] to node targets[k] over `pairs` (nodes
    numbered below `n`)."""
    a, b = pairs["a"].to_numpy(), pairs["b"].to_numpy()
    ab, ba = pairs["ab"].to_numpy(), pairs["ba"].to_numpy()
    u = np.concatenate([a[np.isfinite(ab)], b[np.isfinite(ba)]])
    v = np.concatenate([b[np.isfinite(ab)], a[np.isfinite(ba)]])
    w = np.maximum(np.concatenate([ab[np.isfinite(ab)], ba[np.isfinite(ba)]]), 1e-9)
    # only the nodes the contracted graph uses, targets and columns, numbered 0..m-1: each
    # Dijkstra then costs the contracted graph's size, not the road file's node count
    nodes, local = np.unique(np.concatenate([u, v, targets, columns]), return_inverse=True)
    m = len(nodes)
    lu, lv = local[: len(u)], local[len(u) : len(u) + len(v)]
    lt, lc = local[len(u) + len(v) : len(u) + len(v) + len(targets)], local[len(u) + len(v) + len(targets) :]
    reverse = csr_matrix((w, (lv, lu)), shape=(m, m))  # edges reversed: dijkstra from a target
    out = np.empty((len(targets), len(columns)))
    for k in range(0, len(targets), DIJKSTRA_CHUNK):
        chunk = lt[k : k + DIJKSTRA_CHUNK]
        out[k : k + len(chunk)] = dijkstra(reverse, directed=True, indices=chunk)[:, lc]
    return out


def _sea_links(base: Network) -> list[tuple[Any, Any, float]]:
    """(node a, node b, minutes) of the adjacency model's sea links, in a fixed order."""
    edges = sorted(base.graph.edges(data=True), key=lambda e: (str(e[0]), str(e[1])))
    return [(a, b, float(data["minutes"])) for a, b, data in edges if data.get("mode") == "sea"]


def _roadless_islands(base: Network, edges: RoadEdges, params: dict, tree: cKDTree | None) -> list[Any]:
    """The adjacency nodes of every land piece other than the mainland (the largest) that has no
    road node within `snap_max_km` of any of its places: an island the road file does not cover."""
    import networkx as nx

    land = nx.Graph(base.graph)
    land.remove_edges_from([(a, b) for a, b, _ in _sea_links(base)])
    comps = sorted(nx.connected_components(land), key=lambda c: (-len(c), min(str(x) for x in c)))
    out: list[Any] = []
    for comp in comps[1:]:
        nodes = sorted(comp, key=str)
        near = snap([land.nodes[x]["lon"] for x in nodes], [land.nodes[x]["lat"] for x in nodes], edges.lon, edges.lat, tree)
        if not (near.km <= params["snap_max_km"]).any():
            out += nodes
    return out


def with_sea_links(edges: RoadEdges, base: Network, params: dict, *, tree: cKDTree | None = None) -> tuple[RoadGraph, int]:
    """The road edges plus the sea links of the adjacency model and, on islands the road file does
    not cover, the adjacency model's own links: those places become graph nodes (after the road
    nodes), each joined off-road to its nearest road node within `snap_max_km`. Returns the graph
    and the number of road nodes (the first ones). `tree`: `node_tree` of the road nodes, if built."""
    g = base.graph
    n_road = len(edges.lon)
    links = _sea_links(base)
    tree = tree if tree is not None else node_tree(edges.lon, edges.lat)
    roadless = _roadless_islands(base, edges, params, tree)
    extra: dict[Any, int] = {}
    for node in [*roadless, *(x for a, b, _ in links for x in (a, b))]:
        extra.setdefault(node, n_road + len(extra))
    places = list(extra)
    p_lon = np.array([g.nodes[x]["lon"] for x in places], dtype=float)
    p_lat = np.array([g.nodes[x]["lat"] for x in places], dtype=float)
    u, v, m = [edges.u], [edges.v], [edges.minutes]

    def both(a: int, b: int, minutes: float) -> None:
        u.append(np.array([a, b]))
        v.append(np.array([b, a]))
        m.append(np.array([minutes, minutes]))

    for a, b, minutes in links:
        both(extra[a], extra[b], minutes)
    inside = set(roadless)
    for a, b, data in sorted(g.subgraph(roadless).edges(data=True), key=lambda e: (str(e[0]), str(e[1]))):
        if data.get("mode") != "sea" and a in inside and b in inside:
            both(extra[a], extra[b], float(data["minutes"]))
    near = snap(p_lon, p_lat, edges.lon, edges.lat, tree)
    for k, (node, km) in enumerate(zip(near.node.tolist(), near.km.tolist())):
        if km <= params["snap_max_km"]:
            both(n_road + k, node, 60.0 * km / params["offroad_speed_kmh"])
    graph = RoadGraph(
        lon=np.concatenate([edges.lon, p_lon]),
        lat=np.concatenate([edges.lat, p_lat]),
        u=np.concatenate(u),
        v=np.concatenate(v),
        minutes=np.concatenate(m),
    )
    return graph, n_road


def point_minutes(
    params: dict,
    from_lonlat: tuple[np.ndarray, np.ndarray],
    from_snap: Snap,
    to_lonlat: tuple[np.ndarray, np.ndarray],
    to_snap: Snap,
    dist: np.ndarray,
    column: dict[int, int],
    row: dict[int, int],
) -> np.ndarray:
    """minutes[i, j] from point i to point j by the formula of this module (dist: minutes from the
    snapped nodes to the target nodes, rows by `row`, columns by `column`)."""
    speed = params["offroad_speed_kmh"]
    off_from = 60.0 * from_snap.km / speed
    off_to = 60.0 * to_snap.km / speed
    rows = np.array([row[int(x)] for x in to_snap.node], dtype=np.int64)
    cols = np.array([column[int(x)] for x in from_snap.node], dtype=np.int64)
    routed = off_from[:, None] + dist[np.ix_(rows, cols)].T + off_to[None, :]
    flon, flat = from_lonlat
    tlon, tlat = to_lonlat
    km = haversine_km(flon[:, None], flat[:, None], tlon[None, :], tlat[None, :])
    direct = 60.0 * np.asarray(km, dtype=float) * params["circuity_factor"] / speed
    return np.minimum(direct, routed)


def road_network(
    reformed: Reformed,
    stations: pd.DataFrame,
    centres: pd.DataFrame,
    params: dict,
    edges: RoadEdges,
    *,
    file: str,
    base: Network | None = None,
) -> tuple[Network, RoadStats, list[Problem]]:
    """The Network of `build_network` (same fields, same pieces and sea links) with every minute on
    roads by the formula of this module; its statistics and the flagged points (warnings)."""
    base = base if base is not None else build_network(reformed, stations, centres, params)
    road_tree = node_tree(edges.lon, edges.lat)  # built once: a road file has up to millions of nodes
    graph, n_road = with_sea_links(edges, base, params, tree=road_tree)
    n = len(graph.lon)
    graph_tree = road_tree if n == n_road else node_tree(graph.lon, graph.lat)
    demand = reformed.demand
    d_lonlat = (demand["lon"].to_numpy(dtype=float), demand["lat"].to_numpy(dtype=float))
    fac_lon = np.concatenate([stations["lon"].to_numpy(dtype=float), centres["lon"].to_numpy(dtype=float)])
    fac_lat = np.concatenate([stations["lat"].to_numpy(dtype=float), centres["lat"].to_numpy(dtype=float)])
    d_snap = snap(*d_lonlat, graph.lon, graph.lat, graph_tree)
    f_snap = snap(fac_lon, fac_lat, graph.lon, graph.lat, graph_tree)

    keep = np.zeros(n, dtype=bool)
    keep[n_road:] = True  # sea-link ends
    keep[d_snap.node] = True
    keep[f_snap.node] = True
    pairs_before = undirected_pairs(graph.u, graph.v, graph.minutes)
    pairs = contract(pairs_before, n, keep)
    targets = np.unique(f_snap.node)
    columns = np.unique(np.concatenate([d_snap.node, f_snap.node]))
    dist = minutes_to(pairs, n, targets, columns)
    row = {int(x): k for k, x in enumerate(targets)}
    column = {int(x): k for k, x in enumerate(columns)}

    ns = len(stations)
    f_lonlat = (fac_lon, fac_lat)
    demand_min = point_minutes(params, d_lonlat, d_snap, f_lonlat, f_snap, dist, column, row)
    fac_min = point_minutes(params, f_lonlat, f_snap, f_lonlat, f_snap, dist, column, row)
    np.fill_diagonal(fac_min, 0.0)

    # flagged: farther than snap_max_km from every ROAD node (a sea-link end is not a road)
    road_d = snap(*d_lonlat, edges.lon, edges.lat, road_tree)
    road_f = snap(fac_lon, fac_lat, edges.lon, edges.lat, road_tree)
    limit = params["snap_max_km"]
    flagged: list[dict] = []
    warnings: list[Problem] = []
    old = reformed.old
    far: dict[str, list[float]] = {}  # demand points by commune: many per commune with a population raster
    for i in np.flatnonzero(road_d.km > limit).tolist():
        far.setdefault(str(demand.at[i, "old_code"] or demand.at[i, "new_code"]), []).append(float(road_d.km[i]))
    for code, kms in far.items():
        name = str(old.at[code, "commune_name"]) if code in old.index else str(reformed.new.at[code, "commune_name"])
        flagged.append({"kind": "demand", "code": code, "name": name, "km": round(max(kms), 2), "points": len(kms)})
    fac_codes = [*map(str, stations.index), *map(str, centres.index)]
    st_old = stations["old_code"].astype(str).tolist()
    for j in np.flatnonzero(road_f.km > limit).tolist():
        if j < ns:  # a station is named by its old commune
            name = str(old.at[st_old[j], "commune_name"]) if st_old[j] in old.index else ""
        else:
            name = str(centres["name"].iloc[j - ns]) if "name" in centres else ""
        kind = "station" if j < ns else "centre"
        flagged.append({"kind": kind, "code": fac_codes[j], "name": name, "km": round(float(road_f.km[j]), 2)})
    for f in flagged:
        if f.get("points", 1) > 1:
            warnings.append(
                Problem.of(
                    "roads.far_from_road_points",
                    file=file,
                    code=f["code"],
                    severity="warning",
                    n=f["points"],
                    km=f["km"],
                    limit=limit,
                )
            )
        else:
            warnings.append(
                Problem.of("roads.far_from_road", file=file, code=f["code"], severity="warning", km=f["km"], limit=limit)
            )
    used = np.unique(np.concatenate([pairs["a"].to_numpy(), pairs["b"].to_numpy()])) if len(pairs) else np.zeros(0)
    stats = RoadStats(
        ways=edges.ways,
        ferries=edges.ferries,
        nodes_before=n_road,
        # the road pairs: those between two road nodes (every other pair has a sea-link end)
        edges_before=int(np.count_nonzero((pairs_before["a"].to_numpy() < n_road) & (pairs_before["b"].to_numpy() < n_road))),
        nodes_after=int(np.count_nonzero(used < n_road)),
        edges_after=int(len(pairs)),
        sea_links=len(_sea_links(base)),
        snapped_points=int(np.count_nonzero(road_d.km <= limit) + np.count_nonzero(road_f.km <= limit)),
        flagged_points=int(sum(f.get("points", 1) for f in flagged)),
        flagged=flagged,
    )
    net = dataclasses.replace(
        base,
        access_minutes=np.zeros(len(demand)),
        station_minutes=demand_min[:, :ns],
        centre_minutes=demand_min[:, ns:],
        station_station=fac_min[:ns, :ns],
        centre_station=fac_min[ns:, :ns],
        travel_model="roads",
        roads=stats.as_dict(),
        road_lines=_segments(pairs, graph, n_road),
    )
    return net, stats, warnings


def _segments(pairs: Any, graph: Any, n_road: int) -> np.ndarray:
    """The simplified road graph's segments between road nodes (sea-link ends left out), as rows
    [lon1, lat1, lon2, lat2], for the map's road layer."""
    if not len(pairs):
        return np.zeros((0, 4))
    a, b = pairs["a"].to_numpy(), pairs["b"].to_numpy()
    on_road = (a < n_road) & (b < n_road)
    a, b = a[on_road], b[on_road]
    return np.column_stack([graph.lon[a], graph.lat[a], graph.lon[b], graph.lat[b]])
