"""Small inline SVG charts for the HTML reports: no plotting library, deterministic bytes,
text kept as text (Vietnamese names stay selectable and render with the page's font).
Titles and labels are given by the caller (from the message files); numbers are written by
`reorg.fmt` in the chart's language."""

from __future__ import annotations

import html
import math
from typing import TypeGuard

import numpy as np

from . import fmt, i18n

PALETTE = ("#9ecae1", "#de2d26", "#3182bd", "#31a354", "#756bb1", "#fd8d3c")
FONT = "font-family:'DejaVu Sans',Arial,sans-serif"


def _nice_max(v: float) -> float:
    if v <= 0 or not math.isfinite(v):
        return 1.0
    e = 10 ** math.floor(math.log10(v))
    for m in (1, 2, 2.5, 5, 10):
        if v <= m * e:
            return m * e
    return 10 * e


def _fmt(v: float, lang: str) -> str:
    """A tick or bar value: whole from 10 up (or when whole), else one decimal."""
    return fmt.number(v, 0 if abs(v) >= 10 or float(v).is_integer() else 1, lang)


def _frame(width, height, title, body, legend=None) -> str:
    leg = ""
    if legend:
        x = 60
        for _k, (name, colour) in enumerate(legend):
            leg += f'<rect x="{x}" y="{height - 14}" width="10" height="10" fill="{colour}"/><text x="{x + 14}" y="{height - 5}" font-size="11">{html.escape(name)}</text>'
            x += 24 + 7 * len(name)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" style="{FONT}" role="img">'
        f'<title>{html.escape(title)}</title><text x="{width / 2}" y="16" text-anchor="middle" font-size="13" font-weight="bold">{html.escape(title)}</text>'
        f"{body}{leg}</svg>"
    )


def _axes(x0, y0, w, h, ymax, lang: str, yticks=5, ylabel="") -> str:
    out = f'<line x1="{x0}" y1="{y0}" x2="{x0}" y2="{y0 - h}" stroke="#333"/><line x1="{x0}" y1="{y0}" x2="{x0 + w}" y2="{y0}" stroke="#333"/>'
    for k in range(yticks + 1):
        v = ymax * k / yticks
        y = y0 - h * k / yticks
        out += f'<line x1="{x0 - 3}" y1="{y:.1f}" x2="{x0 + w}" y2="{y:.1f}" stroke="#e5e5e5"/><text x="{x0 - 5}" y="{y + 4:.1f}" text-anchor="end" font-size="10">{_fmt(v, lang)}</text>'
    if ylabel:
        out += f'<text x="12" y="{y0 - h / 2:.1f}" transform="rotate(-90 12 {y0 - h / 2:.1f})" text-anchor="middle" font-size="11">{html.escape(ylabel)}</text>'
    return out


