"""`reorg compare`: the official and optimised Nghệ An runs side by side, numbers checked against
the two summary.json files; incompatible runs refused."""
from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from conftest import ROOT, run_cli
from reorg.compare import direction


@pytest.fixture(scope="module")
def two_runs(official_runs, tmp_path_factory, geodata):
    out = tmp_path_factory.mktemp("cmp")
    assert run_cli("run", str(ROOT / "scenarios" / "nghe_an_optimise.toml"), "--geodata", str(geodata), "--out", str(out), "--quiet") == 0
    official = official_runs["nghe_an_official"][0]
    return official, out / "nghe_an_optimise"


@pytest.fixture(scope="module")
def comparison(two_runs, tmp_path_factory):
    out = tmp_path_factory.mktemp("comparison") / "nghe_an"
    assert run_cli("compare", str(two_runs[0]), str(two_runs[1]), "--out", str(out)) == 0
    return out


def test_three_files_with_numbers_of_the_summaries(two_runs, comparison):
    for f in ("comparison.html", "comparison.md", "comparison.csv"):
        assert (comparison / f).stat().st_size > 0
    s = [json.loads((d / "summary.json").read_text(encoding="utf-8")) for d in two_runs]
    t = pd.read_csv(comparison / "comparison.csv", keep_default_na=False).set_index("indicator")
    assert list(t.columns[-3:]) == ["nghe_an_official", "nghe_an_optimise", "best"]
    assert set(t.index) == set(s[0]["indicators"]["after"])
    for k, v in s[0]["indicators"]["after"].items():
        if v is None:
            continue
        assert float(t.at[k, "nghe_an_official"]) == pytest.approx(v, rel=1e-12, abs=1e-12)
        assert float(t.at[k, "nghe_an_optimise"]) == pytest.approx(s[1]["indicators"]["after"][k], rel=1e-12, abs=1e-12)
        assert float(t.at[k, "before"]) == pytest.approx(s[0]["indicators"]["before"][k], rel=1e-12, abs=1e-12)
    # best computed independently
    a, b = s[0]["indicators"]["after"], s[1]["indicators"]["after"]
    for k, better in (("staff_shortfall_total", min), ("main_stations_with_doctor_share", max), ("pop_minutes_nearest_facility", min)):
        expect = "tie" if a[k] == b[k] else ("nghe_an_official" if better(a[k], b[k]) == a[k] else "nghe_an_optimise")
        assert t.at[k, "best"] == expect, k
    assert t.at["population", "best"] == "" and direction("population") is None


def test_role_and_centre_differences_are_exact(two_runs, comparison):
    st = [pd.read_csv(d / "stations.csv", dtype=str).set_index("station_code")["role"] for d in two_runs]
    n_roles = int((st[0] != st[1].reindex(st[0].index)).sum())
    ca = [pd.read_csv(d / "communes_after.csv", dtype=str).set_index("new_commune_code")["centre_code"] for d in two_runs]
    n_centres = int((ca[0] != ca[1].reindex(ca[0].index)).sum())
    md = (comparison / "comparison.md").read_text(encoding="utf-8")
    assert f"## Stations whose role differs ({n_roles})" in md and n_roles > 0
    assert f"## Communes whose regional centre differs ({n_centres})" in md and n_centres > 0
    page = (comparison / "comparison.html").read_text(encoding="utf-8")
    assert page.count("<iframe") == 2 and "Tỉnh Nghệ An" in page and "synthetic roster" in page
    assert "<script src=" not in page.split("srcdoc")[0]


def test_different_provinces_are_refused(two_runs, official_runs, tmp_path, capsys):
    out = tmp_path / "refused"
    rc = run_cli("compare", str(two_runs[0]), str(official_runs["lao_cai_official"][0]), "--out", str(out))
    err = capsys.readouterr().err
    assert rc == 2 and "province 40" in err and "province 15" in err and not out.exists()


def test_incompatible_versions_are_refused(two_runs, tmp_path, capsys):
    fake = tmp_path / "old_run"
    shutil.copytree(two_runs[1], fake)
    s = json.loads((fake / "summary.json").read_text(encoding="utf-8"))
    s["reorg_version"], s["scenario"]["name"] = "9.9.0", "old"
    (fake / "summary.json").write_text(json.dumps(s), encoding="utf-8")
    out = tmp_path / "refused"
    rc = run_cli("compare", str(two_runs[0]), str(fake), "--out", str(out))
    err = capsys.readouterr().err
    assert rc == 2 and "incompatible reorg versions" in err and "9.9.0" in err and not out.exists()


def test_a_folder_that_is_not_a_run_is_refused(two_runs, tmp_path, capsys):
    rc = run_cli("compare", str(two_runs[0]), str(tmp_path), "--out", str(tmp_path / "x"))
    assert rc == 2 and "summary.json is missing" in capsys.readouterr().err
