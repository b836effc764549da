"""The printable report (`report.pdf`) for officials: A4, Unicode text (Vietnamese names keep their
diacritics), page numbers, table headers repeated on every page, deterministic bytes.

`write_pdf(result, summary, path)` lays out, with reportlab's platypus:

0. the map of the province after the reform (``reorg.pdf_map``, vector graphics);
1. a title page: title, province, scenario, the synthetic-data notices, the merger in figures and
   the rule behind each kind of decision;
2. the indicators before and after the reform;
3. charts, drawn as reportlab vector graphics (no matplotlib, no raster image; their text is
   text, so it prints sharp and can be searched): residents by travel minutes to their (main)
   station before/after, station staff by cadre before/after, regional centre loads after (more
   than 40 centres continue in further charts on the same scale, each fitting on a page);
4. the ten old communes that lose most;
5. decisions: main station of every new commune, points closed and kept (optimised runs), staff
   by cadre and the staff moves;
6. regional centres; solver quality (one row per optimisation solve) and any rule that could not
   be met;
7. the assumptions: every parameter with its value, unit, source and confidence.

Text, the charts' included (``reorg.pdf_charts``), is set in DejaVu Sans, embedded as a subset.
Words come from the message files ([pdf], [report], [cadre]), numbers from `reorg.fmt`, tables
from `reorg.tables`. The document is built with reportlab's `invariant=1` (fixed creation date
and document id) and the charts are plain drawing operations, so the same result gives the same
bytes. It holds no timings (they are in run.json).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from . import i18n, pdf_map
from .pdf_charts import FONT, FONT_BOLD, register_fonts
from .pdf_story import build_story


@functools.cache
def _styles() -> dict:
    """The paragraph styles of report.pdf, made once per process (shared: do not modify them)."""
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER, TA_RIGHT
    from reportlab.lib.styles import ParagraphStyle

    base = ParagraphStyle("base", fontName=FONT, fontSize=9.5, leading=12.5, spaceAfter=4)
    return {
        "base": base,
        "title": ParagraphStyle(
            "title", base, fontName=FONT_BOLD, fontSize=22, leading=27, spaceAfter=10, textColor=colors.HexColor("#08306b")
        ),
        "subtitle": ParagraphStyle(
            "subtitle", base, fontSize=12, leading=16, spaceAfter=14, textColor=colors.HexColor("#333333")
        ),
        "h1": ParagraphStyle(
            "h1",
            base,
            fontName=FONT_BOLD,
            fontSize=15,
            leading=19,
            spaceBefore=4,
            spaceAfter=8,
            textColor=colors.HexColor("#08306b"),
        ),
        "h2": ParagraphStyle("h2", base, fontName=FONT_BOLD, fontSize=11.5, leading=15, spaceBefore=8, spaceAfter=5),
        "notice": ParagraphStyle(
            "notice",
            base,
            fontName=FONT_BOLD,
            fontSize=10,
            leading=13.5,
            textColor=colors.HexColor("#7a1c00"),
            backColor=colors.HexColor("#fff3cd"),
            borderColor=colors.HexColor("#e0b04c"),
            borderWidth=0.8,
            borderPadding=(5, 7, 5, 7),
            spaceBefore=6,
            spaceAfter=10,
        ),
        "small": ParagraphStyle("small", base, fontSize=8, leading=10, textColor=colors.HexColor("#444444")),
        "cell": ParagraphStyle("cell", base, fontSize=8, leading=9.8, spaceAfter=0),
        "cellb": ParagraphStyle("cellb", base, fontName=FONT_BOLD, fontSize=8, leading=9.8, spaceAfter=0),
        "cellr": ParagraphStyle("cellr", base, fontSize=8, leading=9.8, spaceAfter=0, alignment=TA_RIGHT),
        "head": ParagraphStyle("head", base, fontName=FONT_BOLD, fontSize=8, leading=9.8, spaceAfter=0),
        "headr": ParagraphStyle("headr", base, fontName=FONT_BOLD, fontSize=8, leading=9.8, spaceAfter=0, alignment=TA_RIGHT),
        "caption": ParagraphStyle(
            "caption", base, fontSize=8.5, leading=11, alignment=TA_CENTER, textColor=colors.HexColor("#444444")
        ),
    }


# ------------------------------------------------------------------------------------ the document


def _page_decor(title: str, footer: str):
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4

    def draw(canvas, doc):
        canvas.saveState()
        w, h = A4
        canvas.setFont(FONT, 7.5)
        canvas.setFillColor(colors.HexColor("#666666"))
        if doc.page > 1:
            canvas.drawString(doc.leftMargin, h - 12 * 2.8346, title)
            canvas.setStrokeColor(colors.HexColor("#cccccc"))
            canvas.setLineWidth(0.4)
            canvas.line(doc.leftMargin, h - 13.5 * 2.8346, w - doc.rightMargin, h - 13.5 * 2.8346)
        canvas.drawString(doc.leftMargin, 10 * 2.8346, footer)
        canvas.restoreState()

    return draw


def _numbered_canvas(lang: str):
    """A canvas that writes "page N of M" once the page count is known."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas as rl_canvas

    class NumberedCanvas(rl_canvas.Canvas):
        def __init__(self, *args, **kwargs):
            kwargs.setdefault("initialFontName", FONT)  # no unembedded Helvetica in the file
            kwargs.setdefault("initialFontSize", 9.5)
            super().__init__(*args, **kwargs)
            self._saved = []

        def showPage(self):
            self._saved.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            n = len(self._saved)
            for state in self._saved:
                self.__dict__.update(state)
                self.setFont(FONT, 7.5)
                self.setFillColorRGB(0.4, 0.4, 0.4)
                self.drawRightString(
                    A4[0] - 18 * 2.8346, 10 * 2.8346, i18n.text("pdf.page", lang, page=self._pageNumber, pages=n)
                )
                super().showPage()
            super().save()

    return NumberedCanvas


