"""Stages that only move forward: a stage reads what the earlier ones returned and never modifies it;
its warnings come back in its own result; the progress display says what each stage does."""

from __future__ import annotations

import copy
import io
import re

import numpy as np
import pandas as pd
import pytest
import shapely

from reorg import i18n, reform, roster, validate
from reorg._errors import InputError
from reorg.load import load_pack
from reorg.params import defaults
from reorg.pipeline import STAGES, Progress, run
from reorg.scenario import load_scenario

SEED = 20250701


def fingerprint(frame: pd.DataFrame) -> tuple:
    """Everything that can change in a frame: columns, dtypes, index, values (geometry as WKB)."""
    plain = pd.DataFrame(
        {
            col: shapely.to_wkb(np.asarray(frame[col].array), hex=True)
            if frame[col].dtype.name == "geometry"
            else frame[col].astype(object)
            for col in frame.columns
        },
        index=frame.index,
    )
    values = pd.util.hash_pandas_object(plain.where(plain.notna(), None), index=True)
    return tuple(frame.columns), tuple(str(t) for t in frame.dtypes), tuple(frame.index), tuple(values)


def pack_fingerprint(pack) -> dict:
    return {
        "communes_before": fingerprint(pack.communes_before),
        "communes_after": fingerprint(pack.communes_after),
        "districts": fingerprint(pack.districts),
        "merger": fingerprint(pack.merger),
        "warnings": copy.deepcopy(pack.warnings),
        "code": pack.province_code,
        "name": pack.province_name,
    }


@pytest.fixture(scope="module")
def khanh_hoa(geodata):
    """Khánh Hòa: three Trường Sa communes without polygon whose points lie on the mainland (the
    reform moves their stations and warns)."""
    return load_pack(geodata, "56")


@pytest.fixture(scope="module")
def ho_chi_minh(geodata):
    """Hồ Chí Minh City: a special zone without predecessor (Côn Đảo) and a new commune that no old
    station stands in."""
    return load_pack(geodata, "79")


@pytest.mark.parametrize("name", ["khanh_hoa", "ho_chi_minh"])
def test_reform_does_not_modify_the_pack_or_the_stations(name, request):
    pack = request.getfixturevalue(name)
    params = defaults()
    before = pack_fingerprint(pack)
    old = reform.classify_old_communes(pack, params)
    given = roster.stations_before_merger(None, old.frame, params, SEED)
    given_before = fingerprint(given.stations)
    old_before = fingerprint(old.frame), copy.deepcopy(old.warnings)
    reformed = reform.apply_merger(pack, old)
    stations = reform.stations_after_merger(pack, reformed, given.stations, params, SEED)
    roster.synthesise_centres(reformed.old, pack.districts, params)
    assert pack_fingerprint(pack) == before
    assert fingerprint(given.stations) == given_before
    assert (fingerprint(old.frame), old.warnings) == old_before
    assert "new_code" in stations and "new_code" not in given.stations  # a new frame, the given one as it was


def test_reform_returns_its_warnings(khanh_hoa):
    old = reform.classify_old_communes(khanh_hoa, defaults())
    reformed = reform.apply_merger(khanh_hoa, old)
    assert khanh_hoa.warnings == []  # the pack itself is clean
    moved = [w for w in reformed.warnings if "lies outside its new commune" in w.message]
    assert len(moved) == 3 and all(w.severity == "warning" for w in moved)
    assert reformed.warnings == old.warnings
    # each moved station point lies in the commune it was moved to
    for w in moved:
        target = re.search(r"new commune (\d+)", w.message).group(1)
        point = shapely.Point(old.frame.at[w.code, "pt_lon"], old.frame.at[w.code, "pt_lat"])
        assert khanh_hoa.communes_after.geometry[target].covers(point), w.code


