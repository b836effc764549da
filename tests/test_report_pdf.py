"""The printable report (report.pdf) of the Nghệ An official run: written with the other outputs,
A4, several pages, Unicode text (Vietnamese diacritics), the synthetic-data notice, the indicators
and the losers table, header rows repeated on every page of a long table, the three charts drawn
as vector graphics (their titles, legends and labels are text in the file; no image, no
matplotlib.pyplot), and the same bytes for the same result. Text is extracted with pypdf (pure
Python).

Needs the real geodata pack at $REORG_GEODATA.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from reorg import fmt, i18n, report, tables
from reorg.pdf import write_pdf
from reorg.pdf_charts import chart_centres, register_fonts
from reorg.pipeline import run, write
from reorg.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
A4 = (595.28, 841.89)


@pytest.fixture(scope="module")
def official(tmp_path_factory):
    geodata = os.environ.get("REORG_GEODATA")
    assert geodata, (
        "set REORG_GEODATA to the real geodata pack (e.g. REORG_GEODATA=../shared/geodata pytest tests/test_report_pdf.py)"
    )
    assert Path(geodata).is_dir(), f"REORG_GEODATA={geodata} is not a directory"
    result = run(load_scenario(ROOT / "scenarios" / "nghe_an_official.toml"), geodata=geodata)
    folder = write(result, tmp_path_factory.mktemp("outputs"))
    return result, folder


@pytest.fixture(scope="module")
def pages(official):
    from pypdf import PdfReader

    _, folder = official
    reader = PdfReader(str(folder / "report.pdf"))
    return reader, [p.extract_text() or "" for p in reader.pages]


def test_pdf_written_with_the_outputs(official, pages):
    result, folder = official
    pdf = folder / "report.pdf"
    assert pdf.is_file()
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-")
    assert data.rstrip().endswith(b"%%EOF")
    reader, texts = pages
    assert len(texts) >= 6, f"only {len(texts)} pages"
    for page in reader.pages:
        box = page.mediabox
        assert abs(float(box.width) - A4[0]) < 1 and abs(float(box.height) - A4[1]) < 1, "not A4"
    # DejaVu Sans embedded (a subset), so no system font is needed to show Vietnamese
    assert b"DejaVuSans" in data and b"FontFile2" in data


def test_pdf_text(official, pages):
    result, _ = official
    _, texts = pages
    text = "\n".join(texts)
    first = texts[0]
    # title page: province with its diacritics, scenario and the synthetic-data notices
    assert "Nghệ An" in first and "Tỉnh Nghệ An" in first
    assert "nghe_an_official" in first
    assert "Synthetic roster" in first
    assert "Regional centres: beds, staff and capacity are synthetic" in first
    # a commune of the losers table, with its diacritics
    losers = result.measures.losers
    name = str(losers.iloc[0]["old_name"])
    assert any(ord(ch) > 127 for ch in name)
    assert name in text, name
    assert f"{losers.iloc[0]['minutes_main_change']:+.1f}" in text
    # the indicators table: the value of an indicator after the reform
    ind = tables.indicator_table(result).set_index("indicator")
    value = fmt.indicator("pop_minutes_main_station", ind.at["pop_minutes_main_station", "after"])
    assert "Mean minutes to one's main station" in text
    assert re.search(r"Mean minutes to one.s main station\s+min\s+[\d.,]+\s+" + re.escape(value), text), value
    share = fmt.indicator("pop_share_main_station_within_30min", ind.at["pop_share_main_station_within_30min", "after"])
    assert share in text
    # decisions, solver quality and the assumptions page
    assert "Main station of each new commune" in text
    assert "Solver quality" in text and "No optimisation model was solved" in text
    assert "Assumptions" in text and "doctor_presence_share" in text and "Circular 03/2023" in text


def test_pdf_page_numbers_and_repeated_headers(pages):
    _, texts = pages
    n = len(texts)
    for k, t in enumerate(texts, 1):
        assert f"page {k} of {n}" in t, f"page {k} has no page number"
    # the main-station table runs over several pages; its header row is on each of them
    table_pages = [t for t in texts if re.search(r"\(\d{5}\)\s+\d\.\d\d\s+\d+\.\d\s+\d+", t)]
    assert len(table_pages) >= 2, "the main-station table should span pages"
    for t in table_pages:
        flat = " ".join(t.split())  # header cells may wrap over two lines
        assert "new commune main station facility score mean minutes open sites" in flat, flat[:300]


def test_pdf_deterministic(official, tmp_path):
    result, folder = official
    summary = report.build_summary(result)
    write_pdf(result, summary, tmp_path / "a.pdf")
    write_pdf(result, summary, tmp_path / "b.pdf")
    assert (tmp_path / "a.pdf").read_bytes() == (tmp_path / "b.pdf").read_bytes()
    assert b"/CreationDate (D:20000101000000" in (tmp_path / "a.pdf").read_bytes()


def test_pdf_charts_are_vector_drawings(official, pages):
    """The three charts are there, as text and vector paths: titles, legends, axis and tick labels
    (a cadre with its diacritics, a centre name) can be extracted; no raster image in the file."""
    result, folder = official
    _, texts = pages
    charts = [t for t in texts if "Charts" in t or "Regional centre loads after the reform" in t]
    text = "\n".join(charts)
    # travel minutes: title, legend, axis labels
    assert "Travel minutes to one's (main) station" in text
    assert "before: own commune's station" in text and "after: main station of the new commune" in text
    assert "residents (thousands)" in text and "minutes (the last bar holds everything beyond)" in text
    # staff by cadre: title, legend, every cadre (English name and Vietnamese with diacritics), a value
    assert "Station staff by cadre" in text
    assert re.search(r"^\s*before\s*$", text, re.M) and re.search(r"^\s*after\s*$", text, re.M)
    assert "persons" in text
    for cadre in ("doctor", "nurse", "midwife", "pharmacist"):
        name = i18n.text(f"cadre.{cadre}")
        assert name.split(" (")[0] in text and name.split(" (")[1].rstrip(")") in text, name
    assert "(điều dưỡng)" in text
    staff = tables.staff_frame(result)
    assert f"{int(staff.at['nurse', 'after']):,}" in text
    # regional centre loads: title, legend, axis label, every centre with its load
    assert "Regional centre loads after the reform" in text
    assert "within capacity" in text and "over capacity" in text and "full capacity (100 %)" in text
    assert "population served / capacity (%)" in text
    for _, row in result.measures.centres.iterrows():
        assert str(row["name"]) in text and f"{100 * row['load_after']:.0f} %" in text, row["name"]
    data = (folder / "report.pdf").read_bytes()
    assert b"/Subtype /Image" not in data, "a chart is a raster image"


def test_many_centres_stay_legible():
    """70 centres: two drawings on the same scale, each fitting on an A4 page, every bar with its
    name and value; a long name is cut with an ellipsis, an unknown load shows a dash."""
    import numpy as np
    import pandas as pd

    register_fonts()
    names = [
        f"Trung tâm Y tế Huyện Quỳ Châu {k}" + (" và Trung tâm Y tế liên huyện có tên rất dài" if k == 5 else "")
        for k in range(70)
    ]
    loads = np.linspace(0.3, 1.6, 70)
    loads[7] = np.nan
    fake = SimpleNamespace(measures=SimpleNamespace(centres=pd.DataFrame({"name": names, "load_after": loads})))
    width = A4[0] - 2 * 18 * 72 / 25.4
    drawings = chart_centres(fake, width)
    assert len(drawings) == 2
    frame_height = A4[1] - (18 + 17) * 72 / 25.4
    strings = []

    def walk(node):
        for c in getattr(node, "contents", []):
            if hasattr(c, "text"):
                strings.append(c)
            walk(c)

    for d in drawings:
        assert d.width <= width + 0.01 and d.height < frame_height
        walk(d)
    texts = [s.text for s in strings]
    assert "Regional centre loads after the reform" in texts
    assert any(t.startswith("Regional centre loads after the reform (continued") for t in texts)
    assert sum(t.startswith("Trung tâm") for t in texts) == 70
    assert any(t.startswith("Trung tâm Y tế Huyện Quỳ Châu 5 ") and t.endswith("…") for t in texts)
    assert "–" in texts and "160 %" in texts and "30 %" in texts
    assert min(s.fontSize for s in strings) >= 7  # readable in print


def test_pdf_does_not_import_pyplot(tmp_path):
    """In a fresh process, writing report.pdf imports neither matplotlib.pyplot nor matplotlib."""
    code = f"""
