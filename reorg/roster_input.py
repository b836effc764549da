"""Reading a station roster: a CSV file or an Excel workbook (.xlsx), English or Vietnamese headers.

`read(path, sheet, log)` turns either file into the same frame of strings under the schema's column
names (`schema.ROSTER`), indexed so that `table_checks.row_number` gives the row a person sees: the
line of a CSV file or the row of the Excel sheet (header = row 1). `validate.roster` then checks it
the same way whichever file it came from, and `RosterFile.place` names each problem's place as the
user sees it: the file, the sheet, the header as typed and the Excel cell.

Headers are matched on their words (`roster_header` of the message files, every language: the first
of a list is the header a template writes), ignoring case, surrounding spaces, diacritics, '_' or
'-' for a space and a trailing "(unit)". Excel cells: a code typed as a number (Excel drops leading
zeros) is zero-padded to the schema's width with a warning; other numbers are written as text the
way Python writes them; text stays as typed. Merged cells and a header not on row 1 are errors.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pandas as pd

from . import i18n
from ._errors import Phrase, Problem, ProblemLog
from .schema import ROSTER
from .table_checks import MAX_PER_FIELD, read_table

XLSX_SUFFIXES = (".xlsx", ".xlsm")
HEADER_SEARCH_ROWS = 10  # rows searched for a header that is not on row 1
_NS = {
    "main": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "rel": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "pkg": "http://schemas.openxmlformats.org/package/2006/relationships",
}


def header_key(text: Any) -> str:
    """`text` as headers are compared: lower case, no diacritics (đ -> d), '_' and '-' as spaces,
    spaces collapsed, a trailing "(...)" dropped ("Điểm cơ sở vật chất (0–1)" -> "diem co so vat chat")."""
    s = str(text).replace("\ufeff", "").strip().casefold().replace("đ", "d")
    s = "".join(ch for ch in unicodedata.normalize("NFD", s) if not unicodedata.combining(ch))
    s = re.sub(r"[_\-\s]+", " ", s).strip()
    return re.sub(r"\s*\([^()]*\)$", "", s).strip()


def headers(lang: str) -> dict[str, list[str]]:
    """The accepted headers of each roster column in `lang` (`roster_header` of the message files),
    the one a template writes first."""
    out = {}
    for name, value in i18n.section("roster_header", lang).items():
        out[name] = [str(v) for v in value] if isinstance(value, list) else [str(value)]
    return out


def header(name: str, lang: str) -> str:
    """The header a template writes for the column `name` in `lang`."""
    return headers(lang)[name][0]


@cache
def aliases() -> dict[str, str]:
    """Every accepted header of every language (as `header_key` writes it) -> the column's name."""
    out: dict[str, str] = {}
    for lang in i18n.LANGS:
        for name, given in headers(lang).items():
            for h in [name, *given]:
                key = header_key(h)
                if out.setdefault(key, name) != name:
                    raise ValueError(f"roster header {h!r} stands for both {out[key]!r} and {name!r}")
    return out


@dataclass
class RosterFile:
    """A roster read into strings (`frame`, None when it could not be read), the file's label, its
    sheet (None for CSV), and for each column name the header as typed and its Excel letter."""

    label: str
    frame: pd.DataFrame | None = None
    sheet: str | None = None
    typed: dict[str, str] = field(default_factory=dict)
    letters: dict[str, str] = field(default_factory=dict)

    def place(self, p: Problem, lang: str = i18n.DEFAULT_LANG) -> Problem:
        """`p` placed as the user sees the file: the sheet, the header as typed, the Excel cell; a
        missing column lists its accepted headers."""
        if p.key == "error.missing_column" and p.field is not None and p.field in aliases().values():
            found = ", ".join(self.typed.get(c, c) for c in (self.frame.columns if self.frame is not None else []))
            others = [h for lg in i18n.LANGS for h in headers(lg)[p.field] if h != p.field]
            p = Problem.of(
                "roster_xlsx.missing_column",
                file=p.file,
                field=p.field,
                column=p.field,
                what=Phrase.of(f"roster_column.{p.field}"),
                aliases=", ".join(f"'{h}'" for h in dict.fromkeys(others)),
                found=found,
            )
        changes: dict[str, Any] = {}
        if self.sheet is not None and p.sheet is None:
            changes["sheet"] = self.sheet
        if p.field in self.typed:
            changes["field"] = self.typed[p.field]
            if p.field in self.letters and p.row is not None and p.cell is None:
                changes["cell"] = f"{self.letters[p.field]}{p.row}"
        return dataclasses.replace(p, **changes) if changes else p


