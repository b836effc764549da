"""National report: report.md and report.html of a national run, from its summary.json."""
from __future__ import annotations

import math

from .names import short_name


def _finite(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)



_ROW_INDICATORS = (  # national table: key, label, format
    ("pop_minutes_main_station", "Mean minutes to one's main station", "min"),
    ("pop_minutes_nearest_facility", "Mean minutes to the nearest station or point", "min"),
    ("pop_minutes_regional_centre", "Mean minutes to one's regional centre", "min"),
    ("pop_share_main_station_within_30min", "Residents within 30 min of their main station", "pct"),
    ("pop_share_main_station_within_60min", "Residents within 60 min of their main station", "pct"),
    ("pop_share_within_30min", "Residents within 30 min of a station or point", "pct"),
    ("pop_share_centre_within_60min", "Residents within 60 min of their centre", "pct"),
    ("open_stations", "Open stations and points", "int"),
    ("main_stations", "Main stations", "int"),
    ("main_stations_with_doctor_share", "Main stations with at least one doctor", "pct"),
    ("stations_meeting_norm_share", "Open sites meeting the Circular 03/2023 norm", "pct"),
    ("staff_total", "Station staff", "int"),
    ("staff_norm_total", "Staff required by the norm", "int"),
    ("staff_shortfall_total", "Staff shortfall against the norm", "int"),
    ("doctor_shortfall_main_stations", "Doctors missing at main stations (vs minimum)", "int"),
    ("doctors_per_10k", "Station doctors per 10,000 residents", "2"),
    ("population_per_health_worker", "Residents per station health worker", "int"),
    ("centres_over_capacity", "Regional centres over capacity", "int"),
)
_COUNT_LABELS = (("old_communes", "Old communes (before 1 July 2025)"), ("new_communes", "New communes"),
                 ("stations", "Stations (incl. special-zone and new sites)"), ("main_stations", "Main stations"),
                 ("point_stations", "Station points"), ("closed_stations", "Closed stations"),
                 ("regional_centres", "Regional centres"))


def _fmt(v, kind: str = "int") -> str:
    if not _finite(v):
        return "–"
    if kind == "pct":
        return f"{100 * v:.1f} %"
    if kind == "min":
        return f"{v:.1f}"
    if kind == "2":
        return f"{v:.2f}"
    return f"{round(v):,}"


def _notices(summary: dict) -> list[str]:
    from .report import SYNTHETIC_CENTRES_NOTICE, SYNTHETIC_PACK_NOTICE, SYNTHETIC_ROSTER_NOTICE

    out = []
    if summary["synthetic_pack"]:
        out.append(SYNTHETIC_PACK_NOTICE)
    if summary["synthetic_roster"]:
        out.append(SYNTHETIC_ROSTER_NOTICE)
    if summary["synthetic_centres"]:
        out.append(SYNTHETIC_CENTRES_NOTICE)
    return out


def _status_line(summary: dict) -> str:
    nat = summary["national"]
    line = f"{nat['done']} of {nat['provinces']} provinces done"
    if summary["failed"]:
        line += " (failed: " + ", ".join(f"{f['code']} {f['name'] or '?'}" for f in summary["failed"]) + \
                "); national totals cover the provinces done only"
    return line + "."


def _province_columns():
    """(header, function of a province record -> text)."""
    def ind(per, key, kind):
        return lambda p: _fmt(p["indicators"][per].get(key), kind) if p["status"] == "done" else "–"

    def cnt(key):
        return lambda p: _fmt(p["counts"].get(key)) if p["status"] == "done" else "–"

    return [
        ("code", lambda p: p["code"]),
        ("province", lambda p: p["name"] or "?"),
        ("status", lambda p: p["status"]),
        ("old communes", cnt("old_communes")),
        ("new communes", cnt("new_communes")),
        ("main stations", cnt("main_stations")),
        ("points", cnt("point_stations")),
        ("closed", cnt("closed_stations")),
        ("centres", cnt("regional_centres")),
        ("population", lambda p: _fmt(p.get("population")) if p["status"] == "done" else "–"),
        ("min. to main station, before", ind("before", "pop_minutes_main_station", "min")),
        ("min. to main station, after", ind("after", "pop_minutes_main_station", "min")),
        ("min. to nearest site, after", ind("after", "pop_minutes_nearest_facility", "min")),
        ("≤ 30 min of main station, before", ind("before", "pop_share_main_station_within_30min", "pct")),
        ("≤ 30 min of main station, after", ind("after", "pop_share_main_station_within_30min", "pct")),
        ("staff", lambda p: _fmt(p["staff"]["after"]["total"]) if p["status"] == "done" else "–"),
        ("staff shortfall, after", ind("after", "staff_shortfall_total", "int")),
    ]


