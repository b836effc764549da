"""Load stage: a province of a geodata pack (GeoPackages + merger CSV), checked against the schemas.

A province is chosen by its new (1 July 2025) code. Its old communes are exactly those that the
official merger table sends into it, read from the national files, so any of the 34 provinces
works. Every check is in validate.py (`validate.pack`): every problem is collected and raised
together as `InputError`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from . import validate
from ._errors import InputError, Problem
from .schema import COMMUNES_AFTER

ENV_VAR = "REORG_GEODATA"


@dataclass
class Pack:
    """One province of a geodata pack, typed and checked.

    communes_before: old communes of the province (GeoDataFrame, polygon may be null), by commune_code.
    communes_after: new communes (GeoDataFrame).
    districts: old districts that hold the province's old communes (GeoDataFrame).
    merger: official (old, new) pairs of the province, with `share`: the part of the old commune's
        population that goes to the new one (area share; equal split when the polygon is missing).
    """

    directory: Path
    province_code: str
    province_name: str
    communes_before: gpd.GeoDataFrame
    communes_after: gpd.GeoDataFrame
    districts: gpd.GeoDataFrame
    merger: pd.DataFrame
    synthetic: bool = False
    warnings: list[Problem] = field(default_factory=list)


def find_pack(geodata: str | os.PathLike | None) -> Path:
    """The pack directory: the argument, else $REORG_GEODATA; a clear error when neither exists."""
    where = geodata or os.environ.get(ENV_VAR)
    if not where:
        raise InputError(Problem.of("no_geodata", file="geodata", env=ENV_VAR))
    path = Path(where).expanduser()
    if not path.is_dir():
        raise InputError(Problem.of("geodata_not_found", file=str(path.resolve()), folder=str(path.resolve())))
    return path


def is_synthetic_pack(path: Path) -> bool:
    return (path / "SYNTHETIC").exists()


def load_pack(geodata: str | os.PathLike | None, province: str | None, *, whole: bool = False) -> Pack:
    """Read and check the province `province` (new code, e.g. "40") of the pack at `geodata`
    (the national layers' rows of the province, or every row with `whole`: `validate.pack`).

    Every check is `validate.pack`'s; it raises InputError listing every problem found. Repaired
    geometry is kept and reported in `Pack.warnings`.
    """
    path = find_pack(geodata)
    checked = validate.pack(path, province, whole=whole)
    pack = Pack(
        directory=path,
        province_code=checked.province_code,
        province_name=str(checked.communes_after["province_name"].iloc[0]),
        communes_before=_by_code(checked.communes_before, "commune_code"),
        communes_after=_by_code(checked.communes_after, "commune_code"),
        districts=_by_code(checked.districts, "district_code"),
        merger=population_shares(checked.merger).reset_index(drop=True),
        synthetic=is_synthetic_pack(path),
        warnings=list(checked.warnings),
    )
    return pack


def province_codes(geodata: str | os.PathLike | None) -> list[str]:
    """The codes of the new provinces that hold communes in the pack at `geodata` (read fast: one
    column, no geometry; the checks come with `load_pack`)."""
    path = find_pack(geodata)
    f = path / COMMUNES_AFTER.file
    if not f.exists():
        raise InputError(Problem.of("file_not_found_in", file=COMMUNES_AFTER.file, folder=str(path.resolve())))
    codes = pyogrio.read_dataframe(f, layer=COMMUNES_AFTER.layer, columns=["province_code"], read_geometry=False)["province_code"]
    return sorted(codes.astype(str).unique())


def province_table(pack: Path) -> gpd.GeoDataFrame:
    """The new provinces of the pack at `pack` (GeoDataFrame by code: province_name, n_communes,
    geometry), checked by `validate.provinces`."""
    frame = validate.provinces(pack).set_index("province_code", drop=False).sort_index()
    frame.index.name = None
    return frame


def population_shares(merger: pd.DataFrame) -> pd.DataFrame:
    """The merger rows with `share`: the part of each old commune's population that goes to each
    target, its area share (normalised), or an equal split when a share is missing."""
    m = merger.copy()
    n = m.groupby("old_commune_code")["new_commune_code"].transform("size")
    share = m["area_share"].astype(float)
    total = share.groupby(m["old_commune_code"]).transform("sum")
    missing = share.isna().groupby(m["old_commune_code"]).transform("any")
    m["share"] = np.where(missing, 1.0 / n, share / total.where(total > 0, 1.0))
    return m


def _by_code(frame: gpd.GeoDataFrame, key: str) -> gpd.GeoDataFrame:
    """`frame` indexed (unnamed) and sorted by its `key` column, counts as int64."""
    out = frame.set_index(key, drop=False).sort_index()
    out.index.name = None
    for col in ("pop_2019", "n_old_communes"):
        if col in out:
            out[col] = out[col].astype("int64")
    return out
