"""Station rosters in Excel with Vietnamese headers, and `reorg roster-template`, on the real pack.

Lai Châu (province 12, 106 old communes whose codes start with 0): an Excel roster gives the run the
same result as the same roster as CSV with English headers; malformed workbooks exit 2 naming the
file, sheet, row and column and write nothing; the template read back reproduces the synthetic run.
"""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from conftest import ROOT, run_cli
from reorg import roster_input
from reorg.schema import CADRES, ROSTER

PROVINCE = "12"
SCENARIO = str(ROOT / "scenarios" / "official.toml")
NAME = f"official_{PROVINCE}"
# the Vietnamese headers as people type them: other cases, without diacritics, with a unit
VI_TYPED = {
    "station_code": "MÃ XÃ",
    "lon": "Kinh do",
    "lat": " vĩ độ ",
    "facility_score": "Điểm cơ sở vật chất (0-1)",
    "doctor": "Bác sĩ",
    "assistant_doctor": "Y sĩ",
    "nurse": "Điều dưỡng",
    "midwife": "Hộ sinh",
    "pharmacist": "Dược sĩ",
    "other": "Khác",
    "region": "Vùng",
}


@pytest.fixture(scope="module")
def templates(tmp_path_factory, geodata) -> dict[str, Path]:
    """The province's template as CSV (English) and as a workbook (Vietnamese)."""
    folder = tmp_path_factory.mktemp("templates")
    paths = {"csv": folder / "lai_chau.csv", "xlsx": folder / "lai_chau.xlsx"}
    assert run_cli("roster-template", "--province", PROVINCE, "--out", str(paths["csv"]), "--geodata", str(geodata)) == 0
    assert (
        run_cli("roster-template", "--province", PROVINCE, "--out", str(paths["xlsx"]), "--lang", "vi", "--geodata", str(geodata))
        == 0
    )
    return paths


@pytest.fixture(scope="module")
def roster(templates) -> pd.DataFrame:
    """A roster unlike the synthetic one (staff and scores changed), schema columns, codes as text."""
    r = pd.read_csv(templates["csv"], dtype={"station_code": str, "region": str}, encoding="utf-8-sig")
    r = r[[c.name for c in ROSTER.columns if c.name in r.columns]].copy()
    r["doctor"] = (r.index % 3 == 0).astype(int)
    r["nurse"] = r["nurse"] + (r.index % 4)
    r["facility_score"] = ((r.index % 10) / 10 + 0.05).round(2)
    return r


