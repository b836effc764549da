"""Input checks in one place: schemas, codes, joins, geometry, CRS, rosters.

One public entry point per input, each raising `InputError` with every problem found:
`pack(path, province)` (one province of a geodata pack: its tables, the joins between them both
ways, geometry and area shares), `provinces(path)` (the pack's province layer) and
`roster(path, old)` (a station roster CSV against the province's old communes). `table` reads and
checks one national table once per process.

Every check appends `Problem`s (file, layer, row, field) to a `ProblemLog` rather than stopping at
the first, so `reorg validate` reports every problem at once. Row numbers are those a person sees:
the line of a CSV file (header = line 1) or the 1-based feature number of a GeoPackage layer.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from ._errors import InputError, Problem, ProblemLog
from .schema import (
    COMMUNES_AFTER,
    COMMUNES_BEFORE,
    CRS,
    DISTRICTS_BEFORE,
    LONLAT_PAIRS,
    MERGER,
    PROVINCES_AFTER,
    ROSTER,
    VN_LAT,
    VN_LON,
    Layer,
)

if TYPE_CHECKING:
    import pyproj

MAX_PER_FIELD = 20  # problems listed per (file, field) before they are summarised


# ---------------------------------------------------------------- entry points, one per input


@dataclass(frozen=True)
class CheckedProvince:
    """One province of a pack that passed every check: typed frames (record index of the national
    tables), the merger's rows of the province's old communes, and the warnings (repairs) found."""

    province_code: str
    communes_before: gpd.GeoDataFrame
    communes_after: gpd.GeoDataFrame
    districts: gpd.GeoDataFrame
    merger: pd.DataFrame
    warnings: list[Problem]


def pack(path: Path, province: str | None) -> CheckedProvince:
    """Read and check the province `province` (new code, e.g. "40") of the pack at `path`.

    The tables against their schemas, then the province code, the joins between the tables (both
    ways), the geometry (CRS, validity: invalid polygons are repaired and reported as warnings) and
    the merger's area shares. Raises InputError listing every problem of the first step that fails.
    """
    log = ProblemLog()
    read = {layer.key: table(path, layer, log) for layer in (COMMUNES_BEFORE, COMMUNES_AFTER, DISTRICTS_BEFORE, MERGER)}
    log.raise_if_errors()  # a table that could not be read is an error
    raw = {key: t[0] for key, t in read.items() if t is not None}
    typed = {key: t[1] for key, t in read.items() if t is not None}
    before, after, districts, merger = (
        typed["communes_before"],
        typed["communes_after"],
        typed["districts_before"],
        typed["merger"],
    )
    province = _province_code(province, after)
    b, a, m = _joins(before, after, districts, merger, province, log)
    log.raise_if_errors()

    d = districts[districts["district_code"].isin(set(b["district_code"]))]
    b = check_geometry(
        gpd.GeoDataFrame(b, geometry="geometry", crs=raw["communes_before"].crs), COMMUNES_BEFORE, log, allow_null=True
    )
    a = check_geometry(
        gpd.GeoDataFrame(a, geometry="geometry", crs=raw["communes_after"].crs), COMMUNES_AFTER, log, allow_null=False
    )
    d = check_geometry(
        gpd.GeoDataFrame(d, geometry="geometry", crs=raw["districts_before"].crs), DISTRICTS_BEFORE, log, allow_null=False
    )
    _area_shares(m, log)
    log.raise_if_errors()
    return CheckedProvince(
        province_code=province, communes_before=b, communes_after=a, districts=d, merger=m, warnings=log.warnings
    )


def provinces(path: Path) -> gpd.GeoDataFrame:
    """Read and check the pack's layer of new provinces (typed, record index); each code once."""
    log = ProblemLog()
    read = table(path, PROVINCES_AFTER, log)
    log.raise_if_errors()  # a table that could not be read is an error
    assert read is not None
    raw, typed = read
    frame = gpd.GeoDataFrame(typed, geometry=raw.geometry.name, crs=raw.crs)
    dup = frame["province_code"].duplicated()
    if dup.any():
        raise InputError(
            Problem(
                file=PROVINCES_AFTER.file,
                layer=PROVINCES_AFTER.layer,
                field="province_code",
                message=f"province code {frame.loc[dup, 'province_code'].iloc[0]} appears twice",
            )
        )
    return frame


@dataclass(frozen=True)
class CheckedRoster:
    """A roster CSV that passed every check: typed rows (schema `ROSTER`) and the warnings found."""

    rows: pd.DataFrame
    warnings: list[Problem]


