"""`run.json`: what was measured while a run ran, and what it ran with.

Results (summary.json, reports, map, CSVs, gpkg) are byte-identical for the same inputs and seed;
everything that changes from one run to the next, or from one machine to the next, is written
here instead, beside summary.json:

    started            start time, UTC, ISO 8601 (seconds)
    command            the command line (`sys.argv`)
    reorg_version      the version that ran
    python, platform   interpreter version and operating system
    dependencies       {package: version or null when not installed} of DEPENDENCIES
    geodata            {path, sha256, files: {file name: sha256}}: the pack files the run read
                       (combined digest: sha256 of the `<sha256>  <name>` lines, in name order)
    roster             {path, sha256} of the roster CSV, or null (synthetic roster)
    dem, population_raster   {path, sha256} of the elevation model / population raster, only when given

and, by kind of run, the measurements (seconds, MB): see `province_record`, and reorg.national /
reorg.sweep for theirs. The pack's digest is computed once per process and pack state (a national
run or a sweep hashes the pack once, not once per province).
"""

from __future__ import annotations

import hashlib
import json
import platform
import sys
from datetime import UTC, datetime
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__
from .schema import PROVINCE_LAYERS, PROVINCES_AFTER

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .optimise.records import SolveRecord

#: the packages whose versions can change a result or a measurement
DEPENDENCIES = (
    "numpy",
    "pandas",
    "geopandas",
    "shapely",
    "pyogrio",
    "pyproj",
    "rasterio",
    "networkx",
    "scipy",
    "ortools",
    "jinja2",
    "markupsafe",
    "matplotlib",
    "reportlab",
    "rl_accel",
    "xlsxwriter",
    "tqdm",
    "dask",
    "distributed",
)
#: pack files read by a province run (reorg.load.load_pack) and by a national run (plus the provinces)
PROVINCE_FILES = tuple(layer.file for layer in PROVINCE_LAYERS)
NATIONAL_FILES = PROVINCE_FILES + (PROVINCES_AFTER.file,)
FILE_NAME = "run.json"
_CHUNK = 1 << 20


def now() -> str:
    """The current time, UTC, ISO 8601 to the second: a run's `started`."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@lru_cache(maxsize=32)
def _pack_digest(folder: str, files: tuple[str, ...], state: tuple) -> dict[str, Any]:
    del state  # part of the cache key only: a file rewritten since is hashed again
    sums = {name: file_sha256(Path(folder) / name) for name in files if (Path(folder) / name).is_file()}
    lines = "".join(f"{sums[name]}  {name}\n" for name in sorted(sums))
    return {"path": folder, "sha256": hashlib.sha256(lines.encode("utf-8")).hexdigest(), "files": dict(sorted(sums.items()))}


def pack_checksum(folder: str | Path, files: tuple[str, ...] = PROVINCE_FILES) -> dict[str, Any]:
    """sha256 of the pack files `files` of `folder` (those present), once per process and file state."""
    folder = str(Path(folder).resolve())
    names = tuple(sorted(set(files)))
    state: list[tuple[str, int | None, int | None]] = []
    for name in names:
        try:
            st = (Path(folder) / name).stat()
            state.append((name, st.st_size, st.st_mtime_ns))
        except OSError:
            state.append((name, None, None))
    return dict(_pack_digest(folder, names, tuple(state)))


@lru_cache(maxsize=1)
def _versions() -> tuple[tuple[str, str | None], ...]:
    out: dict[str, str | None] = {}
    for name in DEPENDENCIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return tuple(out.items())


def dependencies() -> dict[str, str | None]:
    """The versions of reorg's dependencies (None: not installed), read once per process."""
    return dict(_versions())


def environment(
    started: str, geodata: str | Path | None, files: tuple[str, ...] = PROVINCE_FILES, roster: str | Path | None = None
) -> dict[str, Any]:
    """The keys every run.json shares: start time, command line, versions, the inputs' checksums."""
    return {
        "started": started,
        "command": list(sys.argv),
        "reorg_version": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "dependencies": dependencies(),
        "geodata": pack_checksum(geodata, files) if geodata else None,
        "roster": {"path": str(Path(roster).resolve()), "sha256": file_sha256(Path(roster))} if roster else None,
    }


def raster_inputs(**given: str | Path | None) -> dict[str, Any]:
    """{name: {path, sha256}} of the raster inputs given (`dem`, `population_raster`); those not given are left out."""
    return {k: {"path": str(Path(v).resolve()), "sha256": file_sha256(Path(v))} for k, v in given.items() if v}


def solver_seconds(records: Sequence[SolveRecord]) -> dict[str, float]:
    """`{label: seconds}` of the solver records (a model solved twice adds up)."""
    out: dict[str, float] = {}
    for rec in records:
        out[rec.label] = round(out.get(rec.label, 0.0) + float(rec.seconds), 3)
    return out


def province_record(
    *,
    started: str,
    geodata: str | Path,
    roster: str | Path | None,
    timings: dict[str, float],
    peak_memory_mb: dict[str, float],
    peak_per_stage: bool,
    solver: Sequence[SolveRecord],
) -> dict[str, Any]:
    """run.json of one scenario folder: the environment, and `timings` (seconds per stage, with
    `optimise:<model>` for each model; `reform:raster`, `network:adjacency`, `network:roads_read`,
    `network:roads_graph` with a raster or roads), `peak_memory_mb` (per stage), `peak_memory_per_stage`
    (false where the kernel's peak counter could not be reset: then the process peak so far),
    `solver_seconds` ({model: seconds of its solve})."""
    return environment(started, geodata, PROVINCE_FILES, roster) | {
        "timings": {k: round(v, 3) for k, v in timings.items()},
        "peak_memory_mb": {k: round(v, 1) for k, v in peak_memory_mb.items()},
        "peak_memory_per_stage": bool(peak_per_stage),
        "solver_seconds": solver_seconds(solver),
    }


def write(folder: Path, record: dict[str, Any]) -> Path:
    """Write `run.json` into `folder`; returns its path."""
    path = Path(folder) / FILE_NAME
    path.write_text(json.dumps(record, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8")
    return path
