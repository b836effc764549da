"""Broken inputs built from the real pack: each exits 2, names the row or field, and writes nothing."""
from __future__ import annotations

import shutil
from pathlib import Path

import geopandas as gpd
import pandas as pd
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
    assert rc == 2 and "row 2" in err and "field 'new_commune_code'" in err and "keep their leading zeros" in err


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
    assert rc == 2 and "row 22" in err and "field 'area_share'" in err and "decimal comma" in err and "(0.5)" in err


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


# ---------------------------------------------------------------- more hostile inputs (issue: reliability)

def _roster_text(pack, tmp_path, edit):
    path = _roster(pack, tmp_path)
    lines = path.read_text(encoding="utf-8").splitlines()
    lines = edit(lines)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _run_roster(pack, tmp_path, capsys, path):
    return run_broken(pack, tmp_path, capsys, "--set", f"roster='{path}'")


def test_roster_excel_renamed_csv(pack, tmp_path, capsys):
    path = tmp_path / "roster.csv"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 200)  # the start of every .xlsx (a zip file)
    rc, err = _run_roster(pack, tmp_path, capsys, path)
    assert rc == 2 and "Excel workbook" in err and "CSV UTF-8" in err


def test_roster_old_excel_renamed_csv(pack, tmp_path, capsys):
    path = tmp_path / "roster.csv"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 200)
    rc, err = _run_roster(pack, tmp_path, capsys, path)
    assert rc == 2 and "old Excel workbook (.xls)" in err


def test_roster_duplicated_header_row(pack, tmp_path, capsys):
    path = _roster_text(pack, tmp_path, lambda L: L[:6] + [L[0]] + L[6:])
    rc, err = _run_roster(pack, tmp_path, capsys, path)
    assert rc == 2 and "row 7" in err and "repeats the header" in err


def test_roster_blank_lines_are_ignored_with_a_warning(pack, tmp_path, capsys):
    path = _roster_text(pack, tmp_path, lambda L: L[:4] + ["", ",,,"] + L[4:])
    rc = run_cli("validate", "--geodata", str(pack), "--province", PROVINCE, "--roster", str(path))
    out = capsys.readouterr()
    assert rc == 0 and "row 5" in out.out + out.err and "blank line ignored" in out.out + out.err


def test_roster_decimal_comma(pack, tmp_path, capsys):
    path = _roster(pack, tmp_path)
    r = pd.read_csv(path, dtype=str)
    r.loc[2, "lon"] = r.loc[2, "lon"].replace(".", ",")
    r.to_csv(path, index=False)
    rc, err = _run_roster(pack, tmp_path, capsys, path)
    assert rc == 2 and "row 4" in err and "field 'lon'" in err and "decimal comma" in err


def test_roster_thousands_separator(pack, tmp_path, capsys):
    path = _roster(pack, tmp_path)
    r = pd.read_csv(path, dtype=str)
    r.loc[3, "other"] = "1,200"
    r.to_csv(path, index=False)
    rc, err = _run_roster(pack, tmp_path, capsys, path)
    assert rc == 2 and "row 5" in err and "thousands separators" in err


def test_roster_code_without_leading_zero(pack, tmp_path, capsys):
    path = _roster(pack, tmp_path)
    r = pd.read_csv(path, dtype=str)
    code = r.loc[0, "station_code"]
    r.loc[0, "station_code"] = code.lstrip("0")
    r.to_csv(path, index=False)
    rc, err = _run_roster(pack, tmp_path, capsys, path)
    assert rc == 2 and "row 2" in err and f"did you mean '{code}'" in err


def test_roster_swapped_coordinates(pack, tmp_path, capsys):
    path = _roster(pack, tmp_path)
    r = pd.read_csv(path, dtype=str)
    r.loc[5, ["lon", "lat"]] = r.loc[5, ["lat", "lon"]].to_numpy()
    r.to_csv(path, index=False)
    rc, err = _run_roster(pack, tmp_path, capsys, path)
    assert rc == 2 and "row 7" in err and "swapped" in err


def test_roster_point_outside_vietnam(pack, tmp_path, capsys):
    path = _roster(pack, tmp_path)
    r = pd.read_csv(path, dtype=str)
    r.loc[8, ["lon", "lat"]] = ["2.35", "48.85"]
    r.to_csv(path, index=False)
    rc, err = _run_roster(pack, tmp_path, capsys, path)
    assert rc == 2 and "row 10" in err and "outside Vietnam" in err


def test_roster_duplicate_station(pack, tmp_path, capsys):
    path = _roster(pack, tmp_path)
    r = pd.read_csv(path, dtype=str)
    r.loc[12, "station_code"] = r.loc[11, "station_code"]
    r.to_csv(path, index=False)
    rc, err = _run_roster(pack, tmp_path, capsys, path)
    assert rc == 2 and "row 14" in err and "duplicate code" in err


