"""Input checks in one place: schemas, codes, joins, geometry, CRS, rosters.

One public entry point per input, each raising `InputError` with every problem found:
`pack(path, province)` (one province of a geodata pack: its tables, the joins between them both
ways, geometry and area shares), `provinces(path)` (the pack's province layer) and
`roster(path, old, sheet)` (a station roster, CSV or Excel, against the province's old communes). `table` reads and
checks one national table once per process.

Every check appends `Problem`s (file, layer, row, field) to a `ProblemLog` rather than stopping at
the first, so `reorg validate` reports every problem at once. Row numbers are those a person sees:
the line of a CSV file (header = line 1) or the 1-based feature number of a GeoPackage layer.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from . import roster_input
from ._errors import InputError, Problem, ProblemLog
from .schema import (
    COMMUNES_AFTER,
    COMMUNES_BEFORE,
    DISTRICTS_BEFORE,
    MERGER,
    PROVINCE_LAYERS,
    PROVINCES_AFTER,
    ROSTER,
    Layer,
)
from .table_checks import check_columns, check_geometry, read_table, row_number

if TYPE_CHECKING:
    pass


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


def pack(path: Path, province: str | None, *, whole: bool = False) -> CheckedProvince:
    """Read and check the province `province` (new code, e.g. "40") of the pack at `path`.

    The tables against their schemas, then the province code, the joins between the tables (both
    ways), the geometry (CRS, validity: invalid polygons are repaired and reported as warnings) and
    the merger's area shares. Raises InputError listing every problem of the first step that fails.

    The national GeoPackage layers are read for the province's rows only (those the joins look at:
    its communes, the communes its merger rows name, their districts), unless `whole` (what
    `reorg validate` does: every row of every table checked) or the layers cannot be filtered
    safely (a filter column missing or not text, an unknown province): then they are read whole.
    """
    log = ProblemLog()
    read = None if whole else _province_rows(path, province, log)
    if read is None:
        read = {layer.key: table(path, layer, log) for layer in PROVINCE_LAYERS}
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
            Problem.of(
                "province_twice",
                file=PROVINCES_AFTER.file,
                layer=PROVINCES_AFTER.layer,
                field="province_code",
                province=frame.loc[dup, "province_code"].iloc[0],
            )
        )
    return frame


@dataclass(frozen=True)
class CheckedRoster:
    """A roster (CSV or Excel) that passed every check: typed rows (schema `ROSTER`, by record: the
    row is `row_number(ROSTER, i)`) and the warnings found."""

    rows: pd.DataFrame
    warnings: list[Problem]


def roster(path: str | Path, old: pd.DataFrame, sheet: str | None = None) -> CheckedRoster:
    """Read and check a roster (a CSV file or an Excel workbook's sheet `sheet`, default the first;
    English or Vietnamese headers: `roster_input.read`) against the province's old communes (`old`,
    by code): the schema, every station an old commune of the province, regions I, II or III.
    Every problem names the file, the sheet, the row as the user sees it and the column as typed.
    Raises InputError."""
    path = Path(path)
    if not path.is_file():
        raise InputError(Problem.of("file_not_found", file=str(path.resolve())))
    layer = dataclasses.replace(ROSTER, file=str(path))
    log = ProblemLog()
    read = roster_input.read(path, sheet, log)

    def stop() -> None:
        if log.errors:
            raise InputError([read.place(p) for p in log.problems])

    stop()
    df = read.frame
    if df is None or len(df) == 0:
        raise InputError(Problem.of("roster_empty", file=str(path), sheet=read.sheet, path=str(path)))
    typed = check_columns(df, layer, log)
    stop()
    for i in typed.index[~typed["station_code"].isin(set(old.index))]:
        log.add(
            str(path),
            "station_not_in_province",
            station=typed.at[i, "station_code"],
            row=row_number(layer, i),
            field="station_code",
            code=typed.at[i, "station_code"],
        )
    if "region" in typed:
        bad = typed.index[typed["region"].notna() & ~typed["region"].isin(["I", "II", "III"])]
        for i in bad:
            log.add(
                str(path),
                "bad_region",
                region=typed.at[i, "region"],
                row=row_number(layer, i),
                field="region",
                code=typed.at[i, "station_code"],
            )
    stop()
    return CheckedRoster(rows=typed, warnings=[read.place(p) for p in log.warnings])


_TABLES: dict = {}  # checked national tables of this process, by (file, size, mtime): provinces share them


def _province_rows(
    path: Path, province: str | None, log: ProblemLog
) -> dict[str, tuple[pd.DataFrame, pd.DataFrame] | None] | None:
    """The four tables of `pack` with the GeoPackage layers filtered to the rows the province's
    checks read; None when they cannot be filtered safely (the caller reads them whole)."""
    code = str(province or "").strip()
    if not code.isdigit():
        return None
    code = code.zfill(2)
    local = ProblemLog()
    merger = table(path, MERGER, local)
    layers = {layer.key: layer for layer in PROVINCE_LAYERS}
    filters = {"communes_before": ("new_province_code", "commune_code"), "communes_after": ("province_code", "commune_code")}
    filters["districts_before"] = ("district_code", "district_code")
    for key, columns in filters.items():
        layer = layers[key]
        try:
            types = _field_types(path, layer)
        except Exception:  # noqa: BLE001 - any reader problem: read whole, which reports it
            return None
        if any(types.get(c) != "object" for c in columns):
            return None
    if merger is None or local.problems:
        return None
    _, m = merger
    rows = m[m["new_province_code"] == code]
    old = set(rows["old_commune_code"])
    new = set(m.loc[m["old_commune_code"].isin(old), "new_commune_code"])
    if not old or not all(c.isdigit() for c in old | new):
        return None

    read: dict[str, tuple[pd.DataFrame, pd.DataFrame] | None] = {"merger": merger}
    read["communes_before"] = table(path, layers["communes_before"], log, Rows("commune_code", old, ("new_province_code", code)))
    read["communes_after"] = table(path, layers["communes_after"], log, Rows("commune_code", new, ("province_code", code)))
    before = read["communes_before"]
    districts = set() if before is None else {str(d) for d in before[0]["district_code"].dropna() if str(d).isdigit()}
    read["districts_before"] = table(path, layers["districts_before"], log, Rows("district_code", districts))
    log.problems.extend(local.problems)
    return read


@dataclass(frozen=True)
class Rows:
    """The rows of a GeoPackage layer whose `column` is one of `codes`, or (`also`) whose column
    `also[0]` equals `also[1]`."""

    column: str
    codes: set[str]
    also: tuple[str, str] | None = None

    def sql(self) -> str:
        listed = ",".join(f"'{c}'" for c in sorted(self.codes)) or "''"
        extra = f"{self.also[0]} = '{self.also[1]}' OR " if self.also else ""
        return f"{extra}{self.column} IN ({listed})"

    def mask(self, frame: pd.DataFrame) -> pd.Series:
        """The same rows as `sql()` in a frame of the whole layer (SQL's NULL matches nothing)."""
        out = frame[self.column].isin(self.codes) & frame[self.column].notna()
        if self.also:
            out |= (frame[self.also[0]] == self.also[1]).fillna(False).astype(bool)
        return out


_RAW: dict = {}  # whole raw layers of this process (`_Whole`), by (file, layer, size, mtime): later provinces' rows
_FILTERED: dict = {}  # how many provinces of this process read rows of each layer
_INFO: dict = {}  # field types of each GeoPackage layer read, by (file, layer, size, mtime)
TYPED_FROM = 3  # from this province of a process on, rows are typed from the whole layer's check


@dataclass
class _Whole:
    """A whole raw layer kept by `rows_of`: its frame, its fields' own types, and, made when first
    needed, the row positions of each value of a column and the layer's typed check (`typed`: None
    when that check found any problem)."""

    frame: pd.DataFrame
    types: dict
    positions: dict = dataclasses.field(default_factory=dict)
    typed: pd.DataFrame | None = None
    checked: bool = False

    def rows(self, rows: Rows) -> np.ndarray:
        """The positions of the rows `rows.mask` selects, in order."""
        found = [self.at(rows.column, rows.codes)]
        if rows.also:
            found.append(self.at(rows.also[0], {rows.also[1]}))
        return np.unique(np.concatenate(found)) if rows.also else found[0]

    def at(self, column: str, values: set[str]) -> np.ndarray:
        """The sorted positions of the rows whose `column` is one of `values` (a missing value matches
        nothing, as in SQL)."""
        if column not in self.positions:
            self.positions[column] = self.frame.groupby(column, sort=False, dropna=True).indices
        of = self.positions[column]
        parts = [of[v] for v in values if v in of]
        return np.sort(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.intp)


def _file_key(path: Path, layer: Layer) -> tuple | None:
    file = path / layer.file
    try:
        st = file.stat()
    except OSError:
        return None
    return (str(file.resolve()), layer.key, st.st_size, st.st_mtime_ns)


def _field_types(path: Path, layer: Layer) -> dict:
    """{field: pyogrio dtype} of a GeoPackage layer (read once per file version of a process)."""
    key = _file_key(path, layer)
    if key is None or key not in _INFO:
        info = pyogrio.read_info(path / layer.file, layer=layer.layer)
        types = dict(zip(info["fields"], info["dtypes"]))
        if key is None:
            return types
        if len(_INFO) > 16:
            _INFO.clear()
        _INFO[key] = types
    return _INFO[key]


def rows_of(path: Path, layer: Layer, rows: Rows, log: ProblemLog) -> pd.DataFrame | None:
    """The raw rows `rows` of a GeoPackage layer, keeping their record index (`read_table`). The
    first province of a process reads them with an SQL filter; from the second on (a national run's
    worker, `reorg validate`), the whole layer is read once and kept, and the rows are picked from
    it: the same rows, values and types (pyogrio types an integer or boolean field with a missing
    value as float or object: the picked rows get the type their own read would give)."""
    key = _file_key(path, layer)
    seen = _FILTERED[key] = _FILTERED.get(key, 0) + 1 if key is not None else 0
    if key is None or (seen < 2 and key not in _RAW):
        return read_table(path, layer, log, rows.sql())
    if key not in _RAW:
        local = ProblemLog()
        whole = read_table(path, layer, local)
        if whole is None or local.problems:  # let the filtered read report it
            return read_table(path, layer, log, rows.sql())
        if len(_RAW) > 8:
            _RAW.clear()
        _RAW[key] = _Whole(whole, _field_types(path, layer))
    kept = _RAW[key]
    whole, types = kept.frame, kept.types
    picked = whole.take(kept.rows(rows))  # the rows of `rows.mask(whole)`, in order (a new frame)
    geometry, dtypes = picked.geometry.name, dict(picked.dtypes)
    for c in picked.columns:
        if c == geometry:
            continue
        own = types.get(c)
        if own in ("int64", "int32", "int16", "bool") and dtypes[c] != own and picked[c].notna().all():
            picked[c] = picked[c].astype(own)
        elif dtypes[c] == np.dtype(object) and picked[c].isna().all():  # as read_table does for its SQL reads
            picked[c] = picked[c].astype("str")
    return picked


def _typed_rows(path: Path, layer: Layer, raw: pd.DataFrame, log: ProblemLog) -> pd.DataFrame:
    """`check_columns(raw, layer, log)` for rows `rows_of` picked from a whole layer. From the
    `TYPED_FROM`-th province of a process on, the whole layer is checked once and, when that check
    found no problem at all, the rows take their typed values from it: the same frame, since every
    check is of one row (a key unique in the layer is unique among its rows) and each column's
    typing (strip a code, a number read as a number, a bool from text) is row by row and keeps the
    column's type, as long as the picked column has the type of the whole layer's."""
    key = _file_key(path, layer)
    kept = _RAW.get(key)
    if kept is None or _FILTERED.get(key, 0) < TYPED_FROM or not raw.index.isin(kept.frame.index).all():
        return check_columns(raw, layer, log)
    if not kept.checked:
        local = ProblemLog()
        typed = check_columns(kept.frame, layer, local)
        kept.typed, kept.checked = (None if local.problems else typed), True
    whole, typed = kept.frame, kept.typed
    columns = [c for c in layer.columns if c.name in raw.columns]
    raw_types, whole_types = dict(raw.dtypes), dict(whole.dtypes)
    if (
        typed is None
        or list(raw.columns) != list(whole.columns)
        or any(raw_types[c.name] != whole_types[c.name] for c in columns)
    ):
        return check_columns(raw, layer, log)
    if any(c.kind in ("int", "float") and not pd.api.types.is_numeric_dtype(raw_types[c.name]) for c in columns):
        return check_columns(raw, layer, log)  # numbers given as text: their type depends on the rows
    retyped = [
        c.name
        for c in columns
        if c.kind in ("code", "int", "float") or (c.kind == "bool" and not pd.api.types.is_bool_dtype(raw_types[c.name]))
    ]
    rows = typed.take(whole.index.get_indexer(raw.index))  # index: raw's
    out = raw.copy()
    for name in retyped:
        out[name] = rows[name]
    return out


def table(path: Path, layer: Layer, log: ProblemLog, rows: Rows | None = None) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """Read and check (`read_table`, `check_columns`) one national table of the pack at `path`:
    (raw, typed), or None when it cannot be read (the problem is in `log`). Once per process (the
    national files are read by every province of a national run or of `reorg validate`); the
    problems found are replayed. `rows`: only those rows of a GeoPackage layer (`rows_of`); such
    reads are not kept."""
    if rows is not None:
        local = ProblemLog()
        raw = rows_of(path, layer, rows, local)
        read = None if raw is None else (raw, _typed_rows(path, layer, raw, local))
        log.problems.extend(local.problems)
        return read
    key = _file_key(path, layer)
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
        raise InputError(Problem.of("no_province", file="scenario", codes=", ".join(codes)))
    province = str(province).strip()
    if province.isdigit() and len(province) < 2:
        province = province.zfill(2)
    if province not in codes:
        raise InputError(Problem.of("unknown_province", file=COMMUNES_AFTER.file, province=province, codes=", ".join(codes)))
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
    of_old = merger["old_commune_code"].isin(old_codes).to_numpy()
    other = merger[of_old & (merger["new_province_code"] != province).to_numpy(dtype=bool, na_value=False)]
    for i, r in other.iterrows():
        log.add(
            MERGER.file,
            "mapped_twice",
            old=r.old_commune_code,
            new=r.new_commune_code,
            other=r.new_province_code,
            province=province,
            row=row_number(MERGER, i),
            field="new_province_code",
            code=r.old_commune_code,
        )
    m = merger.loc[of_old]

    b_rows = before.index[before["commune_code"].isin(old_codes) | (before["new_province_code"] == province)]
    a_rows = after.index[after["province_code"] == province]
    b = before.loc[b_rows]
    a = after.loc[a_rows]

    known_old = set(before["commune_code"])
    for i in m.index[~m["old_commune_code"].isin(known_old)]:
        log.add(
            MERGER.file,
            "old_not_in_file",
            old=m.at[i, "old_commune_code"],
            table=COMMUNES_BEFORE.file,
            row=row_number(MERGER, i),
            field="old_commune_code",
            code=m.at[i, "old_commune_code"],
        )
    known_new = set(after["commune_code"])
    for i in m.index[~m["new_commune_code"].isin(known_new)]:
        log.add(
            MERGER.file,
            "new_not_in_file",
            new=m.at[i, "new_commune_code"],
            table=COMMUNES_AFTER.file,
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
            "new_in_other_province",
            new=m.at[i, "new_commune_code"],
            table=COMMUNES_AFTER.file,
            province=province,
            row=row_number(MERGER, i),
            field="new_province_code",
            code=m.at[i, "old_commune_code"],
        )
    for i in b.index[~b["commune_code"].isin(set(m["old_commune_code"]))]:
        log.add(
            COMMUNES_BEFORE.file,
            "old_not_in_merger",
            old=b.at[i, "commune_code"],
            name=b.at[i, "commune_name"],
            province=province,
            layer=COMMUNES_BEFORE.layer,
            row=row_number(COMMUNES_BEFORE, i),
            field="commune_code",
            code=b.at[i, "commune_code"],
        )
    b_in = b[b["commune_code"].isin(old_codes)]
    for i in b_in.index[b_in["new_province_code"] != province]:
        log.add(
            COMMUNES_BEFORE.file,
            "province_disagrees",
            given=b_in.at[i, "new_province_code"],
            province=province,
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
                "new_not_in_merger",
                new=a.at[i, "commune_code"],
                name=a.at[i, "commune_name"],
                n=int(a.at[i, "n_old_communes"]),
                layer=COMMUNES_AFTER.layer,
                row=row_number(COMMUNES_AFTER, i),
                field="commune_code",
                code=a.at[i, "commune_code"],
            )
    known_d = set(districts["district_code"])
    for i in b_in.index[~b_in["district_code"].isin(known_d)]:
        log.add(
            COMMUNES_BEFORE.file,
            "district_not_in_file",
            district=b_in.at[i, "district_code"],
            table=DISTRICTS_BEFORE.file,
            layer=COMMUNES_BEFORE.layer,
            row=row_number(COMMUNES_BEFORE, i),
            field="district_code",
            code=b_in.at[i, "commune_code"],
        )
    dup_pairs = m.index[m.duplicated(["old_commune_code", "new_commune_code"])]
    for i in dup_pairs:
        log.add(
            MERGER.file,
            "duplicate_pair",
            old=m.at[i, "old_commune_code"],
            new=m.at[i, "new_commune_code"],
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
            "area_shares_sum",
            old=code,
            total=float(sums[i]),
            row=row_number(MERGER, i),
            field="area_share",
            code=code,
        )
