"""The runs' own maps on comparison.html, sharing what they have in common (`payload`, `assemble`).

Each run's map.html holds its own copy of the province's polygons, of Leaflet and of the map's
stylesheets and scripts; embedded side by side they made comparison.html 7 MB for two runs of one
province. Here every map.html is cut into parts: text of its own, and references to pieces held
once for all the runs:

- the content of every inline ``<script>`` and ``<style>`` element without attributes (Leaflet,
  the map's stylesheet and scripts);
- every feature of the map's data (``{"geometry": ..., "type": "Feature"}``, keys sorted by
  `leaflet.json_script`) whose text is the same in two runs or more (an old commune whose popup
  did not change, a centre);
- the geometry of every other feature that is a polygon (communes, catchments): the per-run
  feature keeps its attributes, colours and popup only.

The pieces and parts are JSON, compressed (gzip, fixed header: the same runs give the same bytes)
and written in base64 into the page; the page's script (``assets/compare_maps.js``) decompresses
them with the browser's DecompressionStream, joins each map's parts back into exactly its
map.html and gives it to the map's iframe as ``srcdoc``. Nothing is fetched: the page works
offline as the maps do.
"""

from __future__ import annotations

import base64
import gzip
import json
import re

#: an inline element whose content is shared when it is at least this long (characters)
MIN_SHARED = 1000
#: the geometries shared even when their feature is not
SHARED_TYPES = ('{"type":"Polygon"', '{"type":"MultiPolygon"')

_INLINE = re.compile(r"<(script|style)>(.*?)</\1>", re.S)
_DATA = re.compile(r'<script type="application/json"[^>]*>(.*?)</script>', re.S)
_FEATURE = re.compile(r'\{"geometry":')
# a JSON string, or a bracket outside strings; the data holds no other place a bracket can hide
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]]')
_BRACKET = re.compile(r"[{}\[\]]")


def _close(text: str, start: int, tokens: re.Pattern) -> int:
    """The end of the JSON object or array opening at `start`."""
    depth = 0
    for m in tokens.finditer(text, start):
        c = m.group(0)
        if c in "{[":
            depth += 1
        elif c in "}]":
            depth -= 1
            if depth == 0:
                return m.end()
    raise ValueError("unbalanced JSON in a map's data")


def features(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int, int, int]]:
    """(start, end, geometry start, geometry end) of every GeoJSON feature written in `text`
    (JSON written by `leaflet.json_script`) between `start` and `end`."""
    out = []
    for m in _FEATURE.finditer(text, start, len(text) if end is None else end):
        gs = m.end()
        # a geometry holds no string but its type, which has no bracket: count brackets only
        ge = _close(text, gs, _BRACKET) if text.startswith("{", gs) else text.index(",", gs)
        out.append((m.start(), _close(text, m.start(), _TOKEN), gs, ge))
    return out


def _spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, kind) of the candidate pieces of one page: 'inline', 'feature' or 'geometry'
    (a feature's geometry: used when the whole feature is not shared)."""
    out = [(m.start(2), m.end(2), "inline") for m in _INLINE.finditer(text) if m.end(2) - m.start(2) >= MIN_SHARED]
    for data in _DATA.finditer(text):
        for s, e, gs, ge in features(text, data.start(1), data.end(1)):
            out.append((s, e, "feature"))
            out.append((gs, ge, "geometry"))
    return sorted(out)


def pieces(pages: list[str]) -> dict:
    """{"pieces": [text, ...], "maps": [[text or piece index, ...] per page]}: joining a page's
    parts (a number standing for its piece) gives the page back exactly."""
    spans = [_spans(p) for p in pages]
    seen: dict[str, int] = {}
    for p, sp in zip(pages, spans):
        for s, e, kind in sp:
            if kind == "feature":
                seen[p[s:e]] = seen.get(p[s:e], 0) + 1
    store: dict[str, int] = {}
    maps = []
    for p, sp in zip(pages, spans):
        parts: list[str | int] = []
        pos = 0
        for s, e, kind in sp:
            if s < pos:
                continue  # inside a feature already shared
            piece = p[s:e]
            if kind == "feature" and seen[piece] < 2:
                continue
            if kind == "geometry" and not piece.startswith(SHARED_TYPES):
                continue
            parts.append(p[pos:s])
            parts.append(store.setdefault(piece, len(store)))
            pos = e
        parts.append(p[pos:])
        maps.append([x for x in parts if x != ""])
    return {"pieces": list(store), "maps": maps}


def payload(pages: list[str]) -> str:
    """The maps `pages` (map.html texts) as base64 text of gzip-compressed `pieces` JSON (the same
    pages give the same text)."""
    data = json.dumps(pieces(pages), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return base64.b64encode(gzip.compress(data, compresslevel=6, mtime=0)).decode("ascii")


def assemble(text: str) -> list[str]:
    """The map.html texts back from a `payload` (what the page's script does)."""
    data = json.loads(gzip.decompress(base64.b64decode(text)))
    store = data["pieces"]
    return ["".join(store[x] if isinstance(x, int) else x for x in parts) for parts in data["maps"]]