def histogram(
    series: dict[str, np.ndarray],
    weights: np.ndarray,
    *,
    bins: int = 20,
    title: str,
    xlabel: str,
    ylabel: str,
    width: int = 720,
    height: int = 300,
    lang: str = i18n.DEFAULT_LANG,
) -> str:
    """Weighted histograms of several series on the same bins (side by side bars)."""
    allv = np.concatenate([np.asarray(v, dtype=float) for v in series.values()])
    allv = allv[np.isfinite(allv)]
    hi = float(np.percentile(allv, 99)) if len(allv) else 1.0
    hi = _nice_max(hi)
    edges = np.linspace(0, hi, bins + 1)
    counts = {k: np.histogram(np.clip(np.asarray(v, float), 0, hi), bins=edges, weights=weights)[0] for k, v in series.items()}
    ymax = _nice_max(max(float(c.max()) for c in counts.values()) if counts else 1.0)
    x0, y0, w, h = 70, height - 50, width - 90, height - 85
    body = _axes(x0, y0, w, h, ymax, lang, ylabel=ylabel)
    bw = w / bins
    n = len(series)
    for s, (_k, c) in enumerate(counts.items()):
        for b in range(bins):
            bh = h * c[b] / ymax
            body += f'<rect x="{x0 + b * bw + s * bw / n + 0.5:.1f}" y="{y0 - bh:.1f}" width="{bw / n - 1:.1f}" height="{bh:.1f}" fill="{PALETTE[s % len(PALETTE)]}"/>'
    for b in range(0, bins + 1, max(1, bins // 5)):
        body += f'<text x="{x0 + b * bw:.1f}" y="{y0 + 14}" text-anchor="middle" font-size="10">{_fmt(edges[b], lang)}</text>'
    body += f'<text x="{x0 + w / 2}" y="{y0 + 30}" text-anchor="middle" font-size="11">{html.escape(i18n.text("report.chart_last_bar", lang, label=xlabel, value=_fmt(hi, lang)))}</text>'
    return _frame(width, height, title, body, [(k, PALETTE[i % len(PALETTE)]) for i, k in enumerate(series)])


def grouped_bars(
    categories: list[str],
    series: dict[str, list[float]],
    *,
    title: str,
    ylabel: str = "",
    width: int = 720,
    height: int = 280,
    lang: str = i18n.DEFAULT_LANG,
) -> str:
    """Bars of several series per category, each with its value."""
    ymax = _nice_max(max((max(v) for v in series.values()), default=1.0))
    x0, y0, w, h = 70, height - 50, width - 90, height - 85
    body = _axes(x0, y0, w, h, ymax, lang, ylabel=ylabel)
    gw = w / max(1, len(categories))
    n = len(series)
    for s, (_k, vals) in enumerate(series.items()):
        for i, v in enumerate(vals):
            bh = h * v / ymax
            x = x0 + i * gw + 0.1 * gw + s * 0.8 * gw / n
            body += (
                f'<rect x="{x:.1f}" y="{y0 - bh:.1f}" width="{0.8 * gw / n - 1:.1f}" height="{bh:.1f}" fill="{PALETTE[(s + 2) % len(PALETTE)] if n == 1 else PALETTE[[0, 2][s % 2]]}"/>'
                f'<text x="{x + 0.4 * gw / n:.1f}" y="{y0 - bh - 3:.1f}" text-anchor="middle" font-size="9">{_fmt(v, lang)}</text>'
            )
    for i, c in enumerate(categories):  # "Nurse (điều dưỡng)": the part in brackets on a second line
        first, _, rest = c.partition(" (")
        for j, line in enumerate([first] + ([f"({rest}"] if rest else [])):
            body += f'<text x="{x0 + (i + 0.5) * gw:.1f}" y="{y0 + 14 + 12 * j}" text-anchor="middle" font-size="10">{html.escape(line)}</text>'
    return _frame(width, height, title, body, [(k, PALETTE[[0, 2][s % 2]]) for s, k in enumerate(series)])


def hbars(
    labels: list[str],
    values: list[float],
    *,
    title: str,
    xlabel: str,
    threshold: float | None = None,
    width: int = 720,
    lang: str = i18n.DEFAULT_LANG,
) -> str:
    """Horizontal bars, red above `threshold` (e.g. 100 % of capacity), green below."""
    row = 18
    height = 60 + row * len(labels)
    xmax = _nice_max(max(list(values) + ([threshold * 1.1] if threshold else [])) if values else 1.0)
    x0, w = 240, width - 260
    body = ""
    for i, (lab, v) in enumerate(zip(labels, values)):
        y = 28 + i * row
        colour = "#de2d26" if threshold is not None and v > threshold else "#31a354"
        body += (
            f'<text x="{x0 - 5}" y="{y + 12}" text-anchor="end" font-size="10">{html.escape(lab)}</text>'
            f'<rect x="{x0}" y="{y + 2}" width="{w * max(v, 0) / xmax:.1f}" height="{row - 5}" fill="{colour}"/>'
            f'<text x="{x0 + w * max(v, 0) / xmax + 3:.1f}" y="{y + 12}" font-size="9">{_fmt(v, lang)}</text>'
        )
    if threshold is not None:
        tx = x0 + w * threshold / xmax
        body += f'<line x1="{tx:.1f}" y1="24" x2="{tx:.1f}" y2="{height - 26}" stroke="#000" stroke-dasharray="3,2"/>'
    body += f'<text x="{x0 + w / 2}" y="{height - 8}" text-anchor="middle" font-size="11">{html.escape(xlabel)}</text>'
    return _frame(width, height, title, body)


def _finite(v: float | None) -> TypeGuard[float]:
    """`v` is a finite number."""
    return isinstance(v, (int, float)) and math.isfinite(v)


def paired_hbars(
    rows: list[tuple[str, float | None, float | None]],
    *,
    title: str,
    xlabel: str,
    legend: tuple[str, str],
    width: int = 760,
    lang: str = i18n.DEFAULT_LANG,
) -> str:
    """Horizontal bars of two values per label (before, after; legend: their names), with their values."""
    row = 22
    height = 70 + row * len(rows)
    vals = [v for _, a, b in rows for v in (a, b) if _finite(v)]
    xmax = _nice_max(max(vals) if vals else 1.0)
    x0, w = 170, width - 210
    body = ""
    for k in range(6):
        x = x0 + w * k / 5
        body += (
            f'<line x1="{x:.1f}" y1="24" x2="{x:.1f}" y2="{height - 40}" stroke="#e5e5e5"/>'
            f'<text x="{x:.1f}" y="{height - 28}" text-anchor="middle" font-size="10">{_fmt(xmax * k / 5, lang)}</text>'
        )
    for i, (label, before, after) in enumerate(rows):
        y = 28 + i * row
        body += f'<text x="{x0 - 5}" y="{y + 13}" text-anchor="end" font-size="10.5">{html.escape(label)}</text>'
        for j, (v, colour) in enumerate(((before, PALETTE[0]), (after, PALETTE[1]))):
            if _finite(v):
                bw = w * max(v, 0) / xmax
                body += (
                    f'<rect x="{x0}" y="{y + 2 + 9 * j}" width="{bw:.1f}" height="8" fill="{colour}"/>'
                    f'<text x="{x0 + bw + 3:.1f}" y="{y + 9 + 9 * j}" font-size="8.5">{fmt.number(v, 1, lang)}</text>'
                )
    body += f'<text x="{x0 + w / 2}" y="{height - 14}" text-anchor="middle" font-size="11">{html.escape(xlabel)}</text>'
    return _frame(width, height, title, body, [(legend[0], PALETTE[0]), (legend[1], PALETTE[1])])
