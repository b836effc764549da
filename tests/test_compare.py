"""`reorg compare`: Nghệ An's official and optimised runs side by side on the real pack.

Every number of comparison.csv is checked against the two summary.json files, `best` and the
tables of differences are recomputed here from the runs' own files, and runs that cannot be
compared (another province, another reorg version, not a run, ...) are refused with exit code 2
and nothing written."""

from __future__ import annotations

import argparse
import html
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
import test_map_browser

import reorg.cli
from conftest import ROOT
from reorg import compare_maps, pages
from reorg.compare import cmd_compare, compare_runs

A, B = "nghe_an_official", "nghe_an_optimise"
browser = test_map_browser.browser  # the Chromium fixture of the map tests
# directions stated here independently of reorg.compare
LOWER = (
    "pop_minutes_nearest_facility",
    "pop_minutes_main_station",
    "pop_minutes_regional_centre",
    "staff_shortfall_total",
    "doctor_shortfall_main_stations",
    "gini_minutes_main_station",
    "gini_minutes_nearest_facility",
    "population_per_health_worker",
    "centre_excess_population",
    "centres_over_capacity",
    "pop_minutes_nearest_facility_mountain",
)
HIGHER = (
    "main_stations_with_doctor_share",
    "stations_meeting_norm_share",
    "pop_share_main_station_within_30min",
    "pop_share_main_station_within_60min",
    "pop_share_within_60min",
    "doctors_per_10k",
    "staff_total",
    "doctors_total",
)
NEUTRAL = ("population", "open_stations", "main_stations", "staff_norm_total")


@pytest.fixture(scope="module")
def cli():
    """reorg.cli.main on string arguments."""
    return lambda *args: reorg.cli.main([str(a) for a in args])


@pytest.fixture(scope="module")
def runs(cli, geodata, tmp_path_factory):
    """Nghệ An official and optimised, and the official scenario on Lào Cai (province 15), through the CLI."""
    out = tmp_path_factory.mktemp("compare_runs")
    for scenario, extra in ((A, ()), (B, ()), (A, ("--province", "15", "--set", "name=lc"))):
        rc = cli("run", ROOT / "scenarios" / f"{scenario}.toml", "--geodata", geodata, "--out", out, "--quiet", *extra)
        assert rc == 0, f"reorg run {scenario} {extra} failed with exit code {rc}"
    return {"official": out / A, "optimise": out / B, "lao_cai": out / "lc"}


@pytest.fixture(scope="module")
def comparison(cli, runs, tmp_path_factory):
    out = tmp_path_factory.mktemp("comparison") / "nghe_an"
    assert cli("compare", runs["official"], runs["optimise"], "--out", out) == 0
    return out


def _summary(folder: Path) -> dict:
    return json.loads((folder / "summary.json").read_text(encoding="utf-8"))


