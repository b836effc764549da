"""Roads and a population raster at a province's OSM scale: the optimise scenario end to end, and
the shortest-path minutes against networkx (issue 12, "Speed and memory").

Writes, in a temporary folder, a SYNTHETIC road network of about `--segments` segments and a
SYNTHETIC population raster for province `--province` of the geodata pack (benchmarks/
roads_scale_data.py: made up by code from `--seed`; only the province's outline, old communes and
census come from the pack). Then:

(a) end to end: `reorg run scenarios/optimise.toml --province P --roads R --population-raster X`
    through the real CLI in a child process (every model optimised: roles, main stations,
    catchments, staff), its wall time and peak resident memory (the child's `ru_maxrss`), and the
    per-stage seconds and peak memory from its run.json (the road read, the road graph, the
    raster and the adjacency model apart: `network:roads_read`, `network:roads_graph`,
    `reform:raster`, `network:adjacency`);
(b) shortest paths: the run's own inputs (demand points of the raster, stations, centres) snapped
    to the road file's nodes; reorg's degree-2 contraction + scipy Dijkstra from every facility
    node (`roads_graph.contract`, `minutes_to`: what the run does) against networkx's
    `single_source_dijkstra_path_length` on the uncontracted directed graph from `--nx-sources`
    of them (chosen at random, seeded): the minutes must agree to 1e-6 at every demand and
    facility node; networkx's total is its per-source time x the number of facility nodes;
(c) the optimise stage's time outside the three models: `reorg.optimise.roles.point_savings`
    (explain_points.csv) timed on the run's own data and roles, against the one-pass equivalent
    written here (same frame), which main adopted in 7c431ca: now a check that both agree.

    python benchmarks/roads_scale.py --province 38 --segments 1000000 --nx-sources 8

Prints tables (markdown). The load average is printed before and after each measurement.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from roads_scale_data import synthetic_inputs  # noqa: E402


def load() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def end_to_end(args: argparse.Namespace, folder: Path) -> Path:
    out = folder / "out"
    cmd = [
        sys.executable,
        "-m",
        "reorg",
        "run",
        str(ROOT / "scenarios" / "optimise.toml"),
        "--province",
        args.province,
        "--geodata",
        args.geodata,
        "--roads",
        str(folder / "roads.osm.pbf"),
        "--population-raster",
        str(folder / "population.tif"),
        "--out",
        str(out),
        "--quiet",
    ]
    print(f"\n(a) end to end: `{' '.join(['reorg', *cmd[3:]])}`")
    print(f"load average (1/5/15 min) before: {load()}")
    t = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t
    # the child resets its peak counter at each stage (run.json's per-stage peaks): the process
    # peak is the largest of those and what getrusage kept
    rss_child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"load average after: {load()}")
    if done.returncode != 0:
        print(done.stderr)
        raise SystemExit(f"reorg run failed with exit {done.returncode}")
    folder_out = out / f"optimise_{args.province}"
    record = json.loads((folder_out / "run.json").read_text(encoding="utf-8"))
    summary = json.loads((folder_out / "summary.json").read_text(encoding="utf-8"))
    network = summary.get("network", {})
    roads, population = network.get("roads", {}), network.get("population", {})
    timings, peaks = record["timings"], record["peak_memory_mb"]
    rss = max([rss_child, *peaks.values()])
    print(
        f"\nwall time {wall:.1f} s (target <= 60), peak resident memory {rss:,.0f} MB (target <= 4,096); "
        f"road nodes/edges {roads.get('nodes_before', 0):,}/{roads.get('edges_before', 0):,} before simplification, "
        f"{roads.get('nodes_after', 0):,}/{roads.get('edges_after', 0):,} after; "
        f"demand points {population.get('demand_points', 0):,}"
    )
    print("\n| stage | s | peak MB |\n|---|---:|---:|")
    for name in timings:
        print(f"| {name} | {timings[name]:.2f} | {peaks.get(name, 0):,.0f} |")
    print(f"| **run (wall, with Python start-up and imports)** | **{wall:.2f}** | **{rss:,.0f}** |")
    models = sum(v for k, v in timings.items() if k.startswith("optimise:"))
    print(f"\noptimise stage outside the three models (point savings, norms, plan): {timings['optimise'] - models:.2f} s")
    return folder_out


def shortest_paths(args: argparse.Namespace, folder: Path) -> tuple:
    import shapely

    from reorg import islands, reform, roads, roads_graph, roster
    from reorg.load import load_pack
    from reorg.population import raster_demand
    from reorg.scenario import load_scenario

    scenario = load_scenario(str(ROOT / "scenarios" / "optimise.toml"), [], args.province)
    params = scenario.params
    pack = load_pack(args.geodata, args.province)
    old = reform.classify_old_communes(pack, params)
    given = roster.stations_before_merger(None, old.frame, params, scenario.seed, None)
    reformed = raster_demand(reform.apply_merger(pack, old), folder / "population.tif", pack, params).reformed
    stations = reform.stations_after_merger(pack, reformed, given.stations, params, scenario.seed)
    centres = islands.with_special_zone_centres(reformed, roster.synthesise_centres(reformed.old, pack.districts, params), params)
    geoms = pack.communes_after.geometry
    outline = shapely.union_all(geoms[~(geoms.isna() | geoms.is_empty)].to_numpy())
    edges = roads.read_roads(folder / "roads.osm.pbf", params, outline)
    n = len(edges.lon)
    d = roads_graph.snap(reformed.demand["lon"], reformed.demand["lat"], edges.lon, edges.lat)
    f_lon = np.concatenate([stations["lon"].to_numpy(dtype=float), centres["lon"].to_numpy(dtype=float)])
    f_lat = np.concatenate([stations["lat"].to_numpy(dtype=float), centres["lat"].to_numpy(dtype=float)])
    f = roads_graph.snap(f_lon, f_lat, edges.lon, edges.lat)
    targets = np.unique(f.node)
    columns = np.unique(np.concatenate([d.node, f.node]))
    print(
        f"\n(b) shortest paths on the same graph: {n:,} road nodes, {len(edges.u):,} directed edges; "
        f"{len(stations)} stations + {len(centres)} centres -> {len(targets)} facility nodes (Dijkstra sources), "
        f"{len(reformed.demand):,} demand points -> {len(columns):,} columns"
    )
    print(f"load average before: {load()}")
    t = time.perf_counter()
    keep = np.zeros(n, dtype=bool)
    keep[columns] = True
    pairs = roads_graph.contract(roads_graph.undirected_pairs(edges.u, edges.v, edges.minutes), n, keep)
    t_contract = time.perf_counter() - t
    t = time.perf_counter()
    dist = roads_graph.minutes_to(pairs, n, targets, columns)
    t_dijkstra = time.perf_counter() - t
    print(f"load average after reorg: {load()}")
    if args.nx_sources:
        against_networkx(args, edges, targets, columns, dist, pairs, (t_contract, t_dijkstra))
    return reformed, stations, centres, params, edges


def against_networkx(
    args: argparse.Namespace,
    edges: Any,
    targets: np.ndarray,
    columns: np.ndarray,
    dist: np.ndarray,
    pairs: pd.DataFrame,
    reorg_times: tuple[float, float],
) -> None:
    """networkx's Dijkstra on the uncontracted graph from a sample of the facility nodes."""
    import networkx as nx

    t_contract, t_dijkstra = reorg_times
    reorg_total = t_contract + t_dijkstra

    t = time.perf_counter()
    graph = nx.DiGraph()
    graph.add_weighted_edges_from(zip(edges.v.tolist(), edges.u.tolist(), edges.minutes.tolist()), weight="minutes")
    t_build = time.perf_counter() - t
    rng = np.random.default_rng(args.seed)
    sample = np.sort(rng.choice(len(targets), min(args.nx_sources, len(targets)), replace=False))
    worst, reached = 0.0, 0
    t = time.perf_counter()
    per_source = []
    for k in sample.tolist():
        t0 = time.perf_counter()
        lengths = nx.single_source_dijkstra_path_length(graph, int(targets[k]), weight="minutes")
        per_source.append(time.perf_counter() - t0)
        ref = np.array([lengths.get(int(c), np.inf) for c in columns])
        both = np.isfinite(ref)
        if not np.array_equal(both, np.isfinite(dist[k])):
            raise SystemExit(f"reachability differs from networkx for source node {targets[k]}")
        worst = max(worst, float(np.max(np.abs(ref[both] - dist[k][both]), initial=0.0)))
        reached += int(both.sum())
    t_nx = time.perf_counter() - t
    print(f"load average after networkx: {load()}")
    nx_each = t_nx / len(sample)
    nx_total = nx_each * len(targets)
    print(
        f"\nlargest difference from networkx over {len(sample)} sources x {len(columns):,} columns "
        f"({reached:,} reachable pairs): {worst:.1e} min (asked: <= 1e-6)"
    )
    print("\n| method | sources | s | s per source |\n|---|---:|---:|---:|")
    print(
        f"| reorg: contraction ({len(pairs):,} pairs left) | - | {t_contract:.2f} | - |\n"
        f"| reorg: scipy Dijkstra on the contracted graph | {len(targets)} | {t_dijkstra:.2f} | {t_dijkstra / len(targets):.4f} |\n"
        f"| **reorg total** | {len(targets)} | **{reorg_total:.2f}** | {reorg_total / len(targets):.4f} |\n"
        f"| networkx: building the DiGraph | - | {t_build:.2f} | - |\n"
        f"| networkx `single_source_dijkstra_path_length`, measured | {len(sample)} | {t_nx:.2f} | {nx_each:.3f} "
        f"(min {min(per_source):.3f}, max {max(per_source):.3f}) |\n"
        f"| **networkx, extrapolated to every facility node** | {len(targets)} | **{nx_total:.0f}** | {nx_each:.3f} |"
    )
    print(
        f"\nspeed-up: x{nx_total / reorg_total:.0f} (networkx's Dijkstra alone against reorg's contraction + Dijkstra); "
        f"x{(nx_total + t_build) / reorg_total:.0f} with networkx's graph build"
    )


