"""`reorg roster-template`: a station roster to fill in, for one province, as Excel or CSV.

One row per old commune of the province: its code (the station's code), the old commune, district
and new commune(s) for reference, and the values the synthetic roster of a run would give
(`roster.synthesise_stations`, with the parameters and seed of a run: the defaults, or those of
`--scenario FILE`): station position, staff per cadre,
facility score, staffing region. Those values are marked as synthetic (a `source` column, and in the
workbook a fill colour and a "Read me" sheet) so that nobody takes them for real figures. Headers
are in the chosen language (`roster_header` of the message files), so the file read back with
`--roster` passes the same checks as any roster; unchanged, it reproduces the synthetic run.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from . import i18n, roster_input
from ._errors import InputError, Problem, grouped
from .roster import synthesise_stations
from .schema import CADRES
from .workbook import CREATED

REFERENCE = ["station_code", "commune_name", "district_name", "new_commune_code", "new_commune_name"]
SYNTHETIC = ["lon", "lat", "facility_score", *CADRES, "region"]
COLUMNS = [*REFERENCE, *SYNTHETIC, "source"]
TEXT_COLUMNS = {*REFERENCE, "region", "source"}
SYNTHETIC_FILL = "#FFF2CC"  # the colour of a synthetic value in the workbook
SUFFIXES = (".xlsx", ".csv")


def template_frame(old: pd.DataFrame, merger: pd.DataFrame, params: dict, seed: int, lang: str) -> pd.DataFrame:
    """The template's rows (columns `COLUMNS`, by schema name): the old communes `old` (classified,
    by code) with their new commune(s) from `merger` (largest share first) and the synthetic
    roster's values for `params` and `seed`."""
    st = synthesise_stations(old, params, seed)
    m = merger.sort_values(["old_commune_code", "share", "new_commune_code"], ascending=[True, False, True])
    targets = m.groupby("old_commune_code", sort=True)
    codes = targets["new_commune_code"].agg(lambda s: "; ".join(dict.fromkeys(s)))
    names = targets["new_commune_name"].agg(lambda s: "; ".join(dict.fromkeys(s)))
    out = pd.DataFrame(
        {
            "station_code": st["station_code"].astype(str),
            "commune_name": old["commune_name"].reindex(st.index),
            "district_name": old["district_name"].reindex(st.index),
            "new_commune_code": codes.reindex(st.index),
            "new_commune_name": names.reindex(st.index),
            **{c: st[c] for c in SYNTHETIC},
            "source": i18n.text("roster_xlsx.source_synthetic", lang),
        }
    )
    return out.sort_values("station_code").reset_index(drop=True)[COLUMNS]