def error_line(failure: dict) -> str:
    """One line of a failure's message: the first problem of bad input, the last line of a traceback."""
    lines = [ln for ln in (failure.get("error") or "unknown error").strip().splitlines() if ln.strip()]
    if not lines:
        return "unknown error"
    return lines[0] if failure.get("exit_code") == 2 else lines[-1]


def _md_head(summary: dict) -> list[str]:
    sc, nat = summary["scenario"], summary["national"]
    lines = [f"# {sc['title']}", ""]
    lines += [f"> **{n}**" for n in _notices(summary)]
    lines += ["", f"National run of scenario `{sc['name']}` ({sc['source']}), reorg {summary['reorg_version']}: {_status_line(summary)}",
              "Each province is an ordinary scenario folder under `provinces/`; `index.html` is the country map.", "",
              "## National totals", "", "| | count |", "|---|---:|"]
    lines += [f"| {label} | {_fmt(nat['counts'].get(k))} |" for k, label in _COUNT_LABELS]
    lines += [f"| Population | {_fmt(nat['population'])} |", "", "| indicator | before | after |", "|---|---:|---:|"]
    for k, label, kind in _ROW_INDICATORS:
        lines.append(f"| {label} | {_fmt(nat['indicators']['before'].get(k), kind)} | {_fmt(nat['indicators']['after'].get(k), kind)} |")
    lines += ["", "| staff by cadre | before | after |", "|---|---:|---:|"]
    for c in nat["staff"]["before"]:
        lines.append(f"| {c} | {_fmt(nat['staff']['before'][c])} | {_fmt(nat['staff']['after'][c])} |")
    return lines + [""]


def _md_provinces(summary: dict) -> list[str]:
    cols = _province_columns()
    lines = ["## Provinces", "", "| " + " | ".join(h for h, _ in cols) + " | folder |",
             "|" + "---|" * 3 + "---:|" * (len(cols) - 3) + "---|"]
    for p in summary["provinces"]:
        lines.append("| " + " | ".join(f(p) for _, f in cols) + f" | {p['folder'] or '–'} |")
    return lines + [""]


def _md_tail(summary: dict) -> list[str]:
    lines = []
    if summary["failed"]:
        lines += ["## Failed provinces", "", "The full messages are in `summary.json` `failed`.", ""]
        lines += [f"- **{f['code']} {f['name'] or '?'}** (exit code {f['exit_code']}): {error_line(f)}" for f in summary["failed"]]
        lines.append("")
    lines += ["## Method", "",
              "Mean minutes and population shares are weighted by each province's population; the doctor share of main "
              "stations by main stations, the share of sites meeting the norm by open sites; staff and shortfalls are summed. "
              "Gini coefficients and minutes by terrain are in each province's own report.", "",
              "Seconds, memory and the worker processes of this run are in `run.json`.", ""]
    return lines


def report_markdown(summary: dict) -> str:
    return "\n".join(_md_head(summary) + _md_provinces(summary) + _md_tail(summary))


