"""The indicator table and the message files: one source, consistent, complete in both languages."""

from __future__ import annotations

import pytest

from reorg import demo, fmt, i18n, indicators
from reorg.pipeline import run
from reorg.scenario import load_scenario


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    pack = demo.make_demo_pack(tmp_path_factory.mktemp("demo") / "pack")
    return run(load_scenario(None, ["policy.station_roles='optimise'"], province=demo.PROVINCE_CODE), geodata=str(pack))


def test_indicator_table_is_consistent():
    assert indicators.check_table() == []


def test_every_measured_indicator_has_one_row_and_every_row_is_measured(demo_run):
    """The table and measure.py agree: summary.json's indicators are exactly the table's province rows, in order."""
    for period in (demo_run.measures.before, demo_run.measures.after):
        assert list(period) == list(indicators.province_keys())
    communes = demo_run.measures.communes
    for key in indicators.table():
        if indicators.get(key).scope == "commune":  # the province map's colours
            assert key in communes.columns, key


def test_every_language_has_every_message_key():
    assert i18n.missing_keys() == {lang: [] for lang in i18n.LANGS}


def test_every_unit_of_the_table_has_words_in_both_languages():
    for ind in indicators.table().values():
        for lang in i18n.LANGS:
            assert i18n.text(f"unit.{ind.unit}", lang), (ind.key, lang)


def test_national_aggregation_follows_the_table():
    a = {
        "population": 100,
        "pop_minutes_main_station": 10.0,
        "main_stations": 1,
        "main_stations_with_doctor_share": 1.0,
        "doctors_total": 2,
        "staff_total": 10,
    }
    b = {
        "population": 300,
        "pop_minutes_main_station": 20.0,
        "main_stations": 3,
        "main_stations_with_doctor_share": 0.0,
        "doctors_total": 1,
        "staff_total": 30,
    }
    nat = indicators.aggregate([a, b])
    assert nat["population"] == 400
    assert nat["pop_minutes_main_station"] == (10 * 100 + 20 * 300) / 400
    assert nat["main_stations_with_doctor_share"] == 0.25  # weighted by main stations, not by population
    assert nat["doctors_per_10k"] == 3 / 400 * 1e4
    assert nat["population_per_health_worker"] == 10
    assert "gini_minutes_main_station" not in nat  # needs the commune-level distribution


def test_numbers_in_both_languages():
    assert fmt.number(1234.5, 1) == "1,234.5"
    assert fmt.number(1234.5, 1, "vi") == "1.234,5"
    assert fmt.share(0.1234) == "12.3 %"
    assert fmt.share(0.1234, lang="vi") == "12,3 %"
    assert fmt.signed(-2) == "−2" and fmt.signed(3) == "+3" and fmt.signed(0) == "0"
    assert fmt.money(1250000, "vi") == "1.250.000 ₫"
    assert fmt.number(float("nan")) == fmt.DASH and fmt.share(None) == fmt.DASH
    assert fmt.indicator("doctors_per_10k", 3.14159) == "3.14"
    assert fmt.indicator("staff_total", 12345) == "12,345"


def test_notices_in_both_languages():
    flags = {"synthetic_roster": True, "synthetic_centres": True}
    en, vi = i18n.notices(flags, "en"), i18n.notices(flags, "vi")
    assert en == [i18n.text("notice.synthetic_roster", "en"), i18n.text("notice.synthetic_centres", "en")]
    assert vi == [i18n.text("notice.synthetic_roster", "vi"), i18n.text("notice.synthetic_centres", "vi")]
    assert en != vi and i18n.notices({}, "en") == []