def _atomic_target(path: Path) -> Path:
    """A temporary file beside `path` (renamed onto it once written)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.tmp-", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    return Path(tmp)


def write_template(frame: pd.DataFrame, path: Path, lang: str, *, title: str, seed: int) -> Path:
    """Write `frame` (from `template_frame`) at `path` as .xlsx or .csv (by its suffix), headers in
    `lang`, atomically (a failed write leaves no file and the previous one untouched)."""
    tmp = _atomic_target(path)
    try:
        if path.suffix.lower() == ".csv":
            shown = frame.rename(columns={c: roster_input.header(c, lang) for c in COLUMNS})
            shown.to_csv(tmp, index=False, encoding="utf-8-sig", float_format=None)  # BOM: Excel shows the Vietnamese
        else:
            _write_xlsx(frame, tmp, lang, title=title, seed=seed)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def _write_xlsx(frame: pd.DataFrame, path: Path, lang: str, *, title: str, seed: int) -> None:
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False})
    wb.set_properties(
        {
            "title": title,
            "author": "reorg",
            "company": "",
            "created": CREATED,
            "comments": i18n.text("roster_xlsx.template_notice", lang, seed=seed),
        }
    )
    head = wb.add_format({"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#DDE5EE", "bottom": 1})
    text = wb.add_format({"num_format": "@"})
    synthetic = {
        "text": wb.add_format({"num_format": "@", "bg_color": SYNTHETIC_FILL}),
        "number": wb.add_format({"bg_color": SYNTHETIC_FILL}),
        "note": wb.add_format({"num_format": "@", "bg_color": SYNTHETIC_FILL, "italic": True}),
    }
    ws = wb.add_worksheet(i18n.text("roster_xlsx.template_sheet", lang))  # first: what --roster reads
    for j, name in enumerate(COLUMNS):
        ws.write_string(0, j, roster_input.header(name, lang), head)
        width = 30 if name in ("commune_name", "district_name", "new_commune_name", "source") else 14
        ws.set_column(j, j, width, text if name in TEXT_COLUMNS else None)
    ws.set_row(0, 30)
    for i, row in enumerate(frame.itertuples(index=False), start=1):
        for j, (name, value) in enumerate(zip(COLUMNS, row)):
            _write_cell(ws, i, j, name, value, text, synthetic)
    ws.freeze_panes(1, 1)
    ws.autofilter(0, 0, max(1, len(frame)), len(COLUMNS) - 1)

    about = wb.add_worksheet(i18n.text("roster_xlsx.template_readme_sheet", lang))
    strong = wb.add_format(
        {"bold": True, "text_wrap": True, "valign": "top", "font_color": "#9C0006", "bg_color": SYNTHETIC_FILL}
    )
    wrap = wb.add_format({"text_wrap": True, "valign": "top"})
    about.set_column(0, 0, 28)
    about.set_column(1, 1, 100)
    about.write_string(0, 0, title, head)
    about.write_string(1, 0, i18n.text("roster_xlsx.template_notice", lang, seed=seed), strong)
    about.write_string(2, 0, i18n.text("roster_xlsx.template_rows", lang, n=len(frame)), wrap)
    about.write_string(4, 0, i18n.text("roster_xlsx.template_column", lang), head)
    about.write_string(4, 1, i18n.text("roster_xlsx.template_meaning", lang), head)
    for i, name in enumerate(COLUMNS, start=5):
        about.write_string(i, 0, roster_input.header(name, lang), synthetic["text"] if name in SYNTHETIC else wrap)
        about.write_string(i, 1, i18n.text(f"roster_column.{name}", lang), wrap)
    about.activate()  # the workbook opens on the notice; the stations stay the first sheet
    wb.close()


def _write_cell(ws: Any, i: int, j: int, name: str, value: Any, text: Any, synthetic: dict[str, Any]) -> None:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return
    if name == "source":
        ws.write_string(i, j, str(value), synthetic["note"])
    elif name in TEXT_COLUMNS:
        ws.write_string(i, j, str(value), synthetic["text"] if name in SYNTHETIC else text)
    else:
        ws.write_number(i, j, float(value) if name in ("lon", "lat", "facility_score") else int(value), synthetic["number"])


def cmd_roster_template(args: argparse.Namespace) -> int:
    from . import reform
    from .load import load_pack
    from .scenario import load_scenario

    out = Path(args.out)
    if out.suffix.lower() not in SUFFIXES:
        raise InputError(Problem.of("roster_xlsx.template_out", file="--out", name=out.name))
    lang = args.lang or i18n.DEFAULT_LANG
    sets = [f"seed={args.seed}"] if args.seed is not None else []
    scenario = load_scenario(args.scenario, sets, args.province)  # the parameters and seed of a run
    pack = load_pack(args.geodata or scenario.geodata, scenario.province)
    old = reform.classify_old_communes(pack, scenario.params)
    for line in grouped([*pack.warnings, *old.warnings], lang):
        print(line, file=sys.stderr)
    frame = template_frame(old.frame, pack.merger, scenario.params, scenario.seed, lang)
    title = i18n.text("roster_xlsx.template_title", lang, code=pack.province_code, name=pack.province_name)
    write_template(frame, out, lang, title=title, seed=scenario.seed)
    print(i18n.text("roster_xlsx.written", lang, path=out, n=len(frame), code=pack.province_code, name=pack.province_name))
    return 0


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "roster-template",
        help="write a station roster to fill in for a province (.xlsx or .csv)",
        description="Write one row per old commune of the province: its code, names and the synthetic roster's values "
        "(station position, staff per cadre, facility score), marked as synthetic. Correct them and give the file "
        "back with `reorg run SCENARIO --roster FILE`.",
    )
    p.add_argument("--province", help="new province code (1 July 2025), e.g. 12 (default: the scenario's)")
    p.add_argument("--scenario", help="take the parameters, seed and geodata of this scenario file (default: a run's defaults)")
    p.add_argument("--out", required=True, help="the template file: .xlsx (Excel) or .csv (UTF-8)")
    p.add_argument("--lang", choices=list(i18n.LANGS), help="language of the headers and notes (default: en)")
    p.add_argument("--geodata", help="geodata pack directory (default: $REORG_GEODATA)")
    p.add_argument("--seed", type=int, help="seed of the synthetic values (default: the scenario's, else a run's default)")
    p.set_defaults(handler=cmd_roster_template)
