"""The plan's outputs (issue 13 points 4 and 5): plan/report.md, report.html and the plan's pages
in report.pdf say in one sentence per target whether and when it is reached and at what cost, in
English and in Vietnamese; plan/map.html has a year selector and escapes names; `reorg compare`
of two runs with plans shows the plans side by side; `reorg sweep` over a plan parameter works;
the same run writes the same bytes. Lai Châu (12), the province with the fewest communes, keeps
the plans fast."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from test_lang import english_in, html_text, pdf_text

from reorg import fmt, i18n
from reorg.cli import main
from reorg.pipeline import run, write
from reorg.scenario import load_scenario
from reorg.workforce import report as plan_report
from reorg.workforce.map import render_plan_map

PROVINCE = "12"
PLAN_FILES = ("report.md", "report.html", "map.html")


def _scenario(folder: Path, name: str, lang: str = "en") -> Path:
    path = folder / f"{name}.toml"
    path.write_text(
        f'name = "{name}"\nprovince = "{PROVINCE}"\n\n[params]\ndoctors_min_main_station = 2\n\n'
        f'[output]\nlang = "{lang}"\n\n[plan]\ndraws = 2\n',
        encoding="utf-8",
    )
    return path


@pytest.fixture(scope="module")
def plan_en(tmp_path_factory, geodata):
    """A run with a plan, in memory and written (English)."""
    tmp = tmp_path_factory.mktemp("plan_en")
    scenario = load_scenario(str(_scenario(tmp, "lc_plan")))
    result = run(scenario, geodata=str(geodata))
    folder = write(result, tmp / "out")
    return result, folder, json.loads((folder / "plan" / "summary.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def plan_vi(tmp_path_factory, geodata):
    """The same plan in Vietnamese, through the command line."""
    tmp = tmp_path_factory.mktemp("plan_vi")
    rc = main(["plan", str(_scenario(tmp, "lc_plan_vi", "vi")), "--geodata", str(geodata), "--out", str(tmp / "out"), "--quiet"])
    assert rc == 0
    folder = tmp / "out" / "lc_plan_vi"
    return folder, json.loads((folder / "plan" / "summary.json").read_text(encoding="utf-8"))


def _items(md: str) -> list[str]:
    return [line[2:] for line in md.splitlines() if line.startswith("- ")]


def _check_sentences(folder: Path, summary: dict, lang: str) -> None:
    """Each target on has one sentence, which says what summary.json says about it."""
    md = (folder / "plan" / "report.md").read_text(encoding="utf-8")
    html = html_text((folder / "plan" / "report.html").read_text(encoding="utf-8"))
    items = _items(md)
    assert summary["targets"], "the plan has targets"
    for tg in summary["targets"]:
        key = tg["target"]
        name = i18n.text(f"plan_target.name_{key}", lang)
        said = [s for s in items if s.startswith(name + " (")]
        assert len(said) == 1, (key, lang)
        s = said[0]
        assert s in html.replace("\n", " ") or s.replace("**", "") in html, key
        assert f"{tg['deadline']}" in s
        reached = i18n.text("plan_report.reached", lang).split("{year}")[0].split(": ")[-1]
        missed = i18n.text("plan_report.not_reached", lang).split("{end}")[0].split(": ")[-1]
        if tg["met_in_plan_from"] is None:
            assert missed in s, (key, s)
        else:
            assert f"{tg['met_in_plan_from']}" in s and (reached in s or "{late}" not in s), (key, s)
            spent = plan_report.money(_cost_until(folder, tg["met_in_plan_from"]), lang)
            assert spent in s, (key, s, spent)
        if tg["least_budget_mvnd_per_year"] is not None:
            assert plan_report.money(tg["least_budget_mvnd_per_year"], lang) in s, (key, s)
        if tg["short_at_any_budget"] is not None:
            no_budget = i18n.text(
                "plan_report.no_budget",
                lang,
                deadline=tg["deadline"],
                short=fmt.count(tg["short_at_any_budget"], lang),
                unit=i18n.text(f"plan_target.unit_{key}", lang),
            )
            assert no_budget in s, (key, s)
        if tg["earliest_year"] is not None:
            assert i18n.text("plan_report.earliest", lang, year=tg["earliest_year"]) in s, (key, s)


def _cost_until(folder: Path, year: int) -> float:
    import csv

    with (folder / "plan" / "years.csv").open(encoding="utf-8") as fh:
        return sum(float(r["cost_total_mvnd"]) for r in csv.DictReader(fh) if int(r["year"]) <= year)


def test_report_says_each_target_in_one_sentence_in_english(plan_en):
    result, folder, summary = plan_en
    _check_sentences(folder, summary, "en")
    md = (folder / "plan" / "report.md").read_text(encoding="utf-8")
    # the synthetic roster is said, in the run's own words; the years and costs are tabled
    assert i18n.text("notice.synthetic_roster", "en") in md
    assert "| 2026 |" in md and "| 2030 |" in md
    html = (folder / "plan" / "report.html").read_text(encoding="utf-8")
    assert html.count("<svg") == 2 and "page.css" not in html and "<style>" in html
    assert "plan_budget_capital_mvnd" in md and "`doctors_min_main_station`" in md  # the plan's assumptions
    assert i18n.text("plan_report.h_draws", "en") in md  # the draws' probabilities


def test_report_in_vietnamese_has_no_english_label(plan_vi):
    folder, summary = plan_vi
    _check_sentences(folder, summary, "vi")
    title = summary["scenario"]["title"]
    for name in PLAN_FILES:
        page = (folder / "plan" / name).read_text(encoding="utf-8")
        text = html_text(page) if name.endswith(".html") else page
        assert english_in(text, (title,)) == [], name
        assert not re.search(r"(?<![\d.,])[1-9]\d{0,2}(?:,\d{3})+\.\d(?![\d,])", text), name  # no 1,234.5
    pdf = pdf_text(folder / "report.pdf")
    assert i18n.text("plan_report.h_assumptions", "vi") in pdf
    assert i18n.text("plan_target.name_norm", "vi") in pdf
    plan_pages = pdf[pdf.index(i18n.text("plan_report.title", "vi", start=2026, end=2030)) :]
    assert english_in(plan_pages, (title,)) == []


def test_a_run_without_a_plan_has_no_plan_pages(tmp_path, geodata):
    from reorg import pdf

    scenario = load_scenario(None, [], province=PROVINCE)
    result = run(scenario, geodata=str(geodata))
    assert result.workforce is None
    folder = write(result, tmp_path)
    assert not (folder / "plan").exists()
    assert i18n.text("plan_report.h_assumptions", "en") not in pdf_text(folder / "report.pdf")
    assert pdf.write_pdf  # the PDF module builds without importing the plan


class _Scripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[tuple[dict, str]] = []
        self.selects: list[dict] = []
        self.options: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script":
            self.scripts.append((a, ""))
        if tag == "select":
            self.selects.append(a)
        if tag == "option":
            self.options.append(a.get("value", ""))
        self._in = tag

    def handle_data(self, data):
        if self._in == "script" and self.scripts:
            a, code = self.scripts[-1]
            self.scripts[-1] = (a, code + data)


def _data(page: str) -> dict:
    return json.loads(re.search(r'<script type="application/json" id="reorg-data">(.*?)</script>', page, re.S).group(1))


def test_map_has_a_year_selector_and_colours_by_gap(plan_en):
    result, folder, summary = plan_en
    page = (folder / "plan" / "map.html").read_text(encoding="utf-8")
    parser = _Scripts()
    parser.feed(page)
    assert [s.get("id") for s in parser.selects] == ["reorg-plan-year"]
    assert parser.options == [str(i) for i in range(len(summary["years"]))]
    data = _data(page)
    assert data["years"] == summary["years"]
    feats = data["map"]["layers"][0]["data"]["features"]
    assert len(feats) == summary["stations"]
    total_gap = [sum(f["properties"]["gaps"][t] for f in feats) for t in range(len(summary["years"]))]
    station_keys = [tg["target"] for tg in summary["targets"] if tg["target"] != "doctors_per_10k"]
    want = [sum(int(result.workforce.shortfall(k)[:, t].sum()) for k in station_keys) for t in range(len(summary["years"]))]
    assert total_gap == want and max(want) > 0
    for f in feats[:20]:
        p = f["properties"]
        assert len(p["popups"]) == len(summary["years"]) and len(p["classes"]) == len(summary["years"])
        assert p["style"]["fillColor"] == data["colours"][p["classes"][0]]
    assert [sum(c) for c in data["counts"]] == [len(feats)] * len(summary["years"])
    assert "map_plan" not in page and "reorg-plan-year" in page  # the script asset is inlined
    # the new communes' outlines, under the stations (panes), not clickable
    layers = {layer["key"]: layer for layer in data["map"]["layers"]}
    outlines = layers["communes"]["data"]["features"]
    new = result.reformed.new
    assert [f["id"] for f in outlines] == sorted(new.index[new.geometry.notna() & ~new.geometry.is_empty])
    assert {f["geometry"]["type"] for f in outlines} <= {"Polygon", "MultiPolygon"}
    assert layers["communes"]["interactive"] is False
    panes = dict(map(tuple, data["map"]["panes"]))
    assert panes[layers["communes"]["pane"]] < panes[feats[0]["properties"]["style"]["pane"]]


def test_map_escapes_a_station_name(plan_en):
    result, _, _ = plan_en
    frame = result.reformed.old
    names = frame["commune_name"]
    olds = result.measures.stations["old_code"]
    code = next(c for c in result.workforce.inst.codes if olds.get(c) in names.index)  # named by its old commune
    old = olds[code]
    saved = names.loc[old]
    payload = "Trạm <script>window.__pwned=1</script> & <b>x</b>"
    frame.loc[old, "commune_name"] = payload
    try:
        page = render_plan_map(result, "en")
    finally:
        frame.loc[old, "commune_name"] = saved
    parser = _Scripts()
    parser.feed(page)
    code_scripts = [c for a, c in parser.scripts if a.get("type") != "application/json"]
    assert not [c for c in code_scripts if "__pwned" in c]
    data_text = re.search(r'<script type="application/json" id="reorg-data">(.*?)</script>', page, re.S).group(1)
    assert "</" not in data_text and "<!" not in data_text
    feat = next(f for f in _data(page)["map"]["layers"][0]["data"]["features"] if f["properties"]["code"] == code)
    assert feat["properties"]["name"] == f"{payload} ({code})"  # the tooltip: text, shown as text
    for popup in feat["properties"]["popups"]:
        assert "Trạm &lt;script&gt;window.__pwned=1&lt;/script&gt; &amp; &lt;b&gt;x&lt;/b&gt;" in popup
        assert "<script" not in popup and "<b>x" not in popup


def test_the_same_run_writes_the_same_plan_pages(plan_en, tmp_path):
    result, folder, _ = plan_en
    again = write(result, tmp_path)
    for name in (*PLAN_FILES, "plan.xlsx", "summary.json", "years.csv", "stations.csv"):
        assert (again / "plan" / name).read_bytes() == (folder / "plan" / name).read_bytes(), name


def test_compare_of_two_plans_shows_the_plan_section(plan_en, plan_vi, tmp_path):
    _, folder_en, summary_en = plan_en
    folder_vi, summary_vi = plan_vi
    out = tmp_path / "cmp"
    assert main(["compare", str(folder_en), str(folder_vi), "--out", str(out), "--lang", "en"]) == 0
    md = (out / "comparison.md").read_text(encoding="utf-8")
    assert f"## {i18n.text('plan_compare.h', 'en')}" in md
    assert md.index(i18n.text("plan_compare.h", "en")) < md.index(i18n.text("compare.h_maps", "en"))
    for tg in summary_en["targets"]:
        name = i18n.text("plan_target.name_" + tg["target"], "en")
        row = next(line for line in md.splitlines() if line.startswith(f"| {name} |"))
        met = str(tg["met_in_plan_from"]) if tg["met_in_plan_from"] is not None else i18n.text("plan_compare.not_met", "en")
        assert row.count(met) == 2, row  # both runs: the same plan
    last = summary_en["years"][-1]
    cost = plan_report.money(_cost_until(folder_en, last) - _cost_until(folder_en, last - 1), "en")
    label = f"{plan_report.label('cost_total_mvnd', 'en')} ({i18n.text('unit.plan.mvnd', 'en')})"
    assert f"| {last} | {label} | {cost} | {cost} |" in md
    html = (out / "comparison.html").read_text(encoding="utf-8")
    assert i18n.text("plan_compare.chart_cost", "en") in html and i18n.text("compare.h_charts", "en") in html
    assert html.count("<svg") >= 4  # the runs' charts and the plans'
    pdf = pdf_text(out / "comparison.pdf")
    assert i18n.text("plan_compare.h", "en") in pdf and i18n.text("plan_compare.chart_met", "en") in pdf
    # comparison.xlsx: the answers as numbers (years, budgets) and the yearly totals of each plan
    from openpyxl import load_workbook

    book = load_workbook(out / "comparison.xlsx", read_only=True)
    targets = list(book[i18n.text("plan_compare.sheet_targets", "en")].iter_rows(values_only=True))
    fields = {
        i18n.text("plan_compare.met_from", "en"): "met_in_plan_from",
        i18n.text("plan_compare.earliest", "en"): "earliest_year",
        i18n.text("plan_compare.least_budget", "en"): "least_budget_mvnd_per_year",
    }
    name = ""
    for row in targets[1:]:
        name = row[0] or name
        tg = next(t for t in summary_en["targets"] if i18n.text("plan_target.name_" + t["target"], "en") == name)
        want = tg.get(fields[row[1]])
        if isinstance(want, int | float):
            assert row[2] == row[3] == pytest.approx(want), row  # a number, both runs
        else:
            assert isinstance(row[2], str) and row[2] == row[3], row  # the words of the HTML's cell
    assert len(targets) == 1 + 3 * len(summary_en["targets"])
    years = list(book[i18n.text("plan_compare.sheet_years", "en")].iter_rows(values_only=True))
    total = next(r for r in years if r[0] == last and r[1] == label)
    assert total[2] == total[3] == pytest.approx(_cost_until(folder_en, last) - _cost_until(folder_en, last - 1), abs=1e-6)
    assert {r[0] for r in years[1:]} == set(summary_en["years"])
    book.close()
    # a comparison with one plan only has no plan section
    solo = tmp_path / "solo"
    scenario = load_scenario(None, ["name=lc_no_plan"], province=PROVINCE)
    plain_run = write(run(scenario), tmp_path / "runs")
    assert main(["compare", str(folder_en), str(plain_run), "--out", str(solo)]) == 0
    assert i18n.text("plan_compare.h", "en") not in (solo / "comparison.md").read_text(encoding="utf-8")
    solo_book = load_workbook(solo / "comparison.xlsx", read_only=True)
    assert i18n.text("plan_compare.sheet_targets", "en") not in solo_book.sheetnames
    solo_book.close()


def test_sweep_over_the_capital_budget_of_a_plan(tmp_path, geodata):
    scenario = _scenario(tmp_path, "lc_sweep")
    out = tmp_path / "sweeps"
    grid = "params.plan_budget_capital_mvnd=20000,60000"
    rc = main(
        ["sweep", str(scenario), "--grid", grid, "--geodata", str(geodata), "--out", str(out), "--name", "budget", "--quiet"]
    )
    assert rc == 0
    folder = out / "budget"
    sweep = json.loads((folder / "sweep.json").read_text(encoding="utf-8"))
    runs = [c for c in sweep["combinations"]]
    assert len(runs) == 2 and all(c["status"] == "done" for c in runs)
    capitals = []
    for c in runs:
        plan = folder / c["folder"] / "plan"
        assert all((plan / name).is_file() for name in (*PLAN_FILES, "plan.xlsx"))
        summary = json.loads((plan / "summary.json").read_text(encoding="utf-8"))
        budget = summary["budgets_mvnd_per_year"]["capital"]
        capitals.append(budget)
        years = (plan / "years.csv").read_text(encoding="utf-8").splitlines()
        head = years[0].split(",")
        spent = [float(line.split(",")[head.index("cost_capital_mvnd")]) for line in years[1:]]
        assert max(spent) <= budget + 1e-6  # the budget holds
        html = (plan / "report.html").read_text(encoding="utf-8")  # the budget line in the cost chart
        assert i18n.text("plan_report.budget_capital", "en") in html and 'stroke-dasharray="6,4"' in html
    assert sorted(capitals) == [20000, 60000]
    md = (folder / "comparison" / "comparison.md").read_text(encoding="utf-8")
    assert i18n.text("plan_compare.h", "en") in md


def test_hard_targets_that_cannot_hold_are_diagnosed(tmp_path, geodata):
    """Resolution 72's four doctors per main station cannot hold in Lai Châu: the report says the plan
    is the nearest feasible one and where it misses the hard target, as summary.json does."""
    path = tmp_path / "hard.toml"
    path.write_text(f'name = "lc_hard"\nprovince = "{PROVINCE}"\n\n[plan]\nhard = ["res72_doctors"]\n', encoding="utf-8")
    assert main(["plan", str(path), "--geodata", str(geodata), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    folder = tmp_path / "out" / "lc_hard" / "plan"
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert summary["nearest_feasible"] and summary["diagnosis"]
    md = (folder / "report.md").read_text(encoding="utf-8")
    assert i18n.text("plan_report.nearest", "en") in md
    name = i18n.text("plan_target.name_res72_doctors", "en")
    unit = i18n.text("plan_target.unit_res72_doctors", "en")
    for d in summary["diagnosis"]:
        assert f"- {name}: short by {fmt.count(d['short_by'], 'en')} {unit} in {d['year']}" in md
    assert i18n.text("plan_report.hard", "en") in md


@pytest.mark.browser
def test_the_year_selector_recolours_the_stations_in_a_browser(plan_en):
    """In Chromium (offline, no request, no console error): choosing the last year recolours the
    stations and the legend with that year's classes, counts and heading, and opens that year's popup."""
    from playwright import sync_api

    _, folder, summary = plan_en
    path = folder / "plan" / "map.html"
    data = _data(path.read_text(encoding="utf-8"))
    last = len(summary["years"]) - 1
    blocked, errors = [], []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 800})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))

            def route(r):
                if r.request.url.startswith(("file:", "data:")):
                    r.continue_()
                else:
                    blocked.append(r.request.url)
                    r.abort()

            page.route("**/*", route)
            page.goto(path.as_uri(), wait_until="load")
            page.wait_for_selector("body[data-reorg-drawn]")
            fills = "() => { var out = []; window.reorgApp.layers.stations.eachLayer(function (l) { out.push([l.feature.properties.code, l.options.fillColor]); }); return out; }"
            first = dict(page.evaluate(fills))
            page.select_option("#reorg-plan-year", str(last))
            after = dict(page.evaluate(fills))
            head = page.inner_text("#reorg-plan-head")
            counts = [int(page.inner_text(f"#reorg-plan-n{k}")) for k in range(len(data["colours"]))]
            feat = data["map"]["layers"][0]["data"]["features"][0]["properties"]
            popup = page.evaluate(
                "(code) => { var h = null; window.reorgApp.layers.stations.eachLayer(function (l) {"
                " if (l.feature.properties.code === code) { h = l.getPopup().getContent(); } }); return h; }",
                feat["code"],
            )
        finally:
            browser.close()
    assert not blocked and not errors, (blocked, errors)
    by_code = {f["properties"]["code"]: f["properties"] for f in data["map"]["layers"][0]["data"]["features"]}
    assert first == {c: data["colours"][p["classes"][0]] for c, p in by_code.items()}
    assert after == {c: data["colours"][p["classes"][last]] for c, p in by_code.items()}
    assert first != after  # the gaps change over the years
    assert head == data["heads"][last] and counts == data["counts"][last]
    assert popup == feat["popups"][last]


def test_plan_workbook_holds_the_answers_and_years(plan_en, plan_vi):
    from openpyxl import load_workbook

    _, folder, summary = plan_en
    wb = load_workbook(folder / "plan" / "plan.xlsx", read_only=True)
    names = [
        i18n.text(k, "en")
        for k in ("xlsx.sheet_about", "plan_xlsx.sheet_targets", "plan_xlsx.sheet_years", "xlsx.sheet_assumptions")
    ]
    assert wb.sheetnames == names
    targets = list(wb[names[1]].iter_rows(values_only=True))
    assert len(targets) == 1 + len(summary["targets"])
    for row, tg in zip(targets[1:], summary["targets"]):
        assert row[0] == i18n.text(f"plan_target.name_{tg['target']}", "en")
        assert (row[4], row[5]) == (tg["met_in_plan_from"], tg["earliest_year"])
        assert row[6] == tg["least_budget_mvnd_per_year"] and row[7] == tg["short_at_any_budget"]
        assert row[8].startswith(row[0] + " (")  # the report's sentence
    years = list(wb[names[2]].iter_rows(values_only=True))
    assert [r[0] for r in years[1:]] == summary["years"]
    about = [r[1] for r in wb[names[0]].iter_rows(values_only=True)]
    assert i18n.text("notice.synthetic_roster", "en") in about
    folder_vi, _ = plan_vi
    wb_vi = load_workbook(folder_vi / "plan" / "plan.xlsx", read_only=True)
    assert wb_vi.sheetnames[1:3] == [i18n.text("plan_xlsx.sheet_targets", "vi"), i18n.text("plan_xlsx.sheet_years", "vi")]
