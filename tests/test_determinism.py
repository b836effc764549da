"""Deterministic results, measurements apart: two runs of the same scenario and seed, in separate
processes (different hash seeds) and into different output roots, write the same bytes in every
file but run.json; run.json holds what was measured and what the run ran with."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path

import pytest

from conftest import ROOT

SCENARIO = "nghe_an_official"
STAGES = {"load", "validate", "reform", "network", "optimise", "measure", "render", "report"}
# the files a run writes (README "Outputs"), every one of which must be byte-identical
RESULTS = {
    "summary.json",
    "report.md",
    "report.html",
    "report.pdf",
    "map.html",
    "decisions.gpkg",
    "decisions.xlsx",
    "stations.csv",
    "communes_after.csv",
    "centres.csv",
    "indicators.csv",
    "staff_moves.csv",
    "travel_minutes.csv",
}
RUN_KEYS = {
    "started",
    "command",
    "reorg_version",
    "python",
    "platform",
    "dependencies",
    "geodata",
    "roster",
    "timings",
    "peak_memory_mb",
    "peak_memory_per_stage",
    "solver_seconds",
}
PACK_FILES = {
    "vn_communes_before_2025-07.gpkg",
    "vn_communes_after_2025-07.gpkg",
    "vn_districts_before_2025-07.gpkg",
    "vn_commune_merger_2025.csv",
}


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory, geodata):
    runs = []
    for k, hashseed in enumerate(("1", "4242")):
        out = tmp_path_factory.mktemp(f"determinism_root{k}")
        argv = ["run", str(ROOT / "scenarios" / f"{SCENARIO}.toml"), "--geodata", str(geodata), "--out", str(out), "--quiet"]
        before = datetime.now(UTC)
        proc = subprocess.run(
            [sys.executable, "-m", "reorg", *argv],
            cwd=ROOT,
            env=dict(os.environ, PYTHONHASHSEED=hashseed),
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert proc.returncode == 0, proc.stderr
        runs.append((out / SCENARIO, argv, before, datetime.now(UTC)))
    return runs


def test_every_result_file_is_byte_identical(two_runs):
    (a, *_), (b, *_) = two_runs
    fa, fb = _files(a), _files(b)
    assert sorted(fa) == sorted(fb), "the two runs wrote different files"
    assert RESULTS <= set(fa), RESULTS - set(fa)
    assert "run.json" in fa
    differ = sorted(name for name in fa if name != "run.json" and fa[name] != fb[name])
    assert differ == [], f"not byte-identical between two runs of the same inputs and seed: {', '.join(differ)}"
    # what made them differ before: measurements are nowhere in the results
    summary = json.loads(fa["summary.json"])
    assert not {"timings", "peak_memory_mb"} & set(summary)
    assert all("seconds" not in rec for rec in summary["solver"])
    assert "## Timings" not in fa["report.md"].decode("utf-8")


def test_run_json_records_the_measurements_and_the_environment(two_runs, geodata):
    for folder, argv, before, after in two_runs:
        run = json.loads((folder / "run.json").read_text(encoding="utf-8"))
        assert set(run) == RUN_KEYS
        started = datetime.fromisoformat(run["started"])
        assert before - timedelta(seconds=1) <= started <= after
        assert run["command"][1:] == argv
        assert run["reorg_version"] == json.loads((folder / "summary.json").read_text(encoding="utf-8"))["reorg_version"]
        assert run["python"] == ".".join(map(str, sys.version_info[:3]))
        for package in (
            "numpy",
            "pandas",
            "geopandas",
            "shapely",
            "pyogrio",
            "networkx",
            "scipy",
            "ortools",
            "jinja2",
            "markupsafe",
            "reportlab",
            "xlsxwriter",
        ):
            assert run["dependencies"][package] == metadata.version(package), package
        # the pack's checksum: each file read, as the pack's own SHA256SUMS says, and the digest over them
        sums = dict(
            reversed(line.split(None, 1))
            for line in (geodata / "SHA256SUMS").read_text(encoding="utf-8").splitlines()
            if line.strip()
        )
        pack = run["geodata"]
        assert pack["path"] == str(geodata.resolve())
        assert set(pack["files"]) == PACK_FILES
        assert {name: sums[name] for name in PACK_FILES} == pack["files"]
        combined = "".join(f"{sums[name]}  {name}\n" for name in sorted(PACK_FILES))
        assert pack["sha256"] == hashlib.sha256(combined.encode("utf-8")).hexdigest()
        assert run["roster"] is None  # synthetic roster
        # no model solved: no optimise:<model>; report:pdf (the PDF, written beside the rest)
        assert set(run["timings"]) == STAGES | {"report:pdf"} and set(run["peak_memory_mb"]) == STAGES
        assert all(v > 0 for v in run["timings"].values()), run["timings"]
        assert all(50 < v < 4096 for v in run["peak_memory_mb"].values()), run["peak_memory_mb"]
        assert isinstance(run["peak_memory_per_stage"], bool)
        assert run["solver_seconds"] == {}
