"""Demand points from a population raster (--population-raster, reorg.population): census kept per
old commune, points inside their commune, split communes shared by the raster, the run end to end
with the demand_points layer and demand_id, and every malformed raster giving exit 2."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pyproj
import pytest
import rasterio
import shapely
from rasterio.transform import from_origin
from rasterio.warp import Resampling, calculate_default_transform, reproject

from conftest import ROOT, run_cli
from reorg import demo, params, population, reform
from reorg.demo import rasters as demo_rasters
from reorg.load import load_pack

SCENARIO = str(ROOT / "scenarios" / "demo.toml")


@pytest.fixture(scope="module")
def pack_dir(tmp_path_factory) -> Path:
    return demo.make_demo_pack(tmp_path_factory.mktemp("demo") / "pack")


@pytest.fixture(scope="module")
def raster_path(pack_dir) -> Path:
    return pack_dir / demo_rasters.POPULATION_FILE


@pytest.fixture(scope="module")
def pack(pack_dir):
    return load_pack(pack_dir, demo.PROVINCE_CODE)


def _reformed(pack, p=None):
    p = p or params.defaults()
    return reform.apply_merger(pack, reform.classify_old_communes(pack, p))


def _cells(path: Path):
    """Every raster cell with persons: lon, lat of its centre and persons."""
    with rasterio.open(path) as src:
        z = np.ma.filled(src.read(1, masked=True).astype(float), 0.0)
        rows, cols = np.nonzero(z > 0)
        x, y = rasterio.transform.xy(src.transform, rows, cols)
        lon, lat = pyproj.Transformer.from_crs(src.crs, "EPSG:4326", always_xy=True).transform(np.asarray(x), np.asarray(y))
    return np.asarray(lon), np.asarray(lat), z[rows, cols]


def check_points(pack, reformed, demand) -> None:
    """Census kept per old commune, every point inside its old commune and new commune."""
    old = reformed.old
    got = demand[demand["old_code"] != ""].groupby("old_code")["population"].sum()
    census = old["pop_2019"].astype(float).reindex(got.index)
    assert np.allclose(got.to_numpy(), census.to_numpy(), rtol=0, atol=1e-6)
    assert set(got.index) == set(old.index)
    assert demand["demand_id"].is_unique
    has = demand["old_code"] != ""
    og = old.geometry.reindex(demand.loc[has, "old_code"]).to_numpy()
    ng = pack.communes_after.geometry.reindex(demand.loc[has, "new_code"]).to_numpy()
    lon, lat = demand.loc[has, "lon"].to_numpy(), demand.loc[has, "lat"].to_numpy()
    with_poly = ~(gpd.GeoSeries(og).isna().to_numpy())
    pts = shapely.points(lon, lat)
    assert shapely.covers(og[with_poly], pts[with_poly]).all(), "every point lies in its old commune"
    assert shapely.covers(ng[with_poly], pts[with_poly]).all(), "every point lies in its new commune"


def test_points_conserve_the_census_and_lie_inside_their_commune(pack, raster_path):
    reformed = _reformed(pack)
    got = population.raster_demand(reformed, raster_path, pack, params.defaults())
    d = got.reformed.demand
    check_points(pack, reformed, d)
    assert len(d) > 10 * len(reformed.old), "many points per commune at 1 km"
    assert np.isclose(got.reformed.new["population"].sum(), reformed.new["population"].sum())
    assert got.synthetic and got.fallback == ()
    # each point stands for the part of one 1 km² grid cell in its commune (counted in raster cells of
    # about 105 m x 111 m: up to a few raster cells more or less), and the points of a commune for at most its area
    assert (d["area_km2"] > 0).all() and (d["area_km2"] <= 1.2).all()
    by_old = d.groupby("old_code")["area_km2"].sum()
    assert (by_old <= reformed.old["area_km2"].reindex(by_old.index) * 1.0001).all()
    # coarser cells, fewer points; the census still kept
    coarse = population.raster_demand(reformed, raster_path, pack, {**params.defaults(), "demand_cell_m": 5000.0})
    assert len(coarse.reformed.demand) < len(d) / 5
    check_points(pack, reformed, coarse.reformed.demand)


def test_weighted_centre_of_each_commune_follows_the_raster(pack, raster_path):
    reformed = _reformed(pack)
    d = population.raster_demand(reformed, raster_path, pack, params.defaults()).reformed.demand
    lon, lat, persons = _cells(raster_path)
    to_m = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:32648", always_xy=True)
    for code, g in list(reformed.old.geometry.items())[::5]:
        inside = shapely.contains_xy(g, lon, lat)
        ex, ey = to_m.transform(
            np.average(lon[inside], weights=persons[inside]), np.average(lat[inside], weights=persons[inside])
        )
        pts = d[d["old_code"] == code]
        px, py = to_m.transform(
            np.average(pts["lon"], weights=pts["population"]), np.average(pts["lat"], weights=pts["population"])
        )
        assert np.hypot(px - ex, py - ey) < 150, code


def test_split_commune_is_shared_by_the_raster(pack, raster_path):
    reformed = _reformed(pack)
    d = population.raster_demand(reformed, raster_path, pack, params.defaults()).reformed.demand
    lon, lat, persons = _cells(raster_path)
    split = reformed.demand[reformed.demand["split"]]
    code = split["old_code"].iloc[0]
    og = reformed.old.geometry[code]
    in_old = shapely.contains_xy(og, lon, lat)
    census = float(reformed.old.at[code, "pop_2019"])
    for new_code, by_area in zip(split["new_code"], split["population"]):
        piece = shapely.intersection(og, pack.communes_after.geometry[new_code])
        expected = census * persons[shapely.contains_xy(piece, lon, lat) & in_old].sum() / persons[in_old].sum()
        got = d.loc[(d["old_code"] == code) & (d["new_code"] == new_code), "population"].sum()
        assert got == pytest.approx(expected, rel=0.01)
        assert abs(got - by_area) > 1, "shared by the raster, not by area"


def test_raster_in_another_crs_gives_the_same_communes(pack, raster_path, tmp_path):
    with rasterio.open(raster_path) as src:
        tr, w, h = calculate_default_transform(src.crs, "EPSG:32648", src.width, src.height, *src.bounds, resolution=100)
        out = np.full((h, w), -1.0, dtype=np.float32)
        reproject(
            rasterio.band(src, 1), out, dst_transform=tr, dst_crs="EPSG:32648", resampling=Resampling.nearest, dst_nodata=-1.0
        )
    utm = tmp_path / "utm.tif"
    _write(utm, out, tr, "EPSG:32648", nodata=-1.0)
    reformed = _reformed(pack)
    got = population.raster_demand(reformed, utm, pack, params.defaults())
    check_points(pack, reformed, got.reformed.demand)
    assert not got.synthetic, "the tag is not copied: nothing says this raster is made up"


def test_run_with_raster_end_to_end(pack_dir, raster_path, tmp_path):
    out = tmp_path / "out"
    argv = ["run", SCENARIO, "--geodata", str(pack_dir), "--out", str(out), "--quiet"]
    assert run_cli(*argv, "--population-raster", str(raster_path)) == 0
    folder = out / "demo"
    s = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    net = s["network"]["population"]
    assert net["model"] == "raster" and net["demand_points"] > 400 and s["synthetic_population"] is True
    pts = pyogrio.read_dataframe(folder / "decisions.gpkg", layer="demand_points")
    assert list(pts.columns[:8]) == [
        "demand_id",
        "lon",
        "lat",
        "population",
        "old_commune_code",
        "old_commune_name",
        "new_commune_code",
        "new_commune_name",
    ]
    assert len(pts) == net["demand_points"]
    assert pts["population"].sum() == pytest.approx(s["indicators"]["after"]["population"], abs=1e-3)
    with open(folder / "travel_minutes.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert rows[0].keys() >= {"demand_id", "demand_code", "facility_code", "minutes"}
    assert {r["demand_id"] for r in rows} == set(pts["demand_id"])
    for name in ("report.md", "report.html", "map.html"):
        assert "Synthetic population raster" in (folder / name).read_text(encoding="utf-8"), name
    assert json.loads((folder / "run.json").read_text(encoding="utf-8"))["population_raster"]["path"] == str(raster_path)
    # the same bytes again (run.json apart)
    assert run_cli(*argv[:-1], "--out", str(tmp_path / "again"), "--quiet", "--population-raster", str(raster_path)) == 0
    for p in sorted(folder.iterdir()):
        if p.name != "run.json":
            assert p.read_bytes() == (tmp_path / "again" / "demo" / p.name).read_bytes(), p.name
    # the models run on the points: optimise every decision
    opt = [
        "--set",
        "policy.station_roles='optimise'",
        "--set",
        "policy.catchments='optimise'",
        "--set",
        "policy.staff='optimise'",
    ]
    assert run_cli(*argv[:-1], "--out", str(tmp_path / "opt"), "--quiet", "--population-raster", str(raster_path), *opt) == 0


def test_without_raster_one_point_per_part(pack_dir, tmp_path):
    out = tmp_path / "out"
    assert run_cli("run", SCENARIO, "--geodata", str(pack_dir), "--out", str(out), "--quiet") == 0
    folder = out / "demo"
    assert "demand_points" not in pyogrio.list_layers(folder / "decisions.gpkg")[:, 0]
    header = (folder / "travel_minutes.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header == "demand_code,new_commune_code,facility_code,facility_kind,population,minutes"
    s = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert "population" not in s["network"] and "synthetic_population" not in s


def _write(path: Path, z: np.ndarray, transform, crs, nodata=None) -> Path:
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=z.shape[1],
        height=z.shape[0],
        count=1,
        dtype="float32",
        transform=transform,
        crs=crs,
        nodata=nodata,
    ) as dst:
        dst.write(z.astype(np.float32), 1)
    return path


def _broken(pack_dir, tmp_path, capsys, raster: Path) -> str:
    out = tmp_path / "out"
    rc = run_cli("run", SCENARIO, "--geodata", str(pack_dir), "--out", str(out), "--population-raster", str(raster), "--quiet")
    err = capsys.readouterr().err
    assert rc == 2, err
    assert not out.exists() or not any(out.iterdir()), "nothing written"
    assert str(raster) in err, err
    return err


def test_raster_without_crs_exits_2(pack_dir, tmp_path, capsys):
    r = _write(tmp_path / "nocrs.tif", np.full((60, 60), 5.0), from_origin(105.5, 19.2, 0.01, 0.01), None)
    assert "has no coordinate reference system" in _broken(pack_dir, tmp_path, capsys, r)


def test_raster_with_no_data_over_the_province_exits_2(pack_dir, tmp_path, capsys):
    z = np.full((80, 80), -99999.0)
    z[:3, :3] = 50.0  # people only in a corner outside the province
    r = _write(tmp_path / "void.tif", z, from_origin(105.4, 19.3, 0.01, 0.01), "EPSG:4326", nodata=-99999.0)
    assert "has no data over province 99" in _broken(pack_dir, tmp_path, capsys, r)


def test_raster_of_another_place_exits_2(pack_dir, tmp_path, capsys):
    r = _write(tmp_path / "paris.tif", np.full((40, 40), 100.0), from_origin(2.2, 48.9, 0.01, 0.01), "EPSG:4326")
    assert "does not overlap province 99" in _broken(pack_dir, tmp_path, capsys, r)


def test_real_province(geodata, tmp_path):
    """Lào Cai (communes without polygon, split communes) with a made-up raster of 0.01 degree
    cells, more people to the east, none in a strip on the west: census kept, points inside,
    the communes without polygon or without people keep their point and are named in warnings."""
    pack = load_pack(geodata, "15")
    w, s, e, n = pack.communes_before.total_bounds
    cell = 0.01
    width, height = int((e - w) / cell) + 4, int((n - s) / cell) + 4
    lon = w - 2 * cell + (np.arange(width) + 0.5) * cell
    z = np.tile(1.0 + 50.0 * (lon - w) / (e - w), (height, 1))
    z[:, :10] = -1.0
    r = _write(tmp_path / "lao_cai.tif", z, from_origin(w - 2 * cell, n + 2 * cell, cell, cell), "EPSG:4326", nodata=-1.0)
    reformed = _reformed(pack)
    got = population.raster_demand(reformed, r, pack, params.defaults())
    d = got.reformed.demand
    check_points(pack, reformed, d)
    no_poly = set(reformed.old.index[reformed.old.geometry.isna()])
    assert no_poly <= set(got.fallback)
    assert {p.code for p in got.reformed.warnings if p.key == "warning.population.no_persons"} == set(got.fallback)
    assert len(d) > 3 * len(reformed.old)
