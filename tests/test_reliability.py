"""Reliability: killed runs, determinism, islands, solver limits."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from conftest import ROOT, run_cli

DETERMINISTIC = [
    "summary.json",
    "stations.csv",
    "communes_after.csv",
    "centres.csv",
    "indicators.csv",
    "staff_moves.csv",
    "travel_minutes.csv",
    "map.html",
    "decisions.gpkg",
    "decisions.xlsx",
]


def _reorg(*args, env=None, **kw):
    e = dict(os.environ, **(env or {}))
    return subprocess.Popen(
        [sys.executable, "-m", "reorg", *args], cwd=ROOT, env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw
    )


def _hashes(folder: Path, names=DETERMINISTIC) -> dict:
    return {n: hashlib.sha256((folder / n).read_bytes()).hexdigest() for n in names}


def test_killed_runs_leave_no_partial_folder_and_keep_the_previous_one(tmp_path, geodata):
    out = tmp_path / "outputs"
    scenario = str(ROOT / "scenarios" / "lao_cai_official.toml")
    ref_new = tmp_path / "ref"
    for target, seed in ((out, "1"), (ref_new, "2")):
        p = _reorg("run", scenario, "--geodata", str(geodata), "--out", str(target), "--quiet", "--set", f"seed={seed}")
        assert p.wait(timeout=300) == 0, p.stderr.read().decode()
    folder = out / "lao_cai_official"
    previous = _hashes(folder)
    new = _hashes(ref_new / "lao_cai_official")
    assert previous != new
    killed_states = set()
    for delay in (0.3, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.5):
        p = _reorg("run", scenario, "--geodata", str(geodata), "--out", str(out), "--quiet", "--set", "seed=2")
        time.sleep(delay)
        p.kill()  # SIGKILL: no handler runs
        p.wait()
        visible = sorted(x.name for x in out.iterdir() if not x.name.startswith("."))
        assert visible == ["lao_cai_official"], visible
        state = _hashes(folder)
        assert state in (previous, new), f"folder mixes two runs after a kill at {delay} s"
        killed_states.add("previous" if state == previous else "new")
        if state == new:
            previous = new  # a run that completed before the kill replaced the folder whole
    # a kill that surely lands while the outputs are being written: as soon as the run's hidden
    # staging folder appears (polled every 5 ms), with files already in it
    before_write = _hashes(folder)
    p = _reorg("run", scenario, "--geodata", str(geodata), "--out", str(out), "--quiet", "--set", "seed=3")
    staging: list[Path] = []
    deadline = time.monotonic() + 300
    while not staging and p.poll() is None and time.monotonic() < deadline:
        staging = [x for x in out.iterdir() if x.name.startswith(".lao_cai_official.tmp-") and any(x.iterdir())]
        time.sleep(0.005)
    p.kill()
    p.wait()
    assert staging, "the run never showed its staging folder"
    assert _hashes(folder) == before_write, "a kill mid-write leaves the previous folder exactly as it was"
    killed_states.add("mid-write")
    # the next run tidies what the killed ones left and completes
    p = _reorg("run", scenario, "--geodata", str(geodata), "--out", str(out), "--quiet", "--set", "seed=1")
    assert p.wait(timeout=300) == 0
    assert sorted(x.name for x in out.iterdir()) == ["lao_cai_official"], "no temporary folder is left behind"
    assert not any(x.exists() for x in staging), "the killed run's staging folder is tidied"


def test_same_inputs_and_seed_give_identical_outputs(tmp_path, geodata):
    scenario = str(ROOT / "scenarios" / "lao_cai_optimise.toml")
    folders = []
    for k, hashseed in enumerate(("1", "987")):
        out = tmp_path / f"o{k}"
        p = _reorg("run", scenario, "--geodata", str(geodata), "--out", str(out), "--quiet", env={"PYTHONHASHSEED": hashseed})
        assert p.wait(timeout=300) == 0, p.stderr.read().decode()
        folders.append(out / "lao_cai_optimise")
    assert _hashes(folders[0]) == _hashes(folders[1]), (
        "summary.json, CSVs, map.html, decisions.gpkg and decisions.xlsx are byte-identical"
    )


SPECIAL_ZONES = {  # all 13 special zones (đặc khu) of 1 July 2025
    "22": ["Đặc khu Vân Đồn", "Đặc khu Cô Tô"],
    "31": ["Đặc khu Cát Hải", "Đặc khu Bạch Long Vĩ"],
    "44": ["Đặc khu Cồn Cỏ"],
    "48": ["Đặc khu Hoàng Sa"],
    "51": ["Đặc khu Lý Sơn"],
    "56": ["Đặc khu Trường Sa"],
    "68": ["Đặc khu Phú Quý"],
    "79": ["Đặc khu Côn Đảo"],
    "91": ["Đặc khu Phú Quốc", "Đặc khu Thổ Châu", "Đặc khu Kiên Hải"],
}


@pytest.mark.parametrize("province", sorted(SPECIAL_ZONES))
def test_islands_have_finite_documented_travel_times(tmp_path, geodata, province):
    rc = run_cli(
        "run",
        str(ROOT / "scenarios" / "lao_cai_official.toml"),
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
    folder = tmp_path / f"p{province}"
    s = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    com = pd.read_csv(
        folder / "communes_after.csv", dtype={"new_commune_code": str, "main_station_code": str, "centre_code": str}
    )
    stations = pd.read_csv(folder / "stations.csv", dtype={"station_code": str, "new_commune_code": str})
    for col in ("minutes_main_after", "minutes_nearest_after", "minutes_centre_after"):
        assert np.isfinite(com[col]).all(), col
    for name in SPECIAL_ZONES[province]:
        row = com[com["new_commune_name"] == name]
        assert len(row) == 1, name
        main = stations[stations["station_code"] == row["main_station_code"].iloc[0]]
        assert len(main) == 1 and main["role"].iloc[0] == "main", name
        assert main["new_commune_code"].iloc[0] == row["new_commune_code"].iloc[0], name
    assert s["network"]["ferry_links"], "islands are joined by documented ferry links"
    for link in s["network"]["ferry_links"]:
        assert link["km"] > 0 and np.isfinite(link["minutes"])
    island_names = {i["name"] for i in s["extremes"]["islands"]}
    assert island_names <= set(com.loc[com["island"], "new_commune_name"])
    assert island_names == set(com.loc[com["island"], "new_commune_name"]), "every island commune is listed, none other"
    md = (folder / "report.md").read_text(encoding="utf-8")
    for link in s["network"]["ferry_links"]:  # named by commune name and code at both ends
        assert f"{link['from_name']} ({link['from']}) → {link['to_name']} ({link['to']})" in md, link
    # every special zone is served on its own island, no resident more than 600 min from its centre
    zones = {z["name"]: z for z in s["extremes"]["special_zones"]}
    assert set(zones) == set(SPECIAL_ZONES[province])
    for z in zones.values():
        assert z["centre_on_island"] and z["max_minutes_centre_after"] <= 600, z
        assert z["centre_name"] in md, z
    for v in s["indicators"]["after"].values():
        assert v is None or np.isfinite(v)


def test_solver_time_limit_returns_best_plan_and_is_flagged(tmp_path, geodata):
    """Hồ Chí Minh City's catchments under SCIP need about 30 s; with a 1 s limit the run still ends,
    with the best plan found (or the baseline) and the limit flagged."""
    rc = run_cli(
        "run",
        str(ROOT / "scenarios" / "lao_cai_official.toml"),
        "--province",
        "79",
        "--set",
        "name=limit",
        "--set",
        "policy.catchments=optimise",
        "--set",
        "params.mip_solver='SCIP'",
        "--set",
        "params.solver_time_limit_s=1",
        "--geodata",
        str(geodata),
        "--out",
        str(tmp_path),
        "--quiet",
    )
    assert rc == 0
    s = json.loads((tmp_path / "limit" / "summary.json").read_text(encoding="utf-8"))
    rec = next(r for r in s["solver"] if r["model"] == "catchments")
    seconds = json.loads((tmp_path / "limit" / "run.json").read_text(encoding="utf-8"))["solver_seconds"]["catchments"]
    assert rec["time_limit_reached"] is True and seconds < 10
    assert rec["status"] in ("feasible (time limit)", "not solved (time limit, no plan found)")
    if rec["status"].startswith("feasible"):
        assert rec["relative_gap"] is not None and rec["relative_gap"] > 0
    md = (tmp_path / "limit" / "report.md").read_text(encoding="utf-8")
    assert "time limit reached" in md
    assert (
        s["counts"]["new_communes"]
        == len(gpd.read_file(geodata / "vn_communes_after_2025-07.gpkg", where="province_code = '79'"))
        and pd.read_csv(tmp_path / "limit" / "communes_after.csv")["centre_code"].notna().all()
    )
