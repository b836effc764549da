"""`reorg sweep`: grid combinations run locally (spawned processes) and on a real local Dask cluster."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pytest

import reorg.cli
from conftest import ROOT
from reorg.sweep import combination_names, parse_grid, split_values

SCENARIO = str(ROOT / "scenarios" / "lao_cai_official.toml")
GRID = "params.doctor_presence_share=0.5,0.9"
NAMES = ["lao_cai_official__doctor_presence_share-0p5", "lao_cai_official__doctor_presence_share-0p9"]


@pytest.fixture(scope="module")
def cli():
    """reorg.cli.main (sweep and compare are registered plug-in commands)."""
    assert "sweep" in reorg.cli.PLUGIN_COMMANDS and "compare" in reorg.cli.PLUGIN_COMMANDS
    return reorg.cli.main


def _summary(folder: Path) -> dict:
    return json.loads((folder / "summary.json").read_text(encoding="utf-8"))


def _run_json(folder: Path) -> dict:
    return json.loads((folder / "run.json").read_text(encoding="utf-8"))


def _results(folder: Path) -> dict[str, bytes]:
    """Every file of a folder but run.json (the measurements), by relative path."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != "run.json"
    }


@pytest.fixture(scope="module")
def local_sweep(cli, geodata, tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep_local")
    rc = cli(["sweep", SCENARIO, "--grid", GRID, "--geodata", str(geodata), "--out", str(out), "--name", "dps"])
    assert rc == 0
    folder = out / "dps"
    return folder, json.loads((folder / "sweep.json").read_text(encoding="utf-8"))


def test_local_sweep_runs_every_combination_and_compares_them(local_sweep, cli, geodata, tmp_path):
    folder, doc = local_sweep
    assert sorted(p.name for p in folder.iterdir()) == ["comparison", "run.json", "runs", "sweep.json"]
    assert sorted(p.name for p in (folder / "runs").iterdir()) == NAMES
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")], "no temporary folder is left"
    assert not [p for p in folder.rglob(".*")], "no worker's temporary folder is left"
    assert doc["counts"] == {"combinations": 2, "done": 2, "failed": 0}
    assert doc["grid"] == [{"key": "params.doctor_presence_share", "values": [0.5, 0.9]}]
    assert doc["comparison"] == "comparison"
    assert not {"seconds", "executor"} & set(doc), "measurements are in run.json"
    run = _run_json(folder)
    assert run["execution"] in [{"kind": "local", "workers": 2, "start_method": m} for m in ("fork", "spawn")]
    assert run["seconds"] > 0 and run["geodata"]["sha256"] and run["packs"] == [run["geodata"]]
    for c, name, share in zip(doc["combinations"], NAMES, (0.5, 0.9)):
        assert (c["name"], c["status"], c["folder"], c["overrides"]) == (
            name,
            "done",
            f"runs/{name}",
            {"params.doctor_presence_share": share},
        )
        assert not {"seconds", "worker"} & set(c)
        measured = run["combinations"][name]
        assert measured["worker"]["pid"] != os.getpid(), "runs happen in worker processes"
        assert measured["seconds"] >= sum(v for k, v in measured["timings"].items() if ":" not in k) > 0
    s5, s9 = (_summary(folder / "runs" / n) for n in NAMES)
    assert s5["scenario"]["params_overridden"]["doctor_presence_share"] == 0.5
    assert s9["scenario"]["params_overridden"]["doctor_presence_share"] == 0.9
    assert (s5["scenario"]["name"], s9["scenario"]["name"]) == tuple(NAMES)
    # the grid changes the roster's doctors only: geography and counts are the same
    assert (
        s5["counts"] == s9["counts"]
        and s5["indicators"]["after"]["pop_minutes_main_station"] == s9["indicators"]["after"]["pop_minutes_main_station"]
    )
    d5, d9 = (
        s5["indicators"]["after"]["main_stations_with_doctor_share"],
        s9["indicators"]["after"]["main_stations_with_doctor_share"],
    )
    assert 0.35 < d5 < 0.65 and 0.8 < d9 <= 1.0, (d5, d9)
    assert s9["indicators"]["after"]["doctors_total"] > s5["indicators"]["after"]["doctors_total"]
    # a combination is exactly the scenario with the --set override: the same files as `reorg run --set`
    rc = cli(
        [
            "run",
            SCENARIO,
            "--set",
            GRID.replace("0.5,0.9", "0.9"),
            "--set",
            f"name={NAMES[1]}",
            "--geodata",
            str(geodata),
            "--out",
            str(tmp_path),
            "--quiet",
        ]
    )
    assert rc == 0
    alone, swept = _results(tmp_path / NAMES[1]), _results(folder / "runs" / NAMES[1])
    assert sorted(alone) == sorted(swept) and "summary.json" in alone and "report.pdf" in alone
    assert [f for f in alone if alone[f] != swept[f]] == []


def test_sweep_comparison_lists_the_runs_with_their_summary_values(local_sweep):
    """comparison.csv has one column per finished run, in the sweep's order, holding exactly the
    indicators of that run's summary.json; the md and html name both runs."""
    folder, _ = local_sweep
    comp = folder / "comparison"
    assert sorted(p.name for p in comp.iterdir()) == [
        "comparison.csv",
        "comparison.html",
        "comparison.md",
        "comparison.pdf",
        "comparison.xlsx",
    ]
    with (comp / "comparison.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["indicator", "label", "unit", "before", *NAMES, "best"]
    summaries = {n: _summary(folder / "runs" / n) for n in NAMES}
    assert [r["indicator"] for r in rows] == list(summaries[NAMES[0]]["indicators"]["after"])

    def same(cell: str, value) -> bool:
        return cell == "" if value is None else float(cell) == pytest.approx(value, rel=1e-9, abs=1e-12)

    for r in rows:
        for n in NAMES:
            assert same(r[n], summaries[n]["indicators"]["after"][r["indicator"]]), (r["indicator"], n, r[n])
        assert same(r["before"], summaries[NAMES[0]]["indicators"]["before"][r["indicator"]]), r["indicator"]
    by = {r["indicator"]: r for r in rows}
    # more doctors is better: the 0.9 run is the best for the doctor share, the 0.5 run is not
    assert by["main_stations_with_doctor_share"]["best"] == NAMES[1]
    for name in ("comparison.md", "comparison.html"):
        text = (comp / name).read_text(encoding="utf-8")
        assert all(n in text for n in NAMES), name
        assert all(f"../runs/{n}" in text for n in NAMES), f"{name} names the run folders relative to itself"
        assert ".dps.tmp-" not in text, f"{name} points into the temporary folder"


def test_sweep_on_a_real_local_dask_cluster_gives_the_local_results(local_sweep, cli, geodata, tmp_path):
    import distributed  # a test dependency: the sweep must really run on a cluster, not be skipped

    local_folder, _ = local_sweep
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        with distributed.Client(cluster.scheduler_address) as client:
            worker_pids = client.run(os.getpid)  # {worker address: pid}
        rc = cli(
            [
                "sweep",
                SCENARIO,
                "--grid",
                GRID,
                "--geodata",
                str(geodata),
                "--out",
                str(tmp_path),
                "--name",
                "dps",
                "--scheduler",
                cluster.scheduler_address,
                "--quiet",
            ]
        )
        assert rc == 0
    folder = tmp_path / "dps"
    run = _run_json(folder)
    assert run["execution"] == {"kind": "dask", "scheduler": cluster.scheduler_address}
    assert sorted(p.name for p in (folder / "runs").iterdir()) == NAMES
    for name in NAMES:
        w = run["combinations"][name]["worker"]
        assert w["pid"] != os.getpid()
        assert w["dask_worker"] in worker_pids and worker_pids[w["dask_worker"]] == w["pid"], (
            "ran on one of the cluster's workers"
        )
    # whatever ran it, the sweep's results are the same bytes: sweep.json, every run's files, the comparison
    here, there = _results(folder), _results(local_folder)
    assert sorted(here) == sorted(there)
    assert [f for f in here if here[f] != there[f]] == []


@pytest.mark.parametrize(
    "grid, hint",
    [
        ("params.doctor_presense_share=0.5,0.9", "did you mean 'doctor_presence_share'"),
        ("sead=1,2", "did you mean 'seed'"),
        ("policy.staf=stay,optimise", "did you mean 'staff'"),
        ("params.doctor_presence_share=0.5,1.5", "out of range"),
        ("policy.staff=stay,optimize", "'optimize' is not one of stay, optimise"),
        ("params.doctor_presence_share", "expected KEY=V1,V2"),
        ("params.doctor_presence_share=0.5,,0.9", "empty value"),
        ("params.doctor_presence_share=0.5,0.50", "listed twice"),
        ("name=a,b", "use --name"),
    ],
)
def test_bad_grid_exits_2_with_a_message_and_writes_nothing(cli, geodata, tmp_path, capsys, grid, hint):
    out = tmp_path / "out"
    rc = cli(["sweep", SCENARIO, "--grid", grid, "--geodata", str(geodata), "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 2, err
    assert "bad input, nothing written" in err and hint in err, err
    assert "Traceback" not in err
    assert not out.exists(), "nothing is written"


def test_unreachable_scheduler_exits_2_and_writes_nothing(cli, geodata, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("reorg.runner.CONNECT_TIMEOUT", "2s")
    out = tmp_path / "out"
    rc = cli(
        ["sweep", SCENARIO, "--grid", GRID, "--geodata", str(geodata), "--out", str(out), "--scheduler", "tcp://127.0.0.1:9"]
    )
    assert rc == 2
    assert "cannot reach the Dask scheduler" in capsys.readouterr().err
    assert not out.exists()


def test_a_failing_combination_is_recorded_and_the_others_kept(cli, geodata, tmp_path, capsys):
    rc = cli(["sweep", SCENARIO, "--grid", "province=15,99", "--geodata", str(geodata), "--out", str(tmp_path), "--quiet"])
    assert rc == 1
    doc = json.loads((tmp_path / "lao_cai_official_sweep" / "sweep.json").read_text(encoding="utf-8"))
    status = {c["name"]: (c["status"], c["folder"]) for c in doc["combinations"]}
    assert status == {
        "lao_cai_official__province-15": ("done", "runs/lao_cai_official__province-15"),
        "lao_cai_official__province-99": ("failed", None),
    }
    assert "99" in doc["combinations"][1]["error"]
    assert "lao_cai_official__province-99 failed" in capsys.readouterr().err
    assert [p.name for p in (tmp_path / "lao_cai_official_sweep" / "runs").iterdir()] == ["lao_cai_official__province-15"]


def test_grid_parsing_and_names_are_deterministic():
    assert split_values('1,"a,b",[1, 2],x') == ["1", '"a,b"', "[1, 2]", "x"]
    grid = parse_grid(
        [
            "params.doctors_min_main_station=1,2",
            "params.centres_kept=-1,3",
            "policy.staff=stay,optimise",
            "params.capacity_penalty_per_person=1e-05",
        ]
    )
    assert [k for k, _ in grid] == [
        "params.doctors_min_main_station",
        "params.centres_kept",
        "policy.staff",
        "params.capacity_penalty_per_person",
    ]
    combos = [
        {
            "params.doctors_min_main_station": 2,
            "params.centres_kept": -1,
            "policy.staff": "optimise",
            "params.capacity_penalty_per_person": 1e-05,
        }
    ]
    names = combination_names("nghe_an_official", grid, combos)
    assert names == [
        "nghe_an_official__doctors_min_main_station-2__centres_kept-m1__staff-optimise__capacity_penalty_per_person-1em05"
    ]
    assert combination_names("nghe_an_official", grid, combos) == names
    # the same last key part under two tables keeps the whole key; very long names end in a hash
    g2 = parse_grid(["params.seed_x=1", "map.seed_x=2"])
    assert combination_names("b", g2, [{"params.seed_x": 1, "map.seed_x": 2}]) == ["b__params_seed_x-1__map_seed_x-2"]
    long = combination_names("b" * 110, grid, combos)[0]
    assert len(long) <= 120 and long.startswith("b" * 20) and long == combination_names("b" * 110, grid, combos)[0]
