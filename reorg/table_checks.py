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

from ._errors import Phrase, ProblemLog
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
    """A problem for each of the first `MAX_PER_FIELD` rows `bad`; `message(i)` gives row i's
    (message key, fields)."""
    bad = list(bad)
    for i in bad[:MAX_PER_FIELD]:
        code = None if key is None else str(key.loc[i])
        msg, fields = message(i)
        log.add(layer.file, msg, layer=layer.layer, row=row_number(layer, i), field=fname, code=code, **fields)
    if len(bad) > MAX_PER_FIELD:
        log.add(layer.file, "more_rows", layer=layer.layer, field=fname, n=len(bad) - MAX_PER_FIELD)


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
                    "missing_column",
                    layer=layer.layer,
                    field=col.name,
                    column=col.name,
                    what=col.description or col.kind,
                    found=found,
                )
            continue
        s = df[col.name]
        numeric = pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)
        texts: list | None = None  # the stripped texts as a list, when `_stripped` made one
        if col.kind in ("int", "float") and numeric:  # numbers read as numbers: no text to look at
            stripped, blank = s, s.isna()
        elif col.kind not in ("code", "int", "float", "bool") and (col.nullable or not col.required):
            continue  # text that may be empty: nothing to check, kept as read
        elif numeric:
            stripped = s.astype("string")
            blank = s.isna()
        else:
            stripped, blank, texts = _stripped(s)
        if col.kind == "code":
            if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
                log.add(
                    layer.file,
                    "codes_as_numbers",
                    layer=layer.layer,
                    field=col.name,
                    width=col.width,
                    example=s.dropna().iloc[0] if s.notna().any() else "",
                )
                continue
            pattern = re.compile(rf"^\d{{{col.width}}}$")
            if texts is not None:
                ok = np.fromiter((t is not None and pattern.match(t) is not None for t in texts), dtype=bool, count=len(texts))
                bad = df.index[~blank & ~ok]
            else:
                bad = df.index[~blank & ~stripped.fillna("").str.match(pattern)]
            _limited(log, layer, col.name, bad, lambda i, col=col: _not_a_code(df.at[i, col.name], col.width), key=None)
            if not col.nullable:
                _limited(log, layer, col.name, df.index[blank], lambda i, col=col: ("empty_code", {}), key=key)
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
                    lambda i, col=col: ("missing_value_unit", {"unit": col.unit}) if col.unit else ("missing_value", {}),
                    key=key,
                )
            if col.minimum is not None:
                _limited(
                    log,
                    layer,
                    col.name,
                    df.index[num < col.minimum],
                    lambda i, col=col, num=num: ("below_minimum", {"value": num.at[i], "minimum": col.minimum, "unit": col.unit}),
                    key=key,
                )
            if col.maximum is not None:
                _limited(
                    log,
                    layer,
                    col.name,
                    df.index[num > col.maximum],
                    lambda i, col=col, num=num: ("above_maximum", {"value": num.at[i], "maximum": col.maximum, "unit": col.unit}),
                    key=key,
                )
            if col.kind == "int":
                frac = df.index[num.notna() & (num != np.floor(num.fillna(0)))]
                _limited(log, layer, col.name, frac, lambda i, col=col, num=num: ("not_whole", {"value": num.at[i]}), key=key)
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
                lambda i, col=col: ("not_bool", {"value": df.at[i, col.name]}),
                key=key,
            )
            out[col.name] = low.isin(["true", "1"])
        else:
            if not col.nullable and col.required:
                _limited(log, layer, col.name, df.index[blank], lambda i, col=col: ("empty_value", {}), key=key)
    for lon_col, lat_col in LONLAT_PAIRS:
        if lon_col in present and lat_col in present:
            _check_lonlat(out, layer, log, lon_col, lat_col, key)
    key_column = layer.key_column
    if key_column is not None and key_column in present:
        dup = df.index[df[key_column].duplicated(keep="first")]
        first: dict = {}
        for i, v in df[key_column].items() if len(dup) else ():
            first.setdefault(v, i)
        _limited(
            log,
            layer,
            key_column,
            dup,
            lambda i: (
                "duplicate_code",
                {"value": df.at[i, key_column], "first": row_number(layer, first[df.at[i, key_column]])},
            ),
        )
    return out