def test_station_assembly(ho_chi_minh):
    """Every new commune gets a station: a synthetic one in each special zone without predecessor, a
    new site where no old station stands; removing the stations of a commune makes a new site there."""
    params = defaults()
    old = reform.classify_old_communes(ho_chi_minh, params)
    given = roster.stations_before_merger(None, old.frame, params, SEED)
    reformed = reform.apply_merger(ho_chi_minh, old)
    stations = reform.stations_after_merger(ho_chi_minh, reformed, given.stations, params, SEED)
    assert set(stations["new_code"]) == set(reformed.new.index)
    orphans = set(reformed.new.index[reformed.new["n_old"] == 0])
    zones = stations[stations["origin"] == "special_zone_synthetic"]
    assert orphans and set(zones["new_code"]) == orphans and (zones["old_code"] == "").all()
    sites = stations[stations["origin"] == "new_site_needed"]
    assert len(sites) == 1
    kept = stations[~stations["origin"].isin(["special_zone_synthetic", "new_site_needed"])]
    assert not set(sites["new_code"]) & set(kept["new_code"])
    assert (stations.loc[kept.index, "district_code"] == kept["old_code"].map(old.frame["district_code"])).all()
    assert (stations.loc[zones.index.union(sites.index), "district_code"] == "").all()
    assert stations.index.is_unique

    # the stations of one new commune taken away: it gets a new site instead
    target = kept["new_code"].value_counts().index[-1]
    fewer = given.stations.drop(kept.index[kept["new_code"] == target])
    again = reform.stations_after_merger(ho_chi_minh, reformed, fewer, params, SEED)
    site = again[(again["origin"] == "new_site_needed") & (again["new_code"] == target)]
    assert list(site.index) == [f"N{target}"]
    assert set(again["new_code"]) == set(reformed.new.index)


