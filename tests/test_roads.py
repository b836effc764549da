"""The `roads` travel model (issue 12 points 1-2): OSM roads in, minutes by the published formula out.

Everything runs on the synthetic demo pack generated into a temporary folder, with its synthetic
road network `roads_synthetic.osm.pbf`. The routes are re-computed here independently: the PBF is
read again with pyosmium, each segment priced by the formula of the issue (great-circle km / class
speed x the smallest surface/smoothness/tracktype multiplier), one-way streets one way, the ferry by
its duration, and networkx's Dijkstra on that graph.
"""

from __future__ import annotations

import json
import math

import geopandas as gpd
import networkx as nx
import numpy as np
import osmium
import pytest
from shapely.geometry import LineString

from conftest import ROOT
from reorg import params as param_defs
from reorg import pipeline, report, roads, roads_graph
from reorg.cli import main
from reorg.demo import make_demo_pack
from reorg.demo.roads import FILE, road_layout
from reorg.network import build_network
from reorg.scenario import load_scenario
from reorg.schema import COMMUNES_BEFORE

P = param_defs.defaults()
SPEED = {  # the classes the synthetic file uses, by parameter
    "primary": P["road_speed_primary_kmh"],
    "secondary": P["road_speed_secondary_kmh"],
    "tertiary": P["road_speed_tertiary_kmh"],
    "unclassified": P["road_speed_unclassified_kmh"],
    "residential": P["road_speed_residential_kmh"],
    "track": P["road_speed_track_kmh"],
}
SURFACE = {
    "asphalt": 1.0,
    "concrete": P["surface_paved_factor"],
    "compacted": P["surface_compacted_factor"],
    "gravel": P["surface_unpaved_factor"],
}
TRACK = {"grade3": 1 - (1 - P["tracktype_worst_factor"]) * 2 / 4, "grade4": 1 - (1 - P["tracktype_worst_factor"]) * 3 / 4}
SMOOTH = {"bad": 1 - (1 - P["smoothness_worst_factor"]) * 3 / 6}


def km(lon1, lat1, lon2, lat2) -> float:
    """Great-circle km, written out here (not the package's)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(a))


def read_ways(path) -> tuple[dict[int, tuple[float, float]], list[tuple[list[int], dict[str, str]]]]:
    locs, ways = {}, []
    for obj in osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY):
        if isinstance(obj, osmium.osm.Node):
            locs[obj.id] = (obj.location.lon, obj.location.lat)
        elif isinstance(obj, osmium.osm.Way):
            ways.append(([n.ref for n in obj.nodes], dict(obj.tags)))
    return locs, ways


def independent_graph(path) -> tuple[nx.DiGraph, dict[int, tuple[float, float]]]:
    """The road graph of `path` by the formula of issue 12 point 2, built without reorg's code."""
    locs, ways = read_ways(path)
    g = nx.DiGraph()
    for refs, tags in ways:
        seg = [km(*locs[a], *locs[b]) for a, b in zip(refs[:-1], refs[1:])]
        if tags.get("route") == "ferry":
            h, m = tags["duration"].split(":")
            minutes = [(int(h) * 60 + int(m)) * s / sum(seg) for s in seg]
        else:
            factor = min(
                SURFACE.get(tags.get("surface"), 1.0),
                TRACK.get(tags.get("tracktype"), 1.0),
                SMOOTH.get(tags.get("smoothness"), 1.0),
            )
            speed = SPEED[tags["highway"]]
            if "maxspeed" in tags:
                speed = min(speed, float(tags["maxspeed"]))
            speed *= factor * P["season_speed_factor"]
            minutes = [60 * s / speed for s in seg]
        for (a, b), w in zip(zip(refs[:-1], refs[1:]), minutes):
            for x, y in ((a, b), (b, a)) if tags.get("oneway") != "yes" else ((a, b),):
                if not g.has_edge(x, y) or g[x][y]["minutes"] > w:
                    g.add_edge(x, y, minutes=w)
    return g, locs


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    pack = make_demo_pack(tmp_path_factory.mktemp("pack") / "demo")
    return pack