def roster(path: str | Path, old: pd.DataFrame) -> CheckedRoster:
    """Read and check a roster CSV against the province's old communes (`old`, by code): the schema,
    every station an old commune of the province, regions I, II or III. Raises InputError."""
    path = Path(path)
    layer = dataclasses.replace(ROSTER, file=str(path))
    log = ProblemLog()
    df = read_table(Path("."), layer, log)
    log.raise_if_errors()
    if df is None or len(df) == 0:
        raise InputError(f"roster {path} has no rows", file=str(path))
    typed = check_columns(df, layer, log)
    log.raise_if_errors()
    for i in typed.index[~typed["station_code"].isin(set(old.index))]:
        log.add(
            str(path),
            f"station {typed.at[i, 'station_code']} is not an old commune of this province",
            row=row_number(layer, i),
            field="station_code",
            code=typed.at[i, "station_code"],
        )
    if "region" in typed:
        bad = typed.index[typed["region"].notna() & ~typed["region"].isin(["I", "II", "III"])]
        for i in bad:
            log.add(
                str(path),
                f"region '{typed.at[i, 'region']}' is not I, II or III",
                row=row_number(layer, i),
                field="region",
                code=typed.at[i, "station_code"],
            )
    log.raise_if_errors()
    return CheckedRoster(rows=typed, warnings=log.warnings)


_TABLES: dict = {}  # checked national tables of this process, by (file, size, mtime): provinces share them


def table(path: Path, layer: Layer, log: ProblemLog) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """Read and check (`read_table`, `check_columns`) one national table of the pack at `path`:
    (raw, typed), or None when it cannot be read (the problem is in `log`). Once per process (the
    national files are read by every province of a national run or of `reorg validate`); the
    problems found are replayed."""
    file = path / layer.file
    try:
        st = file.stat()
        key = (str(file.resolve()), layer.key, st.st_size, st.st_mtime_ns)
    except OSError:
        key = None
    if key is not None and key in _TABLES:
        read, problems = _TABLES[key]
        log.problems.extend(problems)
        return read
    local = ProblemLog()
    raw = read_table(path, layer, local)
    read = None if raw is None else (raw, check_columns(raw, layer, local))
    log.problems.extend(local.problems)
    if key is not None and read is not None:
        if len(_TABLES) > 16:
            _TABLES.clear()
        _TABLES[key] = (read, list(local.problems))
    return read


# ---------------------------------------------------------------- the province and the joins of a pack


def _province_code(province: str | None, after: pd.DataFrame) -> str:
    """The province code as the pack writes it ("1" -> "01"); InputError when absent or unknown."""
    codes = sorted(after["province_code"].unique())
    if province is None:
        raise InputError(
            f"no province chosen: pass --province CODE or set 'province' in the scenario (codes in this pack: {', '.join(codes)})",
            file="scenario",
        )
    province = str(province).strip()
    if province.isdigit() and len(province) < 2:
        province = province.zfill(2)
    if province not in codes:
        raise InputError(f"unknown province code '{province}'; codes in this pack: {', '.join(codes)}", file=COMMUNES_AFTER.file)
    return province


