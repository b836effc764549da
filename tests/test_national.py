"""National run (`reorg.national.run_national`): the 34 new provinces in parallel processes, a national
summary, report and offline index map; counts checked against DOMAIN.md Appendix A; a province
that fails is reported with its code and message and the others are kept."""

from __future__ import annotations

import csv
import json
import os
import re
from pathlib import Path

import pyogrio
import pytest

from reorg import fmt, i18n, names
from reorg import national as reorg_national
from reorg._errors import InputError

ROOT = Path(__file__).resolve().parents[1]
# any scenario will do: the provinces come from the API (and the pack), the name from --set
SCENARIO = ROOT / "scenarios" / "lao_cai_official.toml"

# New commune-level units per new province, from ../shared/design/DOMAIN.md, Appendix A
# ("Province-level results (old commune-level units -> new), 16 Jun 2025 resolutions", column
# "new total"; 3,321 in all, the UBTVQH resolutions of 16 June 2025).
APPENDIX_A_NEW = {
    "01": 126,
    "04": 56,
    "08": 124,
    "11": 45,
    "12": 38,
    "14": 75,
    "15": 99,
    "19": 92,
    "20": 65,
    "22": 54,
    "24": 99,
    "25": 148,
    "31": 114,
    "33": 104,
    "37": 129,
    "38": 166,
    "40": 130,
    "42": 69,
    "44": 78,
    "46": 40,
    "48": 94,
    "51": 96,
    "52": 135,
    "56": 65,
    "66": 102,
    "68": 124,
    "75": 95,
    "79": 168,
    "80": 96,
    "82": 102,
    "86": 124,
    "91": 102,
    "92": 103,
    "96": 64,
}

MAP_HREF = re.compile(r"""href=\\?["']provinces/([^/"'\\]+)/map\.html""")


