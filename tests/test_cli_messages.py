"""Messages of the command line: errors and warnings in English or Vietnamese, warnings on the
terminal (grouped, --strict), --set blamed for its values, command-line paths from the current
directory, and the files `reorg compare` wrote."""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
import pytest

import reorg.compare
from conftest import ROOT, run_cli
from reorg import i18n
from reorg._errors import InputError, Problem, grouped
from reorg.compare import cmd_compare
from reorg.scenario import load_scenario

LAO_CAI = ROOT / "scenarios" / "lao_cai_official.toml"
SON_LA = "14"  # a commune without polygon whose point lies outside its new commune (the pack's vn_provinces_after)


def _bad_roster(geodata: Path, folder: Path) -> tuple[Path, str]:
    """A Lào Cai roster whose third row (line 4) has region 'IV'; returns the path and that station's code."""
    b = pd.read_csv(geodata / "vn_commune_merger_2025.csv", dtype=str)
    codes = sorted(set(b.loc[b["new_province_code"] == "15", "old_commune_code"]))[:5]
    rows = pd.DataFrame(
        {
            "station_code": codes,
            "lon": 104.0,
            "lat": 22.3,
            "facility_score": 0.7,
            "doctor": 1,
            "assistant_doctor": 1,
            "nurse": 2,
            "midwife": 1,
            "pharmacist": 1,
            "other": 0,
            "region": ["I", "II", "IV", "III", "I"],
        }
    )
    path = folder / "roster.csv"
    rows.to_csv(path, index=False)
    return path, codes[2]


# ---------------------------------------------------------------- both languages


def test_problem_renders_in_each_language():
    p = Problem.of("bad_region", file="r.csv", row=4, field="region", code="01234", region="IV")
    assert p.format("en") == "error: r.csv, row 4, field 'region' [01234]: region 'IV' is not I, II or III"
    assert p.format("vi") == "lỗi: r.csv, dòng 4, trường 'region' [01234]: vùng 'IV' không phải là I, II hoặc III"
    assert p.message == p.text("en")
    # numbers the language's way, values as typed
    w = Problem.of("area_shares_sum", file="m.csv", old="00001", total=1234.5)
    assert "1234.500" in w.text("en") and "1234,500" in w.text("vi")
    hint = Problem.of("unknown_key", file="s.toml", field="provnce", hint=load_hint("provnce"))
    assert hint.text("en") == "unknown key (did you mean 'province'?)"
    assert "có phải ý bạn là 'province'" in hint.text("vi")


def load_hint(name: str):
    from reorg._errors import did_you_mean

    return did_you_mean(name, ["province", "title"])


def test_every_problem_key_has_words_in_both_languages():
    """The [error], [warning], [problem] and [cli] sections hold the same keys in en and vi, and
    the Vietnamese text is not the English one."""
    for section in ("error", "warning", "problem", "cli"):
        en, vi = i18n.section(section, "en"), i18n.section(section, "vi")
        assert en.keys() == vi.keys(), section
        same = [k for k in en if en[k] == vi[k] and k not in ("counted",)]
        assert not same, f"[{section}] not translated: {same}"


def test_bad_roster_in_vietnamese_names_file_row_and_field(geodata, tmp_path, capsys):
    path, code = _bad_roster(geodata, tmp_path)
    rc = run_cli("validate", "--geodata", str(geodata), "--province", "15", "--roster", str(path), "--lang", "vi")
    err = capsys.readouterr().err
    assert rc == 2
    assert f"lỗi: {path}, dòng 4, trường 'region' [{code}]: vùng 'IV' không phải là I, II hoặc III" in err
    assert "error:" not in err and "row 4" not in err
    assert "nothing written" not in err and "không ghi" not in err  # validate never writes
    rc = run_cli("validate", "--geodata", str(geodata), "--province", "15", "--roster", str(path))
    err = capsys.readouterr().err
    assert rc == 2 and f"error: {path}, row 4, field 'region' [{code}]: region 'IV' is not I, II or III" in err
    assert "nothing written" not in err


