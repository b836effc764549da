"""Load stage: a province of a geodata pack (GeoPackages + merger CSV), checked against the schemas.

A province is chosen by its new (1 July 2025) code. Its old communes are exactly those that the
official merger table sends into it, read from the national files, so any of the 34 provinces
works. Every problem is collected (see validate.py) and raised together as `InputError`.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from . import validate as V
from ._errors import InputError, Problem, ProblemLog
from .schema import COMMUNES_AFTER, COMMUNES_BEFORE, DISTRICTS_BEFORE, MERGER

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
        raise InputError(f"no geodata pack given: pass --geodata DIR, set 'geodata' in the scenario, or set {ENV_VAR}", file="geodata")
    path = Path(where).expanduser()
    if not path.is_dir():
        raise InputError(f"geodata directory not found: {path}", file=str(path))
    return path


def is_synthetic_pack(path: Path) -> bool:
    return (path / "SYNTHETIC").exists()


def load_pack(geodata: str | os.PathLike | None, province: str | None) -> Pack:
    """Read and check the province `province` (new code, e.g. "40") of the pack at `geodata`.

    Raises InputError listing every problem found. Repaired geometry is kept and reported in
    `Pack.warnings`.
    """
    path = find_pack(geodata)
    log = ProblemLog()
    raw, typed = {}, {}
    for layer in (COMMUNES_BEFORE, COMMUNES_AFTER, DISTRICTS_BEFORE, MERGER):
        raw[layer.key], typed[layer.key] = _checked_table(path, layer, log)
    log.raise_if_errors()
    before, after, districts, merger = typed["communes_before"], typed["communes_after"], typed["districts_before"], typed["merger"]

    provinces = sorted(after["province_code"].unique())
    if province is None:
        raise InputError(f"no province chosen: pass --province CODE or set 'province' in the scenario (codes in this pack: {', '.join(provinces)})", file="scenario")
    province = str(province).strip()
    if province.isdigit() and len(province) < 2:
        province = province.zfill(2)
    if province not in provinces:
        raise InputError(f"unknown province code '{province}'; codes in this pack: {', '.join(provinces)}", file=COMMUNES_AFTER.file)

    m_rows = merger.index[merger["new_province_code"] == province]
    old_codes = pd.Index(merger.loc[m_rows, "old_commune_code"].unique())
    # old communes sent into this province must not also be sent to another province
    other = merger[(merger["old_commune_code"].isin(old_codes)) & (merger["new_province_code"] != province)]
    for i, r in other.iterrows():
        log.add(MERGER.file, f"old commune {r.old_commune_code} is mapped to new commune {r.new_commune_code} of province {r.new_province_code} and also into province {province}", row=V.row_number(MERGER, i), field="new_province_code", code=r.old_commune_code)
    m = merger.loc[merger["old_commune_code"].isin(old_codes)]

    b_rows = before.index[before["commune_code"].isin(old_codes) | (before["new_province_code"] == province)]
    a_rows = after.index[after["province_code"] == province]
    b = before.loc[b_rows]
    a = after.loc[a_rows]

    # joins, both ways
    known_old = set(before["commune_code"])
    for i in m.index[~m["old_commune_code"].isin(known_old)]:
        log.add(MERGER.file, f"old commune {m.at[i, 'old_commune_code']} is not in {COMMUNES_BEFORE.file}", row=V.row_number(MERGER, i), field="old_commune_code", code=m.at[i, "old_commune_code"])
    known_new = set(after["commune_code"])
    for i in m.index[~m["new_commune_code"].isin(known_new)]:
        log.add(MERGER.file, f"new commune {m.at[i, 'new_commune_code']} is not in {COMMUNES_AFTER.file}", row=V.row_number(MERGER, i), field="new_commune_code", code=m.at[i, "new_commune_code"])
    wrong_prov = m.index[m["new_commune_code"].isin(known_new) & (m["new_province_code"] == province) & ~m["new_commune_code"].isin(set(a["commune_code"]))]
    for i in wrong_prov:
        log.add(MERGER.file, f"new commune {m.at[i, 'new_commune_code']} belongs to another province in {COMMUNES_AFTER.file}, not {province}", row=V.row_number(MERGER, i), field="new_province_code", code=m.at[i, "old_commune_code"])
    for i in b.index[~b["commune_code"].isin(set(m["old_commune_code"]))]:
        log.add(COMMUNES_BEFORE.file, f"old commune {b.at[i, 'commune_code']} ({b.at[i, 'commune_name']}) says new province {province} but is absent from the merger table", layer=COMMUNES_BEFORE.layer, row=V.row_number(COMMUNES_BEFORE, i), field="commune_code", code=b.at[i, "commune_code"])
    b_in = b[b["commune_code"].isin(old_codes)]
    for i in b_in.index[b_in["new_province_code"] != province]:
        log.add(COMMUNES_BEFORE.file, f"new_province_code {b_in.at[i, 'new_province_code']} disagrees with the merger table, which sends this commune into {province}", layer=COMMUNES_BEFORE.layer, row=V.row_number(COMMUNES_BEFORE, i), field="new_province_code", code=b_in.at[i, "commune_code"])
    targeted = set(m["new_commune_code"])
    for i in a.index[~a["commune_code"].isin(targeted)]:
        if a.at[i, "n_old_communes"] > 0:
            log.add(COMMUNES_AFTER.file, f"new commune {a.at[i, 'commune_code']} ({a.at[i, 'commune_name']}) has n_old_communes = {int(a.at[i, 'n_old_communes'])} but no row of the merger table", layer=COMMUNES_AFTER.layer, row=V.row_number(COMMUNES_AFTER, i), field="commune_code", code=a.at[i, "commune_code"])
    known_d = set(districts["district_code"])
    for i in b_in.index[~b_in["district_code"].isin(known_d)]:
        log.add(COMMUNES_BEFORE.file, f"district {b_in.at[i, 'district_code']} is not in {DISTRICTS_BEFORE.file}", layer=COMMUNES_BEFORE.layer, row=V.row_number(COMMUNES_BEFORE, i), field="district_code", code=b_in.at[i, "commune_code"])
    dup_pairs = m.index[m.duplicated(["old_commune_code", "new_commune_code"])]
    for i in dup_pairs:
        log.add(MERGER.file, f"duplicate pair {m.at[i, 'old_commune_code']} -> {m.at[i, 'new_commune_code']}", row=V.row_number(MERGER, i), field="new_commune_code", code=m.at[i, "old_commune_code"])
    log.raise_if_errors()

    b = b_in
    d = districts[districts["district_code"].isin(set(b["district_code"]))]
    b = V.check_geometry(gpd.GeoDataFrame(b, geometry="geometry", crs=raw["communes_before"].crs), COMMUNES_BEFORE, log, allow_null=True)
    a = V.check_geometry(gpd.GeoDataFrame(a, geometry="geometry", crs=raw["communes_after"].crs), COMMUNES_AFTER, log, allow_null=False)
    d = V.check_geometry(gpd.GeoDataFrame(d, geometry="geometry", crs=raw["districts_before"].crs), DISTRICTS_BEFORE, log, allow_null=False)
    m = _population_shares(m, log)
    log.raise_if_errors()

    name = str(a["province_name"].iloc[0])
    pack = Pack(
        directory=path,
        province_code=province,
        province_name=name,
        communes_before=b.set_index("commune_code", drop=False).sort_index(),
        communes_after=a.set_index("commune_code", drop=False).sort_index(),
        districts=d.set_index("district_code", drop=False).sort_index(),
        merger=m.reset_index(drop=True),
        synthetic=is_synthetic_pack(path),
        warnings=log.warnings,
    )
    for frame in (pack.communes_before, pack.communes_after, pack.districts):
        frame.index.name = None
    for col in ("pop_2019", "n_old_communes"):
        for frame in (pack.communes_before, pack.communes_after, pack.districts):
            if col in frame:
                frame[col] = frame[col].astype("int64")
    return pack


_TABLES: dict = {}  # checked national tables of this process, by (file, size, mtime): provinces share them


def _checked_table(path: Path, layer, log: ProblemLog):
    """Read and check one national table once per process (the national files are read by every
    province of a national run or of `reorg validate`); the problems found are replayed."""
    file = path / layer.file
    try:
        st = file.stat()
        key = (str(file.resolve()), layer.key, st.st_size, st.st_mtime_ns)
    except OSError:
        key = None
    if key is not None and key in _TABLES:
        raw, typed, problems = _TABLES[key]
        log.problems.extend(problems)
        return raw, typed
    local = ProblemLog()
    raw = V.read_table(path, layer, local)
    typed = V.check_columns(raw, layer, local) if raw is not None else None
    log.problems.extend(local.problems)
    if key is not None and raw is not None:
        if len(_TABLES) > 16:
            _TABLES.clear()
        _TABLES[key] = (raw, typed, list(local.problems))
    return raw, typed


def _population_shares(m: pd.DataFrame, log: ProblemLog) -> pd.DataFrame:
    """Share of each old commune's population per target: area share, or equal split without one."""
    m = m.copy()
    n = m.groupby("old_commune_code")["new_commune_code"].transform("size")
    share = m["area_share"].astype(float)
    total = share.groupby(m["old_commune_code"]).transform("sum")
    missing = share.isna().groupby(m["old_commune_code"]).transform("any")
    share = np.where(missing, 1.0 / n, share / total.where(total > 0, 1.0))
    raw = m["area_share"].astype(float)
    sums = raw.groupby(m["old_commune_code"]).transform("sum")
    off = ~missing & ((sums - 1.0).abs() > 0.02) & ~m["old_commune_code"].duplicated()
    for i in m.index[off]:
        code = m.at[i, "old_commune_code"]
        log.add(MERGER.file, f"area shares of old commune {code} add up to {sums[i]:.3f}, not 1", row=V.row_number(MERGER, i), field="area_share", code=code)
    m["share"] = share
    return m
