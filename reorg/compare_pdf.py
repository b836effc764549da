"""comparison.pdf (`write_pdf`): the printable comparison of `reorg compare`, A4, for officials.

The runs' synthetic-data notices, the indicator table (before, each run, the best run of each
row in bold and named in the last column, by the indicator table's better direction, as
`reorg.compare` computed it) and each run's static map (`reorg.pdf_map`, from the run's own
map.html, coloured by the run's map indicator), two maps a row. Words come from the message
files' [compare] and [pdf_map] sections, numbers from `reorg.compare_page` (one more decimal than
the reports). Built with reportlab's `invariant=1`: the same runs give the same bytes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from . import compare_page, i18n, pdf_map
from .pdf_charts import FONT, FONT_BOLD, register_fonts
from .render import DEFAULT_INDICATOR
from .workforce.compare import plan_pdf

#: map height (legend included) on the page, points
MAP_HEIGHT = 330.0


def _styles() -> dict:
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_RIGHT
    from reportlab.lib.styles import ParagraphStyle

    base = ParagraphStyle("base", fontName=FONT, fontSize=9, leading=12, spaceAfter=4)
    return {
        "base": base,
        "h1": ParagraphStyle(
            "h1", base, fontName=FONT_BOLD, fontSize=15, leading=19, spaceAfter=8, textColor=colors.HexColor("#08306b")
        ),
        "h2": ParagraphStyle(
            "h2", base, fontName=FONT_BOLD, fontSize=11.5, leading=15, spaceBefore=8, spaceAfter=5, keepWithNext=1
        ),
        "notice": ParagraphStyle(
            "notice",
            base,
            fontName=FONT_BOLD,
            textColor=colors.HexColor("#7a1c00"),
            backColor=colors.HexColor("#fff3cd"),
            borderPadding=(4, 6, 4, 6),
            spaceBefore=4,
            spaceAfter=8,
        ),
        "small": ParagraphStyle("small", base, fontSize=8, leading=10, textColor=colors.HexColor("#444444")),
        "cell": ParagraphStyle("cell", base, fontSize=7.5, leading=9.2, spaceAfter=0),
        "cellr": ParagraphStyle("cellr", base, fontSize=7.5, leading=9.2, spaceAfter=0, alignment=TA_RIGHT),
        "head": ParagraphStyle("head", base, fontName=FONT_BOLD, fontSize=7.5, leading=9.2, spaceAfter=0),
        "caption": ParagraphStyle("caption", base, fontName=FONT_BOLD, fontSize=8.5, leading=10.5, spaceAfter=2),
    }


def _indicator_table(runs: list[Any], rows: list[dict], S: dict, width: float, lang: str) -> Any:
    from reportlab.lib import colors
    from reportlab.platypus import LongTable, Paragraph, TableStyle

    t = i18n.translator(lang)
    names = [r.name for r in runs]
    head = [t("compare.col_indicator"), t("compare.col_unit"), t("compare.col_before"), *names, t("compare.col_best")]
    data: list[list[Any]] = [[Paragraph(escape(h), S["head"]) for h in head]]
    style = [
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#bbbbbb")),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#dce6f2")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]
    for i, row in enumerate(rows, 1):
        k = row["indicator"]
        cells = []
        for n in names:
            text = escape(compare_page.indicator_value(k, row["values"][n], lang))
            cells.append(Paragraph(f"<b>{text}</b>" if n in row["best"] else text, S["cellr"]))
            if n in row["best"]:
                j = 3 + names.index(n)
                style.append(("BACKGROUND", (j, i), (j, i), colors.HexColor("#e5f5e0")))
        data.append(
            [
                Paragraph(escape(row["label"]), S["cell"]),
                Paragraph(escape(row["unit"]), S["cell"]),
                Paragraph(escape(compare_page.indicator_value(k, row["before"], lang)), S["cellr"]),
                *cells,
                Paragraph("<br/>".join(escape(n) for n in row["best"]) or "–", S["cell"]),
            ]
        )
    fixed = [0.25 * width, 0.09 * width, 0.12 * width]
    rest = width - sum(fixed)
    each = rest * 0.66 / len(names)
    table = LongTable(data, colWidths=[*fixed, *([each] * len(names)), rest * 0.34], repeatRows=1)
    table.setStyle(TableStyle(style))
    return table


def _maps(runs: list[Any], S: dict, width: float, lang: str) -> Any:
    """The runs' static maps, two a row (a run without map.html gets the words saying so)."""
    from reportlab.platypus import Paragraph, Table, TableStyle

    gap = 10.0
    w = (width - gap) / 2
    cells = []
    for r in runs:
        caption = Paragraph(escape(f"{r.name} ({r.summary['scenario'].get('title', '')})"), S["caption"])
        mp = r.folder / "map.html"
        if mp.is_file():
            indicator = (r.summary["scenario"].get("map") or {}).get("indicator", DEFAULT_INDICATOR)
            m = pdf_map.from_map_html(mp.read_text(encoding="utf-8"), indicator, w)
            body = pdf_map.drawing(m, w, MAP_HEIGHT, lang, font_size=6.5)
        else:
            body = Paragraph(escape(i18n.text("compare.no_map", lang, folder=str(r.folder))), S["base"])
        cells.append([caption, body])
    if len(cells) % 2:
        cells.append([])
    grid = [cells[i : i + 2] for i in range(0, len(cells), 2)]
    table = Table(grid, colWidths=[w + gap / 2, w + gap / 2])
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), gap / 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 10),
            ]
        )
    )
    return table


def write_pdf(runs: list[Any], rows: list[dict], path: Path, lang: str = i18n.DEFAULT_LANG) -> Path:
    """Write comparison.pdf of `runs` (see `reorg.compare.Run`) with the indicator `rows`
    (`reorg.compare.indicator_rows` in `lang`) to `path`; returns the path."""
    from reportlab import rl_config
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate

    register_fonts()
    S = _styles()
    t = i18n.translator(lang)
    title = compare_page.title(runs, lang)
    version = str(runs[0].summary.get("reorg_version", ""))
    doc = SimpleDocTemplate(
        str(path),
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
        title=title,
        author="reorg",
        creator=f"reorg {version}",
        invariant=1,
        initialFontName=FONT,
    )

    def footer(canvas: Any, document: Any) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 7.5)
        canvas.setFillColorRGB(0.4, 0.4, 0.4)
        canvas.drawString(document.leftMargin, 8 * mm, f"reorg {version} · {title}")
        canvas.drawRightString(A4[0] - document.rightMargin, 8 * mm, str(document.page))
        canvas.restoreState()

    story: list = [Paragraph(escape(title), S["h1"])]
    story += [Paragraph(escape(n), S["notice"]) for n in compare_page.notices(runs, lang)]
    story += [
        Paragraph(escape(t("compare.h_indicators")), S["h2"]),
        Paragraph(escape(i18n.text("pdf_map.best_note", lang)), S["small"]),
        _indicator_table(runs, rows, S, doc.width, lang),
        *plan_pdf(runs, S, doc.width, lang),  # runs with plan/: the plans side by side (workforce/compare.py)
        Paragraph(escape(t("compare.h_maps")), S["h2"]),
        _maps(runs, S, doc.width, lang),
    ]
    a85 = rl_config.useA85
    rl_config.useA85 = 0
    try:
        doc.build(story, onFirstPage=footer, onLaterPages=footer)
    finally:
        rl_config.useA85 = a85
    return Path(path)