class _Page(HTMLParser):
    """Tables by id (rows of (text, class) cells) and the iframes' map index (data-reorg-map)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tables: dict[str, list[list[tuple[str, str]]]] = {}
        self.frames: list[str | None] = []
        self._table = self._row = self._cell = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table" and a.get("id"):
            self._table = self.tables.setdefault(a["id"], [])
        elif tag == "tr" and self._table is not None:
            self._row = []
            self._table.append(self._row)
        elif tag in ("td", "th") and self._row is not None:
            self._cell = ["", a.get("class") or ""]
        elif tag == "iframe":
            self.frames.append(a.get("data-reorg-map"))

    def handle_data(self, data):
        if self._cell is not None:
            self._cell[0] += data

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append((self._cell[0], self._cell[1]))
            self._cell = None
        elif tag == "table":
            self._table = self._row = None


@pytest.fixture(scope="module")
def page(comparison):
    p = _Page()
    p.feed((comparison / "comparison.html").read_text(encoding="utf-8"))
    return p


def _body(table):
    """Rows after the header, as texts."""
    return [[c[0] for c in r] for r in table[1:]]


def _md_tables(md: str, heading: str) -> list[list[list[str]]]:
    """The Markdown tables of the section whose heading starts with `heading`."""
    lines = md.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(heading))
    tables, cur = [], None
    for line in lines[start + 1 :]:
        if line.startswith("## "):
            break
        if line.startswith("|"):
            if cur is None:
                cur = []
                tables.append(cur)
            cur.append([c.strip() for c in line.strip().strip("|").split(" | ")])
        else:
            cur = None
    return [t[2:] for t in tables]  # without header and alignment rows


def test_five_files_written_atomically(comparison):
    assert sorted(p.name for p in comparison.iterdir()) == [
        "comparison.csv",
        "comparison.html",
        "comparison.md",
        "comparison.pdf",
        "comparison.xlsx",
    ]
    assert not [p for p in comparison.parent.iterdir() if p.name.startswith(".")], "no temporary folder is left"


def test_every_number_is_the_summaries(runs, comparison):
    sa, sb = _summary(runs["official"]), _summary(runs["optimise"])
    t = pd.read_csv(comparison / "comparison.csv", dtype=str, keep_default_na=False)
    assert list(t.columns) == ["indicator", "label", "unit", "before", A, B, "best"]
    assert list(t["indicator"]) == list(sa["indicators"]["after"]), "one row per indicator, in the summary's order"
    labels = pd.read_csv(runs["official"] / "indicators.csv", dtype=str, keep_default_na=False).set_index("indicator")
    periods = (sa["indicators"]["before"], sa["indicators"]["after"], sb["indicators"]["after"])
    non_null = sum(per[k] is not None for per in periods for k in t["indicator"])
    assert (t[["before", A, B]] != "").to_numpy().sum() == non_null, "an empty cell is a null of the summary"
    checked = 0
    for _, row in t.iterrows():
        k = row["indicator"]
        assert (row["label"], row["unit"]) == (labels.at[k, "label"], labels.at[k, "unit"]), k
        for col, want in (
            ("before", sa["indicators"]["before"][k]),
            (A, sa["indicators"]["after"][k]),
            (B, sb["indicators"]["after"][k]),
        ):
            if want is None:
                assert row[col] == "", (k, col)
            else:
                assert float(row[col]) == want, (k, col, row[col], want)  # exact: the CSV holds the summary's numbers
                checked += 1
    assert checked == non_null > 0


def test_best_run_of_each_indicator(runs, comparison, page):
    sa, sb = _summary(runs["official"]), _summary(runs["optimise"])
    t = pd.read_csv(comparison / "comparison.csv", dtype=str, keep_default_na=False).set_index("indicator")
    ties = 0
    for k in LOWER + HIGHER:
        a, b = sa["indicators"]["after"][k], sb["indicators"]["after"][k]
        target = (min if k in LOWER else max)(a, b)
        expect = ";".join(n for n, v in ((A, a), (B, b)) if v == target)
        assert t.at[k, "best"] == expect, (k, a, b)
        ties += ";" in expect
    for k in NEUTRAL:
        assert t.at[k, "best"] == "", k
    assert ties >= 1, "the runs tie on some indicator (e.g. population within 60 min of a facility)"
    assert 0 < sum(t.at[k, "best"] == B for k in LOWER + HIGHER) < len(LOWER + HIGHER)
    # the HTML marks exactly the best cells of each row
    head = [c[0] for c in page.tables["indicators"][0]]
    marked = {}
    for r in page.tables["indicators"][1:]:
        marked[r[0][0]] = {head[j] for j, (_, cls) in enumerate(r) if "best" in cls.split()}
    label = pd.read_csv(comparison / "comparison.csv", dtype=str, keep_default_na=False).set_index("label")["best"]
    for lab, best in label.items():
        assert marked[lab] == (set(best.split(";")) if best else set()), lab
    md = (comparison / "comparison.md").read_text(encoding="utf-8")
    row = next(line for line in md.splitlines() if line.startswith("| " + t.at["staff_shortfall_total", "label"] + " |"))
    assert row.count("**") == 2 * len(t.at["staff_shortfall_total", "best"].split(";"))


def test_role_differences_are_exactly_the_stations_whose_role_differs(runs, comparison, page):
    a = pd.read_csv(runs["official"] / "stations.csv", dtype=str, keep_default_na=False).set_index("station_code")["role"]
    b = pd.read_csv(runs["optimise"] / "stations.csv", dtype=str, keep_default_na=False).set_index("station_code")["role"]
    assert a.index.is_unique and set(a.index) == set(b.index)
    differ = {c: (a[c], b[c]) for c in a.index if a[c] != b[c]}
    assert len(differ) > 0
    table = _body(page.tables["role-differences"])
    assert {r[0]: (r[3], r[4]) for r in table} == differ and len(table) == len(differ)
    md = (comparison / "comparison.md").read_text(encoding="utf-8")
    assert f"## Stations whose role differs ({len(differ)})" in md
    rows = _md_tables(md, "## Stations whose role differs")[-1]
    assert {r[0]: (r[3], r[4]) for r in rows} == differ and len(rows) == len(differ)
    # the transitions add up to the differences
    assert sum(int(r[3]) for r in _body(page.tables["role-transitions"])) == len(differ)


def test_centre_differences_are_exactly_the_communes_whose_centre_differs(runs, comparison, page):
    a = pd.read_csv(runs["official"] / "communes_after.csv", dtype=str, keep_default_na=False).set_index("new_commune_code")[
        "centre_code"
    ]
    b = pd.read_csv(runs["optimise"] / "communes_after.csv", dtype=str, keep_default_na=False).set_index("new_commune_code")[
        "centre_code"
    ]
    differ = {c: (a[c], b[c]) for c in a.index if a[c] != b[c]}
    assert len(differ) > 0

    def code(cell):  # "Trung tâm Y tế ... (412)" -> "412"
        return re.search(r"\(([^()]+)\)$", cell).group(1)

    table = _body(page.tables["centre-differences"])
    assert {r[0]: (code(r[3]), code(r[4])) for r in table} == differ and len(table) == len(differ)
    md = (comparison / "comparison.md").read_text(encoding="utf-8")
    assert f"## Communes whose regional centre differs ({len(differ)})" in md
    rows = _md_tables(md, "## Communes whose regional centre differs")[-1]
    assert {r[0]: (code(r[3]), code(r[4])) for r in rows} == differ


def test_synthetic_notices_solver_records_and_counts(runs, comparison, page):
    sa, sb = _summary(runs["official"]), _summary(runs["optimise"])
    assert sa["synthetic_roster"] and sb["synthetic_roster"]
    md = (comparison / "comparison.md").read_text(encoding="utf-8")
    top = md.split("\n## ")[0]
    assert "Synthetic roster" in top, "the synthetic-data notice comes first"
    assert ("Synthetic demo province" in top) == (sa["synthetic_pack"] or sb["synthetic_pack"])
    html_text = (comparison / "comparison.html").read_text(encoding="utf-8")
    assert "Synthetic roster" in html_text.split("<h2>")[0]
    solver = _body(page.tables["solver"])
    assert [r[1] for r in solver if r[0] == B] == [rec["model"] for rec in sb["solver"]]
    assert all(r[3].startswith("optimal") for r in solver if r[0] == B)
    assert [r[0] for r in solver if r[0] == A] == [A] and not sa["solver"]
    counts = {r[0]: r[1:] for r in _body(page.tables["counts"])}
    assert counts["closed stations"] == [str(sa["counts"]["closed_stations"]), str(sb["counts"]["closed_stations"])]
    assert "Tỉnh Nghệ An" in html_text.split("<h2>")[0]


def _payload(html_text: str) -> str:
    m = re.search(r'<script type="application/octet-stream" id="reorg-maps"[^>]*>([A-Za-z0-9+/=]+)</script>', html_text)
    assert m, "the maps' shared pieces are in the page"
    return m.group(1)


def test_maps_side_by_side_and_self_contained(runs, comparison, page):
    html_text = (comparison / "comparison.html").read_text(encoding="utf-8")
    own = [(runs[k] / "map.html").read_text(encoding="utf-8") for k in ("official", "optimise")]
    assert page.frames == ["0", "1"]
    assert compare_maps.assemble(_payload(html_text)) == own, "each iframe gets exactly its run's map.html"
    outside = html_text.replace(_payload(html_text), "").replace(pages.asset("map_compare.js"), "")
    assert "runs' own maps" in html.unescape(outside)  # the page's text is escaped by its template
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", outside), "nothing is fetched from the network"
    assert "<link" not in outside
    assert outside.count("<script") == 2, "the maps' pieces and the script that unpacks them, nothing else"
    assert outside.count("<svg") == 2, "two charts, inline SVG"


def test_maps_share_one_copy_of_their_geometry(runs, comparison):
    """Point 9 of issue 11: two Nghệ An runs on one page in at most 3 MB, the polygons held once."""
    size = (comparison / "comparison.html").stat().st_size
    assert size <= 3_000_000, f"comparison.html is {size / 1e6:.2f} MB"
    own = [(runs[k] / "map.html").read_text(encoding="utf-8") for k in ("official", "optimise")]
    shared = compare_maps.pieces(own)
    for parts in shared["maps"]:
        texts = [p for p in parts if isinstance(p, str)]
        assert not any('"coordinates":[[[' in p for p in texts), "no polygon is left in a run's own parts"
        assert not any(pages.asset("leaflet.js")[:2000] in p for p in texts), "Leaflet is held once"
    polygons = [p for p in shared["pieces"] if p.startswith('{"type":"') and '"coordinates":[[[' in p]
    assert len(polygons) == len(set(polygons)), "each polygon once"
    # the new communes' polygons are the same in both runs, so every one of them is held once
    geo = [re.findall(r'\{"geometry":(\{"type":"(?:Multi)?Polygon".*?\]\]\]\})', p) for p in own]
    assert set(geo[0]) & set(geo[1]), "the runs share polygons"
    for g in set(geo[0]) | set(geo[1]):
        assert any(p == g or p.startswith('{"geometry":' + g) for p in shared["pieces"]), "a polygon is held in the pieces"


@pytest.mark.browser
def test_maps_draw_in_chromium(runs, comparison, browser):
    """Both maps of comparison.html draw in Chromium, offline, each with every new commune; each
    iframe shows exactly its run's map.html."""
    pg = test_map_browser.Page(browser, comparison / "comparison.html", wait_drawn=False)
    pg.page.wait_for_selector("body[data-reorg-maps='2']")
    own = [(runs[k] / "map.html").read_text(encoding="utf-8") for k in ("official", "optimise")]
    assert pg.page.evaluate("Array.from(document.querySelectorAll('iframe')).map(f => f.srcdoc)") == own
    frames = [f for f in pg.page.frames if f != pg.page.main_frame]
    assert len(frames) == 2
    for frame, k in zip(frames, ("official", "optimise")):
        frame.wait_for_selector("body[data-reorg-drawn]", timeout=120_000)
        n = len(pd.read_csv(runs[k] / "communes_after.csv", dtype=str))
        assert frame.locator(".reorg-after-map .leaflet-reorgCommunes-pane path").count() == n
        assert frame.locator("path.reorg-main").count() > 0
    pg.close()


