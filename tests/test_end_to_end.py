"""End-to-end runs on the real pack: the official merger of a real province, measured and reported."""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest

from conftest import ROOT, run_cli
from reorg.schema import CADRES

EXPECTED = {  # DOMAIN.md Appendix A (old -> new communes) and MANIFEST (old districts), checked against the merger table below
    "nghe_an_official": ("40", 412, 130, 20),
    "lao_cai_official": ("15", 319, 99, 18),
    "gia_lai_official": ("52", 373, 135, 28),
}


def merger_counts(geodata, code: str) -> tuple[int, int, int]:
    """Old communes, new communes and old districts of a province, from the official merger table."""
    m = pd.read_csv(geodata / "vn_commune_merger_2025.csv", dtype=str, keep_default_na=False)
    m = m[m["new_province_code"] == code]
    return m["old_commune_code"].nunique(), m["new_commune_code"].nunique(), m["old_district_code"].nunique()


def read(folder, name: str) -> pd.DataFrame:
    return pd.read_csv(
        folder / name,
        dtype={
            c: str
            for c in (
                "station_code",
                "old_commune_code",
                "new_commune_code",
                "demand_code",
                "facility_code",
                "centre_code",
                "main_station_code",
            )
        },
    )


FILES = [
    "map.html",
    "report.html",
    "report.md",
    "report.pdf",
    "summary.json",
    "run.json",
    "decisions.gpkg",
    "decisions.xlsx",
    "stations.csv",
    "communes_after.csv",
    "centres.csv",
    "indicators.csv",
    "staff_moves.csv",
    "travel_minutes.csv",
]
REQUIRED_INDICATORS = [
    "pop_minutes_nearest_facility",
    "pop_minutes_main_station",
    "pop_minutes_regional_centre",
    "pop_share_within_30min",
    "pop_share_within_60min",
    "main_stations_with_doctor_share",
    "stations_meeting_norm_share",
    "staff_shortfall_total",
    "doctors_per_10k",
    "gini_minutes_nearest_facility",
]


@pytest.mark.parametrize("name", list(EXPECTED))
def test_official_merger_counts(official_runs, geodata, name):
    folder, s = official_runs[name]
    code, n_old, n_new, n_districts = EXPECTED[name]
    assert merger_counts(geodata, code) == (n_old, n_new, n_districts), "the pack's merger table agrees with Appendix A"
    assert s["province"]["code"] == code
    c = s["counts"]
    assert (c["old_communes"], c["new_communes"], c["stations"]) == (n_old, n_new, n_old)
    assert c["main_stations"] == n_new, "every new commune has exactly one main station"
    assert c["point_stations"] == n_old - n_new and c["closed_stations"] == 0, "keep_all: every other old station is a point"
    assert c["regional_centres"] == n_districts, "one regional centre per old district"
    assert len(read(folder, "stations.csv")) == n_old and len(read(folder, "communes_after.csv")) == n_new
    assert len(read(folder, "centres.csv")) == n_districts
    assert list(read(folder, "indicators.csv")["indicator"]) == list(s["indicators"]["after"])
    assert len(read(folder, "staff_moves.csv")) == 0, "staff stay: no move"
    travel = read(folder, "travel_minutes.csv")
    parts = travel.drop_duplicates(["demand_code", "new_commune_code"])
    assert parts["population"].sum() == pytest.approx(s["indicators"]["after"]["population"], abs=len(parts))
    assert set(travel["facility_kind"]) == {"station", "centre"}
    assert {f for f in FILES if not (folder / f).is_file()} == set()


