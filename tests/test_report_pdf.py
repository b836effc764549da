"""The printable report (report.pdf) of the Nghệ An official run: written with the other outputs,
A4, several pages, Unicode text (Vietnamese diacritics), the synthetic-data notice, the indicators
and the losers table, header rows repeated on every page of a long table, and the same bytes for
the same result. Text is extracted with pypdf (pure Python).

Needs the real geodata pack at $REORG_GEODATA.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from reorg import report as REP
from reorg.pdf import write_pdf
from reorg.pipeline import run, write
from reorg.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
A4 = (595.28, 841.89)


@pytest.fixture(scope="module")
def official(tmp_path_factory):
    geodata = os.environ.get("REORG_GEODATA")
    assert geodata, "set REORG_GEODATA to the real geodata pack (e.g. REORG_GEODATA=../shared/geodata pytest tests/test_report_pdf.py)"
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
    ind = REP.indicator_table(result).set_index("indicator")
    value = REP._fmt(ind.at["pop_minutes_main_station", "after"], "min")
    assert "Mean minutes to one's main station" in text
    assert re.search(r"Mean minutes to one.s main station\s+min\s+[\d.,]+\s+" + re.escape(value), text), value
    share = REP._fmt(ind.at["pop_share_main_station_within_30min", "after"], "share")
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
    summary = REP.build_summary(result)
    write_pdf(result, summary, tmp_path / "a.pdf")
    write_pdf(result, summary, tmp_path / "b.pdf")
    assert (tmp_path / "a.pdf").read_bytes() == (tmp_path / "b.pdf").read_bytes()
    assert b"/CreationDate (D:20000101000000" in (tmp_path / "a.pdf").read_bytes()
