"""National index map (index.html): the provinces coloured by an indicator, each linking its own map.

Built by `leaflet.offline_page` from ``templates/map_national.html`` and ``assets/map_national.js``.
The indicators it can be coloured by are the province-scope rows of the indicator table with map
breaks (`MAP_INDICATORS`); the same classes before and after, so the two maps compare. Words come
from the ``[national_map]`` section of the message files.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely
from markupsafe import escape

from . import __version__, fmt, i18n, indicators, leaflet, map_popups
from .map_geometry import geojson, round_coords
from .national_report import error_line

#: indicators the index map can be coloured by
MAP_INDICATORS = indicators.map_keys("province")
DEFAULT_MAP_INDICATOR = "pop_minutes_main_station"
MAP_PERIODS = ("after", "before")
#: the popup's indicator rows (the map's indicator is marked ◀)
POPUP_INDICATORS = (
    "pop_minutes_main_station",
    "pop_minutes_nearest_facility",
    "pop_minutes_regional_centre",
    "pop_share_main_station_within_30min",
    "staff_total",
    "staff_shortfall_total",
    "main_stations_with_doctor_share",
)

#: display simplification of the country map: tolerance (degrees, about 1 km), islets below this
#: area (square degrees, about 0.25 km²) left out, coordinates rounded to 3 decimals (about 100 m)
MAP_TOLERANCE = 0.01
MAP_MIN_PART_AREA = 2e-5
MAP_DECIMALS = 3


def display_geometry(geoms: Any) -> np.ndarray:
    """Provinces for a country overview: islets below MAP_MIN_PART_AREA left out (the largest part
    of a province is always kept), coverage-simplified (shared borders stay shared), rounded."""
    geoms = np.asarray(geoms, dtype=object)
    parts, idx = shapely.get_parts(geoms, return_index=True)
    area = shapely.area(parts)
    kept: list[Any] = []
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
        out[ok] = round_coords(out[ok], MAP_DECIMALS)
    return out


def unit_word(ind: indicators.Indicator, lang: str = "en") -> str:
    """The unit of an indicator on the map: % for shares, else its unit's word."""
    return "%" if ind.format == "share" else i18n.text(f"unit.{ind.unit}", lang)


def map_value(ind: indicators.Indicator, value: Any, lang: str = "en") -> str:
    """A value with its unit ("12.3 min", "85.0 %"); "–" when missing."""
    text = fmt.indicator(ind.key, value, lang)
    return text if text == fmt.DASH or ind.format == "share" else f"{text} {unit_word(ind, lang)}"


def _table(rows: Sequence[Sequence[str]], head: Sequence[str] | None = None) -> str:
    return map_popups.table(rows, head)


def province_popup(p: dict, indicator: str, lang: str = "en") -> str:
    """A province's popup: its counts, indicators before and after, links to its map and report."""
    t = i18n.section("national_map", lang)
    sub = escape(t["province_sub"].format(code=p["code"]))
    if p["status"] != "done":
        return (
            f'<div class="reorg-pop"><h3>{escape(p["name"] or p["code"])}</h3><div class="sub">{sub}</div>'
            f'<p class="neg">{escape(t["failed"].format(error=error_line(p)))}</p></div>'
        )
    c, b, a = p["counts"], p["indicators"]["before"], p["indicators"]["after"]
    counts = _table(
        [
            (t["old_new_communes"], f"{fmt.count(c['old_communes'], lang)} → <b>{fmt.count(c['new_communes'], lang)}</b>"),
            (t["main_stations"], fmt.count(c["main_stations"], lang)),
            (t["point_stations"], fmt.count(c["point_stations"], lang)),
            (t["closed_stations"], fmt.count(c["closed_stations"], lang)),
            (t["regional_centres"], fmt.count(c["regional_centres"], lang)),
            (t["population"], fmt.count(p["population"], lang)),
        ]
    )
    rows = []
    for key in POPUP_INDICATORS:
        mark = " <b>◀</b>" if key == indicator else ""
        rows.append(
            (indicators.get(key).label(lang), fmt.indicator(key, b.get(key), lang), fmt.indicator(key, a.get(key), lang) + mark)
        )
    table = _table(rows, head=(t["indicator"], t["before"], t["after"]))
    folder = escape(p["folder"])
    links = (
        f'<p class="reorg-links"><a href="{folder}/map.html"><b>{escape(t["open_map"])}</b></a>'
        f' · <a href="{folder}/report.html">{escape(t["report"])}</a></p>'
    )
    return f'<div class="reorg-pop"><h3>{escape(p["name"])}</h3><div class="sub">{sub}</div>{counts}{table}{links}</div>'