def _joins(
    before: pd.DataFrame, after: pd.DataFrame, districts: pd.DataFrame, merger: pd.DataFrame, province: str, log: ProblemLog
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Check the joins of the province's rows, both ways: every merger code in the commune tables,
    every old commune of the province in the merger table, one province per old commune, districts
    known, no duplicate pair. Returns the province's old communes, new communes and merger rows."""
    m_rows = merger.index[merger["new_province_code"] == province]
    old_codes = pd.Index(merger.loc[m_rows, "old_commune_code"].unique())
    # old communes sent into this province must not also be sent to another province
    other = merger[(merger["old_commune_code"].isin(old_codes)) & (merger["new_province_code"] != province)]
    for i, r in other.iterrows():
        log.add(
            MERGER.file,
            f"old commune {r.old_commune_code} is mapped to new commune {r.new_commune_code} of province {r.new_province_code} and also into province {province}",
            row=row_number(MERGER, i),
            field="new_province_code",
            code=r.old_commune_code,
        )
    m = merger.loc[merger["old_commune_code"].isin(old_codes)]

    b_rows = before.index[before["commune_code"].isin(old_codes) | (before["new_province_code"] == province)]
    a_rows = after.index[after["province_code"] == province]
    b = before.loc[b_rows]
    a = after.loc[a_rows]

    known_old = set(before["commune_code"])
    for i in m.index[~m["old_commune_code"].isin(known_old)]:
        log.add(
            MERGER.file,
            f"old commune {m.at[i, 'old_commune_code']} is not in {COMMUNES_BEFORE.file}",
            row=row_number(MERGER, i),
            field="old_commune_code",
            code=m.at[i, "old_commune_code"],
        )
    known_new = set(after["commune_code"])
    for i in m.index[~m["new_commune_code"].isin(known_new)]:
        log.add(
            MERGER.file,
            f"new commune {m.at[i, 'new_commune_code']} is not in {COMMUNES_AFTER.file}",
            row=row_number(MERGER, i),
            field="new_commune_code",
            code=m.at[i, "new_commune_code"],
        )
    wrong_prov = m.index[
        m["new_commune_code"].isin(known_new)
        & (m["new_province_code"] == province)
        & ~m["new_commune_code"].isin(set(a["commune_code"]))
    ]
    for i in wrong_prov:
        log.add(
            MERGER.file,
            f"new commune {m.at[i, 'new_commune_code']} belongs to another province in {COMMUNES_AFTER.file}, not {province}",
            row=row_number(MERGER, i),
            field="new_province_code",
            code=m.at[i, "old_commune_code"],
        )
    for i in b.index[~b["commune_code"].isin(set(m["old_commune_code"]))]:
        log.add(
            COMMUNES_BEFORE.file,
            f"old commune {b.at[i, 'commune_code']} ({b.at[i, 'commune_name']}) says new province {province} but is absent from the merger table",
            layer=COMMUNES_BEFORE.layer,
            row=row_number(COMMUNES_BEFORE, i),
            field="commune_code",
            code=b.at[i, "commune_code"],
        )
    b_in = b[b["commune_code"].isin(old_codes)]
    for i in b_in.index[b_in["new_province_code"] != province]:
        log.add(
            COMMUNES_BEFORE.file,
            f"new_province_code {b_in.at[i, 'new_province_code']} disagrees with the merger table, which sends this commune into {province}",
            layer=COMMUNES_BEFORE.layer,
            row=row_number(COMMUNES_BEFORE, i),
            field="new_province_code",
            code=b_in.at[i, "commune_code"],
        )
    targeted = set(m["new_commune_code"])
    for i in a.index[~a["commune_code"].isin(targeted)]:
        if a.at[i, "n_old_communes"] > 0:
            log.add(
                COMMUNES_AFTER.file,
                f"new commune {a.at[i, 'commune_code']} ({a.at[i, 'commune_name']}) has n_old_communes = {int(a.at[i, 'n_old_communes'])} but no row of the merger table",
                layer=COMMUNES_AFTER.layer,
                row=row_number(COMMUNES_AFTER, i),
                field="commune_code",
                code=a.at[i, "commune_code"],
            )
    known_d = set(districts["district_code"])
    for i in b_in.index[~b_in["district_code"].isin(known_d)]:
        log.add(
            COMMUNES_BEFORE.file,
            f"district {b_in.at[i, 'district_code']} is not in {DISTRICTS_BEFORE.file}",
            layer=COMMUNES_BEFORE.layer,
            row=row_number(COMMUNES_BEFORE, i),
            field="district_code",
            code=b_in.at[i, "commune_code"],
        )
    dup_pairs = m.index[m.duplicated(["old_commune_code", "new_commune_code"])]
    for i in dup_pairs:
        log.add(
            MERGER.file,
            f"duplicate pair {m.at[i, 'old_commune_code']} -> {m.at[i, 'new_commune_code']}",
            row=row_number(MERGER, i),
            field="new_commune_code",
            code=m.at[i, "old_commune_code"],
        )
    return b_in, a, m


def _area_shares(m: pd.DataFrame, log: ProblemLog) -> None:
    """The area shares of each old commune split between new communes add up to 1 (within 0.02),
    where all of them are given (without one, `load` splits the population equally)."""
    raw = m["area_share"].astype(float)
    missing = raw.isna().groupby(m["old_commune_code"]).transform("any")
    sums = raw.groupby(m["old_commune_code"]).transform("sum")
    off = ~missing & ((sums - 1.0).abs() > 0.02) & ~m["old_commune_code"].duplicated()
    for i in m.index[off]:
        code = m.at[i, "old_commune_code"]
        log.add(
            MERGER.file,
            f"area shares of old commune {code} add up to {sums[i]:.3f}, not 1",
            row=row_number(MERGER, i),
            field="area_share",
            code=code,
        )


# ---------------------------------------------------------------- checks of one table


def row_number(layer: Layer, index: int) -> int:
    """Human row number of the 0-based record `index` of `layer`."""
    return index + 2 if layer.layer is None else index + 1


def _limited(log: ProblemLog, layer: Layer, fname: str, bad: pd.Index, message, *, key=None) -> None:
    bad = list(bad)
    for i in bad[:MAX_PER_FIELD]:
        code = None if key is None else str(key.loc[i])
        log.add(layer.file, message(i), layer=layer.layer, row=row_number(layer, i), field=fname, code=code)
    if len(bad) > MAX_PER_FIELD:
        log.add(layer.file, f"... and {len(bad) - MAX_PER_FIELD} more rows with the same problem", layer=layer.layer, field=fname)


def check_columns(df: pd.DataFrame, layer: Layer, log: ProblemLog, file_label: str | None = None) -> pd.DataFrame:
    """Check presence, type and range of every schema column of `layer`; return a typed copy.

    Rows that fail keep their raw value; the caller must stop when `log.errors` is not empty.
    """
    out = df.copy()
    present = set(df.columns)
    key = df[layer.key_column] if layer.key_column in present else None
    for col in layer.columns:
        if col.name not in present:
            if col.required:
                found = ", ".join(c for c in df.columns if c != "geometry")
                log.add(
                    layer.file,
                    f"missing column '{col.name}' ({col.description or col.kind}); columns found: {found}",
                    layer=layer.layer,
                    field=col.name,
                )
            continue
        s = df[col.name]
        raw = s.astype("string")
        if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
            stripped = raw
            blank = s.isna()
        else:
            stripped = raw.str.strip()
            blank = s.isna() | (stripped == "")
        if col.kind == "code":
            if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
                log.add(
                    layer.file,
                    f"codes must be text of {col.width} digits with leading zeros, found numbers (e.g. {s.dropna().iloc[0] if s.notna().any() else ''}); read or write the column as text",
                    layer=layer.layer,
                    field=col.name,
                )
                continue
            pattern = re.compile(rf"^\d{{{col.width}}}$")
            bad = df.index[~blank & ~stripped.fillna("").str.match(pattern)]
            _limited(log, layer, col.name, bad, lambda i, col=col: _not_a_code(df.at[i, col.name], col.width), key=None)
            if not col.nullable:
                _limited(log, layer, col.name, df.index[blank], lambda i, col=col: "empty code", key=key)
            out[col.name] = stripped
        elif col.kind in ("int", "float"):
            num = pd.to_numeric(s, errors="coerce")
            bad = df.index[~blank & num.isna()]
            _limited(log, layer, col.name, bad, lambda i, col=col: _not_a_number(df.at[i, col.name], col), key=key)
            if not col.nullable:
                _limited(
                    log,
                    layer,
                    col.name,
                    df.index[blank],
                    lambda i, col=col: "missing value" + (f" ({col.unit})" if col.unit else ""),
                    key=key,
                )
            if col.minimum is not None:
                _limited(
                    log,
                    layer,
                    col.name,
                    df.index[num < col.minimum],
                    lambda i, col=col, num=num: f"{num.at[i]:g} is below the minimum {col.minimum:g} {col.unit}".rstrip(),
                    key=key,
                )
            if col.maximum is not None:
                _limited(
                    log,
                    layer,
                    col.name,
                    df.index[num > col.maximum],
                    lambda i, col=col, num=num: f"{num.at[i]:g} is above the maximum {col.maximum:g} {col.unit}".rstrip(),
                    key=key,
                )
            if col.kind == "int":
                frac = df.index[num.notna() & (num != np.floor(num.fillna(0)))]
                _limited(log, layer, col.name, frac, lambda i, col=col, num=num: f"{num.at[i]:g} is not a whole number", key=key)
            out[col.name] = num
        elif col.kind == "bool":
            if pd.api.types.is_bool_dtype(s):
                continue
            low = stripped.str.lower()
            ok = low.isin(["true", "false", "1", "0"])
            _limited(
                log,
                layer,
                col.name,
                df.index[~ok.fillna(False)],
                lambda i, col=col: f"'{df.at[i, col.name]}' is not True/False",
                key=key,
            )
            out[col.name] = low.isin(["true", "1"])
        else:
            if not col.nullable and col.required:
                _limited(log, layer, col.name, df.index[blank], lambda i, col=col: "empty value", key=key)
    for lon_col, lat_col in LONLAT_PAIRS:
        if lon_col in present and lat_col in present:
            _check_lonlat(out, layer, log, lon_col, lat_col, key)
    key_column = layer.key_column
    if key_column is not None and key_column in present:
        dup = df.index[df[key_column].duplicated(keep="first")]
        first: dict = {}
        for i, v in df[key_column].items():
            first.setdefault(v, i)
        _limited(
            log,
            layer,
            key_column,
            dup,
            lambda i: f"duplicate code {df.at[i, key_column]} (first at row {row_number(layer, first[df.at[i, key_column]])})",
        )
    return out


def _not_a_number(value, col) -> str:
    text = str(value).strip()
    if re.fullmatch(r"-?\d{1,3}([.,\s]\d{3})+", text):
        plain = re.sub(r"[.,\s]", "", text)
        return f"'{text}' looks like a number with thousands separators: write it without them ({plain})"
    if re.fullmatch(r"-?\d+,\d+", text):
        return f"'{text}' has a decimal comma: write a decimal point ({text.replace(',', '.')})"
    return f"'{text}' is not a number ({col.unit or col.kind})"


def _not_a_code(value, width: int) -> str:
    text = str(value).strip()
    if text.isdigit() and len(text) < width:
        return f"'{text}' has {len(text)} digits: codes keep their leading zeros (did you mean '{text.zfill(width)}'?)"
    if re.fullmatch(r"\d+\.0", text):
        return f"'{text}' was written as a decimal number: codes are text of {width} digits (did you mean '{text[:-2].zfill(width)}'?)"
    return f"'{text}' is not a code of {width} digits"


def _inside(lon, lat):
    return (lon >= VN_LON[0]) & (lon <= VN_LON[1]) & (lat >= VN_LAT[0]) & (lat <= VN_LAT[1])


def _check_lonlat(df, layer: Layer, log: ProblemLog, lon_col: str, lat_col: str, key) -> None:
    """Points must lie in Vietnam's box; say so when swapping longitude and latitude would fix it."""
    lon = pd.to_numeric(df[lon_col], errors="coerce")
    lat = pd.to_numeric(df[lat_col], errors="coerce")
    known = lon.notna() & lat.notna()
    bad = df.index[known & ~_inside(lon, lat)]

    def message(i):
        hint = ": longitude and latitude look swapped" if _inside(lat[i], lon[i]) else ""
        return f"point ({lon[i]:g}, {lat[i]:g}) lies outside Vietnam (lon {VN_LON[0]:g}-{VN_LON[1]:g}, lat {VN_LAT[0]:g}-{VN_LAT[1]:g}){hint}"

    _limited(log, layer, lon_col, bad, message, key=key)


def check_geometry(
    gdf: gpd.GeoDataFrame, layer: Layer, log: ProblemLog, *, allow_null: bool, rows: pd.Index | None = None
) -> gpd.GeoDataFrame:
    """CRS must be EPSG:4326; invalid polygons are repaired with make_valid and reported."""
    if gdf.crs is None:
        log.add(
            layer.file,
            f"no coordinate reference system; expected {CRS} (longitude/latitude)",
            layer=layer.layer,
            field="geometry",
        )
        return gdf
    if gdf.crs.to_string().upper() != CRS and gdf.crs.to_epsg() != 4326:
        log.add(
            layer.file,
            f"unexpected coordinate reference system {gdf.crs.to_string()}; expected {CRS} (longitude/latitude): reproject the layer",
            layer=layer.layer,
            field="geometry",
        )
        return gdf
    idx = gdf.index if rows is None else rows
    geom = gdf.geometry.loc[idx]
    key = gdf[layer.key_column] if layer.key_column in gdf.columns else None
    null = geom.index[geom.isna() | geom.is_empty]
    if not allow_null:
        _limited(log, layer, "geometry", null, lambda i: "missing or empty geometry", key=key)
    present = geom.drop(null)
    if len(present):
        types = present.geom_type
        wrong = types.index[~types.isin(["Polygon", "MultiPolygon"])]
        _limited(log, layer, "geometry", wrong, lambda i: f"{types.at[i]} where a polygon is expected", key=key)
        arr = present.drop(wrong).values
        invalid_mask = ~shapely.is_valid(np.asarray(arr))
        invalid = present.drop(wrong).index[invalid_mask]
        if len(invalid):
            repaired = shapely.make_valid(np.asarray(gdf.geometry.loc[invalid].values))
            polys = [shapely.get_parts(g) for g in repaired]
            fixed = [
                shapely.multipolygons([p for p in parts if p.geom_type == "Polygon"]) if len(parts) else None for parts in polys
            ]
            gdf = gdf.copy()
            for i, g, reason in zip(invalid, fixed, shapely.is_valid_reason(np.asarray(gdf.geometry.loc[invalid].values))):
                if g is None or g.is_empty:
                    log.add(
                        layer.file,
                        f"invalid geometry ({reason}) that make_valid cannot turn into a polygon",
                        layer=layer.layer,
                        row=row_number(layer, i),
                        field="geometry",
                        code=None if key is None else str(key.loc[i]),
                    )
                else:
                    gdf.loc[[i], "geometry"] = gpd_series([g], gdf.crs, [i])
                    log.warn(
                        layer.file,
                        f"invalid geometry ({reason}) repaired with make_valid",
                        layer=layer.layer,
                        row=row_number(layer, i),
                        field="geometry",
                        code=None if key is None else str(key.loc[i]),
                    )
        bounds = shapely.bounds(np.asarray(present.drop(wrong).values))
        out = present.drop(wrong).index[(bounds[:, 0] < -180) | (bounds[:, 2] > 180) | (bounds[:, 1] < -90) | (bounds[:, 3] > 90)]
        _limited(
            log,
            layer,
            "geometry",
            out,
            lambda i: "coordinates outside longitude/latitude range: is the layer in another CRS than declared?",
            key=key,
        )
    return gdf


def gpd_series(geoms: Sequence[shapely.Geometry], crs: pyproj.CRS | str | None, index: Sequence[Hashable]) -> gpd.GeoSeries:
    """A GeoSeries of `geoms` in `crs` with `index`."""
    return gpd.GeoSeries(geoms, crs=crs, index=index)


def read_table(path: Path, layer: Layer, log: ProblemLog) -> pd.DataFrame | None:
    """Read a CSV or GeoPackage layer of the schema `layer`; problems go to `log`, None on failure."""
    file = path / layer.file
    if not file.exists():
        log.add(layer.file, f"file not found in {path}", layer=layer.layer)
        return None
    if layer.layer is None:
        data = file.read_bytes()
        if data[:4] == b"PK\x03\x04":
            log.add(layer.file, "this is an Excel workbook (.xlsx, a zip file) renamed .csv: save it from Excel as 'CSV UTF-8'")
            return None
        if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
            log.add(layer.file, "this is an old Excel workbook (.xls) renamed .csv: save it from Excel as 'CSV UTF-8'")
            return None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            log.add(layer.file, f"not UTF-8 text (byte {exc.start}): save the file as UTF-8 CSV (Excel: 'CSV UTF-8')")
            return None
        lines = text.splitlines()
        for n, line in enumerate(lines[1:], start=2):
            if not line.strip(" ,;\t"):
                log.warn(layer.file, "blank line ignored", row=n)
        try:
            df = pd.read_csv(file, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8", skip_blank_lines=False)
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            log.add(layer.file, f"cannot be read as CSV: {exc}")
            return None
        if len(df.columns) == 1 and ";" in df.columns[0]:
            log.add(layer.file, "columns are separated by ';': save the file with ',' as separator")
            return None
        empty = df.isna().all(axis=1)
        first = df.columns[0]
        header = df[first].fillna("").astype(str).str.strip() == str(first).strip()
        for c in df.columns[1:]:
            if not header.any():
                break
            header &= df[c].fillna("").astype(str).str.strip() == str(c).strip()
        for i in df.index[header]:
            log.add(layer.file, "this line repeats the header row: delete it", row=row_number(layer, i))
        return df.loc[~empty]
    try:
        layers = [name for name, _ in pyogrio.list_layers(file)]
    except Exception as exc:  # noqa: BLE001 - any reader failure is a bad file
        log.add(layer.file, f"cannot be read as a GeoPackage: {exc}")
        return None
    if layer.layer not in layers:
        log.add(layer.file, f"missing layer '{layer.layer}' (layers found: {', '.join(layers) or 'none'})", layer=layer.layer)
        return None
    try:
        return pyogrio.read_dataframe(file, layer=layer.layer)
    except Exception as exc:  # noqa: BLE001
        log.add(layer.file, f"cannot read layer: {exc}", layer=layer.layer)
        return None
