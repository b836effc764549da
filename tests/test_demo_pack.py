"""The synthetic demo pack (reorg.demo): loads cleanly, has the designed shape and is reproducible."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from reorg import demo
from reorg.load import is_synthetic_pack, load_pack
from reorg.schema import COMMUNES_AFTER, COMMUNES_BEFORE, DISTRICTS_BEFORE, MERGER, PACK_LAYERS, PROVINCES_AFTER


@pytest.fixture(scope="module")
def pack_dir(tmp_path_factory):
    return demo.make_demo_pack(tmp_path_factory.mktemp("demo") / "pack")


@pytest.fixture(scope="module")
def pack(pack_dir):
    return load_pack(pack_dir, demo.PROVINCE_CODE)


def test_files_and_marker(pack_dir):
    for layer in PACK_LAYERS:
        assert (pack_dir / layer.file).exists(), layer.file
    assert (pack_dir / "SYNTHETIC").read_bytes() == b""
    assert is_synthetic_pack(pack_dir)
    first = (pack_dir / "MANIFEST.md").read_text(encoding="utf-8").splitlines()[0]
    assert "SYNTHETIC" in first and "reorg.demo" in first and "not real data" in first


def test_loads_without_problems(pack):
    assert pack.synthetic
    assert pack.warnings == []
    assert pack.province_code == "99" and pack.province_name == "Tỉnh Mẫu (demo)"


def test_layers_follow_the_schema(pack_dir):
    for layer in (COMMUNES_BEFORE, COMMUNES_AFTER, DISTRICTS_BEFORE, PROVINCES_AFTER):
        info = pyogrio.read_info(pack_dir / layer.file, layer=layer.layer)
        assert info["geometry_type"] == "MultiPolygon"
        assert info["crs"] == "EPSG:4326"
        assert set(layer.names) <= set(info["fields"]), layer.key
    merger = pd.read_csv(pack_dir / MERGER.file, dtype=str, keep_default_na=False)
    assert set(MERGER.names) <= set(merger.columns)
    assert set(merger["partly_merged"]) == {"True", "False"}
    assert merger["old_commune_code"].str.fullmatch(r"99\d{3}").all()


def test_counts_as_designed(pack):
    b, a, d = pack.communes_before, pack.communes_after, pack.districts
    assert len(b) == demo.N_OLD == 40
    assert len(a) == demo.N_NEW == 12
    assert sorted(d["district_code"]) == ["990", "991", "992", "993"]
    assert (a["n_old_communes"].between(2, 5)).all()
    # one thị trấn per huyện, a few phường only in the thị xã
    for code, grp in b.groupby("district_code"):
        kind = d.at[code, "district_type"]
        assert (grp["commune_type"] == "thi_tran").sum() == (1 if kind == "huyen" else 0)
        assert ((grp["commune_type"] == "phuong").sum() > 0) == (kind == "thi_xa")
    # n_old_communes agrees with the merger rows
    counts = pack.merger.groupby("new_commune_code").size()
    assert (a["n_old_communes"] == counts.reindex(a.index)).all()
    # exactly one split commune, into two targets
    split = pack.merger[pack.merger["n_new_targets"] > 1]
    assert split["old_commune_code"].nunique() == 1 and len(split) == 2
    assert split["partly_merged"].all() and not pack.merger.loc[pack.merger["n_new_targets"] == 1, "partly_merged"].any()


def test_terrain_varies(pack):
    b = pack.communes_before
    rural = b[b["commune_type"] == "xa"]
    dens = rural["pop_2019"] / rural["area_km2"]
    assert (dens < 100).sum() >= 5 and (dens > 250).sum() >= 5
    assert np.issubdtype(b["pop_2019"].dtype, np.integer)


def test_population_conserved(pack):
    b, a, m = pack.communes_before, pack.communes_after, pack.merger
    assert int(a["pop_2019"].sum()) == int(b["pop_2019"].sum())
    assert int(pack.districts["pop_2019"].sum()) == int(b["pop_2019"].sum())
    rolled = (m["old_commune_code"].map(b["pop_2019"]) * m["area_share"]).groupby(m["new_commune_code"]).sum()
    assert np.allclose(rolled.reindex(a.index), a["pop_2019"], atol=1.0)


def test_split_shares_follow_the_polygons(pack):
    m = pack.merger
    split = m[m["n_new_targets"] > 1]
    assert split["area_share"].sum() == pytest.approx(1.0, abs=1e-9)
    assert (m.loc[m["n_new_targets"] == 1, "area_share"] == 1.0).all()
    code = split["old_commune_code"].iloc[0]
    old = gpd.GeoSeries([pack.communes_before.geometry[code]], crs=4326).to_crs(6933).iloc[0]
    for _, row in split.iterrows():
        new = gpd.GeoSeries([pack.communes_after.geometry[row["new_commune_code"]]], crs=4326).to_crs(6933).iloc[0]
        assert old.intersection(new).area / old.area == pytest.approx(row["area_share"], abs=1e-3)


def test_polygons_valid_and_nested(pack, pack_dir):
    b, a, d = pack.communes_before, pack.communes_after, pack.districts
    for frame in (b, a, d):
        assert shapely.is_valid(frame.geometry.values).all()
        assert (frame.geom_type == "MultiPolygon").all()
    prov = gpd.read_file(pack_dir / PROVINCES_AFTER.file, layer=PROVINCES_AFTER.layer)
    union_old = shapely.union_all(b.geometry.values)
    union_new = shapely.union_all(a.geometry.values)
    area = lambda g: gpd.GeoSeries([g], crs=4326).to_crs(6933).area.iloc[0]  # noqa: E731
    assert area(union_new) == pytest.approx(area(union_old), rel=0.01)
    assert area(shapely.difference(union_old, union_new)) < 0.01 * area(union_old)
    assert area(prov.geometry.iloc[0]) == pytest.approx(area(union_old), rel=0.01)
    assert int(prov["n_communes"].iloc[0]) == len(a)
    # every old commune lies in its district; its point lies in its polygon
    for _code, row in b.iterrows():
        assert d.geometry[row["district_code"]].buffer(1e-9).covers(row.geometry)
        assert row.geometry.contains(shapely.Point(row["lon"], row["lat"]))
    # the area column is the EPSG:6933 area
    assert np.allclose(b.to_crs(6933).area / 1e6, b["area_km2"], atol=0.001)


def test_same_seed_same_pack(pack_dir, tmp_path):
    again = demo.make_demo_pack(tmp_path / "again")
    assert (again / MERGER.file).read_bytes() == (pack_dir / MERGER.file).read_bytes()
    for layer in (COMMUNES_BEFORE, COMMUNES_AFTER, DISTRICTS_BEFORE, PROVINCES_AFTER):
        g1 = gpd.read_file(pack_dir / layer.file, layer=layer.layer)
        g2 = gpd.read_file(again / layer.file, layer=layer.layer)
        assert g1.drop(columns="geometry").equals(g2.drop(columns="geometry"))
        assert shapely.equals_exact(g1.geometry.values, g2.geometry.values, tolerance=0).all()
    other = demo.make_demo_pack(tmp_path / "other", seed=8)
    assert (other / MERGER.file).read_bytes() != (pack_dir / MERGER.file).read_bytes()


def test_ensure_demo_pack_only_generates_when_missing(tmp_path):
    path = tmp_path / "demo"
    assert demo.ensure_demo_pack(path) == path
    assert (path / "SYNTHETIC").exists()
    (path / MERGER.file).write_text("kept", encoding="utf-8")
    demo.ensure_demo_pack(path)
    assert (path / MERGER.file).read_text(encoding="utf-8") == "kept"
    (path / "SYNTHETIC").unlink()
    demo.ensure_demo_pack(path)
    assert (path / MERGER.file).read_text(encoding="utf-8") != "kept"