def render_index(
    summary: dict, table: Any, indicator: str = DEFAULT_MAP_INDICATOR, period: str = "after", lang: str = "en"
) -> str:
    """The country map (offline, deterministic): the provinces of `table` (a GeoDataFrame by province
    code) coloured by `indicator` (`period`), a popup per province with its figures and a relative
    link to `provinces/<folder>/map.html`."""
    if indicator not in MAP_INDICATORS:
        raise ValueError(f"'{indicator}' is not one of {', '.join(MAP_INDICATORS)}")
    t = i18n.section("national_map", lang)
    ind = indicators.get(indicator)
    colours = ind.colours()
    by_code = {p["code"]: p for p in summary["provinces"]}
    disp = display_geometry(table.geometry.to_numpy())
    features, class_counts, nodata = [], [0] * len(colours), 0
    for code, geo in zip(table.index, geojson(disp)):
        p = by_code.get(code)
        if geo is None or p is None:
            continue
        value = p["indicators"][period].get(indicator) if p["status"] == "done" else None
        k = ind.map_class(value)
        if k is None:
            nodata += 1
            fill = indicators.no_data_colour()
        else:
            class_counts[k] += 1
            fill = colours[k]
        label = (
            f"{p['name']} ({code}): {map_value(ind, value, lang)}"
            if p["status"] == "done"
            else t["tooltip_failed"].format(name=p["name"] or code, code=code)
        )
        features.append(
            {
                "type": "Feature",
                "id": code,
                "geometry": geo,
                "properties": {
                    "code": code,
                    "name": label,
                    "style": {"fillColor": fill, "fillOpacity": 0.8, "color": "#333333", "weight": 1.0, "opacity": 0.9},
                    "popup": province_popup(p, indicator, lang),
                },
            }
        )
    minx, miny, maxx, maxy = shapely.total_bounds(table.geometry.to_numpy())
    dec = MAP_DECIMALS
    data = {
        "map": {
            "center": [round((miny + maxy) / 2, dec), round((minx + maxx) / 2, dec)],
            "zoom": 6,
            "bounds": [[round(miny, dec), round(minx, dec)], [round(maxy, dec), round(maxx, dec)]],
            "attribution": leaflet.attribution(t["attribution"]),
            "panes": [],
            "layers": [
                {
                    "key": "provinces",
                    "name": str(escape(t["layer"])),
                    "popups": True,
                    "data": {"type": "FeatureCollection", "features": features},
                }
            ],
        }
    }
    nat = summary["national"]
    warns = i18n.notices({k: bool(summary.get(k)) for k in i18n.NOTICE_KEYS}, lang)
    if summary["failed"]:
        warns.append(t["warn_failed"].format(n=len(summary["failed"]), codes=", ".join(f["code"] for f in summary["failed"])))
    when = t["when_after"] if period == "after" else t["when_before"]
    before, after = nat["indicators"]["before"], nat["indicators"]["after"]
    title = summary["scenario"]["title"]
    page = {
        "title": title,
        "warns": warns,
        "label": ind.label(lang),
        "when": when,
        "unit": unit_word(ind, lang),
        "sub": t["banner_sub"].format(
            done=nat["done"],
            total=nat["provinces"],
            old=fmt.count(nat["counts"]["old_communes"], lang),
            new=fmt.count(nat["counts"]["new_communes"], lang),
            label=ind.label(lang),
            when=when,
        ),
        "classes": list(zip(colours, leaflet.class_labels(ind, lang), class_counts)),
        "nodata": nodata,
        "complete": nat["complete"],
        "country_value": t["country_value"].format(
            label=ind.label(lang),
            before=map_value(ind, before.get(indicator), lang),
            after=map_value(ind, after.get(indicator), lang),
        ),
        "country_counts": t["country_counts"].format(
            main=fmt.count(nat["counts"]["main_stations"], lang),
            points=fmt.count(nat["counts"]["point_stations"], lang),
            closed=fmt.count(nat["counts"]["closed_stations"], lang),
            centres=fmt.count(nat["counts"]["regional_centres"], lang),
        ),
    }
    return leaflet.offline_page(
        "map_national.html",
        lang=lang,
        title=t["title"].format(title=title),
        data=data,
        script="map_national.js",
        page=page,
        no_data=indicators.no_data_colour(),
        version=__version__,
    )