def test_run_errors_follow_the_scenario_language(tmp_path, capsys):
    scenario = tmp_path / "s.toml"
    scenario.write_text('province = "15"\nsead = 3\n[output]\nlang = "vi"\n', encoding="utf-8")
    rc = run_cli("run", str(scenario), "--out", str(tmp_path / "o"), "--quiet")
    err = capsys.readouterr().err
    assert rc == 2 and "không ghi tệp nào" in err
    assert f"lỗi: {scenario}, trường 'sead': khóa không xác định (có phải ý bạn là 'seed'?)" in err
    rc = run_cli("run", str(scenario), "--out", str(tmp_path / "o"), "--quiet", "--lang", "en")
    err = capsys.readouterr().err
    assert rc == 2 and f"error: {scenario}, field 'sead': unknown key (did you mean 'seed'?)" in err
    assert not (tmp_path / "o").exists()


# ---------------------------------------------------------------- warnings on the terminal


def test_warnings_grouped_with_a_count():
    ws = [Problem.of("blank_line", file="r.csv", row=n, severity="warning") for n in (3, 5, 8, 9, 11, 12, 20, 21)]
    lines = grouped(ws)
    assert lines[0] == "warning (8×): r.csv, row 3: blank line ignored"
    assert lines[1] == "  also at: r.csv, row 5; r.csv, row 8; r.csv, row 9; r.csv, row 11; r.csv, row 12 and 2 more"
    assert grouped(ws[:1], "vi") == ["cảnh báo: r.csv, dòng 3: đã bỏ qua dòng trống"]


def test_son_la_warning_on_validate_and_strict(geodata, capsys):
    rc = run_cli("validate", "--geodata", str(geodata), "--province", SON_LA)
    out = capsys.readouterr().out
    assert rc == 0
    warning = [line for line in out.splitlines() if line.startswith("warning")]
    assert len(warning) == 1 and "lies outside its new commune" in warning[0], out
    assert out.rstrip().endswith("communes, ok, 1 warning"), out
    rc = run_cli("validate", "--geodata", str(geodata), "--province", SON_LA, "--strict", "--lang", "vi")
    captured = capsys.readouterr()
    assert rc == 2 and "--strict" in captured.err
    assert "cảnh báo:" in captured.out and "nằm ngoài xã mới" in captured.out and "đạt, 1 cảnh báo" in captured.out