def test_same_runs_give_the_same_bytes(cli, runs, comparison, tmp_path):
    again = tmp_path / "again"
    assert cli("compare", runs["official"], runs["optimise"], "--out", again) == 0
    for f in ("comparison.csv", "comparison.md", "comparison.html", "comparison.pdf", "comparison.xlsx"):
        assert (again / f).read_bytes() == (comparison / f).read_bytes(), f
    assert cli("compare", runs["official"], runs["optimise"], "--out", again) == 0, "an earlier comparison is replaced"


def test_python_api_three_runs_and_shared_names(runs, comparison, tmp_path):
    from reorg import indicators

    twin = tmp_path / "twin"
    shutil.copytree(runs["official"], twin)
    out = compare_runs([runs["official"], runs["optimise"], twin], tmp_path / "three")
    t = pd.read_csv(out / "comparison.csv", dtype=str, keep_default_na=False).set_index("indicator")
    names = (A, B, f"{A}#2")
    assert list(t.columns) == ["label", "unit", "before", *names, "best"]
    assert (t[A] == t[f"{A}#2"]).all()
    # best of three: the runs holding the best value by the indicator table's direction (a tie names each)
    kinds = set()
    for k in t.index:
        how = indicators.get(k).direction
        values = {n: float(t.at[k, n]) for n in names if t.at[k, n] != ""}
        if how is None or len(values) < 2:
            assert t.at[k, "best"] == "", k
            continue
        target = (min if how == "lower" else max)(values.values())
        expect = [n for n in names if n in values and values[n] == target]
        assert t.at[k, "best"] == ";".join(expect), (k, values)
        kinds.add(tuple(expect))
    assert {(A, f"{A}#2"), (B,)} <= kinds, "the twins share a best, and the optimised run is best alone somewhere"
    args = argparse.Namespace(runs=[str(runs["official"]), str(runs["optimise"])], out=str(tmp_path / "ns"))
    assert cmd_compare(args) == 0
    for f in ("comparison.csv", "comparison.md", "comparison.html", "comparison.pdf", "comparison.xlsx"):
        assert (tmp_path / "ns" / f).read_bytes() == (comparison / f).read_bytes(), f


