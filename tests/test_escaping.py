"""Names are data, never markup (issue 11, point 7).

A copy of the synthetic demo pack (`reorg.demo`) gets markup and script in every name field
(old and new commune names, district names -- and with them the regional centres' names --, the
province name in every layer), the scenario title holds markup too, and one run reads a roster
CSV. The province is run three times (official; optimised with the roster; official in
Vietnamese), the first two are compared, and the national pages are built from the pack. Then:

- every HTML page holds no element made from a name (checked on the page source, iframes'
  srcdoc included), the PDF builds and its text holds the names as typed (`<`, `&` and quotes);
- in Chromium (browser marker) every page is opened, every tooltip and popup of every map (the
  before view's included, and the maps inside comparison.html) is opened, the search lists the
  names and opens their popups, and nothing runs: `window.__pwned` stays undefined in every
  frame, no dialog fires, and the names show as typed;
- every workbook written (issue 11 point 2) holds a name starting with "=" as text, not a formula.

Rosters have no name column (schema.ROSTER: station code, position, facility score, staff by
cadre, region): a station is named after its old commune, from the pack. An extra column is
ignored; the roster here carries a `station_name` column with script to show that it never
reaches a page.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest

import reorg.cli
from reorg import demo
from reorg import national as reorg_national
from reorg.names import short_name
from reorg.schema import CADRES, COMMUNES_AFTER, COMMUNES_BEFORE, DISTRICTS_BEFORE, PROVINCES_AFTER

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"]

# one payload per kind of field, each running script if read as HTML, each with `<b>`, `&` and quotes
B = "<b>B</b>"


def new_name(k: int) -> str:
    return f'<img src=x onerror="window.__pwned=1;alert(1)">Xã N{k} "A" & {B}'


# a spreadsheet reads a text starting with "=" as a formula: one new commune's name does
FORMULA = '=1+2+HYPERLINK("x","<b>B</b>")'


def old_name(k: int) -> str:
    return f"Xã O{k} {B} & 'q' </script><script>window.__pwned=2</script>"


def district_name(k: int) -> str:
    return f'Huyện D{k} <svg onload="window.__pwned=3"></svg> & <!-- {B}'


PROVINCE = "Tỉnh <b>P</b> & \"A\" <img src=y onerror='window.__pwned=4'>"
TITLE = '<b>Title</b> & <script>window.__pwned=5</script> "q" <i>'
ROSTER_NAME = '<img src=z onerror="window.__pwned=6">Trạm RosterOnly'


def _toml(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)  # a JSON string is a TOML basic string


@pytest.fixture(scope="module")
def pack(tmp_path_factory) -> Path:
    """The demo pack with markup and script in every name field."""
    dest = demo.make_demo_pack(tmp_path_factory.mktemp("evil") / "pack")
    before = gpd.read_file(dest / COMMUNES_BEFORE.file, layer=COMMUNES_BEFORE.layer)
    after = gpd.read_file(dest / COMMUNES_AFTER.file, layer=COMMUNES_AFTER.layer)
    districts = gpd.read_file(dest / DISTRICTS_BEFORE.file, layer=DISTRICTS_BEFORE.layer)
    provinces = gpd.read_file(dest / PROVINCES_AFTER.file, layer=PROVINCES_AFTER.layer)
    dnames = {c: district_name(k) for k, c in enumerate(sorted(districts["district_code"]))}
    before["commune_name"] = [old_name(k) for k in range(len(before))]
    before["district_name"] = before["district_code"].map(dnames)
    before["province_name"] = PROVINCE
    after["commune_name"] = [new_name(k) for k in range(len(after))]
    after.loc[1, "commune_name"] = FORMULA
    after["province_name"] = PROVINCE
    districts["district_name"] = districts["district_code"].map(dnames)
    provinces["province_name"] = PROVINCE
    for gdf, layer in (
        (before, COMMUNES_BEFORE),
        (after, COMMUNES_AFTER),
        (districts, DISTRICTS_BEFORE),
        (provinces, PROVINCES_AFTER),
    ):
        (dest / layer.file).unlink()
        pyogrio.write_dataframe(gdf, dest / layer.file, layer=layer.layer, driver="GPKG", geometry_type="MultiPolygon")
    # a roster of every old commune's station, with a name column the schema does not have
    roster = pd.DataFrame(
        {
            "station_code": before["commune_code"],
            "lon": before["lon"],
            "lat": before["lat"],
            "facility_score": 0.6,
            **{c: (2 if c == "nurse" else 1) for c in CADRES},
            "station_name": ROSTER_NAME,
        }
    )
    roster.to_csv(dest.parent / "roster.csv", index=False)
    return dest


def _scenario(folder: Path, name: str, pack: Path, *, optimise: bool, lang: str, roster: bool) -> Path:
    policy = "optimise" if optimise else None
    lines = [
        f"name = {_toml(name)}",
        f"title = {_toml(TITLE)}",
        'province = "99"',
        f"geodata = {_toml(str(pack))}",
        "seed = 7",
    ]
    if roster:
        lines.append(f"roster = {_toml(str(pack.parent / 'roster.csv'))}")
    lines += [
        "[policy]",
        f'station_roles = "{policy or "keep_all"}"',
        f'main_station = "{policy or "moh_rule"}"',
        f'catchments = "{policy or "largest_district"}"',
        f'staff = "{policy or "stay"}"',
        "[output]",
        f'lang = "{lang}"',
    ]
    path = folder / f"{name}.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def outputs(pack, tmp_path_factory) -> dict[str, Path]:
    """The runs (official en, optimised en with the roster, official vi), their comparison and the
    national pages, every HTML page by a short name."""
    work = tmp_path_factory.mktemp("evil_runs")
    out = work / "outputs"
    scen = {
        "a": _scenario(work, "evil_a", pack, optimise=False, lang="en", roster=False),
        "b": _scenario(work, "evil_b", pack, optimise=True, lang="en", roster=True),
        "vi": _scenario(work, "evil_vi", pack, optimise=False, lang="vi", roster=False),
    }
    for key, path in scen.items():
        assert reorg.cli.main(["run", str(path), "--out", str(out), "--quiet"]) == 0, key
    comparison = work / "comparison"
    assert reorg.cli.main(["compare", str(out / "evil_a"), str(out / "evil_b"), "--out", str(comparison)]) == 0
    national = reorg_national.run_national(
        str(scen["a"]), [], str(pack), work / "national", workers=1, progress=False, provinces=["99"]
    )
    s = json.loads((national / "summary.json").read_text(encoding="utf-8"))
    assert [p["status"] for p in s["provinces"]] == ["done"], s["provinces"]
    return {
        "run": out / "evil_a",
        "run_b": out / "evil_b",
        "run_vi": out / "evil_vi",
        "comparison": comparison,
        "national": national,
        "national_province": national / s["provinces"][0]["folder"],
    }


def html_pages(o: dict[str, Path]) -> dict[str, Path]:
    return {
        "map": o["run"] / "map.html",
        "report": o["run"] / "report.html",
        "map_b": o["run_b"] / "map.html",
        "report_b": o["run_b"] / "report.html",
        "map_vi": o["run_vi"] / "map.html",
        "report_vi": o["run_vi"] / "report.html",
        "comparison": o["comparison"] / "comparison.html",
        "national_index": o["national"] / "index.html",
        "national_report": o["national"] / "report.html",
        "national_map": o["national_province"] / "map.html",
    }


class _Tags(HTMLParser):
    """Start tags of a page, and those of its iframes' srcdoc (parsed in turn)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.scripts: list[tuple[dict, str]] = []  # each script element: its attributes and code
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag == "script":
            self.scripts.append((a, ""))
            self._in_script = True
        if tag == "iframe" and a.get("srcdoc"):
            self.feed_child(a["srcdoc"])

    def feed_child(self, doc: str) -> None:
        child = _Tags()
        child.feed(doc)
        self.tags += child.tags
        self.text += child.text
        self.scripts += child.scripts

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            a, code = self.scripts[-1]
            self.scripts[-1] = (a, code + data)
        else:
            self.text.append(data)


