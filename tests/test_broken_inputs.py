"""Broken inputs built from the real pack: each exits 2, names the row or field, and writes nothing."""
from __future__ import annotations

import shutil
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely

from conftest import ROOT, run_cli
from reorg.schema import COMMUNES_AFTER, COMMUNES_BEFORE, DISTRICTS_BEFORE, MERGER, PROVINCES_AFTER

PROVINCE = "15"  # Lào Cai: codes with leading zeros, communes without polygon


@pytest.fixture(scope="module")
def clean_pack(tmp_path_factory, geodata) -> Path:
    """Lào Cai cut out of the national files, in the pack's own format."""
    dest = tmp_path_factory.mktemp("pack")
    merger = pd.read_csv(geodata / MERGER.file, dtype=str, keep_default_na=False)
    merger = merger[merger["new_province_code"] == PROVINCE]
    merger.to_csv(dest / MERGER.file, index=False)
    old = set(merger["old_commune_code"])
    b = gpd.read_file(geodata / COMMUNES_BEFORE.file)
    b = b[b["commune_code"].isin(old)]
    b.to_file(dest / COMMUNES_BEFORE.file, layer=COMMUNES_BEFORE.layer)
    a = gpd.read_file(geodata / COMMUNES_AFTER.file, where=f"province_code = '{PROVINCE}'")
    a.to_file(dest / COMMUNES_AFTER.file, layer=COMMUNES_AFTER.layer)
    d = gpd.read_file(geodata / DISTRICTS_BEFORE.file)
    d[d["district_code"].isin(set(b["district_code"]))].to_file(dest / DISTRICTS_BEFORE.file, layer=DISTRICTS_BEFORE.layer)
    p = gpd.read_file(geodata / PROVINCES_AFTER.file, where=f"province_code = '{PROVINCE}'")
    p.to_file(dest / PROVINCES_AFTER.file, layer=PROVINCES_AFTER.layer)
    return dest


@pytest.fixture()
def pack(clean_pack, tmp_path) -> Path:
    dest = tmp_path / "pack"
    shutil.copytree(clean_pack, dest)
    return dest


def read_layer(pack: Path, layer) -> gpd.GeoDataFrame:
    return gpd.read_file(pack / layer.file, layer=layer.layer)


def write_layer(pack: Path, layer, gdf) -> None:
    (pack / layer.file).unlink()
    gdf.to_file(pack / layer.file, layer=layer.layer)


def run_broken(pack: Path, tmp_path: Path, capsys, *extra: str, scenario: str | None = None):
    out = tmp_path / "outputs"
    args = ["run", scenario or str(ROOT / "scenarios" / "lao_cai_official.toml"), "--geodata", str(pack), "--out", str(out), "--quiet", *extra]
    rc = run_cli(*args)
    err = capsys.readouterr().err
    assert "Traceback" not in err
    name = "lao_cai_official"
    assert not (out / name).exists(), "no output folder for bad input"
    assert not out.exists() or not any(out.iterdir()), "nothing written"
    return rc, err


def test_clean_subset_runs(pack, tmp_path, capsys):
    rc = run_cli("run", str(ROOT / "scenarios" / "lao_cai_official.toml"), "--geodata", str(pack), "--out", str(tmp_path / "o"), "--quiet")
    assert rc == 0, capsys.readouterr().err


def test_missing_column(pack, tmp_path, capsys):
    b = read_layer(pack, COMMUNES_BEFORE).drop(columns=["pop_2019"])
    write_layer(pack, COMMUNES_BEFORE, b)
    rc, err = run_broken(pack, tmp_path, capsys)
    assert rc == 2 and "field 'pop_2019'" in err and "missing column" in err and COMMUNES_BEFORE.file in err


def test_missing_layer(pack, tmp_path, capsys):
    a = read_layer(pack, COMMUNES_AFTER)
    (pack / COMMUNES_AFTER.file).unlink()
    a.to_file(pack / COMMUNES_AFTER.file, layer="wards")
    rc, err = run_broken(pack, tmp_path, capsys)
    assert rc == 2 and "missing layer 'communes_after'" in err and "wards" in err


def test_missing_file(pack, tmp_path, capsys):
    (pack / DISTRICTS_BEFORE.file).unlink()
    rc, err = run_broken(pack, tmp_path, capsys)
    assert rc == 2 and DISTRICTS_BEFORE.file in err and "not found" in err


def test_duplicate_code(pack, tmp_path, capsys):
    a = read_layer(pack, COMMUNES_AFTER)
    a.loc[5, "commune_code"] = a.loc[2, "commune_code"]
    write_layer(pack, COMMUNES_AFTER, a)
    rc, err = run_broken(pack, tmp_path, capsys)
    assert rc == 2 and "row 6" in err and "duplicate code" in err and "first at row 3" in err