def _stripped(s: pd.Series) -> tuple[pd.Series, pd.Series | np.ndarray, list | None]:
    """`s` as text with spaces stripped (`s.astype("string").str.strip()`), which rows are blank
    (missing or only spaces) and, when every value given is a `str`, the stripped values as a list
    (None where missing): the same, element by element in plain Python."""
    if len(s) == 0 or pd.api.types.infer_dtype(s, skipna=True) != "string":
        stripped = s.astype("string").str.strip()
        return stripped, s.isna() | (stripped == ""), None
    texts = [v.strip() if isinstance(v, str) else None for v in s.to_numpy(dtype=object)]
    stripped = pd.Series(pd.array(texts, dtype="string"), index=s.index, name=s.name)
    blank = s.isna().to_numpy() | np.fromiter((t == "" for t in texts), dtype=bool, count=len(texts))
    return stripped, blank, texts


def _not_a_number(value, col) -> tuple[str, dict]:
    text = str(value).strip()
    if re.fullmatch(r"-?\d{1,3}([.,\s]\d{3})+", text):
        return "thousands_separators", {"value": text, "plain": re.sub(r"[.,\s]", "", text)}
    if re.fullmatch(r"-?\d+,\d+", text):
        return "decimal_comma", {"value": text, "plain": text.replace(",", ".")}
    return "not_a_number", {"value": text, "unit": col.unit or col.kind}


def _not_a_code(value, width: int) -> tuple[str, dict]:
    text = str(value).strip()
    if text.isdigit() and len(text) < width:
        return "code_short", {"value": text, "digits": len(text), "fixed": text.zfill(width)}
    if re.fullmatch(r"\d+\.0", text):
        return "code_decimal", {"value": text, "width": width, "fixed": text[:-2].zfill(width)}
    return "not_a_code", {"value": text, "width": width}


def _inside(lon, lat):
    return (lon >= VN_LON[0]) & (lon <= VN_LON[1]) & (lat >= VN_LAT[0]) & (lat <= VN_LAT[1])


def _check_lonlat(df, layer: Layer, log: ProblemLog, lon_col: str, lat_col: str, key) -> None:
    """Points must lie in Vietnam's box; say so when swapping longitude and latitude would fix it."""
    lon = pd.to_numeric(df[lon_col], errors="coerce")
    lat = pd.to_numeric(df[lat_col], errors="coerce")
    known = lon.notna() & lat.notna()
    bad = df.index[known & ~_inside(lon, lat)]

    def message(i):
        box = {"lon": lon[i], "lat": lat[i], "lon0": VN_LON[0], "lon1": VN_LON[1], "lat0": VN_LAT[0], "lat1": VN_LAT[1]}
        return ("outside_vietnam_swapped" if _inside(lat[i], lon[i]) else "outside_vietnam"), box

    _limited(log, layer, lon_col, bad, message, key=key)


def check_geometry(
    gdf: gpd.GeoDataFrame, layer: Layer, log: ProblemLog, *, allow_null: bool, rows: pd.Index | None = None
) -> gpd.GeoDataFrame:
    """CRS must be EPSG:4326; invalid polygons are repaired with make_valid and reported."""
    if gdf.crs is None:
        log.add(layer.file, "no_crs", layer=layer.layer, field="geometry", expected=CRS)
        return gdf
    if gdf.crs.to_string().upper() != CRS and gdf.crs.to_epsg() != 4326:
        log.add(layer.file, "wrong_crs", layer=layer.layer, field="geometry", found=gdf.crs.to_string(), expected=CRS)
        return gdf
    geom = gdf.geometry if rows is None else gdf.geometry.loc[rows]
    key = gdf[layer.key_column] if layer.key_column in gdf.columns else None
    null_mask = (geom.isna() | geom.is_empty).to_numpy()
    null = geom.index[null_mask]
    if not allow_null:
        _limited(log, layer, "geometry", null, lambda i: ("empty_geometry", {}), key=key)
    unique = geom.index.is_unique  # then dropping labels is keeping the other rows
    present = geom[~null_mask] if unique else geom.drop(null)
    if len(present):
        types = present.geom_type
        wrong_mask = ~types.isin(["Polygon", "MultiPolygon"]).to_numpy()
        wrong = types.index[wrong_mask]
        _limited(log, layer, "geometry", wrong, lambda i: ("not_a_polygon", {"kind": types.at[i]}), key=key)
        polygons = present[~wrong_mask] if unique else present.drop(wrong)
        arr = polygons.values
        invalid_mask = ~shapely.is_valid(np.asarray(arr))
        invalid = polygons.index[invalid_mask]
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
                        "geometry_unrepairable",
                        reason=reason,
                        layer=layer.layer,
                        row=row_number(layer, i),
                        field="geometry",
                        code=None if key is None else str(key.loc[i]),
                    )
                else:
                    gdf.loc[[i], "geometry"] = gpd_series([g], gdf.crs, [i])
                    log.warn(
                        layer.file,
                        "geometry_repaired",
                        reason=reason,
                        layer=layer.layer,
                        row=row_number(layer, i),
                        field="geometry",
                        code=None if key is None else str(key.loc[i]),
                    )
        bounds = shapely.bounds(np.asarray(arr))
        out = polygons.index[(bounds[:, 0] < -180) | (bounds[:, 2] > 180) | (bounds[:, 1] < -90) | (bounds[:, 3] > 90)]
        _limited(
            log,
            layer,
            "geometry",
            out,
            lambda i: ("outside_lonlat_range", {}),
            key=key,
        )
    return gdf


