"""National index map: the provinces coloured by an indicator, each linking its own map."""
from __future__ import annotations

import json
import math
import re

import numpy as np
import shapely

from . import __version__
from . import fmt, indicators
from .national_report import ROW_KEYS, error_line


def _finite(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _fmt(v, kind: str = "int") -> str:
    """A number of the popups: a share (pct), minutes (min) or a count (int), by reorg.fmt."""
    return fmt.share(v) if kind == "pct" else fmt.number(v, 1) if kind == "min" else fmt.count(v)


_KIND = {"share": "pct", "minutes": "min"}
_ROW_INDICATORS = tuple((k, indicators.get(k).label("en"), _KIND.get(indicators.get(k).format, "int")) for k in ROW_KEYS)

#: indicators the index map can be coloured by (a value v falls in class bisect_right(breaks, v)); the
#: same classes before and after, so the two maps compare; colours are reorg.render's ColorBrewer ones
_MINUTE_BREAKS = [2.5, 5, 7.5, 10, 15, 20, 30]
_SHARE_BREAKS = [0.6, 0.7, 0.8, 0.9, 0.95, 0.99]
MAP_INDICATORS = {
    "pop_minutes_main_station": dict(label="Mean minutes to one's main station", unit="min", digits=1,
                                     breaks=_MINUTE_BREAKS, colours="_YL_OR_RD_8"),
    "pop_minutes_nearest_facility": dict(label="Mean minutes to the nearest station or point", unit="min", digits=1,
                                         breaks=_MINUTE_BREAKS, colours="_YL_OR_RD_8"),
    "pop_minutes_regional_centre": dict(label="Mean minutes to one's regional centre", unit="min", digits=1,
                                        breaks=[15, 20, 25, 30, 40, 50, 60], colours="_YL_OR_RD_8"),
    "pop_share_main_station_within_30min": dict(label="Residents within 30 min of their main station", unit="%", digits=1,
                                                breaks=_SHARE_BREAKS, colours="_YL_GN_BU_7", percent=True),
    "pop_share_within_30min": dict(label="Residents within 30 min of a station or point", unit="%", digits=1,
                                   breaks=_SHARE_BREAKS, colours="_YL_GN_BU_7", percent=True),
}
DEFAULT_MAP_INDICATOR = "pop_minutes_main_station"
MAP_PERIODS = ("after", "before")

#: display simplification of the country map: tolerance (degrees, about 1 km), islets below this
#: area (square degrees, about 0.25 km²) left out, coordinates rounded to 3 decimals (about 100 m)
MAP_TOLERANCE = 0.01
MAP_MIN_PART_AREA = 2e-5
MAP_DECIMALS = 3



def _map_class(value, spec) -> int | None:
    import bisect

    return None if not _finite(value) else bisect.bisect_right(spec["breaks"], float(value))


def _map_value(value, spec) -> str:
    if not _finite(value):
        return "–"
    return f"{100 * value:.{spec['digits']}f} %" if spec.get("percent") else f"{value:.{spec['digits']}f} {spec['unit']}"


def _map_class_labels(spec) -> list[str]:
    f = (lambda v: f"{100 * v:g} %") if spec.get("percent") else (lambda v: f"{v:g}")
    b = spec["breaks"]
    return [f"< {f(b[0])}"] + [f"{f(lo)} – {f(hi)}" for lo, hi in zip(b[:-1], b[1:])] + [f"≥ {f(b[-1])}"]


def display_geometry(geoms) -> np.ndarray:
    """Provinces for a country overview: islets below MAP_MIN_PART_AREA left out (the largest part
    of a province is always kept), coverage-simplified (shared borders stay shared), rounded."""
    geoms = np.asarray(geoms, dtype=object)
    parts, idx = shapely.get_parts(geoms, return_index=True)
    area = shapely.area(parts)
    kept = []
    for i in range(len(geoms)):
        sel = np.flatnonzero(idx == i)
        if not len(sel):
            kept.append(None)
            continue
        keep = sel[area[sel] >= MAP_MIN_PART_AREA]
        if not len(keep):
            keep = sel[[int(np.argmax(area[sel]))]]
        kept.append(shapely.multipolygons(parts[keep]))
    out = np.array(kept, dtype=object)
    ok = np.array([g is not None for g in out])
    if ok.any():
        out[ok] = shapely.coverage_simplify(out[ok], tolerance=MAP_TOLERANCE)
        out[ok] = shapely.transform(out[ok], lambda c: np.rint(c * 10 ** MAP_DECIMALS) / 10 ** MAP_DECIMALS)
    return out


def _province_popup(p: dict, spec_key: str, period: str) -> str:
    from .render import _esc, _table

    sub = f"Province {_esc(p['code'])} (after 1 July 2025)"
    if p["status"] != "done":
        return (f'<div class="reorg-pop"><h3>{_esc(p["name"] or p["code"])}</h3><div class="sub">{sub}</div>'
                f'<p class="neg">This province failed: {_esc(error_line(p))}</p></div>')
    c, b, a = p["counts"], p["indicators"]["before"], p["indicators"]["after"]
    counts = _table([
        ("Old → new communes", f"{_fmt(c['old_communes'])} → <b>{_fmt(c['new_communes'])}</b>"),
        ("Main stations", _fmt(c["main_stations"])),
        ("Station points", _fmt(c["point_stations"])),
        ("Closed stations", _fmt(c["closed_stations"])),
        ("Regional centres", _fmt(c["regional_centres"])),
        ("Population", _fmt(p["population"])),
    ])
    rows = []
    for key, label, kind in _ROW_INDICATORS[:4] + (("staff_total", "Station staff", "int"),
                                                    ("staff_shortfall_total", "Staff shortfall vs norm", "int"),
                                                    ("main_stations_with_doctor_share", "Main stations with a doctor", "pct")):
        mark = " <b>◀</b>" if key == spec_key else ""
        rows.append((label, _fmt(b.get(key), kind), _fmt(a.get(key), kind) + mark))
    ind = _table(rows, head=("Indicator", "Before", "After"))
    folder = _esc(p["folder"])
    links = (f'<p style="margin:6px 0 0 0"><a href="{folder}/map.html"><b>Open the province map</b></a>'
             f' · <a href="{folder}/report.html">report</a></p>')
    return f'<div class="reorg-pop"><h3>{_esc(p["name"])}</h3><div class="sub">{sub}</div>{counts}{ind}{links}</div>'


def render_index(summary: dict, table, indicator: str = DEFAULT_MAP_INDICATOR, period: str = "after") -> str:
    """The country map (offline, deterministic): the provinces coloured by `indicator` (`period`),
    a popup per province with its figures and a relative link to `provinces/<folder>/map.html`."""
    import folium
    from folium.utilities import JsCode

    from . import render as RN
    from .render import (
        _HELPERS_JS,
        _STYLE_CSS,
        NO_DATA,
        OfflineMap,
        _assign_ids,
        _esc,
        _leaflet_css,
        _leaflet_js,
        _Raw,
        _Script,
        check_offline,
    )

    spec = dict(MAP_INDICATORS[indicator])
    spec["colours"] = getattr(RN, spec["colours"])
    by_code = {p["code"]: p for p in summary["provinces"]}
    codes = [c for c in table.index]
    disp = display_geometry(table.geometry.to_numpy())
    minx, miny, maxx, maxy = shapely.total_bounds(table.geometry.to_numpy())
    m = OfflineMap(location=[round((miny + maxy) / 2, 3), round((minx + maxx) / 2, 3)], zoom_start=6, tiles=None,
                   control_scale=False, zoom_snap=0.25, zoom_delta=0.5, prefer_canvas=False)
    fig = m.get_root()
    fig.title = None
    fig.header._children.clear()
    title = summary["scenario"]["title"]
    for name, text in (("meta_charset", '<meta charset="utf-8" />'), ("title", f"<title>{_esc(title)} · national map</title>"),
                       ("leaflet_css", f"<style>\n{_leaflet_css()}\n</style>"), ("leaflet_js", f"<script>\n{_leaflet_js()}\n</script>"),
                       ("reorg_css", _STYLE_CSS), ("reorg_js", _HELPERS_JS),
                       ("national_css", "<style>.reorg-legend { top: 120px; right: 10px; bottom: auto; left: auto; }</style>")):
        fig.header.add_child(_Raw(text, name), name=name)
    m.add_child(_Script(
        "L.control.scale({imperial: false, position: 'bottomright'}).addTo(__MAP__);\n"
        "__MAP__.attributionControl.setPrefix(false);\n"
        f"__MAP__.attributionControl.addAttribution({json.dumps(f'reorg {__version__} · Leaflet (BSD-2) · boundaries simplified for display')});\n",
        "ReorgNational"), name="reorg_national")

    feats, class_counts, nodata = [], [0] * len(spec["colours"]), 0
    for code, g in zip(codes, disp):
        p = by_code.get(code)
        if g is None or p is None:
            continue
        value = p["indicators"][period].get(indicator) if p["status"] == "done" else None
        k = _map_class(value, spec)
        if k is None:
            nodata += 1
            fill = NO_DATA
        else:
            class_counts[k] += 1
            fill = spec["colours"][k]
        label = f"{p['name']} ({code}): {_map_value(value, spec)}" if p["status"] == "done" else f"{p['name'] or code} ({code}): failed"
        feats.append({"type": "Feature", "id": code, "geometry": json.loads(shapely.to_geojson(g)), "properties": {
            "code": code, "name": label,
            "style": {"fillColor": fill, "fillOpacity": 0.8, "color": "#333333", "weight": 1.0, "opacity": 0.9},
            "popup": _province_popup(p, indicator, period)}})
    folium.GeoJson({"type": "FeatureCollection", "features": feats}, name="Provinces",
                   on_each_feature=JsCode("reorgOnEachFeature")).add_to(m)
    folium.FitBounds([[round(miny, 3), round(minx, 3)], [round(maxy, 3), round(maxx, 3)]],
                     padding_top_left=(10, 80), padding_bottom_right=(10, 10)).add_to(m)

    nat = summary["national"]
    warn = ""
    if summary["synthetic_roster"]:
        warn += '<div class="warn">Synthetic roster: station staff and locations are simulated, not real data</div>'
    if summary["synthetic_pack"]:
        warn += '<div class="warn">Synthetic demo pack: every boundary, name and figure is made up</div>'
    if summary["failed"]:
        warn += f'<div class="warn">{len(summary["failed"])} province(s) failed: ' + _esc(", ".join(f["code"] for f in summary["failed"])) + "</div>"
    when = "after the reform" if period == "after" else "before the reform"
    banner = (f'<div class="reorg-banner" id="reorg-banner"><div class="t">{_esc(title)}</div>'
              f'<div class="s">{nat["done"]} of {nat["provinces"]} provinces · {_fmt(nat["counts"]["old_communes"])} → '
              f'{_fmt(nat["counts"]["new_communes"])} communes · colour: {_esc(spec["label"])}, {when} · '
              f'<a href="report.html">national report</a></div>{warn}</div>')
    rows = [f'<h4>{_esc(spec["label"])}, {when} ({_esc(spec["unit"])})</h4>']
    for colour, label, n in zip(spec["colours"], _map_class_labels(spec), class_counts):
        rows.append(f'<div class="row"><span class="sw" style="background:{colour}"></span>{_esc(label)}'
                    f' <span style="color:#777">&nbsp;({n})</span></div>')
    if nodata:
        rows.append(f'<div class="row"><span class="sw" style="background:{NO_DATA}"></span>no data (failed) ({nodata})</div>')
    bi, ai = nat["indicators"]["before"], nat["indicators"]["after"]
    rows.append("<hr><b>Country</b> " + ("" if nat["complete"] else "(provinces done only)")
                + f'<br>{_esc(spec["label"])}: {_map_value(bi.get(indicator), spec)} before, {_map_value(ai.get(indicator), spec)} after'
                f'<br>Main stations {_fmt(nat["counts"]["main_stations"])}, points {_fmt(nat["counts"]["point_stations"])}, '
                f'closed {_fmt(nat["counts"]["closed_stations"])}, regional centres {_fmt(nat["counts"]["regional_centres"])}')
    rows.append('<hr><div style="color:#555">Click a province for its figures and a link to its own map. '
                f'Boundaries simplified for display; small islets left out. reorg {_esc(__version__)}.</div>')
    fig.html.add_child(_Raw(banner, "Banner"), name="reorg_banner")
    fig.html.add_child(_Raw(f'<div class="reorg-legend" id="reorg-legend">{"".join(rows)}</div>', "Legend"), name="reorg_legend")

    _assign_ids(fig)
    doc = re.sub(r"[ \t]+\n", "\n", fig.render())
    check_offline(doc)
    return doc