def test_merger_code_absent_from_communes(pack, tmp_path, capsys):
    m = pd.read_csv(pack / MERGER.file, dtype=str, keep_default_na=False)
    m.loc[10, "old_commune_code"] = "99999"
    m.to_csv(pack / MERGER.file, index=False)
    rc, err = run_broken(pack, tmp_path, capsys)
    assert rc == 2 and "row 12" in err and "field 'old_commune_code'" in err and "99999" in err


def test_commune_absent_from_merger(pack, tmp_path, capsys):
    m = pd.read_csv(pack / MERGER.file, dtype=str, keep_default_na=False)
    gone = m.loc[3, "old_commune_code"]
    m.drop(index=3).to_csv(pack / MERGER.file, index=False)
    rc, err = run_broken(pack, tmp_path, capsys)
    assert rc == 2 and f"old commune {gone}" in err and "absent from the merger table" in err


def test_negative_population(pack, tmp_path, capsys):
    b = read_layer(pack, COMMUNES_BEFORE)
    b.loc[7, "pop_2019"] = -120
    write_layer(pack, COMMUNES_BEFORE, b)
    rc, err = run_broken(pack, tmp_path, capsys)
    assert rc == 2 and "row 8" in err and "field 'pop_2019'" in err and "below the minimum" in err


def test_missing_population(pack, tmp_path, capsys):
    m = pd.read_csv(pack / MERGER.file, dtype=str, keep_default_na=False)
    a = read_layer(pack, COMMUNES_AFTER)
    a["pop_2019"] = a["pop_2019"].astype("float")
    a.loc[4, "pop_2019"] = None
    write_layer(pack, COMMUNES_AFTER, a)
    rc, err = run_broken(pack, tmp_path, capsys)
    assert rc == 2 and "row 5" in err and "field 'pop_2019'" in err and "missing value" in err


def test_wrong_crs(pack, tmp_path, capsys):
    write_layer(pack, DISTRICTS_BEFORE, read_layer(pack, DISTRICTS_BEFORE).to_crs("EPSG:3857"))
    rc, err = run_broken(pack, tmp_path, capsys)
    assert rc == 2 and "EPSG:3857" in err and "expected EPSG:4326" in err


def test_missing_crs(pack, tmp_path, capsys):
    a = read_layer(pack, COMMUNES_AFTER)
    a = a.set_crs(None, allow_override=True)
    write_layer(pack, COMMUNES_AFTER, a)
    rc, err = run_broken(pack, tmp_path, capsys)
    assert rc == 2 and "no coordinate reference system" in err


def test_codes_without_leading_zeros(pack, tmp_path, capsys):
    m = pd.read_csv(pack / MERGER.file, dtype=str, keep_default_na=False)
    m.loc[0, "new_commune_code"] = m.loc[0, "new_commune_code"].lstrip("0")
    m.to_csv(pack / MERGER.file, index=False)
    rc, err = run_broken(pack, tmp_path, capsys)
    assert rc == 2 and "row 2" in err and "field 'new_commune_code'" in err and "not a code of 5 digits" in err


def test_unrepairable_geometry(pack, tmp_path, capsys):
    a = read_layer(pack, COMMUNES_AFTER)
    a["geometry"] = a.geometry.astype(object)
    a.loc[3, "geometry"] = shapely.LineString([(104, 22), (104.1, 22.1)])
    write_layer(pack, COMMUNES_AFTER, gpd.GeoDataFrame(a, geometry="geometry", crs="EPSG:4326"))
    rc, err = run_broken(pack, tmp_path, capsys)
    assert rc == 2 and "row 4" in err and "field 'geometry'" in err


def test_invalid_geometry_is_repaired_and_reported(pack, tmp_path, capsys):
    a = read_layer(pack, COMMUNES_AFTER)
    g = a.geometry.iloc[0].geoms[0]
    x0, y0, x1, y1 = g.bounds
    bowtie = shapely.Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])  # self-intersecting
    a.loc[0, "geometry"] = shapely.MultiPolygon([bowtie])
    write_layer(pack, COMMUNES_AFTER, a)
    rc = run_cli("validate", "--geodata", str(pack), "--province", PROVINCE)
    out = capsys.readouterr().out
    assert rc == 0 and "row 1" in out and "repaired with make_valid" in out


def test_area_shares_not_numbers(pack, tmp_path, capsys):
    m = pd.read_csv(pack / MERGER.file, dtype=str, keep_default_na=False)
    m.loc[20, "area_share"] = "0,5"
    m.to_csv(pack / MERGER.file, index=False)
    rc, err = run_broken(pack, tmp_path, capsys)
    assert rc == 2 and "row 22" in err and "field 'area_share'" in err and "not a number" in err


