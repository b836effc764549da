"""Network stage: a networkx graph of communes, stations and centres, with travel minutes.

Travel model (MODEL.md section 7, no road data): old communes are joined where their polygons
touch (within `adjacency_tolerance_m`, the pack leaves slivers); an edge takes
great-circle distance x `circuity_factor` at the speed of each endpoint's terrain (half the way
each). Stations and centres hang off the commune they stand in; split-commune parts (and, with a
population raster, every demand point) hang off their old commune. Pieces of the province with no land link (islands) are joined to the nearest node of
the pieces already joined by a water link at `sea_speed_kmh` (DOMAIN 1H: a scheduled fast boat),
listed by commune code and name at both ends in `Network.ferry_links`. The code cannot tell a sea
crossing from a river ferry (the pack has no coastline or water layer), so EVERY link between land
pieces is taken as a sea crossing (mode "sea"): a river crossing of a few hundred metres then costs
about a minute instead of the river-ferry default of DOMAIN 1H. Each piece is numbered
(`Network.part_piece`, `Network.centre_piece`: 0 is the largest piece, the mainland). From home to
the commune's point takes the within-commune access time: the mean distance from a point of a
disc of the commune's area to its centre (2/3 of the radius) x circuity at the commune's speed.

Shortest paths: the graph is converted once to a scipy CSR matrix and solved with
`scipy.sparse.csgraph.dijkstra` from every facility at once (benchmarks/RESULTS.md compares it
with networkx's Dijkstra: same minutes, several times faster).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import networkx as nx
import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

if TYPE_CHECKING:
    from .reform import Reformed

EARTH_RADIUS_KM = 6371.0088
EQUAL_AREA = "EPSG:6933"


def haversine_km(lon1: ArrayLike, lat1: ArrayLike, lon2: ArrayLike, lat2: ArrayLike) -> Any:
    """Great-circle km between points (degrees), broadcast: an array for array arguments, a numpy
    float for scalars (hence `Any`)."""
    lon1, lat1, lon2, lat2 = map(np.radians, (lon1, lat1, lon2, lat2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(a))


def terrain_speed(terrain: Iterable[str], params: dict) -> np.ndarray:
    """Road speed (km/h) of each commune's terrain class, times the season's speed factor."""
    speeds = {
        "urban": params["speed_urban_kmh"],
        "lowland": params["speed_lowland_kmh"],
        "mountain": params["speed_mountain_kmh"],
    }
    return np.array([speeds[t] for t in terrain], dtype=float) * params["season_speed_factor"]


@dataclass
class Network:
    """Travel minutes from every demand part to every facility of the province.

    station_minutes[i, j]: minutes from demand part i (row of `Reformed.demand`) to station j
    (`station_codes[j]`), door to door: access time + shortest path. Same for centre_minutes.
    """

    graph: nx.Graph
    access_minutes: np.ndarray
    station_codes: list[str]
    centre_codes: list[str]
    station_minutes: np.ndarray
    centre_minutes: np.ndarray
    station_station: np.ndarray | None = None  # minutes between stations (ns x ns), for staff moves
    centre_station: np.ndarray | None = None  # minutes from centres to stations (nc x ns), for rotation
    ferry_links: list[dict] = field(default_factory=list)
    n_components_before_ferries: int = 1
    part_island: np.ndarray | None = None  # demand parts on a piece joined by a sea link
    part_piece: np.ndarray | None = None  # land piece of each demand part (0 = the mainland, the largest)
    centre_piece: np.ndarray | None = None  # land piece of each centre (`centre_codes` order)
    travel_model: str = "adjacency"  # "adjacency" (this module) or "roads" (roads_graph.py)
    roads: dict | None = None  # the road model's counts (roads_graph.RoadStats), None without roads
    road_lines: np.ndarray | None = None  # the simplified road graph's segments [lon1, lat1, lon2, lat2] (roads only)


def _adjacent_pairs(old, tolerance_m: float) -> list[tuple[str, str]]:
    g = old.geometry
    has = ~(g.isna() | g.is_empty)
    proj = g[has].to_crs(EQUAL_AREA)
    geoms = proj.to_numpy()
    codes = proj.index.to_numpy()
    tree = shapely.STRtree(geoms)
    # the pairs (and their order) of `tree.query(geoms, predicate="dwithin")`, faster: the candidates
    # whose boxes come within the tolerance (a box grown a little more only adds candidates, in the
    # tree's order), then the predicate itself on plain (unprepared) pairs
    grow = tolerance_m * 1.01 + 1.0
    b = shapely.bounds(geoms)
    left, right = tree.query(shapely.box(b[:, 0] - grow, b[:, 1] - grow, b[:, 2] + grow, b[:, 3] + grow))
    near = shapely.dwithin(geoms[left], geoms[right], tolerance_m)
    left, right = left[near], right[near]
    keep = left < right
    return list(zip(codes[left[keep]], codes[right[keep]]))


def build_network(reformed: Reformed, stations: pd.DataFrame, centres: pd.DataFrame, params: dict) -> Network:
    """Graph and door-to-door minutes for the demand parts of `reformed`."""
    old = reformed.old
    demand = reformed.demand
    circuity = params["circuity_factor"]
    speed = pd.Series(terrain_speed(old["terrain"], params), index=old.index)
    G = nx.Graph()
    G.add_nodes_from(
        (("commune", code), {"lon": lo, "lat": la, "kind": "commune"})
        for code, lo, la in zip(old.index, old["pt_lon"], old["pt_lat"])
    )

    def road_minutes(a_lon, a_lat, b_lon, b_lat, v_a, v_b):
        d = haversine_km(a_lon, a_lat, b_lon, b_lat) * circuity
        return float(60.0 * (d / 2 / v_a + d / 2 / v_b)), float(d)

    pairs = _adjacent_pairs(old, params["adjacency_tolerance_m"])
    if pairs:
        ia = old.index.get_indexer([a for a, _ in pairs])
        ib = old.index.get_indexer([b for _, b in pairs])
        lon, lat, v = old["pt_lon"].to_numpy(), old["pt_lat"].to_numpy(), speed.to_numpy()
        km = haversine_km(lon[ia], lat[ia], lon[ib], lat[ib]) * circuity
        mins = 60.0 * (km / 2 / v[ia] + km / 2 / v[ib])
        G.add_edges_from(
            (("commune", a), ("commune", b), {"minutes": float(m), "km": float(k), "mode": "road"})
            for (a, b), m, k in zip(pairs, mins, km)
        )
    # communes without polygon: joined by road to the (at most three) nearest communes within
    # `nopolygon_link_km`; farther ones (the Trường Sa islands) are left to the sea links
    nopoly = old.index[old.geometry.isna() | old.geometry.is_empty]
    if len(nopoly) and len(old) > 1:
        for code in nopoly:
            r = old.loc[code]
            d = haversine_km(r.pt_lon, r.pt_lat, old["pt_lon"].to_numpy(), old["pt_lat"].to_numpy())
            d[old.index.get_loc(code)] = np.inf
            near = [j for j in np.argsort(d)[:3] if d[j] <= params["nopolygon_link_km"]]
            for j in near:
                other = old.index[j]
                mins, km = road_minutes(
                    r.pt_lon, r.pt_lat, old.at[other, "pt_lon"], old.at[other, "pt_lat"], speed[code], speed[other]
                )
                G.add_edge(("commune", code), ("commune", other), minutes=mins, km=km, mode="road_no_polygon")

    # demand parts: split parts, special zones and the points of a population raster (`demand_id`)
    # get their own node
    # (vectorised: a population raster gives tens of thousands of points; same nodes, edges and
    # minutes, in the same order, as one part at a time)
    points = "demand_id" in demand.columns
    d_old = demand["old_code"].to_numpy(dtype=object)
    has_old = np.array([bool(c) for c in d_old], dtype=bool)
    own = ~has_old | demand["split"].to_numpy(dtype=bool) | points
    demand_node: list = [("part", i) if own[i] else ("commune", d_old[i]) for i in range(len(demand))]
    own_at = np.flatnonzero(own)
    d_lon, d_lat = demand["lon"].to_numpy(), demand["lat"].to_numpy()
    G.add_nodes_from((demand_node[i], {"lon": d_lon[i], "lat": d_lat[i], "kind": "part"}) for i in own_at.tolist())
    linked = own_at[has_old[own_at]]
    if len(linked):
        o = old.index.get_indexer(d_old[linked])
        o_lon, o_lat, v_o = old["pt_lon"].to_numpy()[o], old["pt_lat"].to_numpy()[o], speed.to_numpy()[o]
        km = haversine_km(d_lon[linked], d_lat[linked], o_lon, o_lat) * circuity
        mins = 60.0 * (km / 2 / v_o + km / 2 / v_o)
        G.add_edges_from(
            (demand_node[i], ("commune", d_old[i]), {"minutes": float(m), "km": float(k), "mode": "road"})
            for i, m, k in zip(linked.tolist(), mins.tolist(), km.tolist())
        )

    nodes_of_new: dict[str, list] = {}
    for node, new_code in zip(demand_node, demand["new_code"].tolist()):
        nodes_of_new.setdefault(new_code, []).append(node)

    speed_of = dict(zip(old.index, speed.to_numpy().tolist()))
    zone_speed = params["speed_mountain_kmh"] * params["season_speed_factor"]

    def attach(kind: str, codes: list, lon: list, lat: list, old_codes: list, new_codes: list) -> None:
        """A node for each facility and its connector to the node of its old commune (vectorised),
        or, for special zones and new sites, to the nearest demand node of its new commune."""
        G.add_nodes_from(((kind, code), {"lon": lo, "lat": la, "kind": kind}) for code, lo, la in zip(codes, lon, lat))
        on_commune = np.array([bool(o) and ("commune", o) in G for o in old_codes], dtype=bool)
        base: list = [None] * len(codes)
        b_lon, b_lat, v = np.zeros(len(codes)), np.zeros(len(codes)), np.zeros(len(codes))
        for k in np.flatnonzero(on_commune).tolist():
            base[k] = ("commune", old_codes[k])
            b_lon[k], b_lat[k], v[k] = lon_of[old_codes[k]], lat_of[old_codes[k]], speed_of[old_codes[k]]
        for k in np.flatnonzero(~on_commune).tolist():
            cands = nodes_of_new[new_codes[k]]
            d = [haversine_km(lon[k], lat[k], G.nodes[c]["lon"], G.nodes[c]["lat"]) for c in cands]
            base[k] = cands[int(np.argmin(d))]
            b_lon[k], b_lat[k] = G.nodes[base[k]]["lon"], G.nodes[base[k]]["lat"]
            v[k] = speed_of[base[k][1]] if base[k][0] == "commune" else zone_speed
        km = haversine_km(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float), b_lon, b_lat) * circuity
        mins = 60.0 * (km / 2 / v + km / 2 / v)
        G.add_edges_from(
            ((kind, code), b, {"minutes": m, "km": d, "mode": "connector"})
            for code, b, m, d in zip(codes, base, mins.tolist(), km.tolist())
        )

    lon_of = dict(zip(old.index, old["pt_lon"].tolist()))
    lat_of = dict(zip(old.index, old["pt_lat"].tolist()))
    no_new = [""] * len(stations)
    attach(
        "station",
        list(stations.index),
        stations["lon"].tolist(),
        stations["lat"].tolist(),
        stations["old_code"].tolist(),
        stations["new_code"].tolist() if "new_code" in stations else no_new,
    )
    zone = centres["host_new_code"].tolist() if "host_new_code" in centres else [None] * len(centres)
    attach(
        "centre",
        list(centres.index),
        centres["lon"].tolist(),
        centres["lat"].tolist(),
        centres["host_old_code"].tolist(),
        [z or None for z in zone],
    )

    comps = _components(G)
    piece = {n: k for k, comp in enumerate(comps) for n in comp}
    ferry_links, n_comp = _join_components(G, params, _place_names(reformed, demand_node), comps)

    # within-commune access time
    area = old["area_km2"].astype(float)
    area = area.fillna(old["pop_2019"] / old["density_per_km2"]).fillna(area.median())
    part_area = np.where(demand["old_code"] != "", demand["old_code"].map(area).to_numpy(dtype=float), np.nan)
    zone_area = demand["new_code"].map(reformed.new["area_km2"]).to_numpy(dtype=float)
    part_area = np.where(np.isnan(part_area), zone_area, part_area)
    if demand["split"].any():
        share = demand["population"] / demand["old_code"].map(old["pop_2019"]).replace(0, np.nan)
        part_area = np.where(demand["split"], part_area * share.fillna(1.0).to_numpy(), part_area)
    if "area_km2" in demand.columns:  # the points of a population raster: the area each stands for
        own = demand["area_km2"].to_numpy(dtype=float)
        part_area = np.where(np.isnan(own), part_area, own)
    part_speed = np.where(
        demand["old_code"] != "",
        demand["old_code"].map(speed).to_numpy(dtype=float),
        params["speed_mountain_kmh"] * params["season_speed_factor"],
    )
    radius = np.sqrt(np.maximum(part_area, 0) / np.pi)
    access = 60.0 * (2.0 / 3.0) * radius * circuity / part_speed

    nodes = list(G.nodes)
    index = {n: k for k, n in enumerate(nodes)}
    u, v, w = [], [], []
    for a, b, data in G.edges(data=True):
        u.append(index[a])
        v.append(index[b])
        w.append(max(data["minutes"], 1e-9))
    n = len(nodes)
    mat = csr_matrix((np.array(w + w), (np.array(u + v), np.array(v + u))), shape=(n, n))
    station_codes = list(stations.index)
    centre_codes = list(centres.index)
    sources = [index[("station", c)] for c in station_codes] + [index[("centre", c)] for c in centre_codes]
    # the matrix holds both directions of every edge: directed search, same minutes, less work
    dist = dijkstra(mat, directed=True, indices=sources) if sources else np.zeros((0, n))
    dcols = np.array([index[x] for x in demand_node])
    door = dist[:, dcols].T + access[:, None]
    ns = len(station_codes)
    fac = dist[:, np.array(sources, dtype=int)] if sources else np.zeros((0, 0))
    return Network(
        graph=G,
        access_minutes=access,
        station_codes=station_codes,
        centre_codes=centre_codes,
        station_minutes=door[:, :ns],
        centre_minutes=door[:, ns:],
        station_station=fac[:ns, :ns],
        centre_station=fac[ns:, :ns],
        ferry_links=ferry_links,
        n_components_before_ferries=n_comp,
        part_island=np.array([bool(G.nodes[x].get("island", False)) for x in demand_node]),
        part_piece=np.array([piece[x] for x in demand_node], dtype=int),
        centre_piece=np.array([piece[("centre", c)] for c in centre_codes], dtype=int),
    )


def _components(G: nx.Graph) -> list[set]:
    """The land pieces (connected components before the sea links): 0 the largest (the mainland),
    then by size and smallest node name, so the numbering is deterministic."""
    return sorted(nx.connected_components(G), key=lambda c: (-len(c), min(str(x) for x in c)))


def _place_names(reformed: Reformed, demand_node: list) -> dict[Any, tuple[str, str]]:
    """(commune code, name) of each place a sea link may end at: an old commune's node names the old
    commune; a special zone's own node (no old commune) names the special zone."""
    old, new = reformed.old, reformed.new
    out: dict[Any, tuple[str, str]] = {("commune", c): (str(c), str(n)) for c, n in zip(old.index, old["commune_name"])}
    old_name = dict(zip(old.index, old["commune_name"]))
    new_name = dict(zip(new.index, new["commune_name"]))
    d_old, d_new = reformed.demand["old_code"].tolist(), reformed.demand["new_code"].tolist()
    for i, node in enumerate(demand_node):
        if node[0] == "part":
            code = d_old[i] or d_new[i]
            name = old_name[code] if code in old_name else new_name[code]
            out[node] = (str(code), str(name))
    return out


