"""The indicator table and the message files: one source, consistent, complete in both languages."""

from __future__ import annotations

import pytest

from reorg import demo, fmt, i18n, indicators
from reorg.pipeline import run
from reorg.scenario import load_scenario


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    pack = demo.make_demo_pack(tmp_path_factory.mktemp("demo") / "pack")
    return run(load_scenario(None, ["policy.station_roles='optimise'"], province=demo.PROVINCE_CODE), geodata=str(pack))


def test_indicator_table_is_consistent():
    assert indicators.check_table() == []


def test_every_measured_indicator_has_one_row_and_every_row_is_measured(demo_run):
    """The table and measure.py agree: summary.json's indicators are exactly the table's province rows, in order."""
    for period in (demo_run.measures.before, demo_run.measures.after):
        assert list(period) == list(indicators.province_keys())
    communes = demo_run.measures.communes
    for key in indicators.table():
        if indicators.get(key).scope == "commune":  # the province map's colours
            assert key in communes.columns, key


def test_every_language_has_every_message_key():
    assert i18n.missing_keys() == {lang: [] for lang in i18n.LANGS}


def test_every_unit_of_the_table_has_words_in_both_languages():
    for ind in indicators.table().values():
        for lang in i18n.LANGS:
            assert i18n.text(f"unit.{ind.unit}", lang), (ind.key, lang)


def test_national_aggregation_follows_the_table():
    a = {
        "population": 100,
        "pop_minutes_main_station": 10.0,
        "main_stations": 1,
        "main_stations_with_doctor_share": 1.0,
        "doctors_total": 2,
        "staff_total": 10,
    }
    b = {
        "population": 300,
        "pop_minutes_main_station": 20.0,
        "main_stations": 3,
        "main_stations_with_doctor_share": 0.0,
        "doctors_total": 1,
        "staff_total": 30,
    }
    nat = indicators.aggregate([a, b])
    assert nat["population"] == 400
    assert nat["pop_minutes_main_station"] == (10 * 100 + 20 * 300) / 400
    assert nat["main_stations_with_doctor_share"] == 0.25  # weighted by main stations, not by population
    assert nat["doctors_per_10k"] == 3 / 400 * 1e4
    assert nat["population_per_health_worker"] == 10
    assert "gini_minutes_main_station" not in nat  # needs the commune-level distribution


def test_numbers_in_both_languages():
    assert fmt.number(1234.5, 1) == "1,234.5"
    assert fmt.number(1234.5, 1, "vi") == "1.234,5"
    assert fmt.share(0.1234) == "12.3 %"
    assert fmt.share(0.1234, lang="vi") == "12,3 %"
    assert fmt.signed(-2) == "−2" and fmt.signed(3) == "+3" and fmt.signed(0) == "0"
    assert fmt.money(1250000, "vi") == "1.250.000 ₫"
    assert fmt.number(float("nan")) == fmt.DASH and fmt.share(None) == fmt.DASH
    assert fmt.indicator("doctors_per_10k", 3.14159) == "3.14"
    assert fmt.indicator("staff_total", 12345) == "12,345"


def test_notices_in_both_languages():
    flags = {"synthetic_roster": True, "synthetic_centres": True}
    en, vi = i18n.notices(flags, "en"), i18n.notices(flags, "vi")
    assert en == [i18n.text("notice.synthetic_roster", "en"), i18n.text("notice.synthetic_centres", "en")]
    assert vi == [i18n.text("notice.synthetic_roster", "vi"), i18n.text("notice.synthetic_centres", "vi")]
    assert en != vi and i18n.notices({}, "en") == []
