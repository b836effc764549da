"""The plan's charts for report.pdf (and the comparison's PDF) as reportlab vector drawings (no raster; text stays text, in
DejaVu Sans): each target's share met year by year (lines), and the cost per year stacked by kind
with the budgets as dashed lines. The same content as the SVG charts of plan/report.html
(charts.py); titles and labels from the caller, numbers from `reorg.fmt`. Also `table`, the
plan pages' tables (every cell escaped for reportlab's paragraph markup).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any
from xml.sax.saxutils import escape

from .. import fmt, i18n
from ..pdf_charts import FONT, FONT_BOLD
from .charts import COLOURS, nice_top, tick

INK = "#333333"
GRID = "#e5e5e5"


def _colour(c: str) -> Any:
    from reportlab.lib import colors

    return colors.HexColor(c)


def _text(d: Any, x: float, y: float, text: str, size: float = 7.5, anchor: str = "start", bold: bool = False) -> None:
    from reportlab.graphics.shapes import String

    d.add(String(x, y, text, fontName=FONT_BOLD if bold else FONT, fontSize=size, fillColor=_colour(INK), textAnchor=anchor))


def _legend(d: Any, items: Sequence[tuple[str, str, bool]], width: float, top: float) -> float:
    """Legend rows from (label, colour, dashed) under `top`; returns the height used."""
    from reportlab.graphics.shapes import Line, Rect
    from reportlab.pdfbase.pdfmetrics import stringWidth

    x, y, size = 40.0, top, 7.5
    for label, colour, dashed in items:
        w = 18 + stringWidth(label, FONT, size) + 12
        if x + w > width and x > 40:
            x, y = 40.0, y - 11
        if dashed:
            d.add(Line(x, y + 2.5, x + 12, y + 2.5, strokeColor=_colour(colour), strokeWidth=1.5, strokeDashArray=[3, 2]))
        else:
            d.add(Rect(x, y, 10, 7, fillColor=_colour(colour), strokeColor=None))
        _text(d, x + 15, y, label, size)
        x += w
    return top - y + 11


def _frame(
    title: str, years: Sequence[int], top: float, ylabel: str, legend: list, width: float, lang: str, percent: bool
) -> tuple[Any, list[float], Any, float]:
    """A drawing with title, legend, value axis and years: (drawing, x of each year, y of a value, step)."""
    from reportlab.graphics.shapes import Drawing, Group, Line, String

    height = 230.0
    d = Drawing(width, height)
    _text(d, width / 2, height - 12, title, 10.5, anchor="middle", bold=True)
    used = _legend(d, legend, width, height - 28)
    x0, y0 = 52.0, 22.0
    w, h = width - x0 - 8, height - 28 - used - y0 - 4
    for k in range(6):
        v = top * k / 5
        y = y0 + h * k / 5
        d.add(Line(x0 - 3, y, x0 + w, y, strokeColor=_colour(GRID), strokeWidth=0.5))
        _text(d, x0 - 5, y - 2.6, fmt.number(100 * v, 0, lang) if percent else tick(v, lang), 7.5, anchor="end")
    label = String(0, 0, ylabel, fontName=FONT, fontSize=8, fillColor=_colour(INK), textAnchor="middle")
    d.add(Group(label, transform=(0, 1, -1, 0, 10, y0 + h / 2)))
    step = w / max(1, len(years))
    xs = [x0 + step * (i + 0.5) for i in range(len(years))]
    for x, year in zip(xs, years):
        _text(d, x, y0 - 11, str(year), 7.5, anchor="middle")
    d.add(Line(x0, y0, x0, y0 + h, strokeColor=_colour(INK), strokeWidth=0.7))
    d.add(Line(x0, y0, x0 + w, y0, strokeColor=_colour(INK), strokeWidth=0.7))

    def y_of(v: float) -> float:
        return y0 + h * max(v, 0.0) / top

    return d, xs, y_of, step


def lines(
    years: Sequence[int],
    series: Mapping[str, Sequence[float | None]],
    *,
    title: str,
    ylabel: str,
    width: float,
    lang: str = i18n.DEFAULT_LANG,
    percent: bool = False,
) -> Any:
    """One line with dots per series over the years."""
    from reportlab.graphics.shapes import Circle, PolyLine

    values = [v for vs in series.values() for v in vs if v is not None and math.isfinite(v)]
    top = 1.0 if percent else nice_top(max(values, default=0.0) * 1.05)
    legend = [(name, COLOURS[i % len(COLOURS)], False) for i, name in enumerate(series)]
    d, xs, y_of, _ = _frame(title, years, top, ylabel, legend, width, lang, percent)
    for i, vs in enumerate(series.values()):
        colour = _colour(COLOURS[i % len(COLOURS)])
        pts = [(x, y_of(v)) for x, v in zip(xs, vs) if v is not None and math.isfinite(v)]
        if len(pts) > 1:
            d.add(PolyLine([c for p in pts for c in p], strokeColor=colour, strokeWidth=1.5))
        for x, y in pts:
            d.add(Circle(x, y, 2.2, fillColor=colour, strokeColor=None))
    return d


def stacked_bars(
    years: Sequence[int],
    parts: Mapping[str, Sequence[float]],
    *,
    limits: Mapping[str, float],
    title: str,
    ylabel: str,
    width: float,
    lang: str = i18n.DEFAULT_LANG,
) -> Any:
    """Bars per year stacked by kind, each total above its bar, `limits` as dashed lines."""
    from reportlab.graphics.shapes import Line, Rect

    totals = [sum(float(vs[t]) for vs in parts.values()) for t in range(len(years))]
    top = nice_top(max([*totals, *limits.values(), 0.0]) * 1.08)
    legend = [(name, COLOURS[i % len(COLOURS)], False) for i, name in enumerate(parts)]
    legend += [(name, COLOURS[(len(parts) + i) % len(COLOURS)], True) for i, name in enumerate(limits)]
    d, xs, y_of, step = _frame(title, years, top, ylabel, legend, width, lang, False)
    bw = step * 0.55
    for t, x in enumerate(xs):
        base = 0.0
        for i, vs in enumerate(parts.values()):
            v = float(vs[t])
            if v > 0:
                d.add(
                    Rect(
                        x - bw / 2,
                        y_of(base),
                        bw,
                        y_of(base + v) - y_of(base),
                        fillColor=_colour(COLOURS[i % len(COLOURS)]),
                        strokeColor=None,
                    )
                )
            base += v
        _text(d, x, y_of(base) + 2.5, tick(base, lang), 7, anchor="middle")
    if xs:
        for i, v in enumerate(limits.values()):
            colour = _colour(COLOURS[(len(parts) + i) % len(COLOURS)])
            d.add(
                Line(
                    xs[0] - step / 2,
                    y_of(v),
                    xs[-1] + step / 2,
                    y_of(v),
                    strokeColor=colour,
                    strokeWidth=1.2,
                    strokeDashArray=[5, 3],
                )
            )
    return d


def esc(x: Any) -> str:
    return escape("" if x is None else str(x))


def table(S: dict, head: list[str], rows: list[list[str]], widths: list[float], right: set[int]) -> Any:
    """A table whose header repeats on every page; every cell a wrapped paragraph (escaped here)."""
    from reportlab.lib import colors
    from reportlab.platypus import LongTable, Paragraph, TableStyle

    data = [[Paragraph(esc(h), S.get("headr", S["head"]) if k in right else S["head"]) for k, h in enumerate(head)]]
    data += [[Paragraph(esc(c), S["cellr"] if k in right else S["cell"]) for k, c in enumerate(r)] for r in rows]
    t = LongTable(data, colWidths=widths, repeatRows=1)
    style = [
        ("FONT", (0, 1), (-1, -1), FONT, 8, 9.8),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#bbbbbb")),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#dce6f2")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
        ("LEFTPADDING", (0, 0), (-1, -1), 3.5),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3.5),
    ]
    style += [("BACKGROUND", (0, i), (-1, i), colors.HexColor("#f5f7fa")) for i in range(2, len(data), 2)]
    t.setStyle(TableStyle(style))
    return t
