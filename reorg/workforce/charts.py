"""The plan's charts as inline SVG for the HTML pages (plan/report.html, the comparison): lines
over the years (each target's share met; a quantity per run) and stacked bars of cost by kind with
the budgets as dashed lines. No plotting library: deterministic bytes, text kept as text. Titles,
legends and labels come from the caller (message files, indicator table); numbers from `reorg.fmt`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from markupsafe import escape

from .. import fmt, i18n

COLOURS = ("#3182bd", "#e6550d", "#31a354", "#756bb1", "#d6616b", "#8c6d31", "#17becf", "#636363")
FONT = "font-family:'DejaVu Sans',Arial,sans-serif"
WIDTH = 720


def nice_top(v: float) -> float:
    """The axis top for a largest value `v`: 1, 2, 2.5 or 5 x 10^k at or above it."""
    if not math.isfinite(v) or v <= 0:
        return 1.0
    e = 10 ** math.floor(math.log10(v))
    return next(m * e for m in (1, 2, 2.5, 5, 10) if v <= m * e * (1 + 1e-12))


def tick(v: float, lang: str) -> str:
    return fmt.number(v, 0 if abs(v) >= 10 or float(v).is_integer() else 1, lang)


def _legend(items: Sequence[tuple[str, str, bool]], y: float) -> str:
    """Legend rows from (label, colour, dashed) at height `y`, wrapped at the chart's width."""
    out, x, row = [], 60.0, 0
    for label, colour, dashed in items:
        w = 26 + 6.5 * len(label)
        if x + w > WIDTH - 10 and x > 60:
            x, row = 60.0, row + 1
        yy = y + 15 * row
        if dashed:
            out.append(
                f'<line x1="{x:.1f}" y1="{yy - 4:.1f}" x2="{x + 14:.1f}" y2="{yy - 4:.1f}" stroke="{colour}" stroke-width="2" stroke-dasharray="4,3"/>'
            )
        else:
            out.append(f'<rect x="{x:.1f}" y="{yy - 9:.1f}" width="12" height="10" fill="{colour}"/>')
        out.append(f'<text x="{x + 18:.1f}" y="{yy:.1f}" font-size="11">{escape(label)}</text>')
        x += w
    return "".join(out)


def _legend_rows(items: Sequence[tuple[str, str, bool]]) -> int:
    x, rows = 60.0, 1
    for label, _, _ in items:
        w = 26 + 6.5 * len(label)
        if x + w > WIDTH - 10 and x > 60:
            x, rows = 60.0, rows + 1
        x += w
    return rows


def _frame(title: str, years: Sequence[int], top: float, ylabel: str, legend: list, lang: str, *, percent: bool = False):
    """The frame of a chart over `years`: (svg head, x of each year, y of a value, svg tail)."""
    rows = _legend_rows(legend)
    height = 250 + 15 * rows
    x0, y0, w, h = 70.0, height - 45.0 - 15 * rows, WIDTH - 90.0, 180.0
    step = w / max(1, len(years))
    xs = [x0 + step * (i + 0.5) for i in range(len(years))]

    def y_of(v: float) -> float:
        return y0 - h * max(v, 0.0) / top

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" style="{FONT}" role="img">',
        f"<title>{escape(title)}</title>",
        f'<text x="{WIDTH / 2}" y="16" text-anchor="middle" font-size="13" font-weight="bold">{escape(title)}</text>',
    ]
    for k in range(6):
        v = top * k / 5
        y = y0 - h * k / 5
        label = fmt.number(100 * v, 0, lang) if percent else tick(v, lang)
        parts.append(
            f'<line x1="{x0 - 3}" y1="{y:.1f}" x2="{x0 + w}" y2="{y:.1f}" stroke="#e5e5e5"/>'
            f'<text x="{x0 - 5}" y="{y + 4:.1f}" text-anchor="end" font-size="10">{label}</text>'
        )
    parts.append(
        f'<text x="12" y="{y0 - h / 2:.1f}" transform="rotate(-90 12 {y0 - h / 2:.1f})" text-anchor="middle" font-size="11">{escape(ylabel)}</text>'
    )
    for x, year in zip(xs, years):
        parts.append(f'<text x="{x:.1f}" y="{y0 + 15:.1f}" text-anchor="middle" font-size="10.5">{year}</text>')
    tail = (
        f'<line x1="{x0}" y1="{y0}" x2="{x0}" y2="{y0 - h}" stroke="#333"/><line x1="{x0}" y1="{y0}" x2="{x0 + w}" y2="{y0}" stroke="#333"/>'
        + _legend(legend, y0 + 36)
        + "</svg>"
    )
    return "".join(parts), xs, y_of, step, tail