@pytest.mark.parametrize("name", list(EXPECTED))
def test_staff_conserved_and_indicators_plausible(official_runs, name):
    _, s = official_runs[name]
    assert s["staff"]["before"] == s["staff"]["after"], "staff stay where they are: totals equal before and after"
    assert s["staff"]["moved"] == s["staff"]["hired"] == s["staff"]["lost"] == 0
    for when in ("before", "after"):
        ind = s["indicators"][when]
        for k in REQUIRED_INDICATORS:
            assert ind[k] is not None, (when, k)
        for k in (
            "pop_share_within_30min",
            "pop_share_within_60min",
            "main_stations_with_doctor_share",
            "stations_meeting_norm_share",
            "gini_minutes_nearest_facility",
        ):
            assert 0.0 <= ind[k] <= 1.0, (when, k, ind[k])
        assert ind["pop_minutes_nearest_facility"] <= ind["pop_minutes_main_station"] + 1e-9
    b, a = s["indicators"]["before"], s["indicators"]["after"]
    # keep_all keeps every site open: nearest-facility access is unchanged, the main station is farther
    assert a["pop_minutes_nearest_facility"] == pytest.approx(b["pop_minutes_nearest_facility"])
    assert a["pop_minutes_main_station"] > b["pop_minutes_main_station"]
    assert s["synthetic_roster"] is True and s["solver"] == []
    # the province figures are the population-weighted means of the new communes' own figures (6 significant digits)
    folder = official_runs[name][0]
    com, st = read(folder, "communes_after.csv"), read(folder, "stations.csv")
    pop = com["population"]
    for key, column in (
        ("pop_minutes_main_station", "minutes_main_after"),
        ("pop_minutes_nearest_facility", "minutes_nearest_after"),
        ("pop_minutes_regional_centre", "minutes_centre_after"),
    ):
        assert a[key] == pytest.approx((com[column] * pop).sum() / pop.sum(), rel=1e-4), key
    assert b["pop_minutes_main_station"] == pytest.approx((com["minutes_main_before"] * pop).sum() / pop.sum(), rel=1e-4)
    assert a["doctors_per_10k"] == pytest.approx(st["doctor_after"].sum() / pop.sum() * 1e4, rel=1e-4)
    assert a["staff_total"] == st["staff_after"].sum() and b["staff_total"] == st["staff_before"].sum()
    main = st[st["role"] == "main"]
    assert a["main_stations_with_doctor_share"] == pytest.approx((main["doctor_after"] >= 1).mean())
    stages = {"load", "validate", "reform", "network", "optimise", "measure", "render", "report"}
    run = json.loads((official_runs[name][0] / "run.json").read_text(encoding="utf-8"))  # the measurements
    # no model solved: no optimise:<model>; report:pdf, the PDF written beside the rest
    assert set(run["timings"]) == stages | {"report:pdf"} and set(run["peak_memory_mb"]) == stages
    assert run["timings"]["report"] > 0  # run.json is written once the report stage has ended
    assert all(50 < v < 4096 for v in run["peak_memory_mb"].values()), run["peak_memory_mb"]
    assert not {"timings", "peak_memory_mb"} & set(s), "summary.json holds no measurement"


def test_every_output_says_the_roster_is_synthetic(official_runs):
    folder, s = official_runs["nghe_an_official"]
    assert s["synthetic_roster"] is True
    assert "Synthetic roster" in (folder / "report.md").read_text(encoding="utf-8")
    assert "Synthetic roster" in (folder / "report.html").read_text(encoding="utf-8")
    assert "Synthetic roster" in (folder / "map.html").read_text(encoding="utf-8")


def test_decisions_gpkg_layers(official_runs):
    folder, s = official_runs["nghe_an_official"]
    layers = dict(pyogrio.list_layers(folder / "decisions.gpkg"))
    assert set(layers) >= {"stations", "communes_after", "catchments", "staff_moves"}
    st = gpd.read_file(folder / "decisions.gpkg", layer="stations")
    assert len(st) == s["counts"]["stations"] == EXPECTED["nghe_an_official"][1] and st.geometry.geom_type.eq("Point").all()
    for col in ["station_code", "old_commune_code", "new_commune_code", "role"] + [
        f"{c}_{w}" for c in CADRES for w in ("before", "after")
    ]:
        assert col in st.columns, col
    assert st.groupby("new_commune_code")["role"].apply(lambda r: (r == "main").sum()).eq(1).all()
    com = gpd.read_file(folder / "decisions.gpkg", layer="communes_after")
    assert len(com) == EXPECTED["nghe_an_official"][2] and com["main_station_code"].isin(st["station_code"]).all()
    assert {"new_commune_code", "main_station_code", "centre_code"} <= set(com.columns)
    cat = gpd.read_file(folder / "decisions.gpkg", layer="catchments")
    assert cat["population"].sum() == pytest.approx(s["indicators"]["after"]["population"], rel=1e-6)


def test_main_station_is_the_most_convenient(official_runs):
    """MoH rule: within each new commune, no other station has fewer population-weighted minutes."""
    folder, _ = official_runs["lao_cai_official"]
    tm = pd.read_csv(folder / "travel_minutes.csv", dtype={"demand_code": str, "new_commune_code": str, "facility_code": str})
    st = tm[tm["facility_kind"] == "station"]
    w = st.assign(pm=st["population"] * st["minutes"]).groupby(["new_commune_code", "facility_code"])["pm"].sum()
    pop = st.drop_duplicates(["demand_code", "new_commune_code"]).groupby("new_commune_code")["population"].sum()
    mean = (w / pop.reindex(w.index.get_level_values(0)).to_numpy()).round(1)
    com = pd.read_csv(folder / "communes_after.csv", dtype=str).set_index("new_commune_code")
    for nc, grp in mean.groupby(level=0):
        chosen = com.at[nc, "main_station_code"]
        assert grp.loc[(nc, chosen)] <= grp.min() + 1e-9, nc


