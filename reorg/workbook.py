"""Excel workbooks: `decisions.xlsx` of a run and `comparison.xlsx` of `reorg compare`.

A workbook is a list of `Sheet`s (a name, typed columns, rows of plain values) built from the same
tables as the CSV files (`reorg.tables`, the run's staff moves, the indicator table), with words in
the output language (the message files' ``[xlsx]`` section, plus the existing cadre, role, unit and
indicator words). `write_sheets` writes any such list: codes as text cells (leading zeros kept),
numbers with a number format by kind (whole numbers, minutes with 1 decimal, shares as %), the
header row frozen with an autofilter, column widths from the content. The first sheet says what
the workbook is and which of its data are synthetic (`i18n.notices`).

Writer: XlsxWriter. Measured on the Nghệ An official workbook (benchmarks/workbook_writers.py,
benchmarks/RESULTS.md): XlsxWriter writes it 2.3 to 2.5 times faster than openpyxl and gives the
same bytes for the same run once its document dates are fixed (`set_properties(created=...)` also
dates the zip entries); openpyxl needs every zip entry re-dated and its `modified` date (set to
the time of saving) rewritten by hand.
openpyxl stays a test dependency, to read the workbooks back as a user's tool would.

Same run, same bytes: the document's creation date is the reform's date (`CREATED`), never the
time of writing.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from . import i18n, indicators, tables
from .schema import CADRES

CREATED = datetime(2025, 7, 1)  # the reform's date: the workbook's fixed creation date (same bytes for the same run)

#: kind of a column -> Excel number format ("" for none); "code" and "text" cells are text
NUMBER_FORMATS = {
    "code": "@",
    "text": "",
    "count": "#,##0",
    "minutes": "#,##0.0",
    "share": "0.0%",
    "decimal": "#,##0.00",
    "score": "0.000",
    "coordinate": "0.000000",
    "number": "General",
}
MIN_WIDTH, MAX_WIDTH = 6, 60


@dataclass(frozen=True)
class Column:
    """A column of a sheet: its header (in the output language) and kind (a key of NUMBER_FORMATS)."""

    header: str
    kind: str = "text"


@dataclass
class Sheet:
    """A sheet: name (at most 31 characters), columns, rows of plain values (None: empty cell);
    `kinds`: per row, the kind of each cell where it differs from its column's (indicator rows);
    `marked`: (row, column) cells highlighted (the best run of a comparison, the synthetic-data
    notices); `table=False`: a sheet of label/text lines, without header row or filter (the first sheet)."""

    name: str
    columns: list[Column]
    rows: list[list[Any]]
    kinds: list[list[str]] | None = None
    marked: set[tuple[int, int]] = field(default_factory=set)
    table: bool = True


# ---------------------------------------------------------------- values


def plain(v: Any) -> Any:
    """A value a cell can hold: None for missing / not finite / empty text, Python numbers, text otherwise."""
    if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, str) and not v):
        return None
    if isinstance(v, bool):
        return v
    if hasattr(v, "item") and not isinstance(v, str):  # numpy scalars
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


#: kind -> how `_shown` writes a number of that kind (a kind not listed: `str`)
_SHOWN_NUMBER = {
    "count": "{:,.0f}".format,
    "share": lambda v: f"{100 * v:.1f}%",
    "minutes": "{:,.1f}".format,
    "coordinate": "{:.6f}".format,
    "decimal": "{:,.3f}".format,
    "score": "{:,.3f}".format,
}


def _shown(v: Any, kind: str) -> str:
    """About what a cell shows, to size its column."""
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "TRUE"
    return _SHOWN_NUMBER.get(kind, str)(v)


def _longest(values: Sequence[Any], kinds: Sequence[str]) -> int:
    """The longest `_shown` value; a column of one kind, only text or only numbers, all at once."""
    if len(set(kinds)) == 1:
        present = [v for v in values if v is not None]
        types = set(map(type, present))
        if types <= {str}:
            return max(map(len, present), default=0)
        if types <= {int, float}:
            return max(map(len, map(_SHOWN_NUMBER.get(kinds[0], str), present)))
    return max((len(_shown(v, k)) for v, k in zip(values, kinds)), default=0)


def column_width(column: Column, values: Sequence[Any], kinds: Sequence[str]) -> float:
    """Characters: the longest value, and room for the header on at most two lines."""
    longest = _longest(values, kinds)
    words = max((len(w) for w in column.header.split()), default=0)
    want = max(longest, words, math.ceil(len(column.header) / 2) + 2) + 2
    return float(min(MAX_WIDTH, max(MIN_WIDTH, want)))


# ---------------------------------------------------------------- writing


def write_sheets(sheets: list[Sheet], path: Path, *, title: str = "", lang: str = i18n.DEFAULT_LANG) -> None:
    """Write `sheets` as an .xlsx file at `path` (same sheets, same bytes)."""
    import xlsxwriter

    options = {"in_memory": True, "strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False}
    wb = xlsxwriter.Workbook(str(path), options)  # in memory: no temporary files (about a quarter faster)
    wb.set_properties(
        {"title": title, "author": "reorg", "company": "", "created": CREATED, "comments": i18n.text("xlsx.generator", lang)}
    )
    header = wb.add_format({"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#DDE5EE", "bottom": 1})
    formats = {k: wb.add_format({"num_format": f} if f else {}) for k, f in NUMBER_FORMATS.items()}
    marked = {
        k: wb.add_format({**({"num_format": f} if f else {}), "bold": True, "bg_color": "#C6EFCE"})
        for k, f in NUMBER_FORMATS.items()
    }
    note = wb.add_format({"text_wrap": True, "valign": "top"})
    strong = wb.add_format({"bold": True, "text_wrap": True, "valign": "top", "font_color": "#9C0006", "bg_color": "#FFEB9C"})
    for sheet in sheets:
        ws = wb.add_worksheet(sheet.name)
        if not sheet.table:
            ws.set_column(0, 0, 28)
            ws.set_column(1, 1, 100)
            for i, row in enumerate(sheet.rows):
                for j, v in enumerate(row):
                    fmt = strong if (i, j) in sheet.marked else note
                    if v is not None:
                        ws.write_string(i, j, str(v), fmt)
            continue
        if sheet.kinds is None and not sheet.marked:  # one kind per column (every sheet of a run)
            _write_columns(ws, sheet, formats, header)
        else:
            _write_cells(ws, sheet, formats, marked, header)
        ws.freeze_panes(1, 0)
        ws.autofilter(0, 0, max(1, len(sheet.rows)), len(sheet.columns) - 1)
    wb.close()


def _header(ws: Any, sheet: Sheet, columns: list[list[Any]], kinds: list[list[str]], header: Any) -> None:
    """The header row of a table sheet and its columns' widths (`columns`: each column's values)."""
    for j, col in enumerate(sheet.columns):
        ws.write_string(0, j, col.header, header)
        ws.set_column(j, j, column_width(col, columns[j], kinds[j]))
    ws.set_row(0, 30)


def _plain_column(values: Sequence[Any]) -> list[Any]:
    """`plain` of every value; a column of Python numbers or of text (every run's) all at once."""
    types = set(map(type, values))
    if types <= {int, type(None)}:
        return list(values)
    if types <= {int, float, type(None)}:
        return [v if v.__class__ is not float or math.isfinite(v) else None for v in values]
    if types <= {str, type(None)}:
        return [v or None for v in values]
    return [plain(v) for v in values]


def _write_columns(ws: Any, sheet: Sheet, formats: dict[str, Any], header: Any) -> None:
    """The cells of a table sheet of one kind per column, each column made plain and typed once,
    written row by row (XlsxWriter numbers the shared strings in that order)."""
    ncols = len(sheet.columns)
    raw = [list(c) for c in zip(*sheet.rows)][:ncols] if sheet.rows else [[] for _ in range(ncols)]
    _header(ws, sheet, raw, [[c.kind] * len(sheet.rows) for c in sheet.columns], header)
    cells, writers, fmts = [], [], []
    for col, values in zip(sheet.columns, raw):
        values = _plain_column(values)
        types = set(map(type, values)) - {type(None)}
        if col.kind in ("code", "text") or types <= {str}:
            if not types <= {str}:
                values = [None if v is None else str(v) for v in values]
            writer = ws.write_string
        elif types <= {int, float}:
            writer = ws.write_number
        else:  # numbers mixed with text or yes/no values: each cell by its type
            writer = functools.partial(_write_value, ws)
        cells.append(values)
        writers.append(writer)
        fmts.append(formats[col.kind])
    for i, row in enumerate(zip(*cells), start=1):
        for j, v in enumerate(row):
            if v is not None:
                writers[j](i, j, v, fmts[j])


def _write_value(ws: Any, i: int, j: int, v: Any, fmt: Any, text: bool = False) -> None:
    """A plain value in a cell: as text in a `text` (code or text) column or when it is text, yes/no
    as a boolean, a number as a number."""
    if text or isinstance(v, str):
        ws.write_string(i, j, str(v), fmt)
    elif isinstance(v, bool):
        ws.write_boolean(i, j, v, fmt)
    else:
        ws.write_number(i, j, v, fmt)


def _write_cells(ws: Any, sheet: Sheet, formats: dict[str, Any], marked: dict[str, Any], header: Any) -> None:
    """The cells of a table sheet, each with its own kind (`sheet.kinds`) and marking."""
    kinds = sheet.kinds or [[c.kind for c in sheet.columns]] * len(sheet.rows)
    n = range(len(sheet.columns))
    _header(ws, sheet, [[r[j] for r in sheet.rows] for j in n], [[k[j] for k in kinds] for j in n], header)
    for i, (row, row_kinds) in enumerate(zip(sheet.rows, kinds), start=1):
        for j, (v, kind) in enumerate(zip(row, row_kinds)):
            v = plain(v)
            fmt = (marked if (i - 1, j) in sheet.marked else formats)[kind]
            if v is not None:
                _write_value(ws, i, j, v, fmt, kind in ("code", "text"))
            elif (i - 1, j) in sheet.marked:
                ws.write_blank(i, j, None, fmt)


# ---------------------------------------------------------------- the sheets of a run


def _t(key: str, lang: str, **fields: Any) -> str:
    return i18n.text(key, lang, **fields)


def _before_after(what: str, lang: str) -> dict[str, str]:
    return {"before": _t("xlsx.before", lang, what=what), "after": _t("xlsx.after", lang, what=what)}


def _worded(key_prefix: str, value: Any, lang: str) -> Any:
    """`value` in words from the message files (`key_prefix` + value), else as it is."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    key = f"{key_prefix}{value}"
    return _t(key, lang) if key in i18n.messages(lang) else value


def _yes_no(value: Any, lang: str) -> str | None:
    v = plain(value)
    return None if v is None else _t("xlsx.yes" if v else "xlsx.no", lang)


def column_spec(lang: str) -> dict[str, Column]:
    """The header and kind of every column of the run's tables (stations, communes, centres,
    staff moves), by column name."""
    spec: dict[str, Column] = {
        "station_code": Column(_t("xlsx.station_code", lang), "code"),
        "station_name": Column(_t("xlsx.station_name", lang)),
        "old_commune_code": Column(_t("xlsx.old_commune_code", lang), "code"),
        "new_commune_code": Column(_t("xlsx.new_commune_code", lang), "code"),
        "new_commune_name": Column(_t("xlsx.new_commune_name", lang)),
        "role": Column(_t("xlsx.role", lang)),
        "facility_score": Column(_t("xlsx.facility_score", lang), "score"),
        "region": Column(_t("xlsx.region", lang)),
        "origin": Column(_t("xlsx.origin", lang)),
        "lon": Column(_t("xlsx.lon", lang), "coordinate"),
        "lat": Column(_t("xlsx.lat", lang), "coordinate"),
        "main_station_code": Column(_t("xlsx.main_station_code", lang), "code"),
        "centre_code": Column(_t("xlsx.centre_code", lang), "code"),
        "centre_name": Column(_t("xlsx.centre_name", lang)),
        "name": Column(_t("xlsx.centre_name", lang)),
        "district_name": Column(_t("xlsx.district_name", lang)),
        "host_old_code": Column(_t("xlsx.host_old_code", lang), "code"),
        "host_new_code": Column(_t("xlsx.host_new_code", lang), "code"),
        "host_name": Column(_t("xlsx.host_name", lang)),
        "seat_rule": Column(_t("xlsx.seat_rule", lang)),
        "beds": Column(_t("map.beds", lang), "count"),
        "staff": Column(_t("map.staff", lang), "count"),
        "doctors": Column(_t("map.doctors", lang), "count"),
        "district_population": Column(_t("xlsx.district_population", lang), "count"),
        "capacity": Column(_t("map.capacity", lang), "count"),
        "communes_after": Column(_t("map.communes_served", lang), "count"),
        "load_after": Column(_t("map.load", lang), "share"),
        "excess_after": Column(_t("xlsx.excess_after", lang), "count"),
        "population": Column(indicators.get("population").label(lang), "count"),
        "stations_open": Column(_t("xlsx.stations_open", lang), "count"),
        "island": Column(_t("xlsx.island", lang)),
        "from_station": Column(_t("xlsx.from_station", lang), "code"),
        "from_name": Column(_t("xlsx.from_name", lang)),
        "to_station": Column(_t("xlsx.to_station", lang), "code"),
        "to_name": Column(_t("xlsx.to_name", lang)),
        "cadre": Column(_t("xlsx.cadre", lang)),
        "persons": Column(_t("xlsx.persons", lang), "count"),
        "minutes": Column(_t("xlsx.minutes", lang), "minutes"),
        "reason": Column(_t("xlsx.reason", lang)),
    }
    for key, ind in indicators.table().items():  # commune measures: the indicator table's words
        if ind.scope == "commune":
            spec[key] = Column(ind.label(lang), indicator_kind(key))
    for c in CADRES:
        for when, header in _before_after(_t(f"cadre.{c}", lang), lang).items():
            spec[f"{c}_{when}"] = Column(header, "count")
    for name in ("staff", "norm", "gap"):
        for when, header in _before_after(_t(f"xlsx.{name}", lang), lang).items():
            spec[f"{name}_{when}"] = Column(header, "count")
    spec["served_pop_before"] = Column(_t("map.served_before", lang), "count")
    spec["served_pop_after"] = Column(_t("map.served_after", lang), "count")
    return spec


def frame_sheet(name: str, frame: pd.DataFrame, lang: str, *, worded: dict[str, str] | None = None) -> Sheet:
    """A sheet of `frame`, one row per frame row, headers and kinds from `column_spec`; columns in
    `worded` (column -> message key prefix) have their values in words (roles, cadres, origins)."""
    spec = column_spec(lang)
    columns = []
    for c in frame.columns:
        if c in spec:
            columns.append(spec[c])
        else:  # a column this module does not know yet: its name, its values as they are
            kind = "count" if frame[c].dtype.kind in "iu" else "number" if frame[c].dtype.kind == "f" else "text"
            columns.append(Column(str(c), kind))
    data = {c: frame[c].tolist() for c in frame.columns}
    for c, prefix in (worded or {}).items():
        if c in data:
            data[c] = [_worded(prefix, v, lang) for v in data[c]]
    if "island" in data:
        data["island"] = [_yes_no(v, lang) for v in data["island"]]
    for c, col in zip(frame.columns, columns):
        if col.kind == "code":
            data[c] = [None if plain(v) is None else str(v) for v in data[c]]
    rows = [list(r) for r in zip(*data.values())] if len(frame) else []
    return Sheet(name, columns, rows)


def _moves_frame(result: Any, stations: pd.DataFrame | None = None) -> pd.DataFrame:
    """The run's staff moves (staff_moves.csv's rows) with the names of both ends (`stations`: the
    run's `station_table` when already built)."""
    moves = result.plan.moves.copy()
    names = tables.station_names(result, stations)
    centres = result.centres["name"].to_dict()

    def name(code: Any) -> str | None:
        code = str(code)
        if code == "hire":
            return _t("xlsx.hire", result.scenario.lang)
        if code.startswith("centre:"):
            return str(centres.get(code.split(":", 1)[1], code))
        return names.get(code)

    moves.insert(1, "from_name", [name(c) for c in moves["from_station"]])
    moves.insert(3, "to_name", [name(c) for c in moves["to_station"]])
    if "reason" in moves:
        moves["reason"] = [tables.move_reason(str(v), result.scenario.lang) for v in moves["reason"]]
    return moves


def indicator_sheet(result: Any, lang: str) -> Sheet:
    """One row per indicator (indicators.csv's rows): label, unit, better direction, before, after, change."""
    frame = tables.indicator_table(result, lang)
    columns = [
        Column(_t("xlsx.indicator_key", lang), "code"),
        Column(_t("xlsx.indicator", lang)),
        Column(_t("xlsx.unit", lang)),
        Column(_t("xlsx.better", lang)),
        Column(_t("xlsx.value_before", lang), "number"),
        Column(_t("xlsx.value_after", lang), "number"),
        Column(_t("xlsx.change", lang), "number"),
    ]
    rows, kinds = [], []
    for r in frame.to_dict("records"):
        ind = indicators.get(r["indicator"])
        kind = indicator_kind(r["indicator"])
        rows.append(
            [r["indicator"], r["label"], r["unit"], _t(f"xlsx.better_{ind.better}", lang), r["before"], r["after"], r["change"]]
        )
        kinds.append(["code", "text", "text", "text", kind, kind, kind])
    return Sheet(_t("xlsx.sheet_indicators", lang), columns, rows, kinds)


def indicator_kind(key: str) -> str:
    """The cell kind of indicator `key`'s values (the indicator table's format and digits)."""
    if key not in indicators.table():
        return "number"
    ind = indicators.get(key)
    if ind.format == "share":
        return "share"
    if ind.format == "count":
        return "count"
    if ind.format == "minutes":
        return "minutes"  # 1 decimal (the map's classes round commune minutes; a workbook keeps the tenth)
    return "decimal"


def assumption_sheet(result: Any, lang: str) -> Sheet:
    """Every parameter (the report's assumptions table): name, value, default, unit, description, source, confidence."""
    frame = tables.parameter_table(result, lang)
    columns = [
        Column(_t("xlsx.parameter", lang), "code"),
        Column(_t("xlsx.value", lang), "number"),
        Column(_t("xlsx.default", lang), "number"),
        Column(_t("xlsx.not_default", lang)),
        Column(_t("xlsx.unit", lang)),
        Column(_t("xlsx.description", lang)),
        Column(_t("xlsx.source", lang)),
        Column(_t("xlsx.confidence", lang)),
    ]
    rows = []
    for p in frame.to_dict("records"):
        value, default = (_cell_value(p["value"]), _cell_value(p["default"]))
        rows.append(
            [
                p["name"],
                value,
                default,
                _yes_no(p["value"] != p["default"], lang),
                p["unit"],
                p["description"],
                p["source"],
                p["confidence"],
            ]
        )
    return Sheet(_t("xlsx.sheet_assumptions", lang), columns, rows)


def _cell_value(v: Any) -> Any:
    """A parameter value for a cell: numbers as numbers, anything else (text, yes/no, lists) as text."""
    v = plain(v)
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None if v is None else str(v)
    return v


def about_sheet(lines: list[tuple[str, str]], notices: list[str], warnings: list[str], lang: str) -> Sheet:
    """The first sheet: what the workbook is (label, value lines), then the synthetic-data notices
    (highlighted) and the input warnings."""
    rows: list[list[Any]] = [[label, value] for label, value in lines]
    marked = set()
    for text in notices:
        marked |= {(len(rows), 0), (len(rows), 1)}
        rows.append([_t("xlsx.synthetic", lang), text])
    for text in warnings:
        rows.append([_t("xlsx.warning", lang), text])
    return Sheet(_t("xlsx.sheet_about", lang), [Column(""), Column("")], rows, marked=marked, table=False)


def run_sheets(result: Any, lang: str | None = None, *, frames: dict[str, pd.DataFrame] | None = None) -> list[Sheet]:
    """The sheets of decisions.xlsx: about (notices), stations, communes, centres, staff moves,
    indicators, assumptions, in `lang` (default: the run's output language); `frames`: the run's
    `tables.shared_tables` when already built (`report.write_all` returns them)."""
    r = result
    frames = frames or tables.shared_tables(r)
    lang = lang or r.scenario.lang
    s = r.scenario
    about = about_sheet(
        [
            (_t("xlsx.title", lang), s.title),
            (_t("xlsx.province", lang), f"{r.pack.province_code} {r.pack.province_name}"),
            (_t("xlsx.scenario", lang), s.name),
            (_t("xlsx.seed", lang), str(s.seed)),
            (_t("xlsx.reorg", lang), r.version),
            (_t("xlsx.contents", lang), _t("xlsx.contents_run", lang)),
        ],
        i18n.notices(tables.synthetic_flags(r), lang) + tables.travel_notices(r, lang),
        [p.format(lang) for p in r.warnings],
        lang,
    )
    worded = {"role": "role.", "origin": "xlsx.origin_", "cadre": "cadre.", "seat_rule": "xlsx.seat_"}
    return [
        about,
        frame_sheet(_t("xlsx.sheet_stations", lang), frames["stations"], lang, worded=worded),
        frame_sheet(_t("xlsx.sheet_communes", lang), frames["communes"], lang),
        frame_sheet(_t("xlsx.sheet_centres", lang), frames["centres"], lang, worded=worded),
        frame_sheet(_t("xlsx.sheet_moves", lang), _moves_frame(r, frames["stations"]), lang, worded=worded),
        indicator_sheet(r, lang),
        assumption_sheet(r, lang),
    ]


def write_decisions(result: Any, path: Path, lang: str | None = None, *, frames: dict[str, pd.DataFrame] | None = None) -> Path:
    """decisions.xlsx of a run at `path` (`lang`: default the run's output language; `frames`: the
    run's `tables.shared_tables` when already built); returns `path`."""
    lang = lang or result.scenario.lang
    write_sheets(run_sheets(result, lang, frames=frames), Path(path), title=result.scenario.title, lang=lang)
    return Path(path)


# ---------------------------------------------------------------- comparison.xlsx


def comparison_sheets(runs: list[Any], rows: list[dict], roles: list[dict], centres: list[dict], lang: str) -> list[Sheet]:
    """The sheets of comparison.xlsx: about (runs, notices), the indicators of the runs side by side
    with each row's best run highlighted (`reorg.compare.indicator_rows`), the stations whose role
    differs and the communes whose regional centre differs (`role_differences`, `centre_differences`).
    `runs`: the compared runs (`name`, `summary`); their folders are left out, so that the same runs
    give the same bytes wherever they lie (a sweep compares runs in a temporary folder)."""
    first = runs[0].summary
    lines = [(_t("xlsx.province", lang), f"{first['province']['code']} {first['province'].get('name', '')}")]
    for r in runs:
        lines.append((_t("xlsx.run", lang), f"{r.name}: {r.summary['scenario'].get('title', '')}"))
    lines.append((_t("xlsx.contents", lang), _t("xlsx.contents_comparison", lang)))
    notices: list[str] = []
    for r in runs:
        flags = {k: bool(r.summary.get(k)) for k in i18n.NOTICE_KEYS}
        notices += [f"{r.name}: {text}" for text in i18n.notices(flags, lang)]
    about = about_sheet(lines, notices, [], lang)

    names = [r.name for r in runs]
    columns = [
        Column(_t("xlsx.indicator_key", lang), "code"),
        Column(_t("xlsx.indicator", lang)),
        Column(_t("xlsx.unit", lang)),
        Column(_t("xlsx.better", lang)),
        Column(_t("xlsx.value_before", lang), "number"),
        *(Column(n, "number") for n in names),
        Column(_t("xlsx.best", lang)),
    ]
    ind_rows, kinds, marked = [], [], set()
    for i, row in enumerate(rows):
        kind = indicator_kind(row["indicator"])
        better = row["direction"] or "none"
        ind_rows.append(
            [row["indicator"], row["label"], row["unit"], _t(f"xlsx.better_{better}", lang), row["before"]]
            + [row["values"][n] for n in names]
            + ["; ".join(row["best"])]
        )
        kinds.append(["code", "text", "text", "text", kind, *([kind] * len(names)), "text"])
        marked |= {(i, 5 + names.index(n)) for n in row["best"]}
    indicators_sheet = Sheet(_t("xlsx.sheet_indicators", lang), columns, ind_rows, kinds, marked)

    def role_word(role: str | None) -> str:
        return _t("xlsx.absent", lang) if role is None else str(_worded("role.", role, lang))

    role_sheet = Sheet(
        _t("xlsx.sheet_roles", lang),
        [
            Column(_t("xlsx.station_code", lang), "code"),
            Column(_t("xlsx.station_name", lang)),
            Column(_t("xlsx.new_commune_code", lang), "code"),
            Column(_t("xlsx.new_commune_name", lang)),
            *(Column(_t("xlsx.role_in", lang, run=n)) for n in names),
        ],
        [
            [d["station_code"], d["station_name"], d["new_commune_code"], d["new_commune_name"]]
            + [role_word(d["roles"][n]) for n in names]
            for d in roles
        ],
    )
    centre_sheet = Sheet(
        _t("xlsx.sheet_catchments", lang),
        [
            Column(_t("xlsx.new_commune_code", lang), "code"),
            Column(_t("xlsx.new_commune_name", lang)),
            Column(indicators.get("population").label(lang), "count"),
            *(Column(_t("xlsx.centre_in", lang, run=n)) for n in names),
        ],
        [
            [d["new_commune_code"], d["new_commune_name"], _number_or_none(d.get("population"))]
            + [_t("xlsx.absent", lang) if d["centres"][n] is None else d["centres"][n] for n in names]
            for d in centres
        ],
    )
    return [about, indicators_sheet, role_sheet, centre_sheet]


def _number_or_none(v: Any) -> float | int | None:
    """A number read from a CSV cell ('' or not a number: None)."""
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(x):
        return None
    return int(x) if x.is_integer() else x