def lines(
    years: Sequence[int],
    series: Mapping[str, Sequence[float | None]],
    *,
    title: str,
    ylabel: str,
    lang: str = i18n.DEFAULT_LANG,
    percent: bool = False,
) -> str:
    """One line with dots per series over the years (`percent`: values are shares of 1, axis 0..100 %)."""
    values = [v for vs in series.values() for v in vs if v is not None and math.isfinite(v)]
    top = 1.0 if percent else nice_top(max(values, default=0.0) * 1.05)
    legend = [(name, COLOURS[i % len(COLOURS)], False) for i, name in enumerate(series)]
    head, xs, y_of, _, tail = _frame(title, years, top, ylabel, legend, lang, percent=percent)
    body = []
    for i, (_name, vs) in enumerate(series.items()):
        colour = COLOURS[i % len(COLOURS)]
        pts = [(x, y_of(v)) for x, v in zip(xs, vs) if v is not None and math.isfinite(v)]
        if len(pts) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
            body.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        body += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>' for x, y in pts]
    return head + "".join(body) + tail


def stacked_bars(
    years: Sequence[int],
    parts: Mapping[str, Sequence[float]],
    *,
    limits: Mapping[str, float] | None = None,
    title: str,
    ylabel: str,
    lang: str = i18n.DEFAULT_LANG,
) -> str:
    """Bars per year stacked by kind (`parts`: label -> value per year), each bar's total above it,
    and dashed horizontal lines at `limits` (label -> value; the budgets)."""
    limits = limits or {}
    totals = [sum(float(vs[t]) for vs in parts.values()) for t in range(len(years))]
    top = nice_top(max([*totals, *limits.values(), 0.0]) * 1.08)
    legend = [(name, COLOURS[i % len(COLOURS)], False) for i, name in enumerate(parts)]
    legend += [(name, COLOURS[(len(parts) + i) % len(COLOURS)], True) for i, name in enumerate(limits)]
    head, xs, y_of, step, tail = _frame(title, years, top, ylabel, legend, lang)
    body = []
    bw = step * 0.55
    for t, x in enumerate(xs):
        base = 0.0
        for i, vs in enumerate(parts.values()):
            v = float(vs[t])
            if v > 0:
                body.append(
                    f'<rect x="{x - bw / 2:.1f}" y="{y_of(base + v):.1f}" width="{bw:.1f}" height="{y_of(base) - y_of(base + v):.1f}" fill="{COLOURS[i % len(COLOURS)]}"/>'
                )
            base += v
        body.append(f'<text x="{x:.1f}" y="{y_of(base) - 4:.1f}" text-anchor="middle" font-size="9.5">{tick(base, lang)}</text>')
    x_left, x_right = xs[0] - step / 2 if xs else 70.0, xs[-1] + step / 2 if xs else WIDTH - 20.0
    for i, value in enumerate(limits.values()):
        colour = COLOURS[(len(parts) + i) % len(COLOURS)]
        y = y_of(value)
        body.append(
            f'<line x1="{x_left:.1f}" y1="{y:.1f}" x2="{x_right:.1f}" y2="{y:.1f}" stroke="{colour}" stroke-width="2" stroke-dasharray="6,4"/>'
        )
    return head + "".join(body) + tail
