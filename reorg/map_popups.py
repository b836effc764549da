"""The popups of the province map: small HTML tables, one per commune, station and centre.

They are written into the map's data (thousands of them per province), so they are built here with
plain string joins rather than a template (a Jinja macro call per popup would cost more than the
rest of the render stage). Every text from input files (names, codes) goes through `escape`; the
words come from the ``[map]`` section of the message files, the numbers from `fmt`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache, lru_cache
from typing import Any

from markupsafe import escape

from . import fmt, i18n
from .schema import CADRES

Row = Mapping[str, Any]


@cache
def words(section: str, lang: str) -> dict[str, str]:
    """The messages of `section` in `lang` (read once)."""
    return i18n.section(section, lang)


def _num(v: Any, digits: int, lang: str) -> str:
    if digits == 0 and _whole(v):  # staff counts repeat thousands of times: formatted once each
        return _count(float(v), lang)
    return fmt.number(v, digits, lang)


def _signed(v: Any, lang: str) -> str:
    return _signed_count(float(v), lang) if _whole(v) else fmt.signed(v, 0, lang)


def _whole(v: Any) -> bool:
    """An int or a whole float (not a bool): `fmt` formats it with 0 digits from its float value alone."""
    return type(v) is int and abs(v) < 2**53 or type(v) is float and v.is_integer()


@lru_cache(maxsize=4096)
def _count(v: float, lang: str) -> str:
    return fmt.number(v, 0, lang)


@lru_cache(maxsize=4096)
def _signed_count(v: float, lang: str) -> str:
    return fmt.signed(v, 0, lang)


@cache
def _label(text: str) -> str:
    """A row or column label, escaped (labels are the message files' words: a few, repeated)."""
    return str(escape(text))


def table(rows: Sequence[Sequence[str]], head: Sequence[str] | None = None) -> str:
    """An HTML table: each row a label (text, escaped here) and cells (HTML, escaped by the caller)."""
    out = ['<table class="reorg-t">']
    if head:
        out.append('<tr class="h">' + "".join(f"<th>{_label(h)}</th>" for h in head) + "</tr>")
    for r in rows:
        out.append(f"<tr><th>{_label(r[0])}</th><td>" + "</td><td>".join(r[1:]) + "</td></tr>")
    out.append("</table>")
    return "".join(out)


def popup(title: str, sub: str, body: str) -> str:
    """A popup: `title` (text, escaped here), `sub` and `body` (HTML)."""
    return f'<div class="reorg-pop"><h3>{escape(title)}</h3><div class="sub">{sub}</div>{body}</div>'


def _gap_cell(gap: Any, lang: str) -> str:
    x = fmt.finite(gap)
    cls = ' class="neg"' if x is not None and x < 0 else ""
    return f"<span{cls}>{_signed(gap, lang)}</span>"


def commune(code: str, row: Row, station_names: Mapping[str, str], centre_names: Mapping[str, str], lang: str) -> str:
    """A new commune: population, minutes before and after, its main station and centre, staff."""
    t = words("map", lang)
    main, centre = row.get("main_station_code"), row.get("centre_code")
    main_txt = f"{escape(station_names.get(main, main))} <small>({escape(main)})</small>" if isinstance(main, str) else fmt.DASH
    centre_txt = str(escape(centre_names.get(centre, centre))) if isinstance(centre, str) else fmt.DASH
    rows = [
        (t["population"], _num(row.get("population"), 0, lang)),
        (t["min_main_before"], _num(row.get("minutes_main_before"), 1, lang)),
        (t["min_main_after"], _num(row.get("minutes_main_after"), 1, lang)),
        (t["min_nearest_after"], _num(row.get("minutes_nearest_after"), 1, lang)),
        (t["min_centre_after"], _num(row.get("minutes_centre_after"), 1, lang)),
        (t["main_station"], main_txt),
        (t["regional_centre"], centre_txt),
        (t["staff_after"], _num(row.get("staff_after"), 0, lang)),
        (t["staff_norm"], _num(row.get("norm_after"), 0, lang)),
        (t["gap"], _gap_cell(row.get("gap_after"), lang)),
        (t["staff_per_1000"], _num(row.get("staff_per_1000"), 2, lang)),
    ]
    return popup(str(row["commune_name"]), str(escape(t["new_commune_sub"].format(code=code))), table(rows))


def station(code: str, name: str, st: Row, new_name: str, lang: str) -> str:
    """A station: staff by cadre, norm, gap and population served, before and after."""
    t = words("map", lang)
    cadres = words("cadre", lang)
    roles = words("role", lang)
    role = st.get("role", "")
    rows: list[tuple[str, ...]] = [
        (cadres[c], _num(st.get(f"{c}_before"), 0, lang), _num(st.get(f"{c}_after"), 0, lang)) for c in CADRES
    ]
    rows.append(
        (t["total_staff"], f"<b>{_num(st.get('staff_before'), 0, lang)}</b>", f"<b>{_num(st.get('staff_after'), 0, lang)}</b>")
    )
    rows.append((t["norm"], _num(st.get("norm_before"), 0, lang), _num(st.get("norm_after"), 0, lang)))
    rows.append((t["gap"], _signed(st.get("gap_before"), lang), _signed(st.get("gap_after"), lang)))
    rows.append((t["pop_served"], _num(st.get("served_pop_before"), 0, lang), _num(st.get("served_pop_after"), 0, lang)))
    sub = f"{escape(t['station_sub'].format(code=code, role=roles.get(role, role)))}<br>{escape(t['new_commune'])}: {escape(new_name)}"
    return popup(name, sub, table(rows, head=(t["staff_by_cadre"], t["before"], t["after"])))


def centre(code: str, c: Row, mc: Row | None, lang: str, before: bool = False) -> str:
    """A regional centre (after) or the district health centre it was (`before`)."""
    t = words("map", lang)
    m = mc or {}
    rows = [
        (t["beds"], _num(c.get("beds"), 0, lang)),
        (t["staff"], _num(c.get("staff"), 0, lang)),
        (t["doctors"], _num(c.get("doctors"), 0, lang)),
        (t["capacity"], _num(c.get("capacity"), 0, lang)),
    ]
    if before:
        rows.append((t["served_before"], _num(m.get("served_pop_before"), 0, lang)))
    else:
        rows += [
            (t["served_after"], _num(m.get("served_pop_after"), 0, lang)),
            (t["load"], fmt.share(m.get("load_after"), 0, lang)),
            (t["communes_served"], _num(m.get("communes_after"), 0, lang)),
        ]
    host = c.get("host_name")
    sub = str(escape((t["dcentre_sub"] if before else t["centre_sub"]).format(code=code)))
    if isinstance(host, str) and host:
        sub += f" · {escape(t['at'])} {escape(host)}"
    return popup(str(c.get("name", code)), sub, table(rows))


def old_commune(code: str, name: str, district: str, new_names: str, agg: Row | None, st: Row | None, lang: str) -> str:
    """An old commune on the before map: population, minutes before (and after), its station's staff before."""
    t = words("map", lang)
    a, s = agg or {}, st or {}
    rows = [
        (t["population"], _num(a.get("population"), 0, lang)),
        (t["min_own_before"], _num(a.get("minutes_main_before"), 1, lang)),
        (t["min_main_after"], _num(a.get("minutes_main_after"), 1, lang)),
        (t["min_centre_before"], _num(a.get("minutes_centre_before"), 1, lang)),
        (t["station_staff_before"], _num(s.get("staff_before"), 0, lang)),
        (t["norm_before"], _num(s.get("norm_before"), 0, lang)),
        (t["gap_before"], _gap_cell(s.get("gap_before"), lang)),
    ]
    sub = str(escape(t["old_commune_sub"].format(code=code)))
    if district:
        sub += f" · {escape(t['district'])}: {escape(district)}"
    if new_names:
        sub += f"<br>{escape(t['now_in'])}: {escape(new_names)}"
    return popup(name, sub, table(rows))