def _join_components(G: nx.Graph, params: dict, names: dict[Any, tuple[str, str]], comps: list[set]) -> tuple[list[dict], int]:
    """Join every piece without a land link (islands) by sea edges at `sea_speed_kmh`, island by
    island: each time the piece nearest to the pieces already joined, by its nearest pair of places
    (a spanning tree over pieces, starting from the largest; `nodes`: the nodes of the piece joined).
    Then a direct crossing between any two pieces, nearest pairs first, wherever the links so far
    take longer than going straight across (an island of a district joined to the mainland rather
    than to its district's island: Thanh Lân and Cô Tô); `nodes` 0. Every link is listed with the
    commune code and name at both ends (`names`), its km, minutes and mode. `comps`: the pieces of
    `G` (`_components`)."""
    links: list[dict] = []
    if len(comps) <= 1:
        return links, len(comps)

    def places(comp):
        nodes = sorted((n for n in comp if G.nodes[n]["kind"] in ("commune", "part")), key=str) or sorted(comp, key=str)
        return nodes, np.array([G.nodes[n]["lon"] for n in nodes]), np.array([G.nodes[n]["lat"] for n in nodes])

    def link(a, b, km: float, nodes: int) -> None:
        minutes = 60.0 * km / params["sea_speed_kmh"]
        G.add_edge(a, b, minutes=minutes, km=km, mode="sea")
        (fa, fa_name), (to, to_name) = names.get(a, (str(a[1]), str(a[1]))), names.get(b, (str(b[1]), str(b[1])))
        links.append(
            {
                "from": fa,
                "from_name": fa_name,
                "to": to,
                "to_name": to_name,
                "km": round(km, 2),
                "minutes": round(minutes, 1),
                "mode": "sea",
                "nodes": nodes,
            }
        )

    pl = [places(comp) for comp in comps]
    cache: dict[tuple[int, int], tuple[float, Any, Any]] = {}

    def nearest(i: int, j: int) -> tuple[float, Any, Any]:  # the nearest pair of places of pieces i and j
        if (i, j) in cache:
            return cache[i, j]
        pa, pb = pl[i], pl[j]
        best: tuple[float, Any, Any] | None = None
        for k, n in enumerate(pa[0]):
            d = haversine_km(pa[1][k], pa[2][k], pb[1], pb[2])
            m = int(np.argmin(d))
            if best is None or d[m] < best[0]:
                best = (float(d[m]), n, pb[0][m])
        assert best is not None
        cache[i, j] = best
        return best

    joined = [0]
    waiting = list(range(1, len(comps)))
    while waiting:
        km, a, b, w = min((nearest(w, j) + (w,) for w in waiting for j in joined), key=lambda x: (x[0], x[3]))
        waiting.remove(w)
        link(a, b, km, len(comps[w]))
        for n in comps[w]:
            G.nodes[n]["island"] = True
        joined.append(w)
    # a direct crossing between two pieces where the links above route the boat a longer way round
    # (an island joined to the mainland next to another island): nearest pairs first
    pairs = sorted(
        (nearest(i, j) + (i, j) for i in range(len(comps)) for j in range(i + 1, len(comps))),
        key=lambda x: (x[0], x[3], x[4]),
    )
    for km, a, b, _i, _j in pairs:
        direct = 60.0 * km / params["sea_speed_kmh"]
        if nx.shortest_path_length(G, a, b, weight="minutes") > direct + 1e-9:
            link(a, b, km, 0)
    return links, len(comps)
