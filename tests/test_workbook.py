"""decisions.xlsx (every run) and comparison.xlsx (`reorg compare`) on the real pack, read back with openpyxl:
the rows are the CSV files' rows, codes are text with their leading zeros, the header row is frozen,
numbers carry their formats, synthetic data are labelled, words follow the output language and the
same run gives the same bytes."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from conftest import ROOT, run_cli
from reorg import i18n, indicators, pipeline, workbook
from reorg import params as parameters
from reorg.compare import compare_runs
from reorg.scenario import load_scenario

A, B = "nghe_an_official", "nghe_an_optimise"
SHEETS = ("about", "stations", "communes", "centres", "moves", "indicators", "assumptions")


def _sheet_names(lang: str) -> list[str]:
    return [i18n.text(f"xlsx.sheet_{k}", lang) for k in SHEETS]


@pytest.fixture(scope="module")
def runs(geodata, tmp_path_factory):
    """Nghệ An official and optimised, and the official scenario on Cao Bằng (province 04, codes 0xxxx), through the CLI."""
    out = tmp_path_factory.mktemp("workbook_runs")
    for scenario, extra in ((A, ()), (B, ()), (A, ("--province", "04", "--set", "name=cao_bang"))):
        rc = run_cli(
            "run", str(ROOT / "scenarios" / f"{scenario}.toml"), "--geodata", str(geodata), "--out", str(out), "--quiet", *extra
        )
        assert rc == 0, f"reorg run {scenario} {extra} failed with exit code {rc}"
    return {"official": out / A, "optimise": out / B, "cao_bang": out / "cao_bang"}


def _csv(folder: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(folder / name, dtype=str, keep_default_na=False)


def _table(ws) -> tuple[list[str], list[tuple]]:
    rows = list(ws.iter_rows(values_only=True))
    return list(rows[0]), [r for r in rows[1:] if any(v is not None for v in r)]


def _column(ws, header: str) -> list:
    head, rows = _table(ws)
    j = head.index(header)
    return [r[j] for r in rows]


def test_every_sheet_frozen_and_filtered(runs):
    wb = openpyxl.load_workbook(runs["official"] / "decisions.xlsx")
    assert wb.sheetnames == _sheet_names("en")
    assert wb.active.title == i18n.text("xlsx.sheet_about", "en"), "the workbook opens on its notices"
    for ws in wb.worksheets[1:]:
        assert ws.freeze_panes == "A2", ws.title
        assert ws.auto_filter.ref and ws.auto_filter.ref.startswith("A1:"), ws.title
        head = [c.value for c in ws[1]]
        assert all(isinstance(h, str) and h for h in head), ws.title
        assert all(ws.column_dimensions[c.column_letter].width >= workbook.MIN_WIDTH for c in ws[1])


def test_rows_and_values_are_the_csv_files(runs):
    for key in ("official", "optimise"):
        folder = runs[key]
        wb = openpyxl.load_workbook(folder / "decisions.xlsx")
        en = i18n.translator("en")
        st, com, cen, mv = (_csv(folder, f) for f in ("stations.csv", "communes_after.csv", "centres.csv", "staff_moves.csv"))
        ws = wb[en("xlsx.sheet_stations")]
        assert _column(ws, en("xlsx.station_code")) == st["station_code"].tolist()
        assert _column(ws, en("xlsx.new_commune_code")) == st["new_commune_code"].tolist()
        assert _column(ws, en("map.served_after")) == st["served_pop_after"].astype(int).tolist()
        roles = {en(f"role.{r}"): r for r in ("main", "point", "closed")}
        assert [roles[v] for v in _column(ws, en("xlsx.role"))] == st["role"].tolist()
        ws = wb[en("xlsx.sheet_communes")]
        assert _column(ws, en("xlsx.new_commune_code")) == com["new_commune_code"].tolist()
        assert _column(ws, en("xlsx.centre_code")) == com["centre_code"].tolist()
        minutes = _column(ws, indicators.get("minutes_main_after").label("en"))
        assert minutes == pytest.approx(com["minutes_main_after"].astype(float).tolist(), rel=1e-5)
        ws = wb[en("xlsx.sheet_centres")]
        assert _column(ws, en("xlsx.centre_code")) == cen["centre_code"].tolist()
        assert _column(ws, en("map.load")) == pytest.approx(cen["load_after"].astype(float).tolist(), rel=1e-5)
        ws = wb[en("xlsx.sheet_moves")]
        assert _column(ws, en("xlsx.from_station")) == mv["from_station"].tolist()
        assert _column(ws, en("xlsx.persons")) == mv["persons"].astype(int).tolist()
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        ws = wb[en("xlsx.sheet_indicators")]
        assert _column(ws, en("xlsx.indicator_key")) == list(summary["indicators"]["after"])
        after = _column(ws, en("xlsx.value_after"))
        assert after == pytest.approx([v if v is not None else None for v in summary["indicators"]["after"].values()], rel=1e-5)
        ws = wb[en("xlsx.sheet_assumptions")]
        # the parameters the run uses: the road model's only with roads (params.applies)
        assert _column(ws, en("xlsx.parameter")) == [
            p.name for p in parameters.PARAMETERS if parameters.applies(p.name, "adjacency")
        ]
    assert len(_csv(runs["optimise"], "staff_moves.csv")) > 0, "the optimised run moves staff"


def test_codes_keep_their_leading_zeros(runs):
    """Cao Bằng (04): commune codes 0xxxx and centre codes 0xx stay text, with their zeros."""
    folder = runs["cao_bang"]
    wb = openpyxl.load_workbook(folder / "decisions.xlsx")
    en = i18n.translator("en")
    st, cen = _csv(folder, "stations.csv"), _csv(folder, "centres.csv")
    ws = wb[en("xlsx.sheet_stations")]
    head = [c.value for c in ws[1]]
    for header in (en("xlsx.station_code"), en("xlsx.old_commune_code"), en("xlsx.new_commune_code")):
        cells = [row[head.index(header)] for row in ws.iter_rows(min_row=2) if row[head.index(header)].value is not None]
        assert cells and all(c.data_type == "s" and c.number_format == "@" for c in cells), header
        assert all(c.value.startswith("0") and len(c.value) == 5 for c in cells), header
    assert _column(ws, en("xlsx.station_code")) == st["station_code"].tolist()
    ws = wb[en("xlsx.sheet_centres")]
    codes = _column(ws, en("xlsx.centre_code"))
    assert codes == cen["centre_code"].tolist() and all(isinstance(c, str) and c.startswith("0") for c in codes)
    about = {r[0]: r[1] for r in wb[en("xlsx.sheet_about")].iter_rows(values_only=True)}
    assert about[en("xlsx.province")].startswith("04 ")


def test_number_formats(runs):
    wb = openpyxl.load_workbook(runs["official"] / "decisions.xlsx")
    en = i18n.translator("en")
    ws = wb[en("xlsx.sheet_indicators")]
    fmt = {row[0].value: row[5].number_format for row in ws.iter_rows(min_row=2)}
    assert fmt["pop_share_within_30min"] == "0.0%"
    assert fmt["pop_minutes_main_station"] == "#,##0.0"
    assert fmt["population"] == fmt["staff_total"] == "#,##0"
    ws = wb[en("xlsx.sheet_centres")]
    head = [c.value for c in ws[1]]
    assert ws.cell(2, head.index(en("map.load")) + 1).number_format == "0.0%"
    assert ws.cell(2, head.index(en("map.beds")) + 1).number_format == "#,##0"
    ws = wb[en("xlsx.sheet_communes")]
    head = [c.value for c in ws[1]]
    cell = ws.cell(2, head.index(indicators.get("minutes_centre_after").label("en")) + 1)
    assert cell.data_type == "n" and cell.number_format == "#,##0.0"  # minutes: one decimal


def test_synthetic_data_labelled(runs):
    summary = json.loads((runs["official"] / "summary.json").read_text(encoding="utf-8"))
    flags = {k: summary[k] for k in ("synthetic_pack", "synthetic_roster", "synthetic_centres")}
    notices = i18n.notices(flags, "en")
    assert notices, "the official run's roster is synthetic"
    ws = openpyxl.load_workbook(runs["official"] / "decisions.xlsx").worksheets[0]
    labelled = [r[1] for r in ws.iter_rows(values_only=True) if r[0] == i18n.text("xlsx.synthetic", "en")]
    assert labelled == notices


def test_every_column_has_words(runs):
    """Every column of the run's tables has a header from the message files, in both languages."""
    for lang in i18n.LANGS:
        spec = workbook.column_spec(lang)
        for name in ("stations.csv", "communes_after.csv", "centres.csv", "staff_moves.csv"):
            missing = [c for c in _csv(runs["optimise"], name).columns if c not in spec]
            assert missing == [], (lang, name, missing)