@pytest.fixture(scope="module")
def son_la_scenario(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("son_la")
    path = folder / "son_la.toml"
    path.write_text(f'province = "{SON_LA}"\ntitle = "Sơn La"\n', encoding="utf-8")
    return path


def test_son_la_run_prints_the_report_warning_and_strict_writes_nothing(geodata, son_la_scenario, tmp_path, capsys):
    out = tmp_path / "o"
    rc = run_cli("run", str(son_la_scenario), "--geodata", str(geodata), "--out", str(out), "--quiet", "--strict")
    err = capsys.readouterr().err
    assert rc == 2, err
    assert "lies outside its new commune" in err and "--strict" in err
    assert not out.exists() or not any(out.iterdir()), "nothing written with --strict"
    rc = run_cli("run", str(son_la_scenario), "--geodata", str(geodata), "--out", str(out), "--quiet")
    err = capsys.readouterr().err
    assert rc == 0, err
    printed = [line for line in err.splitlines() if line.startswith("warning")]
    assert len(printed) == 1 and "lies outside its new commune" in printed[0]
    report = (out / "son_la" / "report.md").read_text(encoding="utf-8")
    assert printed[0].split(": ", 2)[-1] in report  # the report's warning, word for word


# ---------------------------------------------------------------- messages that point at the right place


def test_set_value_is_blamed_on_the_set(tmp_path, capsys):
    rc = run_cli("run", str(LAO_CAI), "--out", str(tmp_path / "o"), "--quiet", "--set", "params.doctors_min_main_station=-1")
    err = capsys.readouterr().err
    assert rc == 2
    assert "error: --set params.doctors_min_main_station=-1, field 'params.doctors_min_main_station': -1 is out of range" in err
    assert str(LAO_CAI) not in err
    with pytest.raises(InputError) as exc:  # a bad value in the file stays the file's
        load_scenario(_scenario(tmp_path, "[params]\ndoctors_min_main_station = -5\n"), ["seed=4"])
    assert exc.value.problems[0].file.endswith("bad.toml")


def _scenario(folder: Path, text: str) -> Path:
    path = folder / "bad.toml"
    path.write_text('province = "15"\n' + text, encoding="utf-8")
    return path


def test_command_line_paths_are_from_the_current_directory(tmp_path, monkeypatch):
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    in_file = tmp_path / "sc" / "s.toml"
    in_file.parent.mkdir()
    in_file.write_text('province = "15"\nroster = "r.csv"\ngeodata = "pack"\n', encoding="utf-8")
    from_file = load_scenario(in_file)
    assert Path(from_file.roster) == in_file.parent / "r.csv" and Path(from_file.geodata) == in_file.parent / "pack"
    given = load_scenario(in_file, ["roster='r.csv'", "geodata='pack'"])
    assert Path(given.roster).resolve() == here / "r.csv" and Path(given.geodata).resolve() == here / "pack"


def test_missing_files_are_named_by_their_absolute_path(geodata, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    rc = run_cli("run", str(LAO_CAI), "--geodata", str(geodata), "--out", "o", "--quiet", "--set", "roster=nope.csv")
    err = capsys.readouterr().err
    assert rc == 2 and f"error: {tmp_path / 'nope.csv'}: file not found" in err, err
    assert "not found in ." not in err
    rc = run_cli("validate", "--geodata", "no_pack")
    err = capsys.readouterr().err
    assert rc == 2 and f"geodata directory not found: {tmp_path / 'no_pack'}" in err
    rc = run_cli("validate", "--geodata", str(geodata), "--province", "15", "--roster", "missing.csv")
    err = capsys.readouterr().err
    assert rc == 2 and f"error: {tmp_path / 'missing.csv'}: file not found" in err
    rc = run_cli("run", "nope.toml", "--quiet")
    err = capsys.readouterr().err
    assert rc == 2 and f"scenario file not found: {tmp_path / 'nope.toml'}" in err
    assert not (tmp_path / "o").exists()


# ---------------------------------------------------------------- reorg compare prints what it wrote


def test_compare_prints_every_file_it_wrote(tmp_path, monkeypatch, capsys):
    out = tmp_path / "cmp"
    out.mkdir()
    for name in ("comparison.csv", "comparison.md", "comparison.html", "comparison.xlsx"):
        (out / name).write_text("x", encoding="utf-8")
    monkeypatch.setattr(reorg.compare, "compare_runs", lambda runs, folder, lang=None: folder)
    assert cmd_compare(argparse.Namespace(runs=["a", "b"], out=str(out), lang=None)) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        f"comparison: {out / 'comparison.html'}",
        f"table: {out / 'comparison.csv'}",
        f"report: {out / 'comparison.md'}",
        f"workbook: {out / 'comparison.xlsx'}",
    ]


_ENTRY = """
import atexit, sys
atexit.register(lambda: print("normal exit"))
if sys.argv[1] == "traced":
    sys.settrace(lambda *args: None)  # as a debugger or coverage tool does
sys.argv = ["reorg", "run", sys.argv[2], "--out", sys.argv[3]]
from reorg.cli import entry
entry()
"""


@pytest.mark.parametrize("how", ["plain", "traced"])
def test_the_command_exits_at_once_with_its_code_and_its_words_flushed(tmp_path, how):
    """`reorg` (cli.entry) leaves without tearing the interpreter down (no exit handler runs),
    with main's exit code and every word it printed; under a trace function it exits as usual."""
    import subprocess
    import sys

    missing = tmp_path / "no_such_scenario.toml"
    done = subprocess.run(
        [sys.executable, "-c", _ENTRY, how, str(missing), str(tmp_path / "out")], capture_output=True, text=True, cwd=ROOT
    )
    assert done.returncode == 2
    assert "scenario file not found" in done.stderr and str(missing) in done.stderr
    assert ("normal exit" in done.stdout) is (how == "traced")
    assert not (tmp_path / "out").exists()