def read(path: Path, sheet: str | None, log: ProblemLog) -> RosterFile:
    """The roster at `path` (an Excel workbook by its suffix, else CSV) as strings under the
    schema's column names; problems go to `log` (placed by `RosterFile.place`)."""
    label = str(path)
    suffix = path.suffix.lower()
    if suffix == ".xls":
        log.add(label, "roster_xlsx.xls")
        return RosterFile(label)
    if suffix in XLSX_SUFFIXES:
        return _read_xlsx(path, sheet, log)
    if sheet is not None:
        log.add(label, "roster_xlsx.sheet_for_csv", name=sheet)
        return RosterFile(label)
    df = read_table(Path("."), dataclasses.replace(ROSTER, file=label), log)
    out = RosterFile(label)
    if df is None:
        return out
    out.frame = _named(df, list(df.columns), out, log)
    return out


def _named(
    df: pd.DataFrame, typed: list[str], out: RosterFile, log: ProblemLog, letters: list[str] | None = None
) -> pd.DataFrame:
    """`df` with its recognised headers renamed to the column names (`out.typed`, `out.letters`
    record them); two headers for one column are an error."""
    known = aliases()
    names: list[str] = []
    for i, h in enumerate(typed):
        name = known.get(header_key(h), str(h))
        if name in out.typed:
            log.add(out.label, "roster_xlsx.column_twice", field=name, first=out.typed[name], second=h, column=name)
        else:
            out.typed[name] = str(h)
            if letters is not None:
                out.letters[name] = letters[i]
        names.append(name)
    return df.set_axis(names, axis=1)


def _column_letter(i: int) -> str:
    """The Excel letter of the 0-based column `i` (0 -> A, 26 -> AA)."""
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def _read_xlsx(path: Path, sheet: str | None, log: ProblemLog) -> RosterFile:
    import openpyxl  # only a roster in Excel needs it

    out = RosterFile(str(path))
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any reader failure is a bad workbook
        log.add(out.label, "roster_xlsx.not_xlsx", reason=str(exc) or type(exc).__name__)
        return out
    try:
        names = [ws.title for ws in wb.worksheets]
        if not names:
            log.add(out.label, "roster_xlsx.no_worksheet")
            return out
        if sheet is not None and sheet not in names:
            log.add(out.label, "roster_xlsx.no_sheet", name=sheet, sheets=", ".join(f"'{n}'" for n in names))
            return out
        out.sheet = sheet if sheet is not None else names[0]
        rows = [list(r) for r in wb[out.sheet].iter_rows(values_only=True)]
    finally:
        wb.close()
    merged = _merged_ranges(path, out.sheet)
    if not _header_in_place(rows, merged, out, log):
        return out  # the header cannot be read
    width = max((len(r) for r in rows), default=0)
    rows = [r + [None] * (width - len(r)) for r in rows]
    head = [_text(v) for v in rows[0]] if rows else []
    body = rows[1:]
    used = [j for j in range(width) if head[j] is not None or any(_text(r[j]) is not None for r in body)]
    for j in used:
        if head[j] is None:
            log.add(out.label, "roster_xlsx.no_header", sheet=out.sheet, cell=f"{_column_letter(j)}1", letter=_column_letter(j))
    if log.errors:
        return out
    letters = [_column_letter(j) for j in used]
    frame = pd.DataFrame([[r[j] for j in used] for r in body], columns=range(len(used)), dtype=object)
    frame.index = pd.RangeIndex(len(body))  # record i is Excel row i + 2 (row_number of a CSV-like layer)
    frame = _named(frame, [str(head[j]) for j in used], out, log, letters)
    if log.errors:
        return out
    empty = frame.map(_text).isna().all(axis=1)
    for i in frame.index[empty]:
        if i < _last_filled(empty):
            log.warn(out.label, "roster_xlsx.empty_row", sheet=out.sheet, row=int(i) + 2)
    frame = frame.loc[~empty]
    out.frame = _as_text(frame, out, log)
    return out


def _last_filled(empty: pd.Series) -> int:
    """The index of the last row holding a value (-1 when none): empty rows after it are not reported."""
    filled = empty.index[~empty]
    return int(filled[-1]) if len(filled) else -1