import json, sys
from pathlib import Path
from reorg import report
from reorg.pipeline import run
from reorg.scenario import load_scenario
result = run(load_scenario(Path({str(ROOT / "scenarios" / "nghe_an_official.toml")!r})), geodata={os.environ["REORG_GEODATA"]!r})
summary = report.build_summary(result)
before = sorted(m for m in ("matplotlib", "matplotlib.pyplot") if m in sys.modules)
from reorg.pdf import write_pdf
write_pdf(result, summary, Path({str(tmp_path / "report.pdf")!r}))
after = sorted(m for m in ("matplotlib", "matplotlib.pyplot") if m in sys.modules)
print(json.dumps({{"before": before, "after": after}}))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert "matplotlib.pyplot" not in seen["before"], (
        "the pipeline imported matplotlib.pyplot before write_pdf: cannot test write_pdf"
    )
    assert "matplotlib.pyplot" not in seen["after"], "write_pdf imported matplotlib.pyplot"
    assert set(seen["after"]) == set(seen["before"]), f"write_pdf imported {set(seen['after']) - set(seen['before'])}"
    assert (tmp_path / "report.pdf").read_bytes().startswith(b"%PDF-")


def test_reports_do_not_depend_on_measurements(official):
    """report.md and report.html hold no seconds nor memory: rendered again from a summary whose
    timings differ, they are byte-identical to the files the run wrote; where run.json is, is said."""
    result, folder = official
    summary = report.build_summary(result)
    assert not {"timings", "peak_memory_mb"} & set(summary), "measurements are in run.json, not summary.json"
    summary["timings"] = {"report": 1000.0}  # a summary that carried measurements would not change the reports
    summary["peak_memory_mb"] = {"report": 9999.0}
    md = report.report_markdown(result, summary)
    assert md == (folder / "report.md").read_text(encoding="utf-8")
    assert report.report_html(result, summary) == (folder / "report.html").read_text(encoding="utf-8")
    assert report.report_markdown(result, summary) == md
    assert "run.json" in md and " MB" not in md and not re.search(r"\d s\b", md)


