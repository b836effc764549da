"""Checks of one table of the pack or of a roster: reading it (named file, layer and row in every
message), column types, codes, ranges, coordinates and geometry. `validate.py` holds the entry points
that call them, one per input."""

from __future__ import annotations

import re
from collections.abc import Hashable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from ._errors import ProblemLog
from .schema import (
    CRS,
    LONLAT_PAIRS,
    VN_LAT,
    VN_LON,
    Layer,
)

if TYPE_CHECKING:
    import pyproj

MAX_PER_FIELD = 20  # problems listed per (file, field) before they are summarised


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