def write_xlsx(path: Path, header: list, rows: list[list], *, sheet: str = "Trạm y tế", before: list[str] = ()) -> Path:
    """A workbook whose sheet `sheet` holds `header` on row 1 and `rows` (after empty sheets `before`)."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name in before:
        wb.create_sheet(name)
    ws = wb.create_sheet(sheet)
    ws.append(header)
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def vi_workbook(path: Path, roster: pd.DataFrame, **kw) -> Path:
    rows = [[None if pd.isna(v) else (v.item() if hasattr(v, "item") else v) for v in r] for r in roster.itertuples(index=False)]
    return write_xlsx(path, [VI_TYPED[c] for c in roster.columns], rows, **kw)


def run(tmp_path: Path, geodata: Path, *extra: str, out: str = "o") -> tuple[int, Path]:
    folder = tmp_path / out
    rc = run_cli("run", SCENARIO, "--province", PROVINCE, "--geodata", str(geodata), "--out", str(folder), "--quiet", *extra)
    return rc, folder


def summary(folder: Path) -> dict:
    return json.loads((folder / NAME / "summary.json").read_text(encoding="utf-8"))


def validate(geodata: Path, path: Path, *extra: str) -> int:
    return run_cli("validate", "--geodata", str(geodata), "--province", PROVINCE, "--roster", str(path), *extra)


# ---------------------------------------------------------------- headers


def test_headers_match_whatever_the_case_diacritics_or_unit():
    known = roster_input.aliases()
    for name, typed in VI_TYPED.items():
        assert known[roster_input.header_key(typed)] == name
    assert known[roster_input.header_key("Ma Tram")] == "station_code"
    assert known[roster_input.header_key("Station Code")] == "station_code"
    assert roster_input.header_key("\ufeffĐiều  dưỡng ") == "dieu duong"
    # every column of the schema has a Vietnamese header, taken from the message files
    assert {c.name for c in ROSTER.columns} <= set(roster_input.headers("vi"))


# ---------------------------------------------------------------- an Excel roster with Vietnamese headers


def test_xlsx_with_vietnamese_headers_gives_the_result_of_the_csv_with_english_headers(tmp_path, geodata, roster, capsys):
    csv = tmp_path / "stations.csv"
    roster.to_csv(csv, index=False)
    xlsx = vi_workbook(tmp_path / "stations.xlsx", roster)
    rc, by_csv = run(tmp_path, geodata, "--roster", str(csv), out="csv")
    assert rc == 0, capsys.readouterr().err
    rc, by_xlsx = run(tmp_path, geodata, "--roster", str(xlsx), out="xlsx")
    assert rc == 0, capsys.readouterr().err
    a, b = summary(by_csv), summary(by_xlsx)
    assert a["synthetic_roster"] is False and b["synthetic_roster"] is False
    assert a["indicators"] == b["indicators"] and a["staff"] == b["staff"] and a["counts"] == b["counts"]
    assert b["staff"]["before"]["total"] == int(roster[list(CADRES)].sum().sum())
    stations = pd.read_csv(by_xlsx / NAME / "stations.csv", dtype=str)
    assert "03386" in set(stations["station_code"])  # codes kept as text, leading zero and all


def test_roster_sheet_selects_a_sheet_and_a_missing_sheet_lists_the_sheets(tmp_path, geodata, roster, capsys):
    path = vi_workbook(tmp_path / "stations.xlsx", roster, sheet="Trạm 2025", before=["Ghi chú", "Trống"])
    assert validate(geodata, path) == 2  # the first sheet is empty
    capsys.readouterr()
    assert validate(geodata, path, "--roster-sheet", "Trạm 2025") == 0, capsys.readouterr().err
    rc, out = run(tmp_path, geodata, "--roster", str(path), "--roster-sheet", "Trạm 2024")
    err = capsys.readouterr().err
    assert rc == 2 and not out.exists()
    assert "no sheet named 'Trạm 2024'" in err and "'Ghi chú', 'Trống', 'Trạm 2025'" in err and str(path) in err


def test_scenario_names_the_roster_and_its_sheet(tmp_path, geodata, roster, capsys):
    vi_workbook(tmp_path / "stations.xlsx", roster, sheet="Trạm", before=["Ghi chú"])
    scenario = tmp_path / "lai_chau.toml"
    scenario.write_text(f'province = "{PROVINCE}"\nroster = "stations.xlsx"\nroster_sheet = "Trạm"\n', encoding="utf-8")
    rc = run_cli("run", str(scenario), "--geodata", str(geodata), "--out", str(tmp_path / "o"), "--quiet")
    assert rc == 0, capsys.readouterr().err
    s = json.loads((tmp_path / "o" / "lai_chau" / "summary.json").read_text(encoding="utf-8"))
    assert s["synthetic_roster"] is False and s["staff"]["before"]["total"] == int(roster[list(CADRES)].sum().sum())


def test_codes_typed_as_numbers_are_zero_padded_with_a_warning(tmp_path, geodata, roster, capsys):
    rows = [
        [int(v) if c == "station_code" and i < 3 else v for c, v in zip(roster.columns, r)] for i, r in enumerate(roster.values)
    ]
    path = write_xlsx(tmp_path / "stations.xlsx", [VI_TYPED[c] for c in roster.columns], [[_plain(v) for v in r] for r in rows])
    assert validate(geodata, path) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    lines = out.splitlines()
    at = next(i for i, line in enumerate(lines) if "typed as a number" in line)
    first, others = lines[at], lines[at + 1]
    assert first.startswith("warning (3×)") and "(3386): read as '03386'" in first
    assert "sheet 'Trạm y tế', row 2, field 'MÃ XÃ', cell A2" in first
    assert "row 3" in others and "row 4" in others and "row 5" not in others  # rows 2-4 were numbers, row 5 text


def test_text_codes_stay_as_typed(tmp_path, geodata, roster, capsys):
    rows = [[_plain(v) for v in r] for r in roster.values]
    rows[0][0] = "3386"  # text without its leading zero: not padded, the CSV message
    path = write_xlsx(tmp_path / "stations.xlsx", [VI_TYPED[c] for c in roster.columns], rows)
    assert validate(geodata, path) == 2
    err = capsys.readouterr().err
    assert "did you mean '03386'" in err and "row 2" in err and "sheet 'Trạm y tế'" in err


def test_empty_rows_are_ignored_with_a_warning(tmp_path, geodata, roster, capsys):
    rows = [[_plain(v) for v in r] for r in roster.values]
    rows = rows[:5] + [[None] * len(roster.columns), ["  "] + [None] * (len(roster.columns) - 1)] + rows[5:]
    path = write_xlsx(tmp_path / "stations.xlsx", [VI_TYPED[c] for c in roster.columns], rows)
    rows[9][2] = "abc"  # the row numbers after the empty rows are the Excel rows
    bad = write_xlsx(tmp_path / "bad.xlsx", [VI_TYPED[c] for c in roster.columns], rows)
    assert validate(geodata, path) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "empty row ignored" in out and "row 7" in out and "row 8" in out
    assert validate(geodata, bad) == 2
    err = capsys.readouterr().err
    assert "row 11" in err and "field ' vĩ độ '" in err and "cell C11" in err and "'abc' is not a number" in err


# ---------------------------------------------------------------- malformed workbooks: exit 2, named, nothing written


def test_vietnamese_headers_and_one_wrong_code_exit_2_naming_file_sheet_row_and_column(tmp_path, geodata, roster, capsys):
    wrong = roster.copy()
    wrong.loc[6, "station_code"] = "16663"  # a Nghệ An commune
    path = vi_workbook(tmp_path / "stations.xlsx", wrong)
    rc, out = run(tmp_path, geodata, "--roster", str(path))
    err = capsys.readouterr().err
    assert rc == 2 and not out.exists(), err
    line = next(x for x in err.splitlines() if "16663" in x)
    for words in (str(path), "sheet 'Trạm y tế'", "row 8", "field 'MÃ XÃ'", "cell A8", "not an old commune of this province"):
        assert words in line, (words, line)
    assert "Traceback" not in err


def test_merged_header_cells_exit_2_naming_sheet_and_cells(tmp_path, geodata, roster, capsys):
    path = vi_workbook(tmp_path / "stations.xlsx", roster)
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    ws.insert_rows(1)  # a two-row header: "Nhân lực" over the cadres
    ws["A1"] = "Trạm"
    ws["E1"] = "Nhân lực"
    ws.merge_cells("E1:J1")
    wb.save(path)
    rc, out = run(tmp_path, geodata, "--roster", str(path))
    err = capsys.readouterr().err
    assert rc == 2 and not out.exists(), err
    assert "sheet 'Trạm y tế'" in err and "merged header cells E1:J1" in err and str(path) in err
    assert "the header is on row 2" in err  # row 1 holds no column name


def test_header_not_on_row_1_exits_2(tmp_path, geodata, roster, capsys):
    path = vi_workbook(tmp_path / "stations.xlsx", roster)
    wb = openpyxl.load_workbook(path)
    wb.active.insert_rows(1, 2)
    wb.active["A1"] = "DANH SÁCH TRẠM Y TẾ TỈNH LAI CHÂU"
    wb.save(path)
    assert validate(geodata, path) == 2
    err = capsys.readouterr().err
    assert "the header is on row 3 (A3:K3)" in err and "sheet 'Trạm y tế'" in err


def test_merged_data_cells_and_a_column_without_header_are_named(tmp_path, geodata, roster, capsys):
    path = vi_workbook(tmp_path / "stations.xlsx", roster)
    wb = openpyxl.load_workbook(path)
    wb.active.merge_cells("K5:K7")
    wb.active["M4"] = 3
    wb.save(path)
    assert validate(geodata, path) == 2
    err = capsys.readouterr().err
    assert "merged cells K5:K7" in err and "column M holds values but has no header" in err and "cell M1" in err


def test_two_headers_for_one_column_and_a_missing_column(tmp_path, geodata, roster, capsys):
    header = [VI_TYPED[c] for c in roster.columns]
    rows = [[_plain(v) for v in r] for r in roster.values]
    twice = write_xlsx(tmp_path / "twice.xlsx", [*header, "Mã trạm"], [[*r, r[0]] for r in rows])
    assert validate(geodata, twice) == 2
    assert "columns 'MÃ XÃ' and 'Mã trạm' both give station_code" in capsys.readouterr().err
    i = header.index("Hộ sinh")
    missing = write_xlsx(tmp_path / "missing.xlsx", header[:i] + header[i + 1 :], [r[:i] + r[i + 1 :] for r in rows])
    assert run_cli("validate", "--geodata", str(geodata), "--province", PROVINCE, "--roster", str(missing), "--lang", "vi") == 2
    err = capsys.readouterr().err
    assert "thiếu cột 'midwife'" in err and "'Hộ sinh'" in err and "số hộ sinh trong biên chế" in err


def test_not_a_workbook_and_an_old_xls_exit_2(tmp_path, geodata, capsys):
    fake = tmp_path / "stations.xlsx"
    fake.write_text("station_code,lon\n03386,103.4\n", encoding="utf-8")
    assert validate(geodata, fake) == 2
    assert "cannot be read as an Excel workbook" in capsys.readouterr().err
    old = tmp_path / "stations.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 200)
    assert validate(geodata, old) == 2
    assert "old Excel workbook (.xls)" in capsys.readouterr().err


def test_a_sheet_named_for_a_csv_roster_is_an_error(tmp_path, geodata, roster, capsys):
    csv = tmp_path / "stations.csv"
    roster.to_csv(csv, index=False)
    assert validate(geodata, csv, "--roster-sheet", "Trạm") == 2
    assert "the roster is a CSV file" in capsys.readouterr().err


def test_csv_roster_with_vietnamese_headers(tmp_path, geodata, roster, capsys):
    csv = tmp_path / "stations.csv"
    roster.rename(columns=VI_TYPED).to_csv(csv, index=False, encoding="utf-8-sig")
    assert validate(geodata, csv) == 0, capsys.readouterr().err
    wrong = roster.copy()
    wrong.loc[3, "nurse"] = -2
    wrong.rename(columns=VI_TYPED).to_csv(csv, index=False)
    assert validate(geodata, csv) == 2
    err = capsys.readouterr().err
    assert "row 5" in err and "field 'Điều dưỡng'" in err and "below the minimum" in err and "sheet" not in err


# ---------------------------------------------------------------- roster-template


def test_template_reads_back_and_reproduces_the_synthetic_run(tmp_path, geodata, templates, capsys):
    rc, synthetic = run(tmp_path, geodata, out="synthetic")
    assert rc == 0, capsys.readouterr().err
    base = summary(synthetic)
    for kind, path in templates.items():
        capsys.readouterr()  # this run's messages only
        rc, out = run(tmp_path, geodata, "--roster", str(path), out=kind)
        assert rc == 0, capsys.readouterr().err
        s = summary(out)
        # the rows still marked synthetic: the run says its roster is synthetic, and why
        assert s["synthetic_roster"] is True, kind
        assert any("still hold the template's synthetic values" in w for w in s["warnings"]), kind
        err = capsys.readouterr().err
        assert "the roster still holds the template's synthetic values" in err and "no roster file given" not in err, kind
        assert s["staff"] == base["staff"] and s["indicators"] == base["indicators"] and s["counts"] == base["counts"], kind


def test_a_filled_in_template_is_real(tmp_path, geodata, templates, capsys):
    """Once the source column no longer says synthetic (the planner's own figures), the roster is real."""
    filled = pd.read_csv(templates["csv"], dtype=str, encoding="utf-8-sig")
    filled["source"] = "Sở Y tế, 2025"
    path = tmp_path / "filled.csv"
    filled.to_csv(path, index=False, encoding="utf-8")
    rc, out = run(tmp_path, geodata, "--roster", str(path), out="filled")
    assert rc == 0, capsys.readouterr().err
    s = summary(out)
    assert s["synthetic_roster"] is False
    assert not any("template" in w for w in s["warnings"])


def test_template_contents(templates):
    csv = pd.read_csv(templates["csv"], dtype=str, encoding="utf-8-sig")
    assert len(csv) == 106 and csv["station_code"].str.fullmatch(r"0\d{4}").all()
    assert (csv["source"] == "synthetic: replace with your figures").all()
    assert {"commune_name", "district_name", "new_commune_name", *CADRES, "lon", "lat", "facility_score"} <= set(csv.columns)
    wb = openpyxl.load_workbook(templates["xlsx"])
    ws = wb.worksheets[0]
    assert ws.title == "Trạm y tế" and ws.freeze_panes == "B2"
    header = [c.value for c in ws[1]]
    assert header[:2] == ["Mã trạm", "Tên xã cũ"] and "Bác sĩ" in header and header[-1] == "Nguồn số liệu"
    code, doctor = ws.cell(2, 1), ws.cell(2, header.index("Bác sĩ") + 1)
    assert code.data_type == "s" and code.value == csv.loc[0, "station_code"]  # a code is text
    assert doctor.data_type == "n" and doctor.fill.fgColor.rgb.endswith("FFF2CC")  # a synthetic value, coloured
    assert code.fill.fgColor.rgb in (None, "00000000")  # the code is real: not coloured
    assert ws.cell(2, len(header)).value == "mô phỏng: thay bằng số liệu của đơn vị"
    notice = wb.worksheets[1]
    assert "MÔ PHỎNG" in notice["A2"].value and wb.active.title == notice.title


def test_template_is_written_the_same_twice_and_atomically(tmp_path, geodata, templates, capsys):
    again = tmp_path / "again.xlsx"
    assert run_cli("roster-template", "--province", PROVINCE, "--out", str(again), "--lang", "vi", "--geodata", str(geodata)) == 0
    assert again.read_bytes() == templates["xlsx"].read_bytes()
    bad = tmp_path / "bad.csv"
    assert run_cli("roster-template", "--province", "99", "--out", str(bad), "--geodata", str(geodata)) == 2
    assert "unknown province code '99'" in capsys.readouterr().err
    assert run_cli("roster-template", "--province", PROVINCE, "--out", str(tmp_path / "t.ods"), "--geodata", str(geodata)) == 2
    assert "must be written to a .xlsx or .csv file" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["again.xlsx"]  # nothing else, no temporary file left


def test_template_takes_the_seed_and_parameters_of_a_scenario(tmp_path, geodata, templates):
    scenario = tmp_path / "lai_chau.toml"
    scenario.write_text(f'province = "{PROVINCE}"\nseed = 3\n[params]\nsynth_staff_sd = 0.5\n', encoding="utf-8")
    by_scenario, by_seed = tmp_path / "a.csv", tmp_path / "b.csv"
    assert run_cli("roster-template", "--scenario", str(scenario), "--out", str(by_scenario), "--geodata", str(geodata)) == 0
    assert (
        run_cli("roster-template", "--province", PROVINCE, "--seed", "3", "--out", str(by_seed), "--geodata", str(geodata)) == 0
    )
    a, b, default = (pd.read_csv(p, dtype=str) for p in (by_scenario, by_seed, templates["csv"]))
    assert a["station_code"].tolist() == default["station_code"].tolist()
    assert not a[list(CADRES)].equals(b[list(CADRES)]) and not b[list(CADRES)].equals(default[list(CADRES)])
    assert a["facility_score"].tolist() == b["facility_score"].tolist()  # the seed draws the scores; the sd only the staff


def _plain(v):
    """A numpy scalar as a Python value (what openpyxl writes); NaN as an empty cell."""
    if isinstance(v, float) and pd.isna(v):
        return None
    return v.item() if hasattr(v, "item") else v