def gpd_series(geoms: Sequence[shapely.Geometry], crs: pyproj.CRS | str | None, index: Sequence[Hashable]) -> gpd.GeoSeries:
    """A GeoSeries of `geoms` in `crs` with `index`."""
    return gpd.GeoSeries(geoms, crs=crs, index=index)


def read_table(path: Path, layer: Layer, log: ProblemLog, where: str | None = None) -> pd.DataFrame | None:
    """Read a CSV or GeoPackage layer of the schema `layer`; problems go to `log`, None on failure.
    `where` (a GeoPackage layer only): an SQL filter; the rows read keep their record index (the
    0-based feature number in the whole layer), so problems name the rows a person sees."""
    file = path / layer.file
    if not file.exists():
        log.add(layer.file, "file_not_found_in", layer=layer.layer, folder=str(path.resolve()))
        return None
    if layer.layer is None:
        data = file.read_bytes()
        if data[:4] == b"PK\x03\x04":
            log.add(layer.file, "xlsx_renamed")
            return None
        if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
            log.add(layer.file, "xls_renamed")
            return None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            log.add(layer.file, "not_utf8_csv", byte=exc.start)
            return None
        lines = text.splitlines()
        for n, line in enumerate(lines[1:], start=2):
            if not line.strip(" ,;\t"):
                log.warn(layer.file, "blank_line", row=n)
        try:
            df = pd.read_csv(file, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8", skip_blank_lines=False)
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            log.add(layer.file, "not_csv", reason=str(exc))
            return None
        if len(df.columns) == 1 and ";" in df.columns[0]:
            log.add(layer.file, "semicolons")
            return None
        empty = df.isna().all(axis=1)
        first = df.columns[0]
        header = df[first].fillna("").astype(str).str.strip() == str(first).strip()
        for c in df.columns[1:]:
            if not header.any():
                break
            header &= df[c].fillna("").astype(str).str.strip() == str(c).strip()
        for i in df.index[header]:
            log.add(layer.file, "repeated_header", row=row_number(layer, i))
        return df.loc[~empty]
    try:
        layers = [name for name, _ in pyogrio.list_layers(file)]
    except Exception as exc:  # noqa: BLE001 - any reader failure is a bad file
        log.add(layer.file, "not_gpkg", reason=str(exc))
        return None
    if layer.layer not in layers:
        log.add(
            layer.file, "missing_layer", layer=layer.layer, name=layer.layer, found=", ".join(layers) or Phrase.of("problem.none")
        )
        return None
    try:
        if where is None:
            return pyogrio.read_dataframe(file, layer=layer.layer)
        rows = pyogrio.read_dataframe(file, layer=layer.layer, where=where, fid_as_index=True)
        fids = pyogrio.read_dataframe(file, layer=layer.layer, read_geometry=False, columns=[], fid_as_index=True).index
        rows.index = pd.Index(np.searchsorted(fids.to_numpy(), rows.index.to_numpy()))
        for c in rows.columns:  # a text field with no value among these rows: text, as in the whole layer
            if c != rows.geometry.name and rows[c].dtype == object and rows[c].isna().all():
                rows[c] = rows[c].astype("str")
        return rows
    except Exception as exc:  # noqa: BLE001
        log.add(layer.file, "layer_unreadable", layer=layer.layer, reason=str(exc))
        return None