def _paired_hbars(rows: list[tuple[str, float, float]], *, title: str, xlabel: str, width: int = 760) -> str:
    """Horizontal bars of two values per label (before, after), as inline SVG (reorg.charts style)."""
    import html as H

    from . import charts as CH

    row = 22
    height = 70 + row * len(rows)
    vals = [v for _, a, b in rows for v in (a, b) if _finite(v)]
    xmax = CH._nice_max(max(vals) if vals else 1.0)
    x0, w = 170, width - 210
    body = ""
    for k in range(6):
        x = x0 + w * k / 5
        body += (f'<line x1="{x:.1f}" y1="24" x2="{x:.1f}" y2="{height - 40}" stroke="#e5e5e5"/>'
                 f'<text x="{x:.1f}" y="{height - 28}" text-anchor="middle" font-size="10">{CH._fmt(xmax * k / 5)}</text>')
    for i, (label, before, after) in enumerate(rows):
        y = 28 + i * row
        body += f'<text x="{x0 - 5}" y="{y + 13}" text-anchor="end" font-size="10.5">{H.escape(label)}</text>'
        for j, (v, colour) in enumerate(((before, CH.PALETTE[0]), (after, CH.PALETTE[1]))):
            if _finite(v):
                bw = w * max(v, 0) / xmax
                body += (f'<rect x="{x0}" y="{y + 2 + 9 * j}" width="{bw:.1f}" height="8" fill="{colour}"/>'
                         f'<text x="{x0 + bw + 3:.1f}" y="{y + 9 + 9 * j}" font-size="8.5">{v:.1f}</text>')
    body += f'<text x="{x0 + w / 2}" y="{height - 14}" text-anchor="middle" font-size="11">{H.escape(xlabel)}</text>'
    return CH._frame(width, height, title, body, [("before", CH.PALETTE[0]), ("after", CH.PALETTE[1])])


def report_html(summary: dict) -> str:
    import html as H

    from .report import _md_to_html

    sc = summary["scenario"]
    cols = _province_columns()
    table = ["<table><thead><tr>" + "".join(f"<th>{H.escape(h)}</th>" for h, _ in cols) + "<th>map</th><th>report</th></tr></thead><tbody>"]
    for p in summary["provinces"]:
        cells = "".join(f"<td>{H.escape(f(p))}</td>" for _, f in cols)
        if p["folder"]:
            links = f'<td><a href="{H.escape(p["folder"])}/map.html">map</a></td><td><a href="{H.escape(p["folder"])}/report.html">report</a></td>'
        else:
            links = "<td>–</td><td>–</td>"
        cls = "" if p["status"] == "done" else " class='failed'"
        table.append(f"<tr{cls}>{cells}{links}</tr>")
    table.append("</tbody></table>")
    done = [p for p in summary["provinces"] if p["status"] == "done"]
    rows = sorted(((f"{p['code']} {short_name(p['name'])}", p["indicators"]["before"].get("pop_minutes_main_station"),
                    p["indicators"]["after"].get("pop_minutes_main_station")) for p in done),
                  key=lambda r: (-(r[2] if _finite(r[2]) else -1), r[0]))
    chart = _paired_hbars(rows, title="Mean minutes to one's main station, by province", xlabel="population-weighted mean minutes")
    body = (_md_to_html("\n".join(_md_head(summary))) + '\n<p><a href="index.html">Country map</a></p>\n<h2>Provinces</h2>\n'
            + "\n".join(table) + "\n<h2>Chart</h2><figure>" + chart + "</figure>\n" + _md_to_html("\n".join(_md_tail(summary))))
    css = ("body{font-family:'DejaVu Sans',Arial,sans-serif;max-width:1400px;margin:2em auto;padding:0 1em;color:#222}"
           "table{border-collapse:collapse;margin:0.5em 0 1.5em;font-size:0.85em}td,th{border:1px solid #ccc;padding:3px 6px}"
           "th{background:#f0f0f0}td:not(:nth-child(2)):not(:first-child){text-align:right}tr.failed td{background:#fde0dd}"
           ".notice{background:#fff3cd;border:1px solid #e0c36c;padding:0.6em 1em;font-weight:bold}figure{margin:1em 0}"
           "svg{max-width:100%;height:auto}h2{border-bottom:2px solid #3182bd;padding-bottom:2px}")
    doc = (f"<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'><title>{H.escape(sc['title'])}</title>"
           f"<style>{css}</style></head><body>\n{body}\n</body></html>\n")
    return doc
