"""Broken inputs built from the real pack: each exits 2, names the row or field, and writes nothing."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
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


@dataclass
class Broken:
    """How a case breaks the run: extra CLI arguments, another scenario or pack, and the words the
    message must hold (file, row, field and what is wrong)."""

    expect: list[str]
    args: list[str] = field(default_factory=list)
    scenario: str | None = None
    pack: Path | None = None


def run_broken(pack: Path, tmp_path: Path, capsys, *extra: str, scenario: str | None = None):
    out = tmp_path / "outputs"
    args = [
        "run",
        scenario or str(ROOT / "scenarios" / "lao_cai_official.toml"),
        "--geodata",
        str(pack),
        "--out",
        str(out),
        "--quiet",
        *extra,
    ]
    rc = run_cli(*args)
    err = capsys.readouterr().err
    assert "Traceback" not in err
    name = "lao_cai_official"
    assert not (out / name).exists(), "no output folder for bad input"
    assert not out.exists() or not any(out.iterdir()), "nothing written"
    return rc, err


def _edit_merger(pack: Path, edit) -> pd.DataFrame:
    m = pd.read_csv(pack / MERGER.file, dtype=str, keep_default_na=False)
    edited = edit(m.copy())
    edited.to_csv(pack / MERGER.file, index=False)
    return m


def _edit_layer(pack: Path, layer, edit) -> None:
    gdf = read_layer(pack, layer)
    write_layer(pack, layer, edit(gdf))


def _set(frame, row, col, value):
    frame.loc[row, col] = value
    return frame


def _roster(pack: Path, tmp_path: Path) -> Path:
    b = read_layer(pack, COMMUNES_BEFORE).sort_values("commune_code")
    r = pd.DataFrame(
        {
            "station_code": b["commune_code"],
            "lon": b["lon"],
            "lat": b["lat"],
            "facility_score": 0.7,
            "doctor": 1,
            "assistant_doctor": 1,
            "nurse": 2,
            "midwife": 1,
            "pharmacist": 1,
            "other": 0,
        }
    )
    path = tmp_path / "roster.csv"
    r.to_csv(path, index=False)
    return path


def _roster_edit(pack: Path, tmp_path: Path, edit) -> Path:
    path = _roster(pack, tmp_path)
    edit(pd.read_csv(path, dtype=str)).to_csv(path, index=False)
    return path


def _roster_lines(pack: Path, tmp_path: Path, edit) -> Path:
    path = _roster(pack, tmp_path)
    path.write_text("\n".join(edit(path.read_text(encoding="utf-8").splitlines())) + "\n", encoding="utf-8")
    return path


def _roster_bytes(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "roster.csv"
    path.write_bytes(data)
    return path


def _with_roster(path: Path, expect: list[str]) -> Broken:
    return Broken(expect, args=["--set", f"roster='{path}'"])


def _scenario(tmp_path: Path, text: str) -> str:
    sc = tmp_path / "lao_cai_official.toml"
    sc.write_text(text, encoding="utf-8")
    return str(sc)


# ---------------------------------------------------------------- the cases: break, then expect (rows are 1-based, header = row 1)


def _missing_column(pack, tmp):
    _edit_layer(pack, COMMUNES_BEFORE, lambda b: b.drop(columns=["pop_2019"]))
    return Broken(["field 'pop_2019'", "missing column", COMMUNES_BEFORE.file])


def _missing_layer(pack, tmp):
    a = read_layer(pack, COMMUNES_AFTER)
    (pack / COMMUNES_AFTER.file).unlink()
    a.to_file(pack / COMMUNES_AFTER.file, layer="wards")
    return Broken(["missing layer 'communes_after'", "wards"])


def _missing_file(pack, tmp):
    (pack / DISTRICTS_BEFORE.file).unlink()
    return Broken([DISTRICTS_BEFORE.file, "not found"])


def _duplicate_code(pack, tmp):
    _edit_layer(pack, COMMUNES_AFTER, lambda a: _set(a, 5, "commune_code", a.loc[2, "commune_code"]))
    return Broken(["row 6", "duplicate code", "first at row 3"])


def _merger_code_absent_from_communes(pack, tmp):
    _edit_merger(pack, lambda m: _set(m, 10, "old_commune_code", "99999"))
    return Broken(["row 12", "field 'old_commune_code'", "99999"])


def _commune_absent_from_merger(pack, tmp):
    m = _edit_merger(pack, lambda m: m.drop(index=3))
    return Broken([f"old commune {m.loc[3, 'old_commune_code']}", "absent from the merger table"])


def _negative_population(pack, tmp):
    _edit_layer(pack, COMMUNES_BEFORE, lambda b: _set(b, 7, "pop_2019", -120))
    return Broken(["row 8", "field 'pop_2019'", "below the minimum"])


def _missing_population(pack, tmp):
    def edit(a):
        a["pop_2019"] = a["pop_2019"].astype("float")
        return _set(a, 4, "pop_2019", None)

    _edit_layer(pack, COMMUNES_AFTER, edit)
    return Broken(["row 5", "field 'pop_2019'", "missing value"])


def _wrong_crs(pack, tmp):
    _edit_layer(pack, DISTRICTS_BEFORE, lambda d: d.to_crs("EPSG:3857"))
    return Broken(["EPSG:3857", "expected EPSG:4326"])


def _missing_crs(pack, tmp):
    _edit_layer(pack, COMMUNES_AFTER, lambda a: a.set_crs(None, allow_override=True))
    return Broken(["no coordinate reference system"])


def _codes_without_leading_zeros(pack, tmp):
    _edit_merger(pack, lambda m: _set(m, 0, "new_commune_code", m.loc[0, "new_commune_code"].lstrip("0")))
    return Broken(["row 2", "field 'new_commune_code'", "keep their leading zeros"])


def _unrepairable_geometry(pack, tmp):
    def edit(a):
        a["geometry"] = a.geometry.astype(object)
        a.loc[3, "geometry"] = shapely.LineString([(104, 22), (104.1, 22.1)])
        return gpd.GeoDataFrame(a, geometry="geometry", crs="EPSG:4326")

    _edit_layer(pack, COMMUNES_AFTER, edit)
    return Broken(["row 4", "field 'geometry'"])


def _area_shares_not_numbers(pack, tmp):
    _edit_merger(pack, lambda m: _set(m, 20, "area_share", "0,5"))
    return Broken(["row 22", "field 'area_share'", "decimal comma", "(0.5)"])


def _merger_not_utf8(pack, tmp):
    text = (pack / MERGER.file).read_text(encoding="utf-8")
    (pack / MERGER.file).write_bytes(text.encode("cp1258", errors="replace"))
    return Broken([MERGER.file, "not UTF-8"])


def _swapped_coordinates(pack, tmp):
    def edit(b):
        b.loc[11, ["lon", "lat"]] = b.loc[11, ["lat", "lon"]].to_numpy()
        return b

    _edit_layer(pack, COMMUNES_BEFORE, edit)
    return Broken(["row 12", "swapped"])


def _old_commune_mapped_into_another_province(pack, tmp):
    def edit(m):
        extra = m.iloc[[0]].copy()
        extra["new_commune_code"], extra["new_province_code"], extra["n_new_targets"] = "16681", "40", "2"
        return pd.concat([m, extra])

    m = _edit_merger(pack, edit)
    return Broken([f"old commune {m.loc[0, 'old_commune_code']}", "province 40"])


def _area_shares_do_not_add_up(pack, tmp):
    _edit_merger(pack, lambda m: _set(m, 30, "area_share", "0.5"))  # a single-target commune must carry its whole area
    return Broken(["field 'area_share'", "add up to"])


def _duplicate_merger_pair(pack, tmp):
    m = _edit_merger(pack, lambda m: pd.concat([m, m.iloc[[4]]]))
    return Broken([f"row {len(m) + 2}", "duplicate pair"])


def _missing_new_commune_geometry(pack, tmp):
    _edit_layer(pack, COMMUNES_AFTER, lambda a: _set(a, 9, "geometry", None))
    return Broken(["row 10", "missing or empty geometry"])


def _geodata_folder_missing(pack, tmp):
    return Broken(["geodata directory not found"], pack=tmp / "no_such_pack")


def _roster_unknown_station(pack, tmp):
    path = _roster_edit(pack, tmp, lambda r: _set(r, 4, "station_code", "16663"))  # a Nghệ An commune
    return _with_roster(path, ["row 6", "field 'station_code'", "not an old commune of this province"])


def _roster_non_numeric_staff(pack, tmp):
    return _with_roster(
        _roster_edit(pack, tmp, lambda r: _set(r, 9, "nurse", "two")), ["row 11", "field 'nurse'", "'two' is not a number"]
    )


def _roster_negative_staff(pack, tmp):
    return _with_roster(
        _roster_edit(pack, tmp, lambda r: _set(r, 0, "doctor", "-1")), ["row 2", "field 'doctor'", "below the minimum"]
    )


def _roster_excel_renamed_csv(pack, tmp):  # the start of every .xlsx (a zip file)
    return _with_roster(_roster_bytes(tmp, b"PK\x03\x04" + b"\x00" * 200), ["Excel workbook", "CSV UTF-8"])


def _roster_old_excel_renamed_csv(pack, tmp):
    return _with_roster(_roster_bytes(tmp, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 200), ["old Excel workbook (.xls)"])


def _roster_duplicated_header_row(pack, tmp):
    return _with_roster(
        _roster_lines(pack, tmp, lambda lines: lines[:6] + [lines[0]] + lines[6:]), ["row 7", "repeats the header"]
    )


def _roster_decimal_comma(pack, tmp):
    path = _roster_edit(pack, tmp, lambda r: _set(r, 2, "lon", r.loc[2, "lon"].replace(".", ",")))
    return _with_roster(path, ["row 4", "field 'lon'", "decimal comma"])


def _roster_thousands_separator(pack, tmp):
    return _with_roster(_roster_edit(pack, tmp, lambda r: _set(r, 3, "other", "1,200")), ["row 5", "thousands separators"])


def _roster_code_without_leading_zero(pack, tmp):
    code = pd.read_csv(_roster(pack, tmp), dtype=str).loc[0, "station_code"]
    path = _roster_edit(pack, tmp, lambda r: _set(r, 0, "station_code", code.lstrip("0")))
    return _with_roster(path, ["row 2", f"did you mean '{code}'"])


def _roster_swapped_coordinates(pack, tmp):
    def edit(r):
        r.loc[5, ["lon", "lat"]] = r.loc[5, ["lat", "lon"]].to_numpy()
        return r

    return _with_roster(_roster_edit(pack, tmp, edit), ["row 7", "swapped"])


def _roster_point_outside_vietnam(pack, tmp):
    def edit(r):
        r.loc[8, ["lon", "lat"]] = ["2.35", "48.85"]
        return r

    return _with_roster(_roster_edit(pack, tmp, edit), ["row 10", "outside Vietnam"])


def _roster_duplicate_station(pack, tmp):
    return _with_roster(
        _roster_edit(pack, tmp, lambda r: _set(r, 12, "station_code", r.loc[11, "station_code"])), ["row 14", "duplicate code"]
    )


def _roster_facility_score_out_of_range(pack, tmp):
    path = _roster_edit(pack, tmp, lambda r: _set(r, 1, "facility_score", "1.5"))
    return _with_roster(path, ["row 3", "field 'facility_score'", "above the maximum"])


def _roster_bad_region(pack, tmp):
    def edit(r):
        r["region"] = "I"
        return _set(r, 6, "region", "IV")

    return _with_roster(_roster_edit(pack, tmp, edit), ["row 8", "'IV' is not I, II or III"])


def _roster_header_only(pack, tmp):
    return _with_roster(_roster_lines(pack, tmp, lambda lines: lines[:1]), ["has no rows"])


def _roster_semicolon_separated(pack, tmp):
    return _with_roster(_roster_lines(pack, tmp, lambda lines: [x.replace(",", ";") for x in lines]), ["separated by ';'"])


def _scenario_misspelt_key(pack, tmp):
    return Broken(["field 'seeed'", "did you mean 'seed'"], scenario=_scenario(tmp, 'province = "15"\nseeed = 3\n'))


def _scenario_value_of_wrong_type(pack, tmp):
    return Broken(["field 'seed'", "expected a whole number"], scenario=_scenario(tmp, 'province = "15"\nseed = "abc"\n'))


def _scenario_unknown_policy_value(pack, tmp):
    return Broken(
        ["field 'policy.staff'", "'shuffle' is not one of stay, optimise"],
        scenario=_scenario(tmp, 'province = "15"\n[policy]\nstaff = "shuffle"\n'),
    )


def _scenario_not_toml(pack, tmp):
    return Broken(["not valid TOML"], scenario=_scenario(tmp, 'province = "15\nseed = 3\n'))


def _scenario_file_missing(pack, tmp):
    return Broken(["scenario file not found"], scenario=str(tmp / "nope.toml"))


def _scenario_param_out_of_range(pack, tmp):
    return Broken(["params.doctor_presence_share", "out of range"], args=["--set", "params.doctor_presence_share=1.7"])


def _scenario_param_wrong_type(pack, tmp):
    return Broken(["params.contiguous_catchments", "expected true or false"], args=["--set", "params.contiguous_catchments=3"])


def _unknown_province(pack, tmp):
    return Broken(["unknown province code '77'"], args=["--province", "77"])


CASES = {
    f.__name__.lstrip("_"): f
    for f in (
        _missing_column,
        _missing_layer,
        _missing_file,
        _duplicate_code,
        _merger_code_absent_from_communes,
        _commune_absent_from_merger,
        _negative_population,
        _missing_population,
        _wrong_crs,
        _missing_crs,
        _codes_without_leading_zeros,
        _unrepairable_geometry,
        _area_shares_not_numbers,
        _merger_not_utf8,
        _swapped_coordinates,
        _old_commune_mapped_into_another_province,
        _area_shares_do_not_add_up,
        _duplicate_merger_pair,
        _missing_new_commune_geometry,
        _geodata_folder_missing,
        _roster_unknown_station,
        _roster_non_numeric_staff,
        _roster_negative_staff,
        _roster_excel_renamed_csv,
        _roster_old_excel_renamed_csv,
        _roster_duplicated_header_row,
        _roster_decimal_comma,
        _roster_thousands_separator,
        _roster_code_without_leading_zero,
        _roster_swapped_coordinates,
        _roster_point_outside_vietnam,
        _roster_duplicate_station,
        _roster_facility_score_out_of_range,
        _roster_bad_region,
        _roster_header_only,
        _roster_semicolon_separated,
        _scenario_misspelt_key,
        _scenario_value_of_wrong_type,
        _scenario_unknown_policy_value,
        _scenario_not_toml,
        _scenario_file_missing,
        _scenario_param_out_of_range,
        _scenario_param_wrong_type,
        _unknown_province,
    )
}


@pytest.mark.parametrize("case", list(CASES))
def test_broken_input_exits_2_naming_the_problem_and_writes_nothing(case, pack, tmp_path, capsys):
    broken = CASES[case](pack, tmp_path)
    rc, err = run_broken(broken.pack or pack, tmp_path, capsys, *broken.args, scenario=broken.scenario)
    assert rc == 2, err
    missing = [words for words in broken.expect if words not in err]
    assert not missing, f"{case}: the message lacks {missing}:\n{err}"


# ---------------------------------------------------------------- inputs that are accepted, repaired or warned about


def test_clean_subset_runs(pack, tmp_path, capsys):
    rc = run_cli(
        "run", str(ROOT / "scenarios" / "lao_cai_official.toml"), "--geodata", str(pack), "--out", str(tmp_path / "o"), "--quiet"
    )
    assert rc == 0, capsys.readouterr().err


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


def test_roster_good_is_used(pack, tmp_path, capsys):
    path = _roster(pack, tmp_path)
    rc = run_cli(
        "run",
        str(ROOT / "scenarios" / "lao_cai_official.toml"),
        "--geodata",
        str(pack),
        "--out",
        str(tmp_path / "o"),
        "--quiet",
        "--set",
        f"roster='{path}'",
    )
    assert rc == 0, capsys.readouterr().err
    s = json.loads((tmp_path / "o" / "lao_cai_official" / "summary.json").read_text(encoding="utf-8"))
    roster = pd.read_csv(path, dtype={"station_code": str})
    assert s["synthetic_roster"] is False
    assert s["staff"]["before"]["total"] == int(
        roster[["doctor", "assistant_doctor", "nurse", "midwife", "pharmacist", "other"]].sum().sum()
    )
    assert s["counts"]["stations"] == len(roster)


def test_roster_validate_command(pack, tmp_path, capsys):
    path = _roster_edit(pack, tmp_path, lambda r: r.drop(columns=["midwife"]))
    rc = run_cli("validate", "--geodata", str(pack), "--province", PROVINCE, "--roster", str(path))
    err = capsys.readouterr().err
    assert rc == 2 and "missing column 'midwife'" in err


def test_roster_blank_lines_are_ignored_with_a_warning(pack, tmp_path, capsys):
    path = _roster_lines(pack, tmp_path, lambda lines: lines[:4] + ["", ",,,"] + lines[4:])
    rc = run_cli("validate", "--geodata", str(pack), "--province", PROVINCE, "--roster", str(path))
    out = capsys.readouterr()
    assert rc == 0 and "row 5" in out.out + out.err and "blank line ignored" in out.out + out.err