def test_merger_not_utf8(pack, tmp_path, capsys):
    text = (pack / MERGER.file).read_text(encoding="utf-8")
    (pack / MERGER.file).write_bytes(text.encode("cp1258", errors="replace"))
    rc, err = run_broken(pack, tmp_path, capsys)
    assert rc == 2 and MERGER.file in err and "not UTF-8" in err


def _roster(pack: Path, tmp_path: Path) -> Path:
    b = read_layer(pack, COMMUNES_BEFORE).sort_values("commune_code")
    r = pd.DataFrame({"station_code": b["commune_code"], "lon": b["lon"], "lat": b["lat"], "facility_score": 0.7,
                      "doctor": 1, "assistant_doctor": 1, "nurse": 2, "midwife": 1, "pharmacist": 1, "other": 0})
    path = tmp_path / "roster.csv"
    r.to_csv(path, index=False)
    return path


def test_roster_good_is_used(pack, tmp_path, capsys):
    path = _roster(pack, tmp_path)
    rc = run_cli("run", str(ROOT / "scenarios" / "lao_cai_official.toml"), "--geodata", str(pack), "--out", str(tmp_path / "o"), "--quiet", "--set", f"roster='{path}'")
    assert rc == 0, capsys.readouterr().err
    import json

    s = json.loads((tmp_path / "o" / "lao_cai_official" / "summary.json").read_text(encoding="utf-8"))
    assert s["synthetic_roster"] is False and s["staff"]["before"]["total"] == 6 * 319


def test_roster_unknown_station(pack, tmp_path, capsys):
    path = _roster(pack, tmp_path)
    r = pd.read_csv(path, dtype=str)
    r.loc[4, "station_code"] = "16663"  # a Nghệ An commune
    r.to_csv(path, index=False)
    rc, err = run_broken(pack, tmp_path, capsys, "--set", f"roster='{path}'")
    assert rc == 2 and "row 6" in err and "field 'station_code'" in err and "not an old commune of this province" in err


def test_roster_non_numeric_staff(pack, tmp_path, capsys):
    path = _roster(pack, tmp_path)
    r = pd.read_csv(path, dtype=str)
    r.loc[9, "nurse"] = "two"
    r.to_csv(path, index=False)
    rc, err = run_broken(pack, tmp_path, capsys, "--set", f"roster='{path}'")
    assert rc == 2 and "row 11" in err and "field 'nurse'" in err and "'two' is not a number" in err


def test_roster_negative_staff(pack, tmp_path, capsys):
    path = _roster(pack, tmp_path)
    r = pd.read_csv(path, dtype=str)
    r.loc[0, "doctor"] = "-1"
    r.to_csv(path, index=False)
    rc, err = run_broken(pack, tmp_path, capsys, "--set", f"roster='{path}'")
    assert rc == 2 and "row 2" in err and "field 'doctor'" in err and "below the minimum" in err


def test_roster_validate_command(pack, tmp_path, capsys):
    path = _roster(pack, tmp_path)
    r = pd.read_csv(path, dtype=str).drop(columns=["midwife"])
    r.to_csv(path, index=False)
    rc = run_cli("validate", "--geodata", str(pack), "--province", PROVINCE, "--roster", str(path))
    err = capsys.readouterr().err
    assert rc == 2 and "missing column 'midwife'" in err


def test_scenario_misspelt_key(pack, tmp_path, capsys):
    sc = tmp_path / "lao_cai_official.toml"
    sc.write_text('province = "15"\nseeed = 3\n', encoding="utf-8")
    rc, err = run_broken(pack, tmp_path, capsys, scenario=str(sc))
    assert rc == 2 and "field 'seeed'" in err and "did you mean 'seed'" in err


def test_scenario_param_out_of_range(pack, tmp_path, capsys):
    rc, err = run_broken(pack, tmp_path, capsys, "--set", "params.doctor_presence_share=1.7")
    assert rc == 2 and "params.doctor_presence_share" in err and "out of range" in err


def test_unknown_province(pack, tmp_path, capsys):
    rc, err = run_broken(pack, tmp_path, capsys, "--province", "77")
    assert rc == 2 and "unknown province code '77'" in err


def test_swapped_coordinates(pack, tmp_path, capsys):
    b = read_layer(pack, COMMUNES_BEFORE)
    b.loc[11, ["lon", "lat"]] = b.loc[11, ["lat", "lon"]].to_numpy()
    write_layer(pack, COMMUNES_BEFORE, b)
    rc, err = run_broken(pack, tmp_path, capsys)
    assert rc == 2 and "row 12" in err and "swapped" in err
