"""Shared fixtures: the real geodata pack (REORG_GEODATA) and scenario runs built once."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from reorg.cli import main

ROOT = Path(__file__).resolve().parents[1]


def pack_dir() -> Path:
    where = os.environ.get("REORG_GEODATA")
    assert where, "set REORG_GEODATA to the real geodata pack (../shared/geodata); .ci/run does"
    path = Path(where)
    assert (path / "vn_communes_before_2025-07.gpkg").exists(), f"no geodata pack at {path}"
    return path


@pytest.fixture(scope="session")
def geodata() -> Path:
    return pack_dir()


def run_cli(*args: str) -> int:
    return main(list(args))


@pytest.fixture(scope="session")
def official_runs(tmp_path_factory, geodata):
    """The three official scenarios, run once through the command line."""
    out = tmp_path_factory.mktemp("outputs")
    runs = {}
    for name in ("nghe_an_official", "lao_cai_official", "gia_lai_official"):
        rc = run_cli("run", str(ROOT / "scenarios" / f"{name}.toml"), "--geodata", str(geodata), "--out", str(out), "--quiet")
        assert rc == 0, f"{name} failed with exit code {rc}"
        folder = out / name
        runs[name] = (folder, json.loads((folder / "summary.json").read_text(encoding="utf-8")))
    return runs