def test_roster_facility_score_out_of_range(pack, tmp_path, capsys):
    path = _roster(pack, tmp_path)
    r = pd.read_csv(path, dtype=str)
    r.loc[1, "facility_score"] = "1.5"
    r.to_csv(path, index=False)
    rc, err = _run_roster(pack, tmp_path, capsys, path)
    assert rc == 2 and "row 3" in err and "field 'facility_score'" in err and "above the maximum" in err


def test_roster_bad_region(pack, tmp_path, capsys):
    path = _roster(pack, tmp_path)
    r = pd.read_csv(path, dtype=str)
    r["region"] = "I"
    r.loc[6, "region"] = "IV"
    r.to_csv(path, index=False)
    rc, err = _run_roster(pack, tmp_path, capsys, path)
    assert rc == 2 and "row 8" in err and "'IV' is not I, II or III" in err


def test_roster_header_only(pack, tmp_path, capsys):
    path = _roster_text(pack, tmp_path, lambda L: L[:1])
    rc, err = _run_roster(pack, tmp_path, capsys, path)
    assert rc == 2 and "has no rows" in err


def test_roster_semicolon_separated(pack, tmp_path, capsys):
    path = _roster_text(pack, tmp_path, lambda L: [x.replace(",", ";") for x in L])
    rc, err = _run_roster(pack, tmp_path, capsys, path)
    assert rc == 2 and "separated by ';'" in err


def test_old_commune_mapped_into_another_province(pack, tmp_path, capsys):
    m = pd.read_csv(pack / MERGER.file, dtype=str, keep_default_na=False)
    extra = m.iloc[[0]].copy()
    extra["new_commune_code"], extra["new_province_code"], extra["n_new_targets"] = "16681", "40", "2"
    pd.concat([m, extra]).to_csv(pack / MERGER.file, index=False)
    rc, err = run_broken(pack, tmp_path, capsys)
    assert rc == 2 and f"old commune {m.loc[0, 'old_commune_code']}" in err and "province 40" in err


def test_area_shares_do_not_add_up(pack, tmp_path, capsys):
    m = pd.read_csv(pack / MERGER.file, dtype=str, keep_default_na=False)
    i = 30
    m.loc[i, "area_share"] = "0.5"  # a single-target commune must carry its whole area
    m.to_csv(pack / MERGER.file, index=False)
    rc, err = run_broken(pack, tmp_path, capsys)
    assert rc == 2 and "field 'area_share'" in err and "add up to" in err


def test_duplicate_merger_pair(pack, tmp_path, capsys):
    m = pd.read_csv(pack / MERGER.file, dtype=str, keep_default_na=False)
    pd.concat([m, m.iloc[[4]]]).to_csv(pack / MERGER.file, index=False)
    rc, err = run_broken(pack, tmp_path, capsys)
    assert rc == 2 and f"row {len(m) + 2}" in err and "duplicate pair" in err


def test_missing_new_commune_geometry(pack, tmp_path, capsys):
    a = read_layer(pack, COMMUNES_AFTER)
    a.loc[9, "geometry"] = None
    write_layer(pack, COMMUNES_AFTER, a)
    rc, err = run_broken(pack, tmp_path, capsys)
    assert rc == 2 and "row 10" in err and "missing or empty geometry" in err


def _scenario(tmp_path, text):
    sc = tmp_path / "lao_cai_official.toml"
    sc.write_text(text, encoding="utf-8")
    return str(sc)


def test_scenario_value_of_wrong_type(pack, tmp_path, capsys):
    rc, err = run_broken(pack, tmp_path, capsys, scenario=_scenario(tmp_path, 'province = "15"\nseed = "abc"\n'))
    assert rc == 2 and "field 'seed'" in err and "expected a whole number" in err


def test_scenario_unknown_policy_value(pack, tmp_path, capsys):
    rc, err = run_broken(pack, tmp_path, capsys, scenario=_scenario(tmp_path, 'province = "15"\n[policy]\nstaff = "shuffle"\n'))
    assert rc == 2 and "field 'policy.staff'" in err and "'shuffle' is not one of stay, optimise" in err


def test_scenario_not_toml(pack, tmp_path, capsys):
    rc, err = run_broken(pack, tmp_path, capsys, scenario=_scenario(tmp_path, 'province = "15\nseed = 3\n'))
    assert rc == 2 and "not valid TOML" in err


def test_scenario_file_missing(pack, tmp_path, capsys):
    rc, err = run_broken(pack, tmp_path, capsys, scenario=str(tmp_path / "nope.toml"))
    assert rc == 2 and "scenario file not found" in err


def test_scenario_param_wrong_type(pack, tmp_path, capsys):
    rc, err = run_broken(pack, tmp_path, capsys, "--set", "params.contiguous_catchments=3")
    assert rc == 2 and "params.contiguous_catchments" in err and "expected true or false" in err


def test_geodata_folder_missing(pack, tmp_path, capsys):
    rc, err = run_broken(tmp_path / "no_such_pack", tmp_path, capsys)
    assert rc == 2 and "geodata directory not found" in err