@pytest.fixture(scope="module")
def road_run(demo):
    scenario = load_scenario(ROOT / "scenarios" / "demo_roads.toml", [f"travel.roads={json.dumps(str(demo / FILE))}"])
    return pipeline.run(scenario, geodata=str(demo))


@pytest.fixture(scope="module")
def cli_runs(demo, tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    scen = str(ROOT / "scenarios" / "demo.toml")
    assert main(["run", scen, "--geodata", str(demo), "--out", str(out / "adj"), "--quiet"]) == 0
    assert main(["run", scen, "--geodata", str(demo), "--out", str(out / "roads"), "--roads", str(demo / FILE), "--quiet"]) == 0
    again = ["--set", "name=demo_again", "--set", "seed=8"]
    assert main(["run", scen, "--geodata", str(demo), "--out", str(out / "adj"), *again, "--quiet"]) == 0
    return out


def test_run_with_roads_writes_every_output(cli_runs):
    folder = cli_runs / "roads" / "demo"
    for name in ("summary.json", "map.html", "report.pdf", "decisions.xlsx", "travel_minutes.csv"):
        assert (folder / name).exists(), name
    net = json.loads((folder / "summary.json").read_text(encoding="utf-8"))["network"]
    assert net["travel_model"] == "roads"
    r = net["roads"]
    assert r["file"] == FILE and r["ferries"] == 1
    assert r["nodes_after"] < r["nodes_before"] and r["edges_after"] < r["edges_before"]
    assert r["snapped_points"] > 0
    # every output says which travel, population and terrain model produced it
    assert (net["population_model"], net["terrain_source"]) == ("commune_points", "density_rule")
    report = (folder / "report.md").read_text(encoding="utf-8")
    assert "Travel model: roads" in report and "Population model: each old commune" in report
    assert "Terrain: guessed from population density" in report
    # the same decisions on both travel models (point 8): a section of the road run's report only
    section = report.split("## Roads against the adjacency model", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert len(rows) >= 5 and any(row.split("|")[3] != row.split("|")[4] for row in rows)
    assert "Roads against the adjacency model" not in (cli_runs / "adj" / "demo" / "report.md").read_text(encoding="utf-8")
    adj = json.loads((cli_runs / "adj" / "demo" / "summary.json").read_text(encoding="utf-8"))["network"]
    assert adj["travel_model"] == "adjacency" and adj["demand_points"] == net["demand_points"]


def test_routes_agree_with_an_independent_recomputation(demo, road_run):
    g, locs = independent_graph(demo / FILE)
    ids = list(locs)
    lon = np.array([locs[i][0] for i in ids])
    lat = np.array([locs[i][1] for i in ids])

    def nearest(x, y):
        d = [km(x, y, a, b) for a, b in zip(lon, lat)]
        k = int(np.argmin(d))
        return ids[k], d[k]

    net = road_run.network
    demand = road_run.reformed.demand
    st = road_run.stations.loc[net.station_codes]
    speed = P["offroad_speed_kmh"]
    rng = np.random.default_rng(1)
    pairs = [(int(i), int(j)) for i, j in zip(rng.integers(0, len(demand), 25), rng.integers(0, len(st), 25))]
    for i, j in pairs:
        dx, dy = float(demand.at[i, "lon"]), float(demand.at[i, "lat"])
        fx, fy = float(st["lon"].iloc[j]), float(st["lat"].iloc[j])
        nd, kd = nearest(dx, dy)
        nf, kf = nearest(fx, fy)
        try:
            path = nx.shortest_path_length(g, nd, nf, weight="minutes")
        except nx.NetworkXNoPath:
            path = math.inf
        routed = 60 * kd / speed + path + 60 * kf / speed
        direct = 60 * km(dx, dy, fx, fy) * P["circuity_factor"] / speed
        assert net.station_minutes[i, j] == pytest.approx(min(routed, direct), abs=0.1), (i, j)
    # staff moves use the same formula between stations
    a, b = 0, len(st) - 1
    na, ka = nearest(float(st["lon"].iloc[a]), float(st["lat"].iloc[a]))
    nb, kb = nearest(float(st["lon"].iloc[b]), float(st["lat"].iloc[b]))
    routed = 60 * ka / speed + nx.shortest_path_length(g, na, nb, weight="minutes") + 60 * kb / speed
    direct = 60 * km(st["lon"].iloc[a], st["lat"].iloc[a], st["lon"].iloc[b], st["lat"].iloc[b]) * P["circuity_factor"] / speed
    assert net.station_station[a, b] == pytest.approx(min(routed, direct), abs=0.1)


def test_one_way_street_is_travelled_one_way(demo):
    g, locs = independent_graph(demo / FILE)
    _, ways = read_ways(demo / FILE)
    refs = next(r for r, t in ways if t.get("oneway") == "yes")
    a, b = refs[0], refs[-1]
    forward = nx.shortest_path_length(g, a, b, weight="minutes")
    backward = nx.shortest_path_length(g, b, a, weight="minutes")
    assert forward < backward  # the one-way street is the short way from a to b only
    edges = roads.read_roads(demo / FILE, P)
    snapped = roads_graph.snap([locs[a][0], locs[b][0]], [locs[a][1], locs[b][1]], edges.lon, edges.lat)
    na, nb = (int(x) for x in snapped.node)
    n = len(edges.lon)
    keep = np.zeros(n, dtype=bool)
    keep[[na, nb]] = True
    pairs = roads_graph.contract(roads_graph.undirected_pairs(edges.u, edges.v, edges.minutes), n, keep)
    dist = roads_graph.minutes_to(pairs, n, np.array([nb, na]), np.array([na, nb]))
    assert dist[0, 0] == pytest.approx(forward, abs=1e-6)  # a -> b
    assert dist[1, 1] == pytest.approx(backward, abs=1e-6)  # b -> a


def test_lines_file_gives_the_same_minutes_as_the_pbf(demo, road_run, tmp_path):
    locs, ways = read_ways(demo / FILE)
    rows = [
        {
            **{k: t.get(k) for k in ("highway", "surface", "tracktype", "smoothness", "maxspeed", "oneway", "route", "duration")},
            "geometry": LineString([locs[n] for n in r]),
        }
        for r, t in ways
    ]
    gpkg = tmp_path / "roads.gpkg"
    gpd.GeoDataFrame(rows, crs="EPSG:4326").to_file(gpkg, driver="GPKG")
    scenario = load_scenario(ROOT / "scenarios" / "demo_roads.toml", [f"travel.roads={json.dumps(str(gpkg))}"])
    other = pipeline.run(scenario, geodata=str(demo))
    np.testing.assert_allclose(other.network.station_minutes, road_run.network.station_minutes, atol=1e-6)
    np.testing.assert_allclose(other.network.centre_minutes, road_run.network.centre_minutes, atol=1e-6)


def test_pbf_without_highways_exits_2_naming_the_file(demo, tmp_path, capsys):
    bad = tmp_path / "no_roads.osm.pbf"
    writer = osmium.SimpleWriter(str(bad))
    writer.add_node(osmium.osm.mutable.Node(id=1, location=osmium.osm.Location(105.8, 18.9), version=1))
    writer.add_node(osmium.osm.mutable.Node(id=2, location=osmium.osm.Location(105.81, 18.9), version=1))
    writer.add_way(osmium.osm.mutable.Way(id=1, nodes=[1, 2], tags={"building": "yes"}, version=1))
    writer.close()
    out = tmp_path / "out"
    rc = main(
        ["run", str(ROOT / "scenarios" / "demo.toml"), "--geodata", str(demo), "--out", str(out), "--roads", str(bad), "--quiet"]
    )
    assert rc == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "no road" in err
    assert not out.exists() or not any(out.iterdir())


def test_points_beyond_snap_max_km_are_flagged(demo, cli_runs, road_run):
    before = gpd.read_file(demo / COMMUNES_BEFORE.file, layer=COMMUNES_BEFORE.layer)
    remote = road_layout(before)[3][0]  # the commune the synthetic file leaves without a road
    summary = json.loads((cli_runs / "roads" / "demo" / "summary.json").read_text(encoding="utf-8"))
    flagged = summary["network"]["roads"]["flagged"]
    assert remote in {f["code"] for f in flagged if f["kind"] == "demand"}
    assert all(f["km"] > P["snap_max_km"] for f in flagged)
    assert summary["network"]["roads"]["flagged_points"] == sum(f.get("points", 1) for f in flagged)
    assert any(remote in w and "snap_max_km" in w for w in summary["warnings"])
    report = (cli_runs / "roads" / "demo" / "report.html").read_text(encoding="utf-8")
    assert "snap_max_km" in report and remote in report
    far = load_scenario(
        ROOT / "scenarios" / "demo_roads.toml", [f"travel.roads={json.dumps(str(demo / FILE))}", "params.snap_max_km=50"]
    )
    assert pipeline.run(far, geodata=str(demo)).network.roads["flagged_points"] == 0


def test_without_roads_nothing_changes(demo, cli_runs):
    summary = json.loads((cli_runs / "adj" / "demo" / "summary.json").read_text(encoding="utf-8"))
    assert summary["network"]["travel_model"] == "adjacency" and "roads" not in summary["network"]
    result = pipeline.run(load_scenario(ROOT / "scenarios" / "demo.toml"), geodata=str(demo))
    assert result.network.roads is None
    base = build_network(result.reformed, result.stations, result.centres, result.scenario.params)
    np.testing.assert_array_equal(result.network.station_minutes, base.station_minutes)
    np.testing.assert_array_equal(result.network.centre_minutes, base.centre_minutes)
    report = (cli_runs / "adj" / "demo" / "report.html").read_text(encoding="utf-8")
    assert "Travel model: adjacency" in report


def test_compare_adjacency_and_roads(cli_runs, tmp_path):
    rc = main(["compare", str(cli_runs / "adj" / "demo"), str(cli_runs / "roads" / "demo"), "--out", str(tmp_path / "cmp")])
    assert rc == 0
    md = (tmp_path / "cmp" / "comparison.md").read_text(encoding="utf-8")
    # the comparison says the runs differ in travel model, and which run used which
    assert "## Travel model" in md and "roads (shortest paths on the road network)" in md
    assert "adjacency (polygons that touch" in md
    table = (tmp_path / "cmp" / "comparison.csv").read_text(encoding="utf-8")
    assert "pop_minutes_main_station" in table
    # two runs of the same model: no such section
    rc = main(["compare", str(cli_runs / "adj" / "demo"), str(cli_runs / "adj" / "demo_again"), "--out", str(tmp_path / "same")])
    assert rc == 0 and "## Travel model" not in (tmp_path / "same" / "comparison.md").read_text(encoding="utf-8")


def test_islands_without_roads_reach_the_mainland_by_sea(geodata, tmp_path):
    """Hải Phòng (31): roads only on the mainland (a tree over its old communes' points); every
    island point (Cát Hải, Cát Bà, Bạch Long Vĩ) still reaches a mainland station by the adjacency
    model's links on its island and its sea links, faster than the straight line off-road, and is
    flagged (no road)."""
    from scipy.sparse.csgraph import minimum_spanning_tree
    from scipy.spatial import distance_matrix

    base = pipeline.run(load_scenario(ROOT / "scenarios" / "official.toml", ["name=hp"], province="31"), geodata=str(geodata))
    demand = base.reformed.demand
    main = np.flatnonzero(base.network.part_piece == 0)
    xy = demand[["lon", "lat"]].to_numpy(dtype=float)[main]
    tree = minimum_spanning_tree(distance_matrix(xy, xy)).tocoo()
    lines = [LineString([xy[a], xy[b]]) for a, b in zip(tree.row, tree.col)]
    path = tmp_path / "mainland.geojson"
    gpd.GeoDataFrame({"highway": ["unclassified"] * len(lines)}, geometry=lines, crs="EPSG:4326").to_file(path, driver="GeoJSON")
    sc = load_scenario(
        ROOT / "scenarios" / "official.toml", ["name=hp_roads", f"travel.roads={json.dumps(str(path))}"], province="31"
    )
    r = pipeline.run(sc, geodata=str(geodata))
    net = r.network
    assert net.roads["sea_links"] == len(base.network.ferry_links) > 0
    assert net.ferry_links == base.network.ferry_links
    st = r.stations.loc[net.station_codes]
    on_main = np.flatnonzero(st["old_code"].isin(demand.loc[main, "old_code"]).to_numpy())
    island = np.flatnonzero(net.part_piece != 0)
    assert len(island) and len(on_main)
    flagged = {f["code"] for f in net.roads["flagged"] if f["kind"] == "demand"}
    on_island = demand[net.part_piece != 0]
    assert {o or n for o, n in zip(on_island["old_code"], on_island["new_code"])} <= flagged  # no road there: all flagged
    for i in island:
        j = on_main[int(np.argmin(net.station_minutes[i, on_main]))]
        straight = (
            60
            * km(demand.at[i, "lon"], demand.at[i, "lat"], st["lon"].iloc[j], st["lat"].iloc[j])
            * P["circuity_factor"]
            / P["offroad_speed_kmh"]
        )
        assert np.isfinite(net.station_minutes[i, j]) and net.station_minutes[i, j] < straight - 1, demand.at[i, "old_code"]


def test_raster_points_far_from_roads_are_flagged_once_per_commune(demo):
    """With a population raster a commune has many demand points: those far from every road are
    flagged once per commune, with their count and the farthest distance, not once per point."""
    scenario = load_scenario(
        ROOT / "scenarios" / "demo_roads.toml",
        [
            f"travel.roads={json.dumps(str(demo / FILE))}",
            f"population.raster={json.dumps(str(demo / 'synthetic_population_99.tif'))}",
        ],
    )
    result = pipeline.run(scenario, geodata=str(demo))
    flagged = [f for f in result.network.roads["flagged"] if f["kind"] == "demand"]
    codes = [f["code"] for f in flagged]
    assert len(codes) == len(set(codes)) > 0, "one entry per commune"
    assert sum(f["points"] for f in flagged) > len(flagged), "several raster points per commune"
    grouped = [w for w in result.warnings if w.key == "warning.roads.far_from_road_points"]
    assert sorted(w.code for w in grouped) == sorted(f["code"] for f in flagged if f["points"] > 1)
    assert result.network.roads["flagged_points"] >= sum(f["points"] for f in flagged)
    summary = report.build_summary(result)
    assert summary["network"]["population_model"] == "raster" and summary["network"]["demand_points"] > 40


def _map_layers(path) -> dict:
    html = path.read_text(encoding="utf-8")
    start = html.index('<script type="application/json" id="reorg-data">') + len(
        '<script type="application/json" id="reorg-data">'
    )
    data = json.loads(html[start : html.index("</script>", start)])
    return {layer["key"]: layer for layer in data["map"]["layers"]}


def test_map_shows_the_roads_and_the_demand_points_off_at_opening(demo, cli_runs, tmp_path):
    """Issue 12 point 6: the map can show the road network and the demand points (both off at
    opening), only when the run has them; an adjacency run's map has neither."""
    assert not {"roads", "demand"} & set(_map_layers(cli_runs / "adj" / "demo" / "map.html"))
    roads_map = _map_layers(cli_runs / "roads" / "demo" / "map.html")
    assert roads_map["roads"]["show"] is False and "demand" not in roads_map
    lines = roads_map["roads"]["data"]["features"][0]["geometry"]["coordinates"]
    summary = json.loads((cli_runs / "roads" / "demo" / "summary.json").read_text(encoding="utf-8"))
    assert 0 < len(lines) <= summary["network"]["roads"]["edges_after"]
    raster = str(demo / "synthetic_population_99.tif")
    scen = str(ROOT / "scenarios" / "demo.toml")
    args = ["run", scen, "--geodata", str(demo), "--population-raster", raster, "--set", "name=raster", "--quiet"]
    assert main([*args, "--out", str(tmp_path)]) == 0
    demand = _map_layers(tmp_path / "raster" / "map.html")["demand"]
    points = demand["data"]["features"]
    n = json.loads((tmp_path / "raster" / "summary.json").read_text(encoding="utf-8"))["network"]["demand_points"]
    assert demand["show"] is False and len(points) == n > 40
    radii = [f["properties"]["style"]["radius"] for f in points]
    assert min(radii) >= 1.0 and max(radii) == 8.0  # the area grows with the residents