def test_csv_files_are_what_pandas_writes(tmp_path):
    """The CSV tables are written a column at a time through the csv module: byte for byte what
    pandas' `to_csv` writes once the floats are %.6g (quoting, missing values, yes/no, big and
    negative numbers, Vietnamese text, -0.0, a long column with repeated values), and a column
    of another kind (dates) goes through `to_csv` itself."""
    import numpy as np
    import pandas as pd

    from reorg import report

    def expected(frame: pd.DataFrame) -> bytes:
        out = frame.copy(deep=False)
        for name in out.columns[[dtype.kind == "f" for dtype in out.dtypes]]:
            out[name] = ["" if v != v else f"{v:.6g}" for v in out[name].tolist()]
        return out.to_csv(index=False, lineterminator="\n").encode("utf-8")

    rng = np.random.default_rng(0)
    n = 300
    long = pd.DataFrame(
        {
            "code": pd.array([f"{i:05d}" for i in range(n)], dtype="str"),
            "population": rng.integers(0, 50, n) * 1000.5,  # few distinct values: each formatted once
            "minutes": rng.random(n) * 300,
            "zero": np.where(np.arange(n) % 7 == 0, -0.0, 0.0),  # -0.0 is written "-0"
            "gaps": np.where(np.arange(n) % 5 == 0, np.nan, 2.0),
        }
    )
    frames = {
        "mixed": pd.DataFrame(
            {
                "code": pd.array(["001", None, 'a,"b"', "two\nlines", "", "Nghệ An"], dtype="str"),
                "any": [None, 1, "x y", float("nan"), True, "a;b"],
                "n": [0, -1, 2**40, 5, 7, 9],
                "flag": [True, False, True, True, False, True],
                "x": [0.1, -0.0, float("nan"), 1e-7, 123456789.0, 2 / 3],
                "small": np.array([1, 2, 3, 4, 5, 250], dtype="uint8"),
                "f32": np.array([0.1, 1.5, -2.25, 3e10, 0.0, 7.0], dtype="float32"),
            }
        ),
        "long": long,
        "empty": pd.DataFrame({"from_station": pd.Series(dtype=object), "minutes": pd.Series(dtype=float)}),
        "dates": pd.DataFrame({"when": pd.to_datetime(["2025-07-01", None]), "x": [1.5, None]}),
    }
    for name, frame in frames.items():
        report._write_csv(frame, tmp_path / f"{name}.csv")
        assert (tmp_path / f"{name}.csv").read_bytes() == expected(frame), name
    assert b"-0," in (tmp_path / "long.csv").read_bytes() and b'"a,""b"""' in (tmp_path / "mixed.csv").read_bytes()


def test_catchments_are_the_dissolved_communes():
    """decisions.gpkg's catchments: what GeoDataFrame.dissolve gives (same shapes to the byte,
    same sums, counts and order), with a commune without a centre left out and a single-part
    catchment written as a MultiPolygon."""
    import geopandas as gpd
    import pandas as pd
    import shapely

    from reorg import report

    squares = [shapely.box(x, y, x + 1, y + 1) for x, y in ((0, 0), (1, 0), (5, 5), (0, 1), (9, 9), (3, 3))]
    communes = gpd.GeoDataFrame(
        {
            "new_commune_code": pd.array(["a1", "a2", "b1", "a3", "c1", "x1"], dtype="str"),
            "centre_code": pd.array(["020", "020", "010", "020", None, "010"], dtype="str"),
            "population": [100, 250, 7, 1, 9, 40],
        },
        geometry=squares,
        crs="EPSG:4326",
    )
    want = (
        communes.dissolve(by="centre_code", aggfunc={"population": "sum", "new_commune_code": "count"})
        .rename(columns={"new_commune_code": "n_communes"})
        .reset_index()
    )
    got = report.catchments(communes)
    assert got["centre_code"].tolist() == ["010", "020"] == want["centre_code"].tolist()
    assert got["population"].tolist() == [47, 351] and got["n_communes"].tolist() == [2, 3]
    assert got.drop(columns="geometry").equals(want.drop(columns="geometry"))
    assert list(got.columns) == list(want.columns)
    for mine, theirs in zip(got.geometry, want.geometry):
        theirs = shapely.MultiPolygon([theirs]) if theirs.geom_type == "Polygon" else theirs
        assert mine.geom_type == "MultiPolygon" and shapely.to_wkb(mine) == shapely.to_wkb(theirs)
    assert len(report.catchments(communes.iloc[:0])) == 0


def test_shared_tables_and_their_station_names(demo_run):
    from reorg import tables

    frames = tables.shared_tables(demo_run)
    assert frames["stations"].equals(tables.station_table(demo_run))
    assert frames["communes"].equals(tables.commune_table(demo_run))
    names = tables.station_names(demo_run)
    assert (
        tables.station_names(demo_run, frames["stations"]) == names and list(names) == frames["stations"]["station_code"].tolist()
    )


def test_travel_table_rows_by_part_then_centres_then_stations_by_code(demo_run):
    """travel_minutes.csv's order: each demand part in the demand table's order, its regional
    centres, then its commune's stations, each by code; every pair once."""
    from reorg import tables

    t = tables.travel_table(demo_run)
    demand = demo_run.reformed.demand
    parts = demand["new_code"].tolist()
    n_centres = len(demo_run.network.centre_codes)
    n_stations = demo_run.stations["new_code"].value_counts()
    assert len(t) == sum(n_centres + int(n_stations.get(c, 0)) for c in parts)
    start = 0
    for new_code in parts:
        block = t.iloc[start : start + n_centres + int(n_stations.get(new_code, 0))]
        start += len(block)
        assert set(block["new_commune_code"]) == {new_code}
        kinds = block["facility_kind"].tolist()
        assert kinds == sorted(kinds) and kinds.count("centre") == n_centres
        for kind in ("centre", "station"):
            codes = block.loc[block["facility_kind"] == kind, "facility_code"].tolist()
            assert codes == sorted(codes) and len(set(codes)) == len(codes)