def test_pages_hold_no_element_made_from_a_name(outputs):
    """No page (nor any iframe in it) has an element or attribute that a name brought in: no img,
    no svg with onload, no script but the page's own, no event handler attribute at all."""
    for key, path in html_pages(outputs).items():
        doc = path.read_text(encoding="utf-8")
        parser = _Tags()
        parser.feed(doc)
        tags = parser.tags
        assert not [t for t, _ in tags if t == "img"], key  # no page has an image of its own
        handlers = [(t, k) for t, a in tags for k in a if k.startswith("on")]
        assert not handlers, (key, handlers[:5])
        assert all(not a.get("src") for a, _ in parser.scripts), key
        # no script element holds a payload: every script is the page's own code or its JSON data
        code = [c for a, c in parser.scripts if a.get("type") != "application/json"]
        assert not [c for c in code if "__pwned" in c], key
        text = "".join(parser.text)
        assert "Trạm RosterOnly" not in text, "a roster column outside the schema reached a page"
        if key.startswith("report") or key == "comparison":  # names as text, read back as typed
            assert TITLE in text and PROVINCE in text, key
        if key.startswith("report"):
            assert any(old_name(k) in text for k in range(40)), key
            assert district_name(0) in text, key


def test_json_data_cannot_close_its_element(outputs):
    """Names travel to the maps as JSON inside <script type="application/json">: nothing in it can
    close the element or open a comment, and they read back exactly as typed."""
    for key in ("map", "map_b", "map_vi", "national_index", "national_map"):
        doc = html_pages(outputs)[key].read_text(encoding="utf-8")
        for data in re.findall(r'<script type="application/json" id="reorg-data">(.*?)</script>', doc, re.S):
            assert "</" not in data and "<!" not in data, key
            json.loads(data)
    doc = html_pages(outputs)["map"].read_text(encoding="utf-8")
    data = json.loads(re.search(r'<script type="application/json" id="reorg-data">(.*?)</script>', doc, re.S).group(1))
    flat = json.dumps(data, ensure_ascii=False)
    assert json.dumps(new_name(0), ensure_ascii=False)[1:-1] in flat


