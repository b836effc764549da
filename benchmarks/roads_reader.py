"""Which OSM reader for `[travel] roads`, by measurement, and scipy's Dijkstra against networkx's.

Writes a SYNTHETIC province-size road network (an n x n grid of nodes about 150 m apart near
18.9 N 105.3 E, ways of 20 nodes along every row and column: about 2 n^2 segments, one in ten
ways a track with a surface, a few one-way) with pyosmium, then reads it with:

- pyosmium (`reorg.roads.read_roads`, the reader reorg uses: ways to directed edges in minutes);
- pyogrio / GDAL's OSM driver (`lines` layer, the tags parsed from `other_tags`, node identity
  rebuilt from coordinates: the minimum any reader of that layer needs before pricing edges);
- pyrosm (`OSM(path).get_network("all")`), when it imports.

Then the shortest paths: reorg's contraction + `scipy.sparse.csgraph.dijkstra` from `--sources`
nodes against networkx's `single_source_dijkstra_path_length` on the same directed edges (the
same minutes to 1e-6 are checked).

    python benchmarks/roads_reader.py --n 700 --sources 20

Prints one line per measurement (seconds, peak MB of the step is not separated: one process).
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from pathlib import Path

import numpy as np


def write_grid(path: Path, n: int) -> int:
    import osmium

    step = 0.0014  # degrees, about 150 m
    lon0, lat0 = 105.3, 18.9
    header = osmium.io.Header()
    header.set("generator", "reorg benchmarks/roads_reader.py (synthetic)")
    # uncompressed blocks: GDAL 3.12's OSM driver (pyogrio wheel) fails on pyosmium's zlib blocks
    # past a few thousand nodes ("error during the parsing of data"); both read uncompressed ones
    writer = osmium.SimpleWriter(osmium.io.File(str(path), "pbf,pbf_compression=none"), header=header)
    for i in range(n):
        for j in range(n):
            writer.add_node(
                osmium.osm.mutable.Node(
                    id=i * n + j + 1, location=osmium.osm.Location(lon0 + j * step, lat0 + i * step), version=1
                )
            )
    wid = 0
    segments = 0
    for axis in (0, 1):
        for i in range(n):
            for start in range(0, n - 1, 19):
                ids = [(i * n + j + 1) if axis == 0 else (j * n + i + 1) for j in range(start, min(start + 20, n))]
                if len(ids) < 2:
                    continue
                wid += 1
                tags = {"highway": "residential", "surface": "concrete"}
                if wid % 10 == 0:
                    tags = {"highway": "track", "surface": "gravel", "tracktype": "grade3"}
                elif wid % 37 == 0:
                    tags = {"highway": "residential", "oneway": "yes"}
                elif i % 25 == 0:
                    tags = {"highway": "secondary", "surface": "asphalt"}
                writer.add_way(osmium.osm.mutable.Way(id=wid, nodes=ids, tags=tags, version=1))
                segments += len(ids) - 1
    writer.close()
    return segments


def read_pyosmium(path: Path) -> int:
    from reorg import params, roads

    edges = roads.read_roads(path, params.defaults())
    return len(edges.u)


def read_pyogrio(path: Path) -> int:
    import pyogrio

    from reorg import params, roads

    gdf = pyogrio.read_dataframe(path, layer="lines")
    p = params.defaults()
    count = 0
    for geom, highway, other in zip(gdf.geometry, gdf["highway"], gdf["other_tags"]):
        tags = {"highway": highway}
        for item in (other or "").split('","'):
            if "=>" in item:
                k, v = item.split("=>", 1)
                tags[k.strip('"')] = v.strip('"')
        if roads.way_speed(tags, p) is None:
            continue
        xy = np.asarray(geom.coords)
        np.round(xy * 1e7).astype(np.int64)  # node identity from coordinates
        count += len(xy) - 1
    return count


def read_pyrosm(path: Path) -> int:
    from pyrosm import OSM

    _, edges = OSM(str(path)).get_network("all", nodes=True)  # one row per segment, with node ids
    return 0 if edges is None else len(edges)


def iterate_pyosmium(path: Path) -> int:
    """pyosmium's raw read alone (the ways' node ids and coordinates into Python), without pricing."""
    import osmium

    fp = osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY).with_locations()
    count = 0
    for obj in fp.with_filter(osmium.filter.KeyFilter("highway", "route")):
        if isinstance(obj, osmium.osm.Way):
            count += len([(n.ref, n.lon, n.lat) for n in obj.nodes]) - 1
    return count


def dijkstra_check(path: Path, sources: int) -> None:
    import networkx as nx

    from reorg import params, roads, roads_graph

    edges = roads.read_roads(path, params.defaults())
    n = len(edges.lon)
    rng = np.random.default_rng(0)
    src = np.sort(rng.choice(n, sources, replace=False))
    cols = np.sort(rng.choice(n, 200, replace=False))
    keep = np.zeros(n, dtype=bool)
    keep[src] = True
    keep[cols] = True
    t = time.perf_counter()
    pairs = roads_graph.contract(roads_graph.undirected_pairs(edges.u, edges.v, edges.minutes), n, keep)
    t_contract = time.perf_counter() - t
    t = time.perf_counter()
    dist = roads_graph.minutes_to(pairs, n, src, cols)
    t_scipy = time.perf_counter() - t
    print(
        f"contraction: {n:,} nodes -> {len(pairs):,} pairs in {t_contract:.2f} s; scipy dijkstra to {sources} targets: {t_scipy:.2f} s"
    )
    g = nx.DiGraph()
    g.add_weighted_edges_from(zip(edges.v.tolist(), edges.u.tolist(), edges.minutes.tolist()), weight="minutes")  # reversed
    t = time.perf_counter()
    worst = 0.0
    for k, s in enumerate(src.tolist()):
        lengths = nx.single_source_dijkstra_path_length(g, s, weight="minutes")
        for c, node in enumerate(cols.tolist()):
            worst = max(worst, abs(lengths.get(node, math.inf) - dist[k, c]) if node in lengths else 0.0)
    t_nx = time.perf_counter() - t
    print(
        f"networkx dijkstra (uncontracted) {sources} sources: {t_nx:.2f} s; largest difference {worst:.2e} min; speed-up x{t_nx / (t_contract + t_scipy):.1f}"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=700, help="grid side (about 2 n^2 segments)")
    ap.add_argument("--sources", type=int, default=20, help="Dijkstra sources compared with networkx (0: none)")
    args = ap.parse_args()
    import osmium  # noqa: F401  (imports before any timing)
    import pyogrio  # noqa: F401

    from reorg import roads, roads_graph  # noqa: F401

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "grid.osm.pbf"
        t = time.perf_counter()
        segments = write_grid(path, args.n)
        print(
            f"wrote {segments:,} segments, {args.n * args.n:,} nodes, {path.stat().st_size / 1e6:.1f} MB in {time.perf_counter() - t:.1f} s"
        )
        readers = (
            ("pyosmium raw read", iterate_pyosmium),
            ("pyosmium + pricing (reorg.roads.read_roads)", read_pyosmium),
            ("pyogrio OSM driver + tag parsing", read_pyogrio),
            ("pyrosm get_network(nodes=True)", read_pyrosm),
        )
        for name, fn in readers:
            t = time.perf_counter()
            try:
                got = fn(path)
            except Exception as exc:  # a reader that does not work here
                print(f"{name}: failed: {type(exc).__name__}: {exc}")
                continue
            print(f"{name}: {got:,} edges/rows in {time.perf_counter() - t:.1f} s")
        if args.sources:
            dijkstra_check(path, args.sources)


if __name__ == "__main__":
    main()
