"""Terrain from an elevation model (--dem, reorg.terrain): Decree 272/2025's rule on the demo pack's
synthetic DEM and on a real province, checked against shares computed independently (cell centres
tested point by point with shapely), and every malformed DEM giving exit 2 with nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyproj
import pytest
import rasterio
import shapely
from rasterio.transform import from_origin

from conftest import ROOT, run_cli
from reorg import demo, params, reform, terrain
from reorg.demo import rasters as demo_rasters
from reorg.load import load_pack

SCENARIO = str(ROOT / "scenarios" / "demo.toml")


@pytest.fixture(scope="module")
def pack_dir(tmp_path_factory) -> Path:
    return demo.make_demo_pack(tmp_path_factory.mktemp("demo") / "pack")


@pytest.fixture(scope="module")
def dem_path(pack_dir) -> Path:
    return pack_dir / demo_rasters.DEM_FILE


def expected_shares(dem: Path, geoms, elevation: float) -> tuple[np.ndarray, np.ndarray]:
    """Share of each polygon's cells (centre inside) with data at >= `elevation`, and the number
    of its cells with data: every cell centre converted to lon/lat and tested with shapely."""
    with rasterio.open(dem) as src:
        z = src.read(1, masked=True)
        rows, cols = np.mgrid[0 : src.height, 0 : src.width]
        x, y = rasterio.transform.xy(src.transform, rows.ravel(), cols.ravel())
        lon, lat = pyproj.Transformer.from_crs(src.crs, "EPSG:4326", always_xy=True).transform(np.asarray(x), np.asarray(y))
    valid = ~np.ma.getmaskarray(z).ravel()
    high = np.ma.filled(z, -1e9).ravel() >= elevation
    shares, counts = [], []
    for g in geoms:
        lo0, la0, lo1, la1 = g.bounds
        near = np.flatnonzero(valid & (lon >= lo0) & (lon <= lo1) & (lat >= la0) & (lat <= la1))
        inside = near[shapely.contains_xy(g, lon[near], lat[near])]
        counts.append(len(inside))
        shares.append(high[inside].mean() if len(inside) else np.nan)
    return np.array(shares), np.array(counts)


def test_dem_changes_exactly_the_communes_whose_share_crosses_two_thirds(pack_dir, dem_path):
    p = params.defaults()
    pack = load_pack(pack_dir, demo.PROVINCE_CODE)
    guess = reform.classify_old_communes(pack, p)
    got = terrain.apply_dem(guess, dem_path, pack, p)
    share, counts = expected_shares(dem_path, pack.communes_before.geometry, 200.0)
    assert (counts > 100).all(), "every demo commune lies on many DEM cells"
    assert np.allclose(got.shares["high_share"].to_numpy(), share, atol=2e-3)
    old = guess.frame["terrain"].to_numpy()
    rural = old != "urban"
    by_rule = np.where(share >= 2 / 3, "mountain", "lowland")
    expected = sorted(pack.communes_before.index[rural & (by_rule != old)])
    assert sorted(got.changed["code"]) == expected
    assert len(expected) >= 3, "the synthetic DEM is designed to move some communes"
    assert {"mountain", "lowland"} == set(got.changed["after"]), "changes in both directions"
    assert not any(abs(s - 2 / 3) < 0.01 for s in share), "no share too close to the threshold to decide"
    frame = got.classified.frame
    assert (frame["terrain"].to_numpy()[rural] == by_rule[rural]).all()
    assert (frame.loc[~rural, "terrain"] == "urban").all(), "wards and towns stay urban"
    assert (frame["region"] == frame["terrain"].map({"urban": "I", "lowland": "II", "mountain": "III"})).all()
    assert got.synthetic and got.summary()["changed"] == len(expected)
    # the lake of nodata cells lowers the coverage but the communes under it are still classified
    assert got.shares["coverage"].min() < 0.99 and (got.shares.loc[rural, "source"] == "dem").all()
    # the parameters move the threshold: at 100 m more communes are mountain
    low = terrain.apply_dem(guess, dem_path, pack, {**p, "mountain_elevation_m": 100.0})
    assert (low.classified.frame["terrain"] == "mountain").sum() > (frame["terrain"] == "mountain").sum()


def test_run_with_dem_reports_the_changes_and_says_the_dem_is_synthetic(pack_dir, dem_path, tmp_path):
    out = tmp_path / "out"
    assert run_cli("run", SCENARIO, "--geodata", str(pack_dir), "--out", str(out), "--dem", str(dem_path), "--quiet") == 0
    folder = out / "demo"
    s = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    t = s["network"]["terrain"]
    pack = load_pack(pack_dir, demo.PROVINCE_CODE)
    p = params.defaults()
    changed = terrain.apply_dem(reform.classify_old_communes(pack, p), dem_path, pack, p).changed
    assert t["source"] == "dem" and t["changed"] == len(changed) > 0 and t["file"] == demo_rasters.DEM_FILE
    assert s["synthetic_dem"] is True
    md = (folder / "report.md").read_text(encoding="utf-8")
    assert "## Terrain from the elevation model" in md
    for code, name in zip(changed["code"], changed["name"]):
        assert f"| {code} | {name} |" in md
    for f in ("report.md", "report.html", "map.html"):
        assert "Synthetic elevation model" in (folder / f).read_text(encoding="utf-8"), f
    run = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    assert run["dem"]["path"] == str(dem_path.resolve())
    # the same run in Vietnamese: the section and the notice in Vietnamese
    assert (
        run_cli(
            "run",
            SCENARIO,
            "--geodata",
            str(pack_dir),
            "--out",
            str(out / "vi"),
            "--dem",
            str(dem_path),
            "--quiet",
            "--lang",
            "vi",
        )
        == 0
    )
    vi = (out / "vi" / "demo" / "report.md").read_text(encoding="utf-8")
    assert "## Địa hình theo mô hình số độ cao" in vi and "Mô hình số độ cao mô phỏng" in vi


def test_scenario_key_is_relative_to_the_file(pack_dir, dem_path, tmp_path):
    from reorg.scenario import load_scenario

    (tmp_path / "s.toml").write_text(f'province = "99"\ngeodata = "{pack_dir}"\n[terrain]\ndem = "dem.tif"\n', encoding="utf-8")
    assert load_scenario(tmp_path / "s.toml").dem == str(tmp_path / "dem.tif")
    assert load_scenario(tmp_path / "s.toml", [f'terrain.dem="{dem_path}"']).dem == str(dem_path)


def test_without_dem_nothing_changes(pack_dir, tmp_path):
    out = tmp_path / "out"
    assert run_cli("run", SCENARIO, "--geodata", str(pack_dir), "--out", str(out), "--quiet") == 0
    s = json.loads((out / "demo" / "summary.json").read_text(encoding="utf-8"))
    assert "terrain" not in s["network"] and "synthetic_dem" not in s
    assert "Terrain from the elevation model" not in (out / "demo" / "report.md").read_text(encoding="utf-8")
    assert "dem" not in json.loads((out / "demo" / "run.json").read_text(encoding="utf-8"))


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


def test_partial_dem_keeps_the_guess_with_a_warning(pack_dir, dem_path, tmp_path):
    with rasterio.open(dem_path) as src:
        z, tr, crs = src.read(1), src.transform, src.crs
    west = _write(tmp_path / "west.tif", z[:, : z.shape[1] // 2], tr, crs, nodata=demo_rasters.DEM_NODATA)
    p = params.defaults()
    pack = load_pack(pack_dir, demo.PROVINCE_CODE)
    guess = reform.classify_old_communes(pack, p)
    got = terrain.apply_dem(guess, west, pack, p)
    outside = got.shares.index[got.shares["source"] == "density_rule"]
    assert len(outside) > 5
    assert (got.shares.loc[outside, "coverage"] < 0.5).all()
    assert (got.classified.frame.loc[outside, "terrain"] == guess.frame.loc[outside, "terrain"]).all()
    warned = [w for w in got.classified.warnings if w.key == "warning.terrain.outside_dem"]
    assert sorted(w.code for w in warned) == sorted(outside)
    assert all(w.file == str(west) for w in warned)


def _broken(pack_dir, tmp_path, capsys, dem: Path) -> str:
    out = tmp_path / "out"
    rc = run_cli("run", SCENARIO, "--geodata", str(pack_dir), "--out", str(out), "--dem", str(dem), "--quiet")
    err = capsys.readouterr().err
    assert rc == 2, err
    assert not out.exists() or not any(out.iterdir()), "nothing written"
    assert str(dem) in err, err
    return err


def test_dem_of_another_place_exits_2(pack_dir, tmp_path, capsys):
    dem = _write(tmp_path / "alps.tif", np.full((50, 50), 1500.0), from_origin(7.0, 47.0, 0.01, 0.01), "EPSG:4326")
    err = _broken(pack_dir, tmp_path, capsys, dem)
    assert "does not overlap province 99" in err and "longitude 7.000 to 7.500" in err


def test_dem_without_crs_exits_2(pack_dir, tmp_path, capsys):
    dem = _write(tmp_path / "nocrs.tif", np.full((50, 50), 300.0), from_origin(105.5, 19.2, 0.01, 0.01), None)
    assert "has no coordinate reference system" in _broken(pack_dir, tmp_path, capsys, dem)


def test_dem_with_no_data_over_the_province_exits_2(pack_dir, tmp_path, capsys):
    z = np.full((80, 80), -9999.0)
    dem = _write(tmp_path / "void.tif", z, from_origin(105.4, 19.3, 0.01, 0.01), "EPSG:4326", nodata=-9999.0)
    assert "has no data over province 99" in _broken(pack_dir, tmp_path, capsys, dem)


def test_missing_or_unreadable_dem_exits_2(pack_dir, tmp_path, capsys):
    assert "file not found" in _broken(pack_dir, tmp_path, capsys, tmp_path / "nowhere.tif")
    bad = tmp_path / "bad.tif"
    bad.write_text("not a raster", encoding="utf-8")
    assert "not a raster that GDAL can read" in _broken(pack_dir, tmp_path, capsys, bad)


def test_real_province_with_a_dem_in_degrees(geodata, tmp_path):
    """Nghệ An with a made-up DEM in EPSG:4326 (elevation falling from west to east, nodata strip
    in the far east): the rule against shares computed independently."""
    pack = load_pack(geodata, "40")
    w, s, e, n = pack.communes_before.total_bounds
    cell = 0.005
    width, height = int((e - w) / cell) + 4, int((n - s) / cell) + 4
    lon = w - 2 * cell + (np.arange(width) + 0.5) * cell
    z = np.tile(1200.0 * (e - lon) / (e - w) - 100.0, (height, 1))
    z[:, -30:] = -32768.0
    dem = _write(tmp_path / "nghe_an.tif", z, from_origin(w - 2 * cell, n + 2 * cell, cell, cell), "EPSG:4326", nodata=-32768.0)
    p = params.defaults()
    guess = reform.classify_old_communes(pack, p)
    got = terrain.apply_dem(guess, dem, pack, p)
    share, counts = expected_shares(dem, pack.communes_before.geometry.fillna(shapely.Point()), 200.0)
    rural = (guess.frame["terrain"] != "urban").to_numpy()
    used = (got.shares["source"] == "dem").to_numpy()
    assert used.sum() > 300
    assert np.allclose(got.shares["high_share"].to_numpy()[used], share[used], atol=0.02)
    decided = used & (np.abs(share - 2 / 3) > 0.02)
    rule = np.where(share >= 2 / 3, "mountain", "lowland")
    assert (got.classified.frame["terrain"].to_numpy()[decided] == rule[decided]).all()
    assert set(got.changed["code"]) <= set(pack.communes_before.index[rural])
    # communes without polygon keep the guess and are named in a warning
    no_poly = pack.communes_before.geometry.isna().to_numpy()
    warned = {w.code for w in got.classified.warnings if w.key.startswith("warning.terrain.")}
    assert set(pack.communes_before.index[no_poly & rural]) <= warned


def test_demo_rasters_are_reproducible_and_labelled(pack_dir, tmp_path):
    again = demo.make_demo_pack(tmp_path / "again")
    for name in (demo_rasters.DEM_FILE, demo_rasters.POPULATION_FILE):
        assert "synthetic" in name
        assert (again / name).read_bytes() == (pack_dir / name).read_bytes(), name
        with rasterio.open(pack_dir / name) as src:
            assert src.tags()["REORG_SYNTHETIC"] == "yes" and src.crs is not None
        assert name in (pack_dir / "MANIFEST.md").read_text(encoding="utf-8")
