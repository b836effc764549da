"""The offline HTML map: deterministic, self-contained, and working in a real browser.

Needs a geodata pack at $REORG_GEODATA (the real pack, province 40 Nghệ An). The browser tests
drive the system Chromium (/usr/bin/chromium) through Playwright, block every request that is
not file: or data: (and fail if any was attempted), fail on any console error, and save
screenshots to test-artifacts/: map_nghe_an.png (English, after the reform), map_nghe_an_vi.png
(Vietnamese labels), map_nghe_an_before_after.png (the side-by-side before/after view) and
report_nghe_an.png (the whole report.html).
They fail (never skip) when Chromium or Playwright is missing.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import time
import unicodedata
from pathlib import Path

import pytest

from reorg import i18n
from reorg.pipeline import run
from reorg.render import LAYER_NAMES, before_layer_names, layer_names, render_map
from reorg.scenario import load_scenario

PROVINCE = "40"  # Nghệ An
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
VIEWPORT = {"width": 1400, "height": 900}
#: layers off when the map opens (by English name)
OFF_AT_OPENING = ("Lines to centre", "Staff gaps")
VI_LABELS = (
    "Xã/phường mới",
    "Trạm y tế chính",
    "Điểm trạm",
    "Trạm đóng cửa",
    "Trung tâm y tế khu vực",
    "Vùng phục vụ của trung tâm",
    "Đường tới trung tâm",
    "Thiếu nhân lực",
)


def fold(s: str) -> str:
    """Accent-free lower case, as a user without a Vietnamese keyboard would type."""
    s = s.replace("đ", "d").replace("Đ", "D")
    s = "".join(c for c in unicodedata.normalize("NFD", s) if not unicodedata.combining(c))
    return s.lower()


@pytest.fixture(scope="module")
def result():
    geodata = os.environ.get("REORG_GEODATA")
    assert geodata, (
        "set REORG_GEODATA to the geodata pack directory (the real pack with province 40, "
        "e.g. REORG_GEODATA=/path/to/geodata pytest tests/test_map_browser.py)"
    )
    assert Path(geodata).is_dir(), f"REORG_GEODATA={geodata} is not a directory"
    sc = load_scenario(None, province=PROVINCE)
    return run(sc, geodata=geodata)


def _with_lang(result, lang: str):
    sc = dataclasses.replace(result.scenario, lang=lang)
    return dataclasses.replace(result, scenario=sc)


@pytest.fixture(scope="module")
def map_html(result):
    t = time.perf_counter()
    doc = render_map(result)
    print(f"\nrender_map: {time.perf_counter() - t:.2f} s, {len(doc.encode('utf-8')) / 1e6:.2f} MB")
    return doc


@pytest.fixture(scope="module")
def result_vi(result):
    return _with_lang(result, "vi")


@pytest.fixture(scope="module")
def map_html_vi(result_vi):
    return render_map(result_vi)


@pytest.fixture(scope="module")
def map_files(map_html, map_html_vi, tmp_path_factory):
    folder = tmp_path_factory.mktemp("maps")
    (folder / "map.html").write_text(map_html, encoding="utf-8")
    (folder / "map_vi.html").write_text(map_html_vi, encoding="utf-8")
    return {"en": folder / "map.html", "vi": folder / "map_vi.html"}


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not installed: run .ci/system-deps.sh as root (apt-get install chromium)")
    try:
        from playwright import sync_api
    except ImportError as e:  # pragma: no cover - the test extras install it
        pytest.fail(f"playwright is not installed ({e}): pip install -e '.[test]'")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


class Page:
    """A fresh page that blocks and records every request that is not file: or data:, and
    records console errors and page errors."""

    def __init__(self, browser, path: Path, wait_drawn: bool = True):
        self.blocked: list[str] = []
        self.errors: list[str] = []
        self.page = browser.new_page(viewport=VIEWPORT)
        self.page.on("console", lambda m: self.errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        self.page.route("**/*", self._route)
        self.page.goto(path.as_uri(), wait_until="load")
        if wait_drawn:
            self.page.wait_for_selector("body[data-reorg-drawn]")

    def _route(self, r):
        url = r.request.url
        if url.startswith(("file:", "data:")):
            r.continue_()
        else:
            self.blocked.append(url)
            r.abort()

    def close(self):
        self.page.close()
        assert not self.blocked, f"the map tried to load {self.blocked[:5]}"
        assert not self.errors, self.errors


def _new_commune(result, name: str) -> tuple[str, int]:
    """The code of the new commune called `name` (the only one) and its population."""
    new = result.reformed.new
    codes = list(new.index[new["commune_name"] == name])
    assert len(codes) == 1, (name, codes)
    return codes[0], int(result.measures.communes.at[codes[0], "population"])


def _main_station(result):
    st = result.measures.stations
    code = sorted(st.index[st["role"] == "main"])[0]
    old_code = st.at[code, "old_code"]
    return code, str(result.reformed.old.at[old_code, "commune_name"])


def _overlay_labels(page, container: str = ".reorg-after-map") -> list[str]:
    return [t.strip() for t in page.locator(f"{container} .leaflet-control-layers-overlays label").all_inner_texts()]


def _overlay_checked(page, container: str = ".reorg-after-map") -> list[bool]:
    return page.locator(f"{container} .leaflet-control-layers-overlays input").evaluate_all("els => els.map(e => e.checked)")


def test_layer_names():
    assert set(OFF_AT_OPENING) <= set(LAYER_NAMES), "the layers off at opening are layers of the map"
    vi = layer_names("vi")
    for label in VI_LABELS:
        assert label in vi
    # the layer control is keyed by name: two layers of one language never share a name
    for names in (layer_names("en"), vi, before_layer_names("en"), before_layer_names("vi")):
        assert len(set(names)) == len(names), names
    with pytest.raises(ValueError):
        layer_names("fr")


def test_map_deterministic_and_offline(result, map_html, result_vi, map_html_vi):
    again = render_map(result)
    assert again.encode("utf-8") == map_html.encode("utf-8"), "two renders of the same result differ"
    assert render_map(result_vi).encode("utf-8") == map_html_vi.encode("utf-8"), "two renders of the vi map differ"
    for doc in (map_html, map_html_vi):
        assert doc.lstrip().startswith("<!DOCTYPE html>")
        assert '<meta charset="utf-8"' in doc[:300]
        # no script or stylesheet from elsewhere (Leaflet is inlined)
        assert not re.search(r"<script\b[^>]*\bsrc\s*=", doc, re.I), "a <script src=...> is left"
        assert not re.search(r"<link\b[^>]*\bhref\s*=\s*[\"']?(https?:)?//", doc, re.I), "a <link href=http...> is left"
        assert not re.search(r"url\(\s*[\"']?(https?:)?//", doc, re.I)
        for cdn in ("cdn.jsdelivr", "cdnjs", "code.jquery", "bootstrapcdn", "unpkg", "tile.openstreetmap"):
            assert cdn not in doc
        assert "Leaflet 1.9.4" in doc
        # Vietnamese text kept with its diacritics
        assert "Tỉnh Nghệ An" in doc
        # no random ids (uuid-like) in the page
        assert not re.search(r"_[0-9a-f]{32}\b", doc)
        size_mb = len(doc.encode("utf-8")) / 1e6
        assert size_mb < 8, f"map is {size_mb:.1f} MB"
    assert i18n.text("notice.synthetic_roster") in map_html
    assert '<html lang="en">' in map_html and '<html lang="vi">' in map_html_vi
    assert "Danh sách trạm mô phỏng" in map_html_vi
    # legend and popups written as UTF-8 text (layer names are checked in the browser)
    for text in ("Xã/phường mới", "Trạm y tế chính", "Điểm trạm", "Trạm đóng cửa", "Trung tâm y tế khu vực", "Thiếu nhân lực"):
        assert text in map_html_vi, text


@pytest.mark.browser
def test_map_in_browser(result, map_files, browser):
    main_code, main_name = _main_station(result)
    pg = Page(browser, map_files["en"])
    page = pg.page
    # the layer control lists every layer; lines to centre and staff gaps are off at opening
    assert _overlay_labels(page) == list(LAYER_NAMES)
    assert _overlay_checked(page) == [name not in OFF_AT_OPENING for name in LAYER_NAMES]

    # banner, view switch and legend
    banner = page.locator("#reorg-banner").inner_text()
    assert "Tỉnh Nghệ An" in banner
    assert i18n.text("notice.synthetic_roster") in banner
    assert [b.strip() for b in page.locator(".reorg-view-btn").all_inner_texts()] == [
        "After the reform",
        "Before the reform",
        "Side by side",
    ]
    legend = page.locator("#reorg-legend").inner_text()
    assert "Main station" in legend and "Staff gaps" in legend
    assert not page.locator("#reorg-before-map").is_visible()

    # communes and station symbols are drawn: one path per new commune, one marker per station
    assert page.locator(".reorg-after-map .leaflet-reorgCommunes-pane path").count() == len(result.reformed.new)
    st = result.measures.stations
    assert page.locator("path.reorg-main").count() == int((st["role"] == "main").sum())
    points = page.locator(".reorg-after-map .leaflet-reorgStations-pane path.reorg-point")
    assert points.count() == int((st["role"] == "point").sum())
    assert page.locator(".leaflet-marker-pane .reorg-centre").count() == len(result.centres)
    assert page.locator("path.reorg-gap").count() == 0

    # staff gaps: one marker per open station, red for a shortfall, blue for a surplus
    page.locator(".reorg-after-map .leaflet-control-layers-overlays label", has_text="Staff gaps").click()
    open_st = st[st["role"].isin(["main", "point"])]
    assert page.locator("path.reorg-gap").count() == len(open_st)
    short = sorted(open_st.index[open_st["gap_after"] < 0])
    surplus = sorted(open_st.index[open_st["gap_after"] > 0])
    assert short and surplus
    fill_short = page.locator(f"path.reorg-gap-st-{short[0]}").get_attribute("fill")
    fill_surplus = page.locator(f"path.reorg-gap-st-{surplus[0]}").get_attribute("fill")
    assert fill_short == "#d7301f" and fill_surplus == "#2171b5", (fill_short, fill_surplus)
    # its popup is the station's popup
    page.locator(f"path.reorg-gap-st-{short[0]}").dispatch_event("click")
    popup = page.locator(".leaflet-popup-content").last
    popup.wait_for(state="visible")
    assert f"Station {short[0]}" in popup.inner_text()
    page.evaluate("window.reorgApp.after.closePopup()")
    page.locator(".reorg-after-map .leaflet-control-layers-overlays label", has_text="Staff gaps").click()
    assert page.locator("path.reorg-gap").count() == 0

    # click the main station's marker: its popup names the station
    marker = page.locator(f"path.reorg-st-{main_code}")
    assert marker.count() == 1
    page.evaluate(
        """(cls) => {
        const m = window.reorgApp.after;
        const el = document.querySelector('path.' + cls);
        m.eachLayer(l => { if (l._path === el) { m.setView(l.getLatLng(), 13, {animate: false}); } });
    }""",
        f"reorg-st-{main_code}",
    )
    page.wait_for_timeout(300)
    marker.click()
    popup.wait_for(state="visible")
    text = popup.inner_text()
    assert main_name in text, f"popup of station {main_code} does not show '{main_name}': {text[:200]}"
    assert "Main station" in text and "Before" in text and "After" in text

    # the whole province with the popup open, for a human look
    page.reload(wait_until="load")
    page.wait_for_selector("body[data-reorg-drawn]")
    page.locator(f"path.reorg-st-{main_code}").dispatch_event("click")
    page.locator(".leaflet-popup-content").last.wait_for(state="visible")
    page.wait_for_timeout(400)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "map_nghe_an.png"))
    pg.close()


@pytest.mark.browser
def test_search_finds_communes_without_accents(result, map_files, browser):
    from reorg import fmt

    dien_chau, population = _new_commune(result, "Xã Diễn Châu")
    pg = Page(browser, map_files["en"])
    page = pg.page
    box = page.locator(".reorg-search-input")
    assert box.get_attribute("placeholder") == "Find a commune…"

    # a new commune, typed without accents
    box.fill("dien chau")
    first = page.locator(".reorg-search-item").first
    first.wait_for(state="visible")
    assert first.locator("b").inner_text() == "Xã Diễn Châu"
    assert first.get_attribute("data-kind") == "new"
    box.press("Enter")
    popup = page.locator(".leaflet-popup-content").last
    popup.wait_for(state="visible")
    text = popup.inner_text()
    assert "Xã Diễn Châu" in text and f"New commune {dien_chau}" in text, text[:200]
    assert f"Population\t{fmt.count(population)}" in text, text[:300]
    assert page.locator("path.reorg-highlight").count() == 1
    zoom = page.evaluate("window.reorgApp.after.getZoom()")
    assert zoom >= 10, zoom

    # an old commune (name used by no new commune and no other old commune), typed without accents
    old_names = result.reformed.old["commune_name"].astype(str)
    new_names = set(fold(n) for n in result.reformed.new["commune_name"].astype(str))
    counts = old_names.map(fold).value_counts()
    candidates = sorted(
        n
        for n in old_names
        if counts[fold(n)] == 1
        and fold(n) not in new_names
        and any(ord(c) > 127 for c in n)
        and not any(fold(n) in fold(o) and o != n for o in old_names)
        and not any(fold(n) in fn for fn in new_names)
    )
    name = candidates[0]
    code = old_names.index[old_names == name][0]
    box.fill("")
    box.type(fold(name).split(" ", 1)[1])  # without the "xã"/"phường" prefix, as typed
    first.wait_for(state="visible")
    assert first.locator("b").inner_text() == name
    assert first.get_attribute("data-kind") == "old"
    first.click()
    popup.wait_for(state="visible")
    text = popup.inner_text()
    assert name in text and f"Old commune {code}" in text and "Now part of" in text, text[:300]

    # nothing found
    box.fill("zzzz qqq")
    assert page.locator(".reorg-search-none").inner_text() == "No commune found"
    pg.close()


@pytest.mark.browser
def test_before_after_views(result, map_files, browser):
    pg = Page(browser, map_files["en"])
    page = pg.page
    n_old = len(result.reformed.old)
    n_before_st = int((result.stations["origin"] != "new_site_needed").sum())

    # before: the old communes filled by minutes to their own station, old stations, district centres
    page.click(".reorg-view-btn[data-view=before]")
    page.wait_for_selector("#reorg-before-map .reorg-before-st", state="attached")
    assert page.locator("#reorg-before-map").is_visible()
    assert not page.locator(".reorg-after-map").is_visible()
    assert page.locator(".reorg-view-btn[data-view=before]").get_attribute("aria-pressed") == "true"
    assert _overlay_labels(page, "#reorg-before-map") == list(before_layer_names("en"))
    assert all(_overlay_checked(page, "#reorg-before-map"))
    assert page.locator("#reorg-before-map .leaflet-reorgCommunes-pane path").count() >= n_old
    assert page.locator("#reorg-before-map path.reorg-before-st").count() == n_before_st
    assert page.locator("#reorg-before-map .reorg-dcentre").count() == len(result.centres)
    assert page.locator("#reorg-legend-before").is_visible() and not page.locator("#reorg-legend").is_visible()
    fills = set(
        page.locator("#reorg-before-map .leaflet-reorgCommunes-pane path").evaluate_all(
            "els => els.map(e => e.getAttribute('fill'))"
        )
    )
    assert len(fills - {None, "none"}) >= 2, fills  # coloured by minutes, not one flat colour
    # the popup of an old commune shows its minutes before the reform
    page.locator("#reorg-before-map path.reorg-before-st").first.dispatch_event("click")
    popup = page.locator("#reorg-before-map .leaflet-popup-content").last
    popup.wait_for(state="visible")
    assert "Station" in popup.inner_text()

    # side by side: both maps drawn, halves of the window, pan and zoom follow each other
    page.click(".reorg-view-btn[data-view=compare]")
    page.wait_for_timeout(300)
    left = page.locator("#reorg-before-map").bounding_box()
    right = page.locator(".reorg-after-map").bounding_box()
    assert left and right and abs(left["width"] - right["width"]) < 4 and right["x"] >= left["x"] + left["width"] - 2
    banner = page.locator("#reorg-banner").bounding_box()
    assert left["y"] >= banner["y"] + banner["height"] - 1, "the maps sit below the banner"
    assert page.locator(".reorg-after-map .leaflet-reorgCommunes-pane path").count() == len(result.reformed.new)
    assert page.locator("#reorg-before-map .leaflet-reorgCommunes-pane path").count() >= n_old
    assert page.locator("#reorg-before-map .reorg-view-label").inner_text() == "Before the reform (to 30 June 2025)"
    assert page.locator(".reorg-after-map .reorg-view-label").inner_text() == "After the reform (from 1 July 2025)"
    page.evaluate("window.reorgApp.after.setView([18.9, 105.4], 11, {animate: false})")
    c = page.evaluate(
        "(() => { const b = window.reorgApp.before(); return [b.getCenter().lat, b.getCenter().lng, b.getZoom()]; })()"
    )
    assert abs(c[0] - 18.9) < 1e-6 and abs(c[1] - 105.4) < 1e-6 and c[2] == 11, c
    page.evaluate("window.reorgApp.before().setView([19.1, 105.0], 10, {animate: false})")
    c = page.evaluate(
        "(() => { const a = window.reorgApp.after; return [a.getCenter().lat, a.getCenter().lng, a.getZoom()]; })()"
    )
    assert abs(c[0] - 19.1) < 1e-6 and abs(c[1] - 105.0) < 1e-6 and c[2] == 10, c
    # a search in the compare view opens a new commune on the after map, the before map follows
    page.locator(".reorg-search-input").fill("dien chau")
    page.locator(".reorg-search-item").first.wait_for(state="visible")
    page.locator(".reorg-search-input").press("Enter")
    page.locator(".reorg-after-map .leaflet-popup-content").last.wait_for(state="visible")
    a, b = page.evaluate("[window.reorgApp.after.getZoom(), window.reorgApp.before().getZoom()]")
    assert a == b and a >= 10
    page.evaluate("window.reorgApp.after.closePopup()")
    # the whole province side by side, for a human look
    page.evaluate("window.reorgApp.before().closePopup()")
    minx, miny, maxx, maxy = (float(v) for v in result.reformed.new.total_bounds)
    page.evaluate("(b) => window.reorgApp.after.fitBounds(b, {animate: false})", [[miny, minx], [maxy, maxx]])
    page.mouse.move(VIEWPORT["width"] // 2, 40)  # no tooltip under the pointer
    page.wait_for_timeout(500)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "map_nghe_an_before_after.png"))

    # back to after: the before map is hidden, the after map fills the window
    page.click(".reorg-view-btn[data-view=after]")
    page.wait_for_timeout(200)
    assert not page.locator("#reorg-before-map").is_visible()
    box = page.locator(".reorg-after-map").bounding_box()
    assert box["width"] == VIEWPORT["width"] and box["x"] == 0
    pg.close()


@pytest.mark.browser
def test_map_in_vietnamese(result, map_files, browser):
    from reorg import fmt

    main_code, main_name = _main_station(result)
    dien_chau, population = _new_commune(result, "Xã Diễn Châu")
    pg = Page(browser, map_files["vi"])
    page = pg.page
    labels = _overlay_labels(page)
    assert labels == list(layer_names("vi"))
    for label in VI_LABELS:
        assert label in labels, label
    assert _overlay_checked(page) == [name not in OFF_AT_OPENING for name in LAYER_NAMES]
    assert page.evaluate("document.documentElement.lang") == "vi"
    banner = page.locator("#reorg-banner").inner_text()
    assert "Tỉnh Nghệ An" in banner and "kịch bản" in banner
    assert i18n.text("notice.synthetic_roster", "vi") in banner
    assert [b.strip() for b in page.locator(".reorg-view-btn").all_inner_texts()] == [
        "Sau sắp xếp",
        "Trước sắp xếp",
        "So sánh hai bên",
    ]
    legend = page.locator("#reorg-legend").inner_text()
    assert "Xã/phường mới: Số phút tới trạm y tế chính, sau sắp xếp (phút)" in legend
    assert "Trạm y tế chính (130)" in legend and "Thiếu nhân lực" in legend
    # the station popup in Vietnamese, with its diacritics
    page.locator(f"path.reorg-st-{main_code}").dispatch_event("click")
    popup = page.locator(".leaflet-popup-content").last
    popup.wait_for(state="visible")
    text = popup.inner_text()
    assert main_name in text and "Trạm y tế chính" in text and "Nhân lực theo chức danh" in text and "Trước" in text
    assert "Định mức (Thông tư 03/2023)" in text
    # search without accents works the same
    page.locator(".reorg-search-input").fill("dien chau")
    page.locator(".reorg-search-item").first.wait_for(state="visible")
    page.locator(".reorg-search-input").press("Enter")
    page.wait_for_function(
        "(sub) => [...document.querySelectorAll('.leaflet-popup-content')].some(e => e.innerText.includes(sub))",
        arg=f"Xã/phường mới {dien_chau}",
    )
    text = popup.inner_text()
    vi_population = fmt.count(population, "vi")
    assert "." in vi_population and vi_population != fmt.count(population), "Vietnamese thousands separator"
    assert "Xã Diễn Châu" in text and f"Dân số\t{vi_population}" in text, text[:300]
    page.evaluate("window.reorgApp.after.closePopup()")
    # the before view's layer names
    page.click(".reorg-view-btn[data-view=before]")
    page.wait_for_selector("#reorg-before-map .reorg-before-st", state="attached")
    assert _overlay_labels(page, "#reorg-before-map") == list(before_layer_names("vi"))
    assert "Trung tâm y tế huyện" in _overlay_labels(page, "#reorg-before-map")
    page.click(".reorg-view-btn[data-view=after]")
    minx, miny, maxx, maxy = (float(v) for v in result.reformed.new.total_bounds)
    page.evaluate(
        "(b) => window.reorgApp.after.fitBounds(b, {animate: false, paddingTopLeft: [10, 80]})", [[miny, minx], [maxy, maxx]]
    )
    page.locator(f"path.reorg-st-{main_code}").dispatch_event("click")
    popup.wait_for(state="visible")
    page.wait_for_timeout(400)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "map_nghe_an_vi.png"))
    pg.close()


@pytest.mark.browser
def test_report_in_browser(result, browser, tmp_path_factory):
    """report.html opens offline with no console error; its charts are drawn, its tables hold the
    indicators and Vietnamese names with their diacritics; a full-page screenshot is kept."""
    import inspect

    from reorg import charts as charts_module
    from reorg import fmt, i18n, tables
    from reorg.pipeline import write
    from reorg.schema import CADRES

    folder = write(result, tmp_path_factory.mktemp("report"))
    pg = Page(browser, folder / "report.html", wait_drawn=False)
    page = pg.page
    headings = [t.strip() for t in page.locator("h2").all_inner_texts()]
    for h in (
        "Summary",
        "Charts",
        "Indicators before and after",
        "The ten old communes that lose most",
        "Assumptions",
        "Solver quality",
    ):
        assert h in headings, (h, headings)
    # three inline SVG charts that the browser laid out (non-zero size), each with one bar per value
    # and one legend swatch per series: minutes before and after (a bar per bin and period), staff
    # before and after (a bar per cadre and period), the load of each regional centre
    bins = inspect.signature(charts_module.histogram).parameters["bins"].default
    expected = [
        (i18n.text("report.chart_minutes", "en"), 2 * bins + 2),
        (i18n.text("report.chart_staff", "en"), 2 * len(CADRES) + 2),
        (i18n.text("report.chart_centres", "en"), len(result.centres)),
    ]
    charts = page.locator("figure svg")
    assert charts.count() == len(expected)
    for k, (title, rects) in enumerate(expected):
        box = charts.nth(k).bounding_box()
        assert box and box["width"] > 300 and box["height"] > 150, box
        assert charts.nth(k).locator("title").text_content() == title
        assert charts.nth(k).locator("rect").count() == rects, title
    body = page.locator("body").inner_text()
    assert "Synthetic roster" in body
    losers = result.measures.losers
    name = str(losers.iloc[0]["old_name"])
    assert any(ord(ch) > 127 for ch in name) and name in body, name
    assert "Trung tâm Y tế" in body  # a centre's name in the centre-load chart and table
    value = fmt.indicator(
        "pop_minutes_main_station", tables.indicator_table(result).set_index("indicator").at["pop_minutes_main_station", "after"]
    )
    assert value in body
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "report_nghe_an.png"), full_page=True)
    pg.close()


def test_display_geometry_keeps_neighbours_together(result):
    """The map's simplified communes still share their borders: neighbours in the source touch in
    the display copy, no hole opens between them, and any new overlap is a sliver (coverage simplification)."""
    import shapely
    from shapely.strtree import STRtree

    from reorg.map_geometry import display_polygons, round_coords

    new = result.reformed.new
    src = new.geometry.to_numpy()
    disp = round_coords(display_polygons(src))
    # (the pack's polygons are already generalised, so simplification removes few vertices here)
    assert sum(shapely.get_num_coordinates(disp)) <= sum(shapely.get_num_coordinates(src))
    tree = STRtree(src)
    pairs = tree.query(src, predicate="intersects")
    shared = 0
    for i, j in zip(*pairs):
        if i >= j:
            continue
        if shapely.length(shapely.intersection(src[i], src[j])) > 0.001:  # a border of > ~100 m in the source
            shared += 1
            assert shapely.distance(disp[i], disp[j]) < 1e-9, (new.index[i], new.index[j])
        # the pack's polygons are not an exact coverage (neighbours overlap by slivers), so the
        # simplified copies may overlap a little more; bounded here at 1e-6 deg² (~0.012 km², a
        # sliver under the 1-px border at every zoom the map opens at)
        extra = shapely.area(shapely.intersection(disp[i], disp[j])) - shapely.area(shapely.intersection(src[i], src[j]))
        assert extra < 1e-6, ("overlap", new.index[i], new.index[j], extra)
    assert shared > 0  # neighbours exist, so the border check above ran

    # gaps between neighbours are holes in the union: their total area does not grow (per-polygon
    # simplification at the same tolerance grows it by 60 %, at three times the tolerance 8-fold)
    def hole_area(u):
        return sum(shapely.area(shapely.Polygon(ring)) for p in shapely.get_parts(u) for ring in p.interiors)

    assert hole_area(shapely.union_all(disp)) <= hole_area(shapely.union_all(src)) * 1.01


EVIL_NEW = "<script>alert(1)</script>"
EVIL_OLD = '<img src=x onerror="alert(2)">'
EVIL_TITLE = "<b>bold</b> & <script>alert(3)</script>"


@pytest.fixture(scope="module")
def evil(result, tmp_path_factory):
    """The run with a new commune named <script>alert(1)</script>, an old commune named
    <img src=x onerror=...>, and a scenario title holding markup: text from input is data."""
    new_code = sorted(result.reformed.new.index)[0]
    old_code = sorted(result.reformed.old.index)[0]
    new = result.reformed.new.copy()
    old = result.reformed.old.copy()
    new.loc[new_code, "commune_name"] = EVIL_NEW
    old.loc[old_code, "commune_name"] = EVIL_OLD
    communes = result.measures.communes.copy()
    communes.loc[new_code, "commune_name"] = EVIL_NEW
    old_communes = result.measures.old_communes.copy()
    old_communes.loc[old_code, "new_names"] = EVIL_NEW
    bad = dataclasses.replace(
        result,
        scenario=dataclasses.replace(result.scenario, title=EVIL_TITLE),
        reformed=dataclasses.replace(result.reformed, new=new, old=old),
        measures=dataclasses.replace(result.measures, communes=communes, old_communes=old_communes),
    )
    doc = render_map(bad)
    path = tmp_path_factory.mktemp("evil") / "map.html"
    path.write_text(doc, encoding="utf-8")
    return doc, path, new_code, old_code


def test_names_are_escaped_in_the_document(evil):
    doc, _, _, _ = evil
    head, rest = doc.split('<script type="application/json" id="reorg-data">', 1)
    data, tail = rest.split("</script>", 1)
    # the names are JSON text inside the data element, which nothing in it can close or comment out
    assert "</" not in data and "<!" not in data
    assert json.loads(data)["map"]["layers"][0]["data"]["features"][0]["properties"]["name"] == EVIL_NEW
    # outside it: the page's own four scripts (Leaflet, shared, data, page) and no other
    assert (head + tail).lower().count("<script") == 3
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; &lt;script&gt;alert(3)&lt;/script&gt;" in head


@pytest.mark.browser
def test_names_show_as_text_in_the_browser(evil, browser):
    _, path, new_code, old_code = evil
    dialogs: list[str] = []
    pg = Page(browser, path)
    page = pg.page
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    assert page.locator("#reorg-banner .t").inner_text() == EVIL_TITLE
    # tooltip of the new commune
    page.evaluate(
        """(code) => {
        window.reorgApp.after.eachLayer(l => { if (l.reorgCode === code && l instanceof L.Polygon && l.getTooltip()) {
            l.openTooltip(l.getBounds().getCenter()); } });
    }""",
        new_code,
    )
    tip = page.locator(".leaflet-tooltip").last
    assert tip.inner_text() == EVIL_NEW
    # search results, popups
    box = page.locator(".reorg-search-input")
    box.fill("alert")
    items = page.locator(".reorg-search-item b")
    items.first.wait_for(state="visible")
    assert EVIL_NEW in items.all_inner_texts() and EVIL_OLD in items.all_inner_texts()
    page.locator(f".reorg-search-item[data-code='{new_code}']").dispatch_event("mousedown")
    popup = page.locator(".leaflet-popup-content").last
    popup.wait_for(state="visible")
    assert popup.locator("h3").inner_text() == EVIL_NEW
    box.fill("onerror")
    page.locator(f".reorg-search-item[data-code='{old_code}']").first.wait_for(state="visible")
    page.locator(f".reorg-search-item[data-code='{old_code}']").dispatch_event("mousedown")
    page.wait_for_function(
        "[...document.querySelectorAll('.leaflet-popup-content h3')].some(e => e.textContent.includes('onerror'))"
    )
    texts = page.locator(".leaflet-popup-content h3").all_inner_texts()
    assert EVIL_OLD in texts
    assert EVIL_NEW in page.locator(".leaflet-popup-content").last.inner_text()  # "Now part of ..."
    # the legend, the popups and the tooltips hold no element made from a name
    assert page.locator(".leaflet-popup-content img, .leaflet-tooltip img, .reorg-search img, #reorg-legend img").count() == 0
    assert page.evaluate("document.querySelectorAll('script').length") == 4
    assert not dialogs, dialogs
    pg.close()
