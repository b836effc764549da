"""Scenarios for any province (issue 11, point 3): official.toml and optimise.toml name no province,
titles come from the province's name, and a province scenario's own parameters are listed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reorg import fmt
from reorg._errors import InputError
from reorg.cli import main
from reorg.scenario import load_scenario, titled

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("file", ["official.toml", "optimise.toml"])
def test_generic_scenarios_name_no_province_and_no_province_parameter(file):
    sc = load_scenario(ROOT / "scenarios" / file)
    assert sc.province is None and sc.title == ""
    # nothing province-specific: Nghệ An's doctor presence is the province scenario's, not these
    assert (
        sc.params["doctor_presence_share"]
        != load_scenario(ROOT / "scenarios" / "nghe_an_official.toml").params["doctor_presence_share"]
    )
    assert load_scenario(ROOT / "scenarios" / file, province="79").name == file.removesuffix(".toml") + "_79"
    # a file that names its province keeps its name even when --province overrides it
    assert load_scenario(ROOT / "scenarios" / "lao_cai_official.toml", province="38").name == "lao_cai_official"


def test_titles_are_built_from_the_province_name_and_the_policies():
    official = load_scenario(ROOT / "scenarios" / "official.toml", province="79")
    assert titled(official, "Thành phố Hồ Chí Minh").title == "Thành phố Hồ Chí Minh: official merger, baseline decisions"
    vi = load_scenario(ROOT / "scenarios" / "official.toml", ["output.lang='vi'"], province="40")
    assert titled(vi, "Tỉnh Nghệ An").title == "Tỉnh Nghệ An: sắp xếp theo nghị quyết, quyết định cơ sở"
    opt = load_scenario(ROOT / "scenarios" / "optimise.toml", province="40")
    assert titled(opt, "Tỉnh Nghệ An").title.startswith("Tỉnh Nghệ An: optimised station roles")
    some = load_scenario(ROOT / "scenarios" / "official.toml", ["policy.staff='optimise'"], province="40")
    assert titled(some, "Tỉnh Nghệ An").title == "Tỉnh Nghệ An: official merger, optimised staff placement"
    own = load_scenario(ROOT / "scenarios" / "official.toml", ["title='{province}, plan B'"], province="40")
    assert titled(own, "Tỉnh Nghệ An").title == "Tỉnh Nghệ An, plan B"
    # a province scenario without title is titled like the generic one, in its language
    na = load_scenario(ROOT / "scenarios" / "nghe_an_official.toml")
    assert titled(na, "Tỉnh Nghệ An").title == "Tỉnh Nghệ An: official merger, baseline decisions"
    # a title per language
    two = ROOT / "scenarios" / "nghe_an_two_doctors.toml"
    assert titled(load_scenario(two), "Tỉnh Nghệ An").title.startswith("Tỉnh Nghệ An: two doctors per main station")
    assert titled(load_scenario(two, ["output.lang='vi'"]), "Tỉnh Nghệ An").title.startswith("Tỉnh Nghệ An: hai bác sĩ")
    with pytest.raises(InputError) as bad:
        load_scenario(two, ["title.fr='x'"])
    assert bad.value.problems[0].field == "title.fr"


def test_fmt_plain_writes_parameter_values_in_the_language():
    assert [fmt.plain(v, "en") for v in (0.9, 1500, 60.0, True)] == ["0.9", "1,500", "60", "True"]
    assert [fmt.plain(v, "vi") for v in (0.9, 1500, 0.25)] == ["0,9", "1.500", "0,25"]
    # a change of share in percentage points, in the language's words
    assert fmt.indicator_change("pop_share_within_30min", 0.5, 0.625, "en") == "+12.5 pp"
    assert fmt.indicator_change("pop_share_within_30min", 0.5, 0.625, "vi") == "+12,5 điểm %"


def test_official_for_ho_chi_minh_city_is_titled_for_it(tmp_path, geodata):
    rc = main(
        [
            "run",
            str(ROOT / "scenarios" / "official.toml"),
            "--province",
            "79",
            "--geodata",
            str(geodata),
            "--out",
            str(tmp_path),
            "--quiet",
        ]
    )
    assert rc == 0
    folder = tmp_path / "official_79"
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert summary["scenario"]["title"] == "Thành phố Hồ Chí Minh: official merger, baseline decisions"
    assert summary["scenario"]["params_overridden"] == {}
    report = (folder / "report.md").read_text(encoding="utf-8")
    assert report.startswith("# Thành phố Hồ Chí Minh: official merger, baseline decisions")
    assert "Set by this scenario" not in report  # nothing set: nothing listed
    assert "Thành phố Hồ Chí Minh: official merger" in (folder / "map.html").read_text(encoding="utf-8")
    assert "Nghệ An" not in report.split("\n", 1)[0]
    # Côn Đảo is served by the centre on its island (issue 11 point 6), within 600 minutes
    zone = {z["name"]: z for z in summary["extremes"]["special_zones"]}["Đặc khu Côn Đảo"]
    assert zone["centre_on_island"] and "Côn Đảo" in zone["centre_name"] and zone["max_minutes_centre_after"] <= 600
    assert "Trung tâm Y tế đặc khu Côn Đảo (on the island)" in report


def test_a_province_scenario_lists_its_own_parameters(tmp_path, geodata):
    rc = main(
        ["run", str(ROOT / "scenarios" / "nghe_an_official.toml"), "--geodata", str(geodata), "--out", str(tmp_path), "--quiet"]
    )
    assert rc == 0
    report = (tmp_path / "nghe_an_official" / "report.md").read_text(encoding="utf-8")
    assert "Set by this scenario (not the defaults): doctor_presence_share = 0.9 (default 0.597)." in report
