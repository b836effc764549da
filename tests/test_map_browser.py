"""The offline HTML map: deterministic, self-contained, and working in a real browser.

Needs a geodata pack at $REORG_GEODATA (the real pack, province 40 Nghệ An). The browser test
drives the system Chromium (/usr/bin/chromium) through Playwright, blocks every request that is
not file: or data:, and saves a screenshot to test-artifacts/map_nghe_an.png.
"""
from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

from reorg.pipeline import run
from reorg.render import LAYER_NAMES, render_map
from reorg.scenario import load_scenario

PROVINCE = "40"  # Nghệ An
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


@pytest.fixture(scope="module")
def result():
    geodata = os.environ.get("REORG_GEODATA")
    assert geodata, ("set REORG_GEODATA to the geodata pack directory (the real pack with province 40, "
                     "e.g. REORG_GEODATA=/path/to/geodata pytest tests/test_map_browser.py)")
    assert Path(geodata).is_dir(), f"REORG_GEODATA={geodata} is not a directory"
    sc = load_scenario(None, province=PROVINCE)
    return run(sc, geodata=geodata)


@pytest.fixture(scope="module")
def map_html(result):
    t = time.perf_counter()
    doc = render_map(result)
    print(f"\nrender_map: {time.perf_counter() - t:.2f} s, {len(doc.encode('utf-8')) / 1e6:.2f} MB")
    return doc


def _main_station(result):
    st = result.measures.stations
    code = sorted(st.index[st["role"] == "main"])[0]
    old_code = st.at[code, "old_code"]
    return code, str(result.reformed.old.at[old_code, "commune_name"])


def test_map_deterministic_and_offline(result, map_html):
    again = render_map(result)
    assert again.encode("utf-8") == map_html.encode("utf-8"), "two renders of the same result differ"
    assert map_html.lstrip().startswith("<!DOCTYPE html>")
    assert '<meta charset="utf-8"' in map_html[:300]
    # no script or stylesheet from elsewhere (Leaflet is inlined)
    assert not re.search(r"<script\b[^>]*\bsrc\s*=", map_html, re.I), "a <script src=...> is left"
    assert not re.search(r"<link\b[^>]*\bhref\s*=\s*[\"']?(https?:)?//", map_html, re.I), "a <link href=http...> is left"
    assert not re.search(r"url\(\s*[\"']?(https?:)?//", map_html, re.I)
    for cdn in ("cdn.jsdelivr", "cdnjs", "code.jquery", "bootstrapcdn", "unpkg", "tile.openstreetmap"):
        assert cdn not in map_html
    assert "Leaflet 1.9.4" in map_html
    # Vietnamese text kept with its diacritics
    assert "Tỉnh Nghệ An" in map_html
    assert "Synthetic roster: station staff and locations are simulated, not real data" in map_html
    # no random ids left from branca/folium
    assert not re.search(r"_[0-9a-f]{32}\b", map_html)
    size_mb = len(map_html.encode("utf-8")) / 1e6
    assert size_mb < 8, f"map is {size_mb:.1f} MB"


@pytest.mark.browser
def test_map_in_browser(result, map_html, tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not installed: run .ci/system-deps.sh as root (apt-get install chromium)")
    from playwright import sync_api
    path = tmp_path / "map.html"
    path.write_text(map_html, encoding="utf-8")
    main_code, main_name = _main_station(result)

    blocked: list[str] = []
    errors: list[str] = []

    def route(r):
        url = r.request.url
        if url.startswith(("file:", "data:")):
            r.continue_()
        else:
            blocked.append(url)
            r.abort()

    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.on("console", lambda m: errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
            page.route("**/*", route)
            page.goto(path.as_uri(), wait_until="load")
            page.wait_for_selector(".leaflet-control-layers-overlays label")

            # the layer control lists every layer; lines to centre are off at opening
            labels = [t.strip() for t in page.locator(".leaflet-control-layers-overlays label").all_inner_texts()]
            assert labels == list(LAYER_NAMES)
            checked = page.locator(".leaflet-control-layers-overlays input").evaluate_all("els => els.map(e => e.checked)")
            assert checked == [name != "Lines to centre" for name in LAYER_NAMES]

            # banner and legend
            banner = page.locator("#reorg-banner").inner_text()
            assert "Tỉnh Nghệ An" in banner
            assert "Synthetic roster: station staff and locations are simulated, not real data" in banner
            assert "Main station" in page.locator("#reorg-legend").inner_text()

            # communes, outlines and station symbols are drawn
            assert page.locator(".leaflet-pane path").count() > 500
            assert page.locator("path.reorg-main").count() == int((result.measures.stations["role"] == "main").sum())
            assert page.locator(".leaflet-marker-pane .reorg-centre").count() == len(result.centres)

            # click the main station's marker: its popup names the station
            marker = page.locator(f"path.reorg-st-{main_code}")
            assert marker.count() == 1
            page.evaluate("""(cls) => {
                const m = Object.values(window).find(v => v instanceof L.Map);
                const el = document.querySelector('path.' + cls);
                m.eachLayer(l => { if (l._path === el) { m.setView(l.getLatLng(), 13, {animate: false}); } });
            }""", f"reorg-st-{main_code}")
            page.wait_for_timeout(300)
            marker.click()
            popup = page.locator(".leaflet-popup-content")
            popup.wait_for(state="visible")
            text = popup.inner_text()
            assert main_name in text, f"popup of station {main_code} does not show '{main_name}': {text[:200]}"
            assert "Main station" in text and "Before" in text and "After" in text

            # the whole province with the popup open, for a human look
            page.reload(wait_until="load")
            page.wait_for_selector(".leaflet-control-layers-overlays label")
            page.locator(f"path.reorg-st-{main_code}").dispatch_event("click")
            page.locator(".leaflet-popup-content").wait_for(state="visible")
            page.wait_for_timeout(400)
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "map_nghe_an.png"))
        finally:
            browser.close()

    assert not blocked, f"the map tried to load {blocked[:5]}"
    assert not errors, errors