def test_run_collects_every_stage_warnings_in_order(geodata, tmp_path):
    """The pack's, the reform's and the roster's warnings, in the order found, and none added to the
    pack."""
    pack = load_pack(geodata, "15")
    b = pack.communes_before.sort_index()
    path = tmp_path / "roster.csv"
    rows = pd.DataFrame(
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
    lines = rows.to_csv(index=False).splitlines()
    path.write_text("\n".join(lines[:3] + [""] + lines[3:]) + "\n", encoding="utf-8")
    result = run(load_scenario(None, [f"roster='{path}'"], province="15"), geodata=str(geodata))
    assert not result.synthetic_roster
    assert result.pack.warnings == []
    kinds = [
        "moved" if "lies outside its new commune" in w.message else "blank" if "blank line" in w.message else "?"
        for w in result.warnings
    ]
    assert kinds == ["moved", "blank"], [w.format() for w in result.warnings]
    assert result.warnings[1].row == 4 and result.warnings[1].file == str(path)


def test_checks_are_reached_from_one_entry_point_per_input(geodata):
    checked = validate.pack(geodata, "15")
    assert checked.province_code == "15" and checked.warnings == []
    assert set(checked.merger["new_province_code"]) == {"15"}
    assert set(checked.communes_before["commune_code"]) == set(checked.merger["old_commune_code"])
    provinces = validate.provinces(geodata)
    assert provinces["province_code"].is_unique and "15" in set(provinces["province_code"])
    with pytest.raises(InputError, match="unknown province code '77'"):
        validate.pack(geodata, "77")


def test_progress_says_what_each_stage_does():
    stream = io.StringIO()
    p = Progress(enabled=True, stream=stream)
    for key in STAGES:
        with p.stage(key):
            if key == "optimise":
                with p.stage("optimise:catchments"):  # nested: measured, not printed
                    pass
    lines = stream.getvalue().splitlines()
    assert len(lines) == len(STAGES) == 8
    for k, (line, key) in enumerate(zip(lines, STAGES), start=1):
        label = i18n.text(f"progress.{key}", "en")
        assert re.fullmatch(rf"\[{k}/8\] {re.escape(label)} +done in \d+\.\d\d s", line), line
    assert list(p.timings) == [
        "load",
        "validate",
        "reform",
        "network",
        "optimise:catchments",
        "optimise",
        "measure",
        "render",
        "report",
    ]
    assert len({line.index(" done in") for line in lines}) == 1  # aligned


@pytest.mark.parametrize("province", ["01", "14", "56", "79"])
def test_province_rows_read_equal_the_whole_tables(geodata, province):
    """A run reads the national layers' rows of its province only (`validate.pack`'s filtered read,
    issue 10's speed work); `reorg validate` reads them whole. Both give the same province, rows,
    record numbers (row numbers of messages) and warnings."""
    whole, rows = validate.pack(geodata, province, whole=True), validate.pack(geodata, province)
    for name in ("communes_before", "communes_after", "districts"):
        a, b = getattr(whole, name), getattr(rows, name)
        assert a.index.equals(b.index), name  # 0-based feature numbers of the whole layer
        assert a.drop(columns="geometry").equals(b.drop(columns="geometry")), name
        same = a.geometry.geom_equals_exact(b.geometry, 0) | (a.geometry.isna() & b.geometry.isna())
        assert same.all(), name
    assert whole.merger.equals(rows.merger)
    assert [w.format() for w in whole.warnings] == [w.format() for w in rows.warnings]


@pytest.mark.parametrize("province", ["14", "56"])
def test_later_provinces_of_a_process_pick_the_same_rows_from_the_whole_layers(geodata, province, monkeypatch):
    """From the second province of a process on (a national run's worker), the rows are picked from
    the whole layers read once (`validate.rows_of`): the same tables, types, record numbers and
    warnings as the first province's SQL-filtered read."""
    monkeypatch.setattr(validate, "_FILTERED", {})
    monkeypatch.setattr(validate, "_RAW", {})
    first = validate.pack(geodata, province)
    assert not validate._RAW
    later = validate.pack(geodata, province)
    assert len(validate._RAW) == 3, "the three GeoPackage layers are kept whole"
    assert not any(kept.checked for kept in validate._RAW.values())
    typed = validate.pack(geodata, province)  # from the third on: typed from the whole layers' check
    assert all(kept.checked and kept.typed is not None for kept in validate._RAW.values())
    for name in ("communes_before", "communes_after", "districts", "merger"):
        assert fingerprint(getattr(first, name)) == fingerprint(getattr(later, name)), name
        assert fingerprint(getattr(first, name)) == fingerprint(getattr(typed, name)), name
    assert [w.format() for w in first.warnings] == [w.format() for w in later.warnings]
    assert [w.format() for w in first.warnings] == [w.format() for w in typed.warnings]


def test_rows_typed_from_a_whole_layer_are_those_of_their_own_check(tmp_path, monkeypatch):
    """Rows typed from the check of the whole layer (`validate._typed_rows`, from the third
    province of a process on) are `check_columns` of the rows themselves; a problem anywhere in the
    whole layer (a bad code in a row not picked) makes every later read check its own rows."""
    import dataclasses

    import geopandas as gpd

    from reorg._errors import ProblemLog
    from reorg.schema import DISTRICTS_BEFORE
    from reorg.table_checks import check_columns

    base = {
        "province_code": [" 01", "01", "02", "02"],
        "district_code": ["001", "002 ", "003", "004"],
        "district_name": ["A", "B", "C", "D"],
        "district_type": ["huyen"] * 4,
        "pop_2019": [10, 20, 30, 40],
    }
    for bad in (False, True):
        data = dict(base, district_code=[*base["district_code"][:3], "4x" if bad else "004"])
        frame = gpd.GeoDataFrame(data, geometry=[shapely.box(105, 20, 105.1, 20.1)] * 4, crs="EPSG:4326")
        frame.to_file(tmp_path / f"d{bad}.gpkg", layer="d", driver="GPKG")
        layer = dataclasses.replace(DISTRICTS_BEFORE, file=f"d{bad}.gpkg", layer="d")
        monkeypatch.setattr(validate, "_FILTERED", {})
        monkeypatch.setattr(validate, "_RAW", {})
        rows = validate.Rows("district_code", {"002 ", "003"}, ("province_code", " 01"))
        reads = [validate.table(tmp_path, layer, ProblemLog(), rows) for _ in range(validate.TYPED_FROM)]
        kept = next(iter(validate._RAW.values()))
        assert kept.checked and (kept.typed is None) == bad
        for raw, typed in reads:
            assert list(raw.index) == [0, 1, 2]
            own = check_columns(raw, layer, ProblemLog())
            assert fingerprint(typed) == fingerprint(own)
            assert list(typed["district_code"]) == ["001", "002", "003"] and str(typed["district_code"].dtype) == "string"


def test_rows_picked_from_a_whole_layer_get_the_types_of_their_own_read(tmp_path, monkeypatch):
    """pyogrio types an integer or boolean field with a missing value as float: rows picked without
    the missing one get int and bool, as when they are read alone."""
    import dataclasses

    import geopandas as gpd

    from reorg._errors import ProblemLog
    from reorg.schema import COMMUNES_BEFORE

    frame = gpd.GeoDataFrame(
        {
            "code": ["01", "02", "03"],
            "prov": ["A", "A", "B"],
            "n": pd.array([1, 2, None], dtype="Int64"),
            "ok": pd.array([True, False, None], dtype="boolean"),
            "note": [None, None, "x"],
        },
        geometry=[shapely.Point(105, 20)] * 3,
        crs="EPSG:4326",
    )
    frame.to_file(tmp_path / "t.gpkg", layer="x", driver="GPKG")
    layer = dataclasses.replace(COMMUNES_BEFORE, file="t.gpkg", layer="x")
    monkeypatch.setattr(validate, "_FILTERED", {})
    monkeypatch.setattr(validate, "_RAW", {})
    rows = validate.Rows("code", {"01"}, ("prov", "A"))
    alone = validate.rows_of(tmp_path, layer, rows, ProblemLog())
    picked = validate.rows_of(tmp_path, layer, rows, ProblemLog())
    assert validate._RAW, "the second read picks from the whole layer"
    assert list(picked.index) == list(alone.index) == [0, 1]
    assert dict(picked.dtypes.astype(str)) == dict(alone.dtypes.astype(str))
    assert str(picked["n"].dtype) == "int64" and str(picked["ok"].dtype) == "bool"
    assert picked.drop(columns="geometry").equals(alone.drop(columns="geometry"))


def test_the_pdf_written_beside_gives_the_same_files_and_its_failure_writes_nothing(geodata, tmp_path, monkeypatch):
    """`write` puts the PDF in a forked second process: every file is the same bytes as written
    in one process, run.json has its seconds, and when the PDF fails the run raises its error and
    leaves no folder."""
    import json
    import os
    import threading

    from reorg import pdf
    from reorg.pipeline import write

    result = run(load_scenario(None, province="12"), geodata=str(geodata))
    progress = Progress(enabled=False)
    one = write(result, tmp_path / "one", parallel=False)
    real, pids = pdf.write_pdf, tmp_path / "pids"

    def recording(*args, **kwargs):
        pids.write_text(str(os.getpid()))
        return real(*args, **kwargs)

    monkeypatch.setattr(pdf, "write_pdf", recording)
    alone = threading.active_count() == 1  # else `write` keeps the PDF in this process
    two = write(result, tmp_path / "two", progress=progress)
    assert (pids.read_text() != str(os.getpid())) == alone
    files = sorted(p.name for p in one.iterdir())
    assert files == sorted(p.name for p in two.iterdir()) and "report.pdf" in files
    differ = [n for n in files if n != "run.json" and (one / n).read_bytes() != (two / n).read_bytes()]
    assert differ == []
    for folder in (one, two):
        assert json.loads((folder / "run.json").read_text(encoding="utf-8"))["timings"]["report:pdf"] > 0
    assert progress.timings["report:pdf"] > 0

    def broken(*args, **kwargs):
        raise OSError("disk full while writing report.pdf")

    monkeypatch.setattr(pdf, "write_pdf", broken)
    with pytest.raises(OSError, match="disk full"):
        write(result, tmp_path / "three")
    assert not (tmp_path / "three" / result.scenario.name).exists()
    assert [p.name for p in (tmp_path / "three").iterdir()] == [], "a temporary folder was left behind"