def _vi_and_en(key: str) -> tuple[str, str]:
    return i18n.text(key, "vi"), i18n.text(key, "en")


def test_report_in_vietnamese_has_no_english_label(official):
    """Rendered in Vietnamese, report.md and report.html show every indicator label and section
    heading in Vietnamese and none of the English ones (where the two differ)."""
    import html as htmllib

    from reorg import indicators

    result, _ = official
    summary = report.build_summary(result)
    md = report.report_markdown(result, summary, "vi")
    page = report.report_html(result, summary, "vi")
    text = htmllib.unescape(re.sub(r"<[^>]+>", "\n", page))
    assert '<html lang="vi">' in page
    checked = 0
    for key in result.measures.before:
        ind = indicators.get(key)
        vi, en = ind.label("vi"), ind.label("en")
        assert f"| {vi} |" in md, vi
        assert vi in text, vi
        if vi != en:
            assert f"| {en} |" not in md and f"\n{en}\n" not in text, en
            checked += 1
    headings = [k for k in i18n.messages("en") if k.startswith("report.h_")]
    for key in headings:
        vi, en = _vi_and_en(key)
        if key in ("report.h_warnings",) and not summary["warnings"]:
            continue
        if key in ("report.h_points", "report.h_moves", "report.h_catchments"):  # optimised runs only
            continue
        assert f"## {vi}" in md or key == "report.h_charts", key
        assert f"<h2>{htmllib.escape(vi, quote=False)}</h2>" in page, key
        assert f"## {en}\n" not in md and f"<h2>{htmllib.escape(en, quote=False)}</h2>" not in page, key
        checked += 1
    assert checked >= 30
    for notice in i18n.notices({"synthetic_roster": True, "synthetic_centres": True}, "en"):
        assert notice not in md
    assert "Số phút trung bình tới trạm y tế chính của mình" in md


def test_pdf_prints_the_density_parameter(official, tmp_path):
    """The assumptions page prints the scenario's mountain density threshold, not a fixed number."""
    from dataclasses import replace

    from pypdf import PdfReader

    result, folder = official
    default = " ".join(PdfReader(str(folder / "report.pdf")).pages[-1].extract_text().split())
    assert f"density below {result.scenario.params['mountain_density_max_per_km2']:g} /km²" in default
    params = {**result.scenario.params, "mountain_density_max_per_km2": 175.0}
    other = replace(result, scenario=replace(result.scenario, params=params))
    write_pdf(other, report.build_summary(other), tmp_path / "r.pdf")
    last = " ".join(PdfReader(str(tmp_path / "r.pdf")).pages[-1].extract_text().split())
    assert "density below 175 /km²" in last and "150 /km²" not in last


def test_synthetic_centres_follows_the_centres(official):
    result, folder = official
    assert json.loads((folder / "summary.json").read_text(encoding="utf-8"))["synthetic_centres"] is True
    centres = result.centres.copy()
    centres["origin"] = "input"
    real = SimpleNamespace(pack=result.pack, synthetic_roster=False, centres=centres)
    assert tables.synthetic_flags(real)["synthetic_centres"] is False
    centres.iloc[0, centres.columns.get_loc("origin")] = "synthetic"
    assert tables.synthetic_flags(real)["synthetic_centres"] is True