@pytest.fixture(scope="module")
def result(geodata):
    return pipeline.run(load_scenario(ROOT / "scenarios" / f"{A}.toml"), geodata=str(geodata))


def test_vietnamese_workbook_and_same_bytes(result, tmp_path):
    vi = dataclasses.replace(result, scenario=dataclasses.replace(result.scenario, lang="vi"))
    first = pipeline.write(vi, tmp_path / "one")
    again = pipeline.write(vi, tmp_path / "two")
    data = (first / "decisions.xlsx").read_bytes()
    assert data == (again / "decisions.xlsx").read_bytes(), "same run, same bytes"
    assert data == workbook.write_decisions(vi, tmp_path / "three.xlsx").read_bytes()
    wb = openpyxl.load_workbook(first / "decisions.xlsx")
    assert wb.sheetnames == _sheet_names("vi")
    english = {c.header for c in workbook.column_spec("en").values()}
    for ws in wb.worksheets[1:]:
        head = [c.value for c in ws[1]]
        assert not set(head) & english, (ws.title, set(head) & english)
    st = wb[i18n.text("xlsx.sheet_stations", "vi")]
    head = [c.value for c in st[1]]
    assert head[:2] == ["Mã trạm", "Tên trạm"]
    assert "Bác sĩ, trước sắp xếp" in head and "Bác sĩ, sau sắp xếp" in head
    assert set(_column(st, "Vai trò")) <= {"Trạm y tế chính", "Điểm trạm", "Trạm đóng cửa"}
    ind = wb[i18n.text("xlsx.sheet_indicators", "vi")]
    assert _column(ind, "Chỉ số")[0] == indicators.get("population").label("vi")
    about = [r[1] for r in wb.worksheets[0].iter_rows(values_only=True) if r[0] == "Dữ liệu mô phỏng"]
    assert about == i18n.notices({"synthetic_roster": True, "synthetic_centres": True}, "vi")