def same_table(a: pd.DataFrame, b: pd.DataFrame, rtol: float = 0.0) -> bool:
    """The same columns and rows: numbers equal as numbers (to `rtol`: the CSVs keep 7 significant
    digits, 393381.6 is written 393382), text as text."""
    if list(a.columns) != list(b.columns) or len(a) != len(b):
        return False
    for c in a.columns:
        x, y = a[c], b[c]
        if x.dtype.kind in "iuf" and y.dtype.kind in "iuf":
            if not np.allclose(x.to_numpy(dtype=float), y.to_numpy(dtype=float), rtol=rtol, atol=0.0):
                return False
        elif not (x.astype(str).to_numpy() == y.astype(str).to_numpy()).all():
            return False
    return True


def point_savings(run_folder: Path, inputs: tuple) -> None:
    """(c) the optimise stage's time outside the models: `roles.point_savings` on the run's data."""
    from reorg import network, roads_graph
    from reorg.optimise import roles as roles_model

    reformed, stations, centres, params, edges = inputs
    base = network.build_network(reformed, stations, centres, params)
    net, _, _ = roads_graph.road_network(reformed, stations, centres, params, edges, file="roads.osm.pbf", base=base)
    st = stations.loc[net.station_codes]
    decided = pd.read_csv(run_folder / "stations.csv", dtype={"station_code": str}).set_index("station_code")["role"]
    roles = decided.reindex(st.index)
    print(
        f"\n(c) the optimise stage outside the models: `roles.point_savings` (explain_points.csv) on the run's "
        f"{len(reformed.demand):,} demand points x {len(st)} stations; load average before: {load()}"
    )
    t = time.perf_counter()
    theirs = roles_model.point_savings(reformed.demand, st, net.station_minutes, roles)
    t_theirs = time.perf_counter() - t
    written = pd.read_csv(run_folder / "explain_points.csv", dtype={"station_code": str, "new_code": str})
    print(f"load average after: {load()}")
    print(
        f"\n| point savings | s | equal |\n|---|---:|---|\n"
        f"| `reorg.optimise.roles.point_savings` (one pass over the matrix since main 7c431ca) | {t_theirs:.2f} | "
        f"to the run's explain_points.csv (7 significant digits): {same_table(theirs, written, rtol=5e-6)} |\n"
        "(its definition, each site removed in turn, is checked by tests/test_scale_models.py)"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--province", default="38", help="pack province whose outline and communes are used (default 38)")
    ap.add_argument("--geodata", default=os.environ.get("REORG_GEODATA", ""), help="geodata pack (default $REORG_GEODATA)")
    ap.add_argument("--segments", type=int, default=1_000_000, help="road segments before simplification")
    ap.add_argument("--seed", type=int, default=12)
    ap.add_argument("--nx-sources", type=int, default=8, help="networkx sources timed (0: no networkx in part b)")
    ap.add_argument("--skip-run", action="store_true", help="skip part a")
    ap.add_argument("--keep", metavar="DIR", help="write the synthetic inputs and outputs here and keep them")
    ap.add_argument("--reuse", action="store_true", help="with --keep: the inputs and run (a) already there (b and c only)")
    args = ap.parse_args()
    print(
        f"{platform.node()} · {os.cpu_count()} cores · Python {platform.python_version()} · "
        + ", ".join(f"{p} {version(p)}" for p in ("osmium", "scipy", "networkx", "numpy", "pandas", "rasterio", "ortools"))
    )
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.keep or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        t = time.perf_counter()
        if not args.reuse:
            info = synthetic_inputs(args.geodata, args.province, folder, args.seed, args.segments)
            print(
                f"SYNTHETIC inputs for province {args.province} ({info['old_communes']} old communes) in "
                f"{time.perf_counter() - t:.0f} s: roads.osm.pbf {(folder / 'roads.osm.pbf').stat().st_size / 1e6:.1f} MB, "
                f"{info['nodes']:,} nodes, {info['segments']:,} segments in {info['ways']:,} ways "
                f"({', '.join(f'{k} {v:,}' for k, v in sorted(info['classes'].items()))}; {info['oneway']} one-way, "
                f"{info['ferries']} ferry), {info['villages']:,} villages; population.tif "
                f"{info['populated_cells']:,} populated 0.001-degree cells"
            )
        if args.reuse:
            run_folder: Path | None = folder / "out" / f"optimise_{args.province}"
        else:
            run_folder = None if args.skip_run else end_to_end(args, folder)
        inputs = shortest_paths(args, folder)
        if run_folder is not None:
            point_savings(run_folder, inputs)


if __name__ == "__main__":
    main()