def test_population_conserved_with_split_communes(tmp_path, geodata):
    """Hải Phòng (31) has split old communes and a special zone without predecessor (Bạch Long Vĩ)."""
    rc = run_cli(
        "run",
        str(ROOT / "scenarios" / "lao_cai_official.toml"),
        "--province",
        "31",
        "--set",
        "name=hai_phong",
        "--geodata",
        str(geodata),
        "--out",
        str(tmp_path),
        "--quiet",
    )
    assert rc == 0
    s = json.loads((tmp_path / "hai_phong" / "summary.json").read_text(encoding="utf-8"))
    after = gpd.read_file(geodata / "vn_communes_after_2025-07.gpkg", where="province_code = '31'")
    assert s["counts"]["new_communes"] == s["counts"]["main_stations"] == len(after)
    merger = pd.read_csv(geodata / "vn_commune_merger_2025.csv", dtype=str, keep_default_na=False)
    merger = merger[merger["new_province_code"] == "31"]
    split = merger.loc[merger["n_new_targets"].astype(int) > 1, "old_commune_code"].nunique()
    without_predecessor = set(after["commune_code"]) - set(merger["new_commune_code"])  # Bạch Long Vĩ
    assert s["counts"]["split_old_communes"] == split > 0
    assert s["counts"]["special_zone_stations"] == len(without_predecessor) > 0
    assert s["indicators"]["after"]["population"] == pytest.approx(after["pop_2019"].sum(), abs=5)
    assert any(f["minutes"] > 0 for f in s["network"]["ferry_links"]), "islands are joined by a ferry link"


@pytest.mark.parametrize("province", ["22", "12"])
def test_any_other_province_runs(tmp_path, geodata, province):
    rc = run_cli(
        "run",
        str(ROOT / "scenarios" / "nghe_an_official.toml"),
        "--province",
        province,
        "--set",
        f"name=p{province}",
        "--geodata",
        str(geodata),
        "--out",
        str(tmp_path),
        "--quiet",
    )
    assert rc == 0
    s = json.loads((tmp_path / f"p{province}" / "summary.json").read_text(encoding="utf-8"))
    after = gpd.read_file(geodata / "vn_communes_after_2025-07.gpkg", where=f"province_code = '{province}'")
    assert s["counts"]["main_stations"] == s["counts"]["new_communes"] == len(after)


def test_validate_real_province_ok(geodata, capsys):
    merger = pd.read_csv(geodata / "vn_commune_merger_2025.csv", dtype=str, keep_default_na=False)
    merger = merger[merger["new_province_code"] == "40"]
    n_old, n_new = merger["old_commune_code"].nunique(), merger["new_commune_code"].nunique()
    assert run_cli("validate", "--geodata", str(geodata), "--province", "40") == 0
    assert f"{n_old} old communes -> {n_new} new communes" in capsys.readouterr().out


def test_lang_option_gives_a_vietnamese_map(tmp_path, geodata):
    """`--lang vi` labels the map in Vietnamese (with diacritics); a language it does not know is refused."""
    rc = run_cli(
        "run",
        str(ROOT / "scenarios" / "lao_cai_official.toml"),
        "--lang",
        "vi",
        "--set",
        "name=vi",
        "--geodata",
        str(geodata),
        "--out",
        str(tmp_path),
        "--quiet",
    )
    assert rc == 0
    html = (tmp_path / "vi" / "map.html").read_text(encoding="utf-8")
    assert '<html lang="vi">' in html
    assert "Trạm y tế chính" in html and "Tìm xã/phường" in html
    assert "Find a commune" not in html
    assert json.loads((tmp_path / "vi" / "summary.json").read_text(encoding="utf-8"))["scenario"]["lang"] == "vi"
    rc = run_cli(
        "run",
        str(ROOT / "scenarios" / "lao_cai_official.toml"),
        "--set",
        "map.lang='fr'",
        "--set",
        "name=fr",
        "--geodata",
        str(geodata),
        "--out",
        str(tmp_path),
        "--quiet",
    )
    assert rc == 2 and not (tmp_path / "fr").exists()