def _fills(content: bytes) -> set[str]:
    """The fill colours (#rrggbb) a page's content sets."""
    out = set()
    for r, g, b in re.findall(rb"([\d.]+) ([\d.]+) ([\d.]+) rg", content):
        out.add("#" + "".join(f"{round(float(v) * 255):02x}" for v in (r, g, b)))
    return out


def _map_page(result, reader, texts, lang):
    """Page 1 of a report.pdf in `lang` holds the map: every word of its legend, the scale bar and
    the north arrow, a fill in each class colour that some new commune has, vector paths (many
    line segments, a circle per station), no image."""
    import bisect

    from reorg import indicators, leaflet

    first = texts[0]
    ind = indicators.get(result.scenario.map.get("indicator", "minutes_main_after"))
    assert ind.label(lang) in first
    for label in leaflet.class_labels(ind, lang):
        assert label in first, label
    for key in ("main", "point", "centre", "catchment", "north", "scale"):
        assert i18n.text(f"pdf_map.{key}", lang) in first, key
    assert re.search(r"\b\d+ km\b", first), "the scale bar's length"
    assert i18n.text("pdf_map.title", lang, name=result.pack.province_name).split(":")[0] in first
    content = reader.pages[0].get_contents().get_data()
    values = result.measures.communes[ind.key].dropna()
    used = {ind.colours()[bisect.bisect_right(ind.breaks, float(v))] for v in values}
    assert used and used <= _fills(content), "each class colour of the communes is painted"
    st = result.measures.stations
    circles = int(st["role"].isin(["main", "point"]).sum())
    assert content.count(b" c ") >= 4 * circles, "a circle (four curves) per main station and point"
    assert content.count(b" l ") > 3000, "the communes are drawn as paths"
    assert "/XObject" not in reader.pages[0]["/Resources"], "the map is vector, not an image"


def test_pdf_opens_with_a_vector_map(official, pages):
    """Issue 11 point 8: report.pdf's first page is the map of the province after the reform."""
    result, folder = official
    reader, texts = pages
    _map_page(result, reader, texts, "en")
    assert (folder / "report.pdf").stat().st_size < 2_000_000


def test_pdf_map_in_vietnamese(official, tmp_path):
    from pypdf import PdfReader

    result, _ = official
    write_pdf(result, report.build_summary(result), tmp_path / "vi.pdf", "vi")
    reader = PdfReader(str(tmp_path / "vi.pdf"))
    texts = [p.extract_text() or "" for p in reader.pages]
    _map_page(result, reader, texts, "vi")
    for key in ("main", "point", "centre", "catchment", "scale"):
        assert i18n.text(f"pdf_map.{key}", "en") not in texts[0], key
    assert "trạm y tế chính" in texts[0] and "điểm trạm" in texts[0]


def test_far_islands_go_to_an_inset(tmp_path):
    """A part of a province hundreds of km offshore (Trường Sa off Khánh Hòa) is drawn in an inset
    named after its commune, so the mainland keeps the map's scale."""
    import shapely
    from pypdf import PdfReader
    from reportlab.platypus import SimpleDocTemplate

    from reorg import pdf_map

    register_fonts()
    square = lambda x, y, s=0.1: shapely.box(x, y, x + s, y + s)  # noqa: E731
    mainland = [square(109.0 + 0.1 * i, 12.0 + 0.1 * j) for i in range(4) for j in range(5)]
    islands = shapely.MultiPolygon([square(109.5, 12.2, 0.05), square(114.3, 8.6, 0.02), square(114.4, 8.7, 0.02)])
    m = pdf_map.StaticMap("minutes_main_after")
    m.communes = [(g, "#fee391") for g in mainland] + [(islands, "#fe9929")]
    m.names = [f"Xã {i}" for i in range(len(mainland))] + ["Đặc khu Trường Sa"]
    m.stations["main"] = [(109.05, 12.05), (114.31, 8.61)]
    m.centres = [(109.2, 12.2)]
    doc = SimpleDocTemplate(str(tmp_path / "m.pdf"), invariant=1)
    doc.build([pdf_map.drawing(m, 480, 600, "vi")])
    text = " ".join((PdfReader(str(tmp_path / "m.pdf")).pages[0].extract_text() or "").split())
    assert i18n.text("pdf_map.inset", "vi", names="Đặc khu Trường Sa") in text
    # the mainland's scale: about 50 km of mainland fill the map, the bar is 10 km (100 km with the islands)
    assert re.search(r"\b10 km\b", text), text