def _text(value: Any) -> str | None:
    """A cell's value as text, None when empty (blank text included)."""
    if value is None:
        return None
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _as_text(frame: pd.DataFrame, out: RosterFile, log: ProblemLog) -> pd.DataFrame:
    """Every cell as text (None when empty); a code column's whole number cells zero-padded to the
    schema's width, with a warning for each (the first `MAX_PER_FIELD`, then a count)."""
    codes = {c.name: c.width for c in ROSTER.columns if c.kind == "code" and c.width}
    result = frame.map(_text).astype(object)
    for name, width in codes.items():
        if name not in frame:
            continue
        padded = 0
        for i, value in frame[name].items():
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                continue
            if isinstance(value, float) and not value.is_integer():
                continue
            digits = str(int(value))
            if int(value) < 0 or len(digits) > width:
                continue
            fixed = digits.zfill(width)
            result.at[i, name] = fixed
            padded += 1
            if padded <= MAX_PER_FIELD:
                log.warn(
                    out.label,
                    "roster_xlsx.code_as_number",
                    sheet=out.sheet,
                    row=int(i) + 2,
                    field=name,
                    value=digits,
                    fixed=fixed,
                )
        if padded > MAX_PER_FIELD:
            log.warn(out.label, "roster_xlsx.more_codes_as_numbers", sheet=out.sheet, field=name, n=padded - MAX_PER_FIELD)
    return result


def _header_in_place(rows: list[list[Any]], merged: list[tuple[str, int, int]], out: RosterFile, log: ProblemLog) -> bool:
    """Whether the header is row 1 without merged cells (the columns can be read); merged cells and
    a header below row 1 are errors naming the cells (the header is the first of the first rows
    holding the most known headers, when row 1 holds fewer than two)."""
    known = aliases()
    found = [sum(1 for v in r if _text(v) is not None and header_key(v) in known) for r in rows[:HEADER_SEARCH_ROWS]]
    head = found.index(max(found)) if found and found[0] < 2 and max(found) >= 2 else 0
    on_header = [ref for ref, r0, _ in merged if r0 <= head + 1]
    if on_header:
        cells = ", ".join(on_header[:MAX_PER_FIELD])
        log.add(out.label, "roster_xlsx.merged_header", sheet=out.sheet, cells=cells)
    if head:
        filled = [f"{_column_letter(j)}{head + 1}" for j, v in enumerate(rows[head]) if _text(v) is not None]
        span = f"{filled[0]}:{filled[-1]}"
        log.add(out.label, "roster_xlsx.header_not_on_row_1", sheet=out.sheet, header_row=head + 1, cells=span)
    below = [ref for ref, r0, _ in merged if r0 > head + 1]
    if below:
        cells = ", ".join(below[:MAX_PER_FIELD])
        log.add(out.label, "roster_xlsx.merged_cells", sheet=out.sheet, cells=cells)
    return head == 0 and not on_header


def _merged_ranges(path: Path, sheet: str) -> list[tuple[str, int, int]]:
    """The merged ranges of the sheet `sheet` ("C1:H1", first row, last row), read from the
    workbook's XML (openpyxl's read-only mode does not load them)."""
    try:
        with zipfile.ZipFile(path) as z:
            book = ElementTree.fromstring(z.read("xl/workbook.xml"))
            rels = ElementTree.fromstring(z.read("xl/_rels/workbook.xml.rels"))
            rid = next(
                s.get(f"{{{_NS['rel']}}}id") for s in book.iterfind("main:sheets/main:sheet", _NS) if s.get("name") == sheet
            )
            target = next(r.get("Target") or "" for r in rels.iterfind("pkg:Relationship", _NS) if r.get("Id") == rid)
            member = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
            out = []
            with z.open(member) as f:
                for _, el in ElementTree.iterparse(f):
                    if el.tag == f"{{{_NS['main']}}}mergeCell":
                        ref = el.get("ref") or ""
                        rows = [int(n) for n in re.findall(r"\d+", ref)]
                        if rows:
                            out.append((ref, min(rows), max(rows)))
                    elif el.tag == f"{{{_NS['main']}}}row":
                        el.clear()  # stream: the rows are read by openpyxl
            return out
    except (KeyError, StopIteration, zipfile.BadZipFile, ElementTree.ParseError, OSError):
        return []