def test_a_code_is_text_whatever_it_looks_like(tmp_path):
    sheet = workbook.Sheet("s", [workbook.Column("code", "code"), workbook.Column("n", "count")], [["007", 7], ["1e5", None]])
    workbook.write_sheets([sheet], tmp_path / "t.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "t.xlsx")["s"]
    assert [r for r in ws.iter_rows(min_row=2, values_only=True)] == [("007", 7), ("1e5", None)]


def test_comparison_workbook(runs, tmp_path):
    out = compare_runs([runs["official"], runs["optimise"]], tmp_path / "cmp", lang="vi")
    table = pd.read_csv(out / "comparison.csv", dtype=str, keep_default_na=False)
    wb = openpyxl.load_workbook(out / "comparison.xlsx")
    vi = i18n.translator("vi")
    assert wb.sheetnames == [vi(f"xlsx.sheet_{k}") for k in ("about", "indicators", "roles", "catchments")]
    ws = wb[vi("xlsx.sheet_indicators")]
    assert ws.freeze_panes == "A2"
    head, rows = _table(ws)
    assert head[5:7] == [A, B] and head[-1] == vi("xlsx.best")
    assert [r[0] for r in rows] == table["indicator"].tolist()
    for r, (_, csv_row) in zip(ws.iter_rows(min_row=2), table.iterrows()):
        best = [n for n in csv_row["best"].split(";") if n]
        assert r[-1].value == ("; ".join(best) or None)
        for j, name in ((5, A), (6, B)):
            assert bool(r[j].font.b) == (name in best), (csv_row["indicator"], name)
            if csv_row[name]:
                assert r[j].value == pytest.approx(float(csv_row[name]), rel=1e-12)
    st = {k: _csv(runs[k], "stations.csv").set_index("station_code")["role"] for k in ("official", "optimise")}
    differ = sorted(c for c in st["official"].index if st["official"][c] != st["optimise"].get(c))
    _, rows = _table(wb[vi("xlsx.sheet_roles")])
    assert differ and sorted(r[0] for r in rows) == differ
    assert {r[4] for r in rows} | {r[5] for r in rows} <= {vi("role.main"), vi("role.point"), vi("role.closed")}
    cm = {k: _csv(runs[k], "communes_after.csv").set_index("new_commune_code")["centre_code"] for k in ("official", "optimise")}
    differ = sorted(c for c in cm["official"].index if cm["official"][c] != cm["optimise"].get(c))
    _, rows = _table(wb[vi("xlsx.sheet_catchments")])
    assert sorted(r[0] for r in rows) == differ
    again = compare_runs([runs["official"], runs["optimise"]], tmp_path / "again", lang="vi")
    assert (again / "comparison.xlsx").read_bytes() == (out / "comparison.xlsx").read_bytes()


def test_a_sheet_is_written_the_same_a_column_or_a_cell_at_a_time(tmp_path):
    """Sheets with one kind per column (every run's sheets) are written a column at a time; the
    same sheet with its kinds given per cell takes the cell-by-cell path: the same bytes, for every
    sort of value a column can hold (missing, not finite, numpy scalars, yes/no, text in a number
    column, numbers in a code column) and the same column widths."""
    import numpy as np

    columns = [
        workbook.Column("Code", "code"),
        workbook.Column("Name of the place", "text"),
        workbook.Column("n", "count"),
        workbook.Column("share", "share"),
        workbook.Column("minutes", "minutes"),
        workbook.Column("mixed", "number"),
        workbook.Column("lon", "coordinate"),
        workbook.Column("score", "score"),
    ]
    rows = [
        ["007", "Nghệ An", 7, 0.25, 12.34, "n/a", 105.123456789, 0.5],
        [40, "", np.int64(12345678), float("nan"), None, True, -0.0, np.float64(1.23456)],
        [None, None, -3, -0.005, float("inf"), 2.5, None, -12.0],
        ["1e5", 'a, b "c"', None, 1.0, 1234567.89, None, 180.0, float("nan")],
        [np.str_("x"), pd.NA, 0, None, 0.05, np.int64(3), 0.0, 3],
    ]
    as_columns = workbook.Sheet("s", columns, rows)
    as_cells = workbook.Sheet("s", columns, rows, kinds=[[c.kind for c in columns] for _ in rows])
    workbook.write_sheets([as_columns], tmp_path / "columns.xlsx")
    workbook.write_sheets([as_cells], tmp_path / "cells.xlsx")
    assert (tmp_path / "columns.xlsx").read_bytes() == (tmp_path / "cells.xlsx").read_bytes()
    ws = openpyxl.load_workbook(tmp_path / "columns.xlsx")["s"]
    assert [c.value for c in ws[3]][:3] == ["40", None, 12345678]
    assert ws.cell(3, 6).value is True and ws.cell(2, 6).value == "n/a"


def test_column_widths_measure_what_the_cells_show():
    col = workbook.Column("n", "count")
    for values, kind, want in (
        ([1234567, None, 5], "count", len("1,234,567")),
        ([0.123, -0.5], "share", len("-50.0%")),
        ([float("nan"), 1.5], "minutes", len("nan")),
        (["abc", "de"], "code", 3),
        ([True, 12], "count", len("TRUE")),
        ([1.5, "long text here"], "minutes", len("long text here")),
        ([0.1 + 0.2], "number", len(str(0.1 + 0.2))),
    ):
        expected = float(min(workbook.MAX_WIDTH, max(workbook.MIN_WIDTH, max(want, 3) + 2)))
        assert workbook.column_width(col, values, [kind] * len(values)) == expected, (values, kind)
        mixed = [kind] * (len(values) - 1) + ["text"]  # kinds that differ: each value measured by its own
        assert workbook.column_width(col, values, mixed) == float(
            min(
                workbook.MAX_WIDTH,
                max(workbook.MIN_WIDTH, max(max(len(workbook._shown(v, k)) for v, k in zip(values, mixed)), 3) + 2),
            )
        )
