"""Which library writes decisions.xlsx: XlsxWriter against openpyxl on the Nghệ An official run.

    python benchmarks/workbook_writers.py [--geodata DIR] [--repeat N]

Both write the same sheets (`reorg.workbook.run_sheets`: header style, number formats, text codes,
frozen header, autofilter, column widths, fixed document dates). XlsxWriter is reorg's writer
(`reorg.workbook.write_sheets`); the openpyxl writer here does the same with openpyxl, its
document dates fixed and every zip entry re-dated (openpyxl stamps entries with the time of
writing, and its `modified` date with the time of saving). Prints the median seconds of `--repeat` writes of each, the file sizes, and whether two
writes give the same bytes. Needs `pip install openpyxl xlsxwriter`.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import tempfile
import time
import zipfile
from pathlib import Path

from reorg import pipeline, workbook
from reorg.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]


def write_openpyxl(sheets: list[workbook.Sheet], path: Path) -> None:
    """The same workbook as `workbook.write_sheets`, with openpyxl, same bytes for the same sheets."""
    from openpyxl import Workbook
    from openpyxl.styles import Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    wb.remove(wb.active)
    wb.properties.creator = "reorg"
    wb.properties.created = wb.properties.modified = workbook.CREATED
    head_font, head_fill = Font(bold=True), PatternFill("solid", fgColor="DDE5EE")
    head_border = Border(bottom=Side(style="thin"))
    for sheet in sheets:
        ws = wb.create_sheet(sheet.name)
        if not sheet.table:
            for row in sheet.rows:
                ws.append([None if v is None else str(v) for v in row])
            continue
        ws.append([c.header for c in sheet.columns])
        for cell in ws[1]:
            cell.font, cell.fill, cell.border = head_font, head_fill, head_border
        kinds = sheet.kinds or [[c.kind for c in sheet.columns]] * len(sheet.rows)
        for i, (row, row_kinds) in enumerate(zip(sheet.rows, kinds), start=2):
            for j, (v, kind) in enumerate(zip(row, row_kinds), start=1):
                v = workbook.plain(v)
                if v is None:
                    continue
                cell = ws.cell(i, j, str(v) if kind in ("code", "text") else v)
                fmt = workbook.NUMBER_FORMATS[kind]
                if fmt:
                    cell.number_format = fmt
        for j, col in enumerate(sheet.columns, start=1):
            width = workbook.column_width(col, [r[j - 1] for r in sheet.rows], [k[j - 1] for k in kinds])
            ws.column_dimensions[get_column_letter(j)].width = width
        ws.freeze_panes = "A2"
        ws.auto_filter.ref = f"A1:{get_column_letter(len(sheet.columns))}{max(2, len(sheet.rows) + 1)}"
    stamp = workbook.CREATED.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    tmp = path.with_suffix(".tmp")
    wb.save(tmp)
    with zipfile.ZipFile(tmp) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=workbook.CREATED.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl dates `modified` at saving, whatever was set
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + stamp, data)
            dst.writestr(fixed, data)
    tmp.unlink()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--geodata", default=os.environ.get("REORG_GEODATA", str(ROOT.parent / "shared" / "geodata")))
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    result = pipeline.run(load_scenario(ROOT / "scenarios" / "nghe_an_official.toml"), geodata=args.geodata)
    t0 = time.perf_counter()
    sheets = workbook.run_sheets(result)
    build = time.perf_counter() - t0
    writers = {
        "XlsxWriter": lambda p: workbook.write_sheets(sheets, p),
        "openpyxl": lambda p: write_openpyxl(sheets, p),
    }
    times: dict[str, list[float]] = {k: [] for k in writers}
    rows = sum(len(s.rows) for s in sheets)
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(args.repeat):
            for name, write in writers.items():  # alternately, so both see the same machine load
                t = time.perf_counter()
                write(Path(tmp) / f"{name}-{k}.xlsx")
                times[name].append(time.perf_counter() - t)
        print(
            f"Nghệ An official: {len(sheets)} sheets, {rows:,} rows; building the sheets took {build:.3f} s; load {os.getloadavg()[0]:.1f}\n"
        )
        print("| writer | median s | min s | size KB | same bytes twice |")
        print("|---|---:|---:|---:|---|")
        for name in writers:
            a, b = (Path(tmp) / f"{name}-{k}.xlsx" for k in (0, 1))
            same = "yes" if a.read_bytes() == b.read_bytes() else "no"
            print(
                f"| {name} | {statistics.median(times[name]):.3f} | {min(times[name]):.3f} | {a.stat().st_size / 1024:.0f} | {same} |"
            )


if __name__ == "__main__":
    main()