def write_pdf(result: Any, summary: dict, path: Path, lang: str = i18n.DEFAULT_LANG) -> Path:
    """Write the printable report of a run to `path` (A4, deterministic bytes, in `lang`); returns the path."""
    from reportlab import rl_config
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import SimpleDocTemplate

    register_fonts()
    S = _styles()
    path = Path(path)
    title = f"{result.scenario.title or result.scenario.name} · {result.pack.province_name}"
    doc = SimpleDocTemplate(
        str(path),
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=18 * mm,
        bottomMargin=17 * mm,
        title=title,
        author="reorg",
        creator=f"reorg {result.version}",
        subject=i18n.text("pdf.subject", lang),
        invariant=1,
    )
    footer = i18n.text(
        "pdf.footer",
        lang,
        version=result.version,
        scenario=result.scenario.name,
        code=result.pack.province_code,
        name=result.pack.province_name,
    )
    if result.synthetic_roster or getattr(result.pack, "synthetic", False):
        footer += " · " + i18n.text("pdf.footer_synthetic", lang)
    decor = _page_decor(title, footer)
    a85, checking = rl_config.useA85, rl_config.shapeChecking
    rl_config.useA85 = 0  # binary streams: smaller, and no pure-Python ASCII85 encoding of the fonts and pages
    rl_config.shapeChecking = 0  # no type check of every attribute set on a chart's or the map's shapes
    try:
        story = pdf_map.map_page(result, S, doc.width, doc.height, lang) + build_story(result, summary, S, doc.width, lang)
        if getattr(result, "workforce", None) is not None:  # the plan over years: its pages (workforce/report_pdf.py)
            from .workforce.report_pdf import plan_pages

            story += plan_pages(result, S, doc.width, lang)
        doc.build(story, onFirstPage=decor, onLaterPages=decor, canvasmaker=_numbered_canvas(lang))
    finally:
        rl_config.useA85, rl_config.shapeChecking = a85, checking
    return path