def _summary(folder: Path) -> dict:
    return json.loads((folder / "summary.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def national(tmp_path_factory, geodata):
    """The whole country, official merger, baseline decisions: run once (a few minutes on 2 cores)."""
    out = tmp_path_factory.mktemp("national")
    folder = reorg_national.run_national(str(SCENARIO), ["name=national"], str(geodata), out, workers=2, progress=False)
    assert folder == out / "national"
    return folder, _summary(folder)


def test_appendix_a_is_the_packs_new_communes(geodata):
    """The table above is transcribed right: the pack's new communes, counted per new province."""
    after = pyogrio.read_dataframe(geodata / "vn_communes_after_2025-07.gpkg", columns=["province_code"], read_geometry=False)
    assert after.groupby("province_code").size().to_dict() == APPENDIX_A_NEW


def test_every_province_succeeded(national):
    folder, s = national
    assert [p["code"] for p in s["provinces"]] == sorted(APPENDIX_A_NEW)
    assert all(p["status"] == "done" for p in s["provinces"]), [
        (p["code"], p["error"]) for p in s["provinces"] if p["status"] != "done"
    ]
    assert s["failed"] == []
    assert s["national"]["done"] == s["national"]["provinces"] == len(APPENDIX_A_NEW) and s["national"]["complete"]
    assert reorg_national.exit_code(folder) == 0
    assert s["synthetic_roster"] is True
    assert not {"timings", "peak_memory_mb", "execution"} & set(s), "measurements are in run.json"
    run = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    # fork or spawn by this process's state (runner.start_method; test_runner checks both give the same files)
    assert run["execution"] in [{"kind": "local", "workers": 2, "start_method": m} for m in ("fork", "spawn")]
    assert set(run["timings"]["provinces"]) == set(APPENDIX_A_NEW) and run["timings"]["total"] > 0
    assert run["timings"]["total"] >= run["timings"]["provinces_wall"] > 0
    assert set(run["peak_memory_mb"]["provinces"]) == set(APPENDIX_A_NEW)
    assert set(run["geodata"]["files"]) == {
        "vn_communes_before_2025-07.gpkg",
        "vn_communes_after_2025-07.gpkg",
        "vn_districts_before_2025-07.gpkg",
        "vn_commune_merger_2025.csv",
        "vn_provinces_after_2025-07.gpkg",
    }
    pids = {w["pid"] for w in run["workers"].values()}
    assert len(pids) == 2 and os.getpid() not in pids, "the provinces ran in two worker processes"
    for p in s["provinces"]:  # each province's folder has its own run.json, with its own measurements
        own = json.loads((folder / p["folder"] / "run.json").read_text(encoding="utf-8"))
        assert own["geodata"]["sha256"] and own["timings"]["load"] > 0


def test_new_communes_match_appendix_a(national):
    folder, s = national
    assert s["national"]["counts"]["new_communes"] == sum(APPENDIX_A_NEW.values())
    got = {p["code"]: p["counts"]["new_communes"] for p in s["provinces"]}
    assert got == APPENDIX_A_NEW
    for p in s["provinces"]:  # the province's own summary says the same
        own = _summary(folder / p["folder"])
        assert own["province"]["code"] == p["code"]
        assert own["counts"]["new_communes"] == APPENDIX_A_NEW[p["code"]]


def test_one_main_station_per_new_commune(national):
    _, s = national
    for p in s["provinces"]:
        assert p["counts"]["main_stations"] == p["counts"]["new_communes"], p["code"]
    assert s["national"]["counts"]["main_stations"] == sum(APPENDIX_A_NEW.values())


def test_national_totals_are_the_provinces_summed(national):
    _, s = national
    nat, provs = s["national"], s["provinces"]
    for k in reorg_national.COUNT_KEYS:
        assert nat["counts"][k] == sum(p["counts"][k] for p in provs), k
    assert nat["population"] == sum(p["population"] for p in provs)
    for per in ("before", "after"):
        ind = [p["indicators"][per] for p in provs]
        pop = sum(i["population"] for i in ind)
        for k in ("pop_minutes_main_station", "pop_minutes_nearest_facility", "pop_share_main_station_within_30min"):
            assert nat["indicators"][per][k] == pytest.approx(sum(i[k] * i["population"] for i in ind) / pop, rel=1e-5), (per, k)
        assert nat["indicators"][per]["staff_total"] == sum(i["staff_total"] for i in ind)
        assert nat["staff"][per]["total"] == sum(p["staff"][per]["total"] for p in provs)
    # the reform lengthens the trip to one's main station, not to the nearest open site (keep_all)
    assert nat["indicators"]["after"]["pop_minutes_main_station"] > nat["indicators"]["before"]["pop_minutes_main_station"]
    assert (
        nat["indicators"]["after"]["pop_minutes_nearest_facility"]
        <= nat["indicators"]["before"]["pop_minutes_nearest_facility"] + 1e-6
    )


def _csv_rows(path: Path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _split_targets(geodata: Path) -> dict[str, set[str]]:
    """New communes receiving a part of an old commune split between several, by new province (merger table)."""
    rows = _csv_rows(geodata / "vn_commune_merger_2025.csv")
    parts: dict[str, int] = {}
    for r in rows:
        parts[r["old_commune_code"]] = parts.get(r["old_commune_code"], 0) + 1
    out: dict[str, set[str]] = {}
    for r in rows:
        if parts[r["old_commune_code"]] > 1:
            out.setdefault(r["new_province_code"], set()).add(r["new_commune_code"])
    return out


def test_each_province_has_its_full_folder(national, geodata):
    folder, s = national
    split_targets = _split_targets(geodata)
    slugs = sorted(p.name for p in (folder / "provinces").iterdir())
    assert slugs == sorted(Path(p["folder"]).name for p in s["provinces"])
    assert "40_nghe_an" in slugs and "79_ho_chi_minh" in slugs
    for p in s["provinces"]:
        where = folder / p["folder"]
        assert re.fullmatch(r"\d{2}_[a-z0-9_]+", where.name) and where.name[:2] == p["code"], where.name
        own = _summary(where)
        assert own["province"]["code"] == p["code"] and own["counts"] == p["counts"], p["code"]
        stations = _csv_rows(where / "stations.csv")
        assert len(stations) == own["counts"]["stations"], p["code"]
        assert sum(r["role"] == "main" for r in stations) == own["counts"]["main_stations"], p["code"]
        communes = _csv_rows(where / "communes_after.csv")
        assert len(communes) == APPENDIX_A_NEW[p["code"]], p["code"]
        # a new commune's population is whole in the CSV: a part of a split old commune is rounded
        # there (by at most half a person), so the sum is exact only where no old commune is split
        rounded = len(split_targets.get(p["code"], ()))
        assert (rounded == 0) == (own["counts"]["split_old_communes"] == 0), p["code"]
        assert abs(sum(int(r["population"]) for r in communes) - p["population"]) <= rounded / 2, p["code"]
        assert set(pyogrio.list_layers(where / "decisions.gpkg")[:, 0]), p["code"]
        md = (where / "report.md").read_text(encoding="utf-8")
        assert own["province"]["name"] in md and own["province"]["name"] in (where / "report.html").read_text(encoding="utf-8")
        assert own["province"]["name"] in (where / "map.html").read_text(encoding="utf-8"), p["code"]
    assert not [p for p in folder.rglob(".*")], "temporary or staging folders left behind"
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]


def test_index_links_every_province_map(national):
    folder, s = national
    doc = (folder / "index.html").read_text(encoding="utf-8")
    linked = set(MAP_HREF.findall(doc))
    assert len(linked) == len(APPENDIX_A_NEW)
    assert linked == {Path(p["folder"]).name for p in s["provinces"]}
    for name in linked:
        assert (folder / "provinces" / name / "map.html").is_file(), name


def test_index_is_offline_and_small(national):
    folder, _ = national
    doc = (folder / "index.html").read_text(encoding="utf-8")
    assert not re.search(r"""<script\b[^>]*\bsrc\s*=\s*["']?\s*(?:https?:)?//""", doc, re.I)
    assert not re.search(r"""<link\b[^>]*\bhref\s*=\s*["']?\s*(?:https?:)?//""", doc, re.I)
    assert not re.search(r"<script\b[^>]*\bsrc\s*=", doc, re.I), "Leaflet must be inlined"
    assert "L.map(" in doc or "L.map (" in doc
    assert (folder / "index.html").stat().st_size < 1_500_000
    assert "Synthetic roster" in doc


def test_national_report(national, geodata):
    folder, s = national
    page = (folder / "report.html").read_text(encoding="utf-8")
    md = (folder / "report.md").read_text(encoding="utf-8")
    assert page.count('/map.html">map</a>') == len(APPENDIX_A_NEW)
    assert "<svg" in page and "Synthetic roster" in page
    assert not re.search(r"<(script|link)\b", page, re.I)
    # the national totals table: the old communes of the merger table, the new ones of Appendix A
    with open(geodata / "vn_commune_merger_2025.csv", encoding="utf-8", newline="") as f:
        old = len({r["old_commune_code"] for r in csv.DictReader(f)})
    totals = md.split(f"## {i18n.text('national.h_totals', 'en')}\n", 1)[1].split("\n## ", 1)[0]
    for key, n in (("old_communes", old), ("new_communes", sum(APPENDIX_A_NEW.values()))):
        assert f"| {i18n.text(f'national.count_{key}', 'en')} | {fmt.count(n)} |" in totals.splitlines(), key
    assert md.count("| done |") == len(APPENDIX_A_NEW)


@pytest.fixture(scope="module")
def partial(tmp_path_factory, geodata):
    """A bogus code and Lai Châu (12), in two local worker processes."""
    out = tmp_path_factory.mktemp("partial")
    return reorg_national.run_national(
        str(SCENARIO), ["name=partial"], str(geodata), out, workers=2, progress=False, provinces=["00", "12"]
    )


def test_failing_province_is_reported_and_the_others_kept(partial):
    """A bogus code fails in its worker process with bad input; Lai Châu (12) is kept."""
    folder = partial
    s = _summary(folder)
    assert [f["code"] for f in s["failed"]] == ["00"]
    assert s["failed"][0]["exit_code"] == 2 and "unknown province code '00'" in s["failed"][0]["error"]
    assert s["failed"][0]["traceback"] is None, "bad input is not a bug: no traceback"
    by = {p["code"]: p for p in s["provinces"]}
    assert by["12"]["status"] == "done" and (folder / by["12"]["folder"] / "map.html").is_file()
    assert by["12"]["counts"]["new_communes"] == APPENDIX_A_NEW["12"]
    assert s["national"]["complete"] is False and s["national"]["counts"]["new_communes"] == APPENDIX_A_NEW["12"]
    assert reorg_national.exit_code(folder) == 1
    assert "00" in (folder / "report.md").read_text(encoding="utf-8").split("## Failed provinces")[1]
    assert len(set(MAP_HREF.findall((folder / "index.html").read_text(encoding="utf-8")))) == 1


def test_national_run_on_a_real_local_dask_cluster_gives_the_local_files(partial, tmp_path, geodata):
    """--scheduler: the provinces run on a Dask cluster's workers and send their files back; every
    file but run.json is the local run's, byte for byte; the failure is captured the same way."""
    import distributed  # a test dependency: the run must really happen on a cluster

    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        with distributed.Client(cluster.scheduler_address) as client:
            worker_pids = client.run(os.getpid)  # {worker address: pid}
        folder = reorg_national.run_national(
            str(SCENARIO),
            ["name=partial"],
            str(geodata),
            tmp_path,
            progress=False,
            provinces=["00", "12"],
            scheduler=cluster.scheduler_address,
        )
    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(partial).as_posix() for p in partial.rglob("*") if p.is_file())
    assert "provinces/12_lai_chau/map.html" in files and "run.json" in files
    differ = [f for f in files if Path(f).name != "run.json" and (folder / f).read_bytes() != (partial / f).read_bytes()]
    assert differ == []
    run = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    assert run["execution"] == {"kind": "dask", "scheduler": cluster.scheduler_address}
    w = run["workers"]["12"]
    assert w["dask_worker"] in worker_pids and worker_pids[w["dask_worker"]] == w["pid"] != os.getpid()


def test_scheduler_is_refused_for_a_single_province(tmp_path, geodata, capsys):
    from reorg.cli import main

    rc = main(
        ["run", str(SCENARIO), "--geodata", str(geodata), "--out", str(tmp_path), "--scheduler", "tcp://127.0.0.1:9", "--quiet"]
    )
    assert rc == 2 and "--province all" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_an_exception_in_one_province_keeps_the_others(tmp_path, geodata, monkeypatch):
    """Any exception (not only bad input) is caught per province, with its traceback (in-process run)."""
    import reorg.pipeline as reorg_pipeline

    real = reorg_pipeline.run

    def flaky(scenario, **kw):
        if scenario.province == "11":
            raise RuntimeError("simulated crash in Điện Biên")
        return real(scenario, **kw)

    monkeypatch.setattr(reorg_pipeline, "run", flaky)
    folder = reorg_national.run_national(
        str(SCENARIO), ["name=crash"], str(geodata), tmp_path, workers=0, progress=False, provinces=["11", "12"]
    )
    s = _summary(folder)
    assert [f["code"] for f in s["failed"]] == ["11"]
    assert s["failed"][0]["exit_code"] == 1 and "RuntimeError: simulated crash" in s["failed"][0]["error"]
    assert reorg_national.error_line(s["failed"][0]) == "RuntimeError: simulated crash in Điện Biên"
    trace = s["failed"][0]["traceback"]
    assert (
        trace.startswith("Traceback")
        and "in flaky" in trace
        and trace.rstrip().endswith("RuntimeError: simulated crash in Điện Biên")
    )
    assert [p["code"] for p in s["provinces"] if p["status"] == "done"] == ["12"]
    assert (folder / "provinces" / "12_lai_chau" / "map.html").is_file()
    assert not (folder / "provinces" / "11_dien_bien").exists()


def test_nothing_written_when_every_province_fails(tmp_path, geodata):
    with pytest.raises(InputError, match="every province failed"):
        reorg_national.run_national(
            str(SCENARIO), ["name=none"], str(geodata), tmp_path, workers=0, progress=False, provinces=["00"]
        )
    assert list(tmp_path.iterdir()) == []


def test_bad_scenario_refused_before_anything_runs(tmp_path, geodata):
    with pytest.raises(InputError, match="unknown key"):
        reorg_national.run_national(str(SCENARIO), ["name=bad", "nonsense=1"], str(geodata), tmp_path, progress=False)
    with pytest.raises(InputError, match="indicator"):
        reorg_national.run_national(str(SCENARIO), ["name=bad"], str(geodata), tmp_path, progress=False, indicator="nope")
    assert list(tmp_path.iterdir()) == []


def test_slugs_and_aggregation():
    assert names.province_slug("Thành phố Hồ Chí Minh") == "ho_chi_minh"
    assert names.province_slug("Tỉnh Đắk Lắk") == "dak_lak"
    assert names.province_slug("Thành phố Huế") == "hue"
    assert names.short_name("Tỉnh Lào Cai") == "Lào Cai"
    a = {
        "population": 100,
        "pop_minutes_main_station": 10.0,
        "main_stations": 1,
        "main_stations_with_doctor_share": 1.0,
        "staff_total": 10,
        "doctors_total": 2,
    }
    b = {
        "population": 300,
        "pop_minutes_main_station": 20.0,
        "main_stations": 3,
        "main_stations_with_doctor_share": 0.0,
        "staff_total": 30,
        "doctors_total": 2,
    }
    nat = reorg_national.aggregate_indicators([a, b])
    assert nat["population"] == 400 and nat["staff_total"] == 40
    assert nat["pop_minutes_main_station"] == pytest.approx(17.5)
    assert nat["main_stations_with_doctor_share"] == pytest.approx(0.25)
    assert nat["doctors_per_10k"] == pytest.approx(100.0)
    assert nat["population_per_health_worker"] == pytest.approx(10.0)


def _fake_national_summary() -> dict:
    """A national summary of two provinces (one failed), built here, not from a run."""
    ind = {
        "population": 1000,
        "pop_minutes_main_station": 12.34,
        "pop_minutes_nearest_facility": 5.0,
        "pop_share_main_station_within_30min": 0.9,
        "staff_shortfall_total": 7,
    }
    counts = {
        "old_communes": 1234,
        "new_communes": 321,
        "stations": 1234,
        "main_stations": 321,
        "point_stations": 913,
        "closed_stations": 0,
        "regional_centres": 20,
    }
    staff = {"before": {"doctor": 5, "total": 50}, "after": {"doctor": 6, "total": 50}}
    done = {
        "code": "40",
        "name": "Tỉnh <b>Nghệ</b> An",
        "status": "done",
        "folder": "provinces/40_nghe_an",
        "counts": counts,
        "indicators": {"before": ind, "after": ind},
        "population": 1000,
        "staff": staff,
        "special_zones": [
            {
                "code": "26732",
                "name": "Đặc khu Côn Đảo",
                "population": 8827,
                "centre_code": "DK26732",
                "centre_name": "Trung tâm Y tế đặc khu <i>Côn Đảo</i>",
                "centre_seat_rule": "special_zone_island",
                "centre_on_island": True,
                "minutes_main_after": 17.4,
                "minutes_centre_after": 17.4,
                "max_minutes_centre_after": 1234.4,
            }
        ],
    }
    failed = {"code": "00", "name": None, "status": "failed", "folder": None, "exit_code": 2, "error": "bad input\nmore"}
    return {
        "scenario": {"title": "Cả nước & <test>", "name": "national", "source": "national.toml"},
        "reorg_version": "0.1.0",
        "synthetic_pack": False,
        "synthetic_roster": True,
        "synthetic_centres": True,
        "national": {
            "done": 1,
            "provinces": 2,
            "counts": counts,
            "population": 1000,
            "indicators": {"before": ind, "after": ind},
            "staff": staff,
        },
        "provinces": [done, failed],
        "failed": [failed],
    }


def test_national_report_words_and_escaping():
    """The national report in English and Vietnamese: indicator labels from the indicator table,
    headings from the message files, names from input escaped in HTML, no timings."""
    import html as htmllib

    from reorg import i18n, indicators, national_report

    s = _fake_national_summary()
    for lang in i18n.LANGS:
        md, page = national_report.report_markdown(s, lang), national_report.report_html(s, lang)
        other = "vi" if lang == "en" else "en"
        label = indicators.get("pop_minutes_main_station").label(lang)
        assert f"| {label} | 12.3 |" in md.replace("12,3", "12.3"), label
        assert f"| {indicators.get('pop_minutes_main_station').label(other)} |" not in md
        for key in ("national.h_totals", "national.h_provinces", "national.h_method", "national.h_failed"):
            assert (
                f"## {i18n.text(key, lang)}" in md and f"<h2>{htmllib.escape(i18n.text(key, lang), quote=False)}</h2>" in page
            ), key
            assert f"## {i18n.text(key, other)}\n" not in md
        assert i18n.notices({"synthetic_roster": True}, lang)[0] in md
        assert "<b>Nghệ</b>" not in page and "&lt;b&gt;Nghệ&lt;/b&gt;" in page and "&lt;test&gt;" in page
        assert f'<html lang="{lang}">' in page and "run.json" in md and "Timings" not in md
        assert page.count('/map.html">') == 1 and "bad input" in md
        # the island special zones' table, numbers in the language's format, names escaped
        assert f"## {i18n.text('island.h_special_zones', lang)}" in md
        most = "1,234" if lang == "en" else "1.234"
        assert f"| {i18n.text('island.yes', lang)} | 17 | 17 | {most} |" in md
        assert "&lt;i&gt;Côn Đảo&lt;/i&gt;" in page and "<i>Côn" not in page
