"""Offline Leaflet pages: one HTML document that makes no request at all (`offline_page`).

Both maps of reorg are built here: the province map (`render.py`, map.html) and the national index
map (`national_map.py`, index.html). Officials open them on laptops without network, so Leaflet 1.9.4
(BSD-2, vendored in `assets/`) is inlined with its images as data: URIs, there is no tile layer, and
the page's own styles and scripts are the asset files `assets/map.css`, `assets/map_base.js` and the
page's script (`assets/map.js`, `assets/map_national.js`). The page is a Jinja2 template of
`templates/` rendered with the one environment of `pages.py` (autoescape: text from input files is
data). The map's data (GeoJSON, popups, words for the script) is embedded as JSON in a
``<script type="application/json">`` element, with ``<`` escaped where it could end that element.
Same arguments, same bytes: no ids, dates or timings are written.
"""

from __future__ import annotations

import base64
import json
import re
from functools import cache
from typing import Any

from markupsafe import Markup

from . import __version__, pages
from .indicators import Indicator

#: the page's own stylesheet and the script every page shares (before the page's script)
PAGE_CSS = "map.css"
BASE_JS = "map_base.js"


@cache
def leaflet_js() -> str:
    """Leaflet's script, without its source-map comment (devtools would try to fetch the map)."""
    return re.sub(r"\n//# sourceMappingURL=\S+\s*$", "\n", pages.asset("leaflet.js"))


@cache
def leaflet_css() -> str:
    """Leaflet's stylesheet with its images inlined as data: URIs."""

    def inline(m: re.Match) -> str:
        data = base64.b64encode((pages.ASSETS / m.group(1)).read_bytes()).decode("ascii")
        return f'url("data:image/png;base64,{data}")'

    css = re.sub(r"url\(images/([A-Za-z0-9_.-]+\.png)\)", inline, pages.asset("leaflet.css"))
    if re.search(r"url\((?!\s*[\"']?(data:|#))", css):
        raise RuntimeError("leaflet.css still references an external url()")
    return css


def _inline(text: str, name: str) -> Markup:
    """An asset's text to write inside <script> or <style> as it is (it must not close the element)."""
    if re.search(r"</(script|style)", text, re.I):
        raise RuntimeError(f"{name} holds a closing </script> or </style> tag")
    return Markup(text)


class RawJSON:
    """JSON text (e.g. GEOS's GeoJSON of a geometry) placed as it is inside the data of `json_script`."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


_RAW_SLOT = re.compile(r'"\\u0000raw(\d+)\\u0000"')


def json_script(value: Any) -> Markup:
    """`value` as JSON to write inside ``<script type="application/json">``: keys sorted, compact,
    UTF-8 kept, `RawJSON` values written as they are; ``<`` is written ``\\u003c`` before ``/`` and
    ``!`` so no text can end the element or open a comment (JSON.parse reads it back unchanged)."""
    raws: list[str] = []

    def slot(o: object) -> str:
        if not isinstance(o, RawJSON):
            raise TypeError(f"{type(o).__name__} is not JSON serialisable")
        raws.append(o.text)
        return f"\0raw{len(raws) - 1}\0"

    text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False, default=slot)
    if raws:
        filled = 0

        def fill(m: re.Match) -> str:
            nonlocal filled
            filled += 1
            return raws[int(m.group(1))]

        text = _RAW_SLOT.sub(fill, text)
        if filled != len(raws):
            raise RuntimeError("a text of the data looks like a raw JSON slot")
    return Markup(text.replace("</", "\\u003c/").replace("<!", "\\u003c!"))


def attribution(words: str) -> str:
    """The attribution line of a map (bottom right)."""
    return f"reorg {__version__} · Leaflet (BSD-2) · {words}"


def class_labels(ind: Indicator, lang: str = "en") -> list[str]:
    """The legend's label of each map class of indicator `ind`: its own labels from the indicator table
    when it has them, else from the breaks ("< 10", "10 – 20", ..., "≥ 120"; shares in %)."""
    own = ind.class_labels_vi if lang == "vi" else ind.class_labels_en
    if own:
        return list(own)

    def f(v: float) -> str:
        if ind.format == "share":
            s = f"{100 * v:g} %"
        elif ind.digits == 0:
            s = f"{v:g}"
        else:
            s = f"{v:.{ind.digits}f}".rstrip("0").rstrip(".")
        return s.replace(".", ",") if lang == "vi" else s

    b = ind.breaks
    return [f"< {f(b[0])}"] + [f"{f(lo)} – {f(hi)}" for lo, hi in zip(b[:-1], b[1:])] + [f"≥ {f(b[-1])}"]


def offline_page(template: str, *, lang: str, title: str, data: Any, script: str, **context: Any) -> str:
    """One self-contained HTML page with a Leaflet map: `template` (in `templates/`, extending
    ``map_base.html``) rendered in `lang` with `context`, titled `title`, Leaflet and ``map.css`` /
    ``map_base.js`` inlined, `data` embedded as JSON (read by the page's scripts with ``reorgData()``)
    and the asset `script` run last. Raises when the result would load anything from elsewhere."""
    doc = pages.render(
        template,
        lang,
        title=title,
        data_json=json_script(data),
        leaflet_css=_inline(leaflet_css(), "leaflet.css"),
        leaflet_js=_inline(leaflet_js(), "leaflet.js"),
        page_css=_inline(pages.asset(PAGE_CSS), PAGE_CSS),
        base_js=_inline(pages.asset(BASE_JS), BASE_JS),
        page_js=_inline(pages.asset(script), script),
        **context,
    )
    check_offline(doc)
    return doc


_CHECKS = (
    re.compile(rb"<script\b[^>]*\bsrc\s*="),
    re.compile(rb"<link\b[^>]*>"),
    re.compile(rb"@import"),
    re.compile(rb"url\(\s*[\"']?(?:https?:)?//"),
)
#: attributes that load from elsewhere when they sit in a <script>, <link>, <img> or <iframe> tag
#: (a backslash may precede the quote: popups are written inside the JSON data)
_LOADS = (re.compile(rb"""src\s*=\s*\\?["']?\s*(?:https?:)?//"""), re.compile(rb"""href\s*=\s*\\?["']?\s*(?:https?:)?//"""))
_LOADING_TAG = re.compile(rb"<(script|link|img|iframe)\b")


def check_offline(doc: str) -> None:
    """Raise RuntimeError if the document would load any script, style or image from elsewhere."""
    # HTML's names are ASCII and case-insensitive: the UTF-8 bytes with ASCII letters lowered are
    # searched (several times faster than str.lower), without re.I so that patterns with a literal
    # prefix are searched fast
    low = doc.encode("utf-8").lower()
    problems = []
    for pattern in _CHECKS:
        problems += [low[m.start() : m.start() + 120] for m in pattern.finditer(low)]
    for pattern in _LOADS:
        for m in pattern.finditer(low):
            ctx = low[max(0, m.start() - 40) : m.start() + 120]
            if _LOADING_TAG.search(ctx):
                problems.append(ctx)
    if problems:
        found = sorted({p.decode("utf-8", "replace") for p in problems})
        raise RuntimeError("page is not self-contained: " + " | ".join(found[:5]))