def _squeeze(text: str) -> str:
    """`text` without any white space (table cells wrap long names anywhere, even inside a word)."""
    return re.sub(r"\s+", "", text)


def _pdf_text(path: Path) -> str:
    from pypdf import PdfReader

    return _squeeze("".join(page.extract_text() or "" for page in PdfReader(str(path)).pages))


@pytest.mark.parametrize("run", ["run", "run_b", "run_vi", "national_province"])
def test_pdf_prints_names_as_typed(outputs, run):
    """reportlab's Paragraph reads a mini-markup: the names and the title are escaped for it, so
    the PDF builds and its text holds them exactly as typed (compared without white space)."""
    text = _pdf_text(outputs[run] / "report.pdf")
    if run != "national_province":  # a national run titles its provinces by their name
        assert _squeeze(TITLE) in text
    assert _squeeze(PROVINCE) in text
    # a new commune's name, an old one's, a centre's (from its district's name): as typed
    for name in (new_name(0), old_name(0), district_name(0)):
        assert _squeeze(name) in text, name


def test_workbooks_hold_names_as_text(outputs):
    """Every workbook written (decisions.xlsx, comparison.xlsx: issue 11 point 2) holds the names
    as text cells, never as formulas: the commune named `=1+2+HYPERLINK(...)` is a string."""
    import zipfile

    books = sorted(p for key in ("run", "run_b", "run_vi", "comparison") for p in outputs[key].glob("*.xlsx"))
    for book in books:
        with zipfile.ZipFile(book) as z:
            sheets = [z.read(n).decode("utf-8") for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
            strings = z.read("xl/sharedStrings.xml").decode("utf-8") if "xl/sharedStrings.xml" in z.namelist() else ""
        formulas = [f for sheet in sheets for f in re.findall(r"<f(?:\s[^>]*)?>(.*?)</f>", sheet, re.S)]
        assert not [f for f in formulas if "HYPERLINK" in f], (book.name, formulas[:3])
        if book.name == "decisions.xlsx":  # every commune is listed there (comparison.xlsx lists differences only)
            assert "=1+2+HYPERLINK(" in strings + "".join(sheets), book.name
    assert {b.name for b in books} == {"decisions.xlsx", "comparison.xlsx"}


def test_markdown_and_summary_keep_names(outputs):
    """report.md and summary.json keep the names as typed (they are not HTML)."""
    summary = json.loads((outputs["run"] / "summary.json").read_text(encoding="utf-8"))
    assert summary["province"]["name"] == PROVINCE
    assert summary["scenario"]["title"] == TITLE
    assert TITLE in (outputs["run"] / "report.md").read_text(encoding="utf-8")


# ---------------------------------------------------------------- Chromium


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not installed")
    from playwright import sync_api

    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


class Page:
    """A page that allows only file:, data: and about: requests (the payloads' images are file:
    URLs that fail, so their onerror would fire) and records dialogs and page errors."""

    def __init__(self, browser, path: Path):
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.page = browser.new_page(viewport={"width": 1400, "height": 900})
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:", "about:")) else r.abort())
        self.page.goto(path.as_uri(), wait_until="load")

    def pwned(self) -> list:
        """window.__pwned of every frame (undefined everywhere when nothing ran)."""
        return [f.evaluate("typeof window.__pwned === 'undefined' ? null : window.__pwned") for f in self.page.frames]

    def check(self) -> None:
        self.page.wait_for_timeout(300)  # a failed image's onerror comes after its request
        assert self.pwned() == [None] * len(self.page.frames), self.pwned()
        assert not self.dialogs, self.dialogs
        assert not self.errors, self.errors

    def close(self) -> None:
        self.check()
        self.page.close()


# every tooltip and popup of every Leaflet map of a frame: opened one after the other; their texts
OPEN_ALL = """
() => {
    const app = window.reorgApp;
    if (!app) { return null; }
    const maps = [app.after || app.map, app.before ? app.before() : null].filter(m => m);
    const out = {tooltips: [], popups: [], markers: 0};
    for (const m of maps) {
        const layers = [];
        m.eachLayer(l => layers.push(l));
        for (const l of layers) {
            if (l instanceof L.LayerGroup) { continue; }  // its features are layers of the map too
            const at = l.getLatLng ? l.getLatLng() : (l.getBounds ? l.getBounds().getCenter() : null);
            if (l.getTooltip && l.getTooltip() && at) {
                l.openTooltip(at);
                out.tooltips.push(l.getTooltip().getElement().innerText);
                l.closeTooltip();
            }
            if (l.getPopup && l.getPopup() && at) {
                l.openPopup(at);
                out.popups.push(l.getPopup().getElement().innerText);
                l.closePopup();
            }
            if (l.options && l.options.title) { out.markers += 1; }
        }
    }
    return out;
}
"""


# the same, for a page whose maps are not reorgApp's: every interactive shape and marker of every
# Leaflet map in the frame is hovered and clicked, and the tooltips and popups shown are read
OPEN_BY_DOM = """
() => {
    const out = {tooltips: [], popups: [], markers: 0};
    for (const el of document.querySelectorAll('.leaflet-container .leaflet-interactive')) {
        const r = el.getBoundingClientRect();
        const o = {bubbles: true, cancelable: true, view: window, clientX: r.x + r.width / 2, clientY: r.y + r.height / 2};
        for (const kind of ['mouseover', 'mousemove']) { el.dispatchEvent(new MouseEvent(kind, o)); }
        document.querySelectorAll('.leaflet-tooltip').forEach(t => out.tooltips.push(t.innerText));
        el.dispatchEvent(new MouseEvent('mouseout', o));
        el.dispatchEvent(new MouseEvent('click', o));
        document.querySelectorAll('.leaflet-popup-content').forEach(p => out.popups.push(p.innerText));
        out.markers += 1;
    }
    return out;
}
"""


def _open_everything(frame) -> dict | None:
    """Open every tooltip and popup of the frame's maps: their texts (None: no map in the frame)."""
    if frame.evaluate("window.reorgApp !== undefined"):
        return frame.evaluate(OPEN_ALL)
    if frame.locator(".leaflet-container").count():
        return frame.evaluate(OPEN_BY_DOM)
    return None


def _search(page, query: str) -> list[str]:
    box = page.locator(".reorg-search-input")
    box.fill(query)
    items = page.locator(".reorg-search-item")
    items.first.wait_for(state="visible")
    return items.locator("b").all_inner_texts()


@pytest.mark.browser
def test_province_maps_in_chromium(outputs, browser):
    pages = html_pages(outputs)
    for key in ("map", "map_b", "map_vi", "national_map"):
        pg = Page(browser, pages[key])
        page = pg.page
        page.wait_for_selector("body[data-reorg-drawn]")
        # a province page of the national run is titled from its province (name as typed)
        assert (TITLE if key != "national_map" else PROVINCE + ":") in page.locator("#reorg-banner").inner_text(), key
        assert "<b>P</b>" in page.locator("#reorg-banner").inner_text(), key
        after = _open_everything(page)
        tips = "\n".join(after["tooltips"])
        pops = "\n".join(after["popups"])
        assert new_name(0) in tips and new_name(0) in pops, key
        # station popups name the old commune; centre popups the district's centre
        assert old_name(0) in pops and district_name(0) in pops, key
        # the before view: old communes, old stations, district centres
        page.click(".reorg-view-btn[data-view=before]")
        page.wait_for_selector("#reorg-before-map .reorg-before-st", state="attached")
        both = _open_everything(page)
        assert old_name(0) in "\n".join(both["tooltips"]) and old_name(0) in "\n".join(both["popups"]), key
        page.click(".reorg-view-btn[data-view=after]")
        pg.check()
        # the search lists new and old communes by name, as typed; picking one opens its popup
        names = _search(page, "onerror")
        assert new_name(0) in names, names[:3]
        page.locator(".reorg-search-input").press("Enter")
        page.locator(".leaflet-popup-content").last.wait_for(state="visible")
        assert "<img src=x onerror=" in page.locator(".leaflet-popup-content").last.inner_text()
        names = _search(page, "pwned=2")
        assert old_name(0) in names, names[:3]
        page.locator(".reorg-search-item[data-kind=old]").first.dispatch_event("mousedown")
        page.wait_for_function(
            "[...document.querySelectorAll('.leaflet-popup-content h3')].some(e => e.textContent.includes('pwned=2'))"
        )
        legend = page.locator("#reorg-legend").inner_text()
        assert legend, key
        assert page.evaluate("document.querySelectorAll('img, svg[onload], [onerror]').length") == 0, key
        pg.close()


@pytest.mark.browser
def test_reports_in_chromium(outputs, browser):
    pages = html_pages(outputs)
    for key in ("report", "report_b", "report_vi", "national_report"):
        pg = Page(browser, pages[key])
        body = pg.page.locator("body").inner_text()
        assert TITLE in body or key == "national_report", key
        assert short_name(PROVINCE) in body, key  # the national report names provinces short
        if key != "national_report":
            # the losers' table names old communes; the centre chart and table name the centres
            assert "</script><script>window.__pwned=2</script>" in body, key
            assert district_name(0) in body, key
            svg_text = " ".join(pg.page.locator("figure svg").all_text_contents())
            assert "<svg onload=" in svg_text, key  # a centre's name in the centre-load chart, as text
        assert pg.page.evaluate("document.querySelectorAll('img, svg[onload], [onerror]').length") == 0, key
        pg.close()


@pytest.mark.browser
def test_comparison_and_national_index_in_chromium(outputs, browser):
    pages = html_pages(outputs)
    pg = Page(browser, pages["comparison"])
    page = pg.page
    body = page.locator("body").inner_text()
    assert TITLE in body and "<b>P</b>" in body
    # the role and centre differences name communes as typed
    assert "<img src=x onerror=" in body or "window.__pwned=2" in body
    # the runs' maps, in iframes or in the page itself: every tooltip and popup opened
    page.wait_for_timeout(500)
    opened = [got for f in page.frames if (got := _open_everything(f))]
    assert opened, "the comparison shows the runs' maps"
    tips = "\n".join(t for got in opened for t in got["tooltips"])
    pops = "\n".join(t for got in opened for t in got["popups"])
    assert new_name(0) in tips and new_name(0) in pops
    pg.close()

    pg = Page(browser, pages["national_index"])
    page = pg.page
    page.wait_for_function("window.reorgApp !== undefined")
    got = _open_everything(page)
    assert any(PROVINCE in t for t in got["tooltips"]) and any(PROVINCE in t for t in got["popups"]), got
    assert page.evaluate("document.querySelectorAll('img, svg[onload], [onerror]').length") == 0
    pg.close()