def _refused(cli, capsys, *args) -> str:
    rc = cli("compare", *args)
    cap = capsys.readouterr()
    assert rc == 2, cap.err
    assert "Traceback" not in cap.err and "bad input, nothing written" in cap.err
    return cap.err


def test_runs_of_different_provinces_are_refused(cli, runs, tmp_path, capsys):
    out = tmp_path / "refused"
    err = _refused(cli, capsys, runs["official"], runs["lao_cai"], "--out", out)
    assert "province 40" in err and "province 15" in err and "different provinces" in err
    assert str(runs["official"]) in err and str(runs["lao_cai"]) in err
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_runs_of_incompatible_versions_are_refused(cli, runs, tmp_path, capsys):
    fake = tmp_path / "old_run"
    shutil.copytree(runs["optimise"], fake)
    s = _summary(fake)
    s["reorg_version"] = "9.9.0"
    (fake / "summary.json").write_text(json.dumps(s), encoding="utf-8")
    out = tmp_path / "refused"
    err = _refused(cli, capsys, runs["official"], fake, "--out", out)
    assert "9.9.0" in err and _summary(runs["official"])["reorg_version"] in err and "incompatible reorg versions" in err
    assert not out.exists()


def test_other_inputs_are_refused(cli, runs, tmp_path, capsys):
    out = tmp_path / "refused"
    assert "at least two run folders" in _refused(cli, capsys, runs["official"], "--out", out)
    empty = tmp_path / "empty"
    empty.mkdir()
    err = _refused(cli, capsys, runs["official"], empty, "--out", out)
    assert "summary.json is missing" in err and str(empty) in err
    err = _refused(cli, capsys, runs["official"], runs["official"].parent, "--out", out)
    assert "give those folders instead" in err, "an output root is named as such"
    assert "no such folder" in _refused(cli, capsys, runs["official"], tmp_path / "nowhere", "--out", out)
    assert "given twice" in _refused(cli, capsys, runs["official"], runs["official"], "--out", out)
    assert not out.exists()
    # the output folder never replaces or enters a run, nor a folder that is not a comparison
    before = sorted(p.name for p in runs["optimise"].iterdir())
    for target in (runs["optimise"], runs["optimise"].parent, runs["optimise"] / "cmp"):
        assert "run folder" in _refused(cli, capsys, runs["official"], runs["optimise"], "--out", target)
    assert sorted(p.name for p in runs["optimise"].iterdir()) == before
    (empty / "notes.txt").write_text("mine", encoding="utf-8")
    assert "not an earlier comparison" in _refused(cli, capsys, runs["official"], runs["optimise"], "--out", empty)
    assert (empty / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_comparison_in_vietnamese(runs, comparison, tmp_path):
    """The pages take a language: in Vietnamese every indicator label and heading is the vi one;
    comparison.csv (a data file) stays the same."""
    from reorg import i18n, indicators

    out = compare_runs([runs["official"], runs["optimise"]], tmp_path / "vi", lang="vi")
    md = (out / "comparison.md").read_text(encoding="utf-8")
    page = html.unescape((out / "comparison.html").read_text(encoding="utf-8"))
    assert (out / "comparison.csv").read_bytes() == (comparison / "comparison.csv").read_bytes()
    for key in _summary(runs["official"])["indicators"]["after"]:
        vi, en = indicators.get(key).label("vi"), indicators.get(key).label("en")
        assert f"| {vi} |" in md and f">{vi}<" in page, key
        assert f"| {en} |" not in md, key
    for key in ("compare.h_runs", "compare.h_indicators", "compare.h_counts", "compare.h_solver", "compare.h_maps"):
        assert f"## {i18n.text(key, 'vi')}" in md and f"<h2>{i18n.text(key, 'vi')}</h2>" in page, key
    assert '<html lang="vi">' in page and i18n.notices({"synthetic_roster": True}, "vi")[0] in md
    from pypdf import PdfReader

    pdf = " ".join(" ".join(p.extract_text() or "" for p in PdfReader(str(out / "comparison.pdf")).pages).split())
    for key in ("pdf_map.main", "pdf_map.point", "pdf_map.centre", "pdf_map.best_note", "compare.h_maps"):
        assert i18n.text(key, "vi") in pdf and i18n.text(key, "en") not in pdf, key
    assert indicators.get("minutes_main_after").label("vi") in pdf


def test_comparison_pdf_table_and_maps(runs, comparison):
    """Issue 11 point 8: comparison.pdf holds the indicator table (the best run of a row named
    in its last column and its value in bold) and both runs' maps side by side, as vector paths."""
    from pypdf import PdfReader

    from reorg import i18n

    reader = PdfReader(str(comparison / "comparison.pdf"))
    texts = [p.extract_text() or "" for p in reader.pages]
    text = "\n".join(texts)
    sa, sb = _summary(runs["official"]), _summary(runs["optimise"])
    assert "Tỉnh Nghệ An" in texts[0] and "Synthetic roster" in texts[0]
    # a row whose best is one run: its label, unit, before, both values and the best run, in order
    key = "staff_shortfall_total"
    a, b = sa["indicators"]["after"][key], sb["indicators"]["after"][key]
    assert a != b
    best = A if a < b else B
    flat = " ".join(text.split())  # cells may wrap
    before = sa["indicators"]["before"][key]
    assert f"Staff shortfall against the norm persons {before:,} {a:,} {b:,} {best} " in flat
    bold: set[str] = set()

    def seen(text, cm, tm, font, size):
        if font and "Bold" in str(font.get("/BaseFont", "")):
            bold.add(text.strip())

    reader.pages[0].extract_text(visitor_text=seen)
    assert f"{min(a, b):,}" in bold and f"{max(a, b):,}" not in bold, "the best value is bold, the other is not"
    # both maps: one caption per run, the legend twice, paths for the communes of both
    for name in (A, B):
        assert f"{name} (" in text
    assert text.count(i18n.text("pdf_map.main")) == 2 and text.count(i18n.text("pdf_map.north")) >= 2
    n_communes = len(pd.read_csv(runs["official"] / "communes_after.csv", dtype=str))
    maps_page = next(p for p, t in zip(reader.pages, texts) if i18n.text("pdf_map.main") in t)
    content = maps_page.get_contents().get_data()
    assert content.count(b" h") >= 2 * n_communes, "each run's communes are closed paths"
    assert "/XObject" not in maps_page["/Resources"]
