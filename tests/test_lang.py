"""Every output in Vietnamese (`--lang vi`, `[output] lang = "vi"`): report.md, report.html, report.pdf,
map.html, the comparison pages and the national report and index show no English label of
messages/en.toml, numbers are written the Vietnamese way (1.234,5) and the PDF keeps its diacritics.

The English labels looked for are the en.toml values (with their {fields} cut out and split at
punctuation) that differ from the Vietnamese ones and are distinctive: at least two words, or one
word of eight letters or more. Text that comes from input files (the scenario's title, names) is
data and is taken out before looking."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from reorg import i18n, params
from reorg import national as reorg_national
from reorg.cli import main

ROOT = Path(__file__).resolve().parents[1]
WORD = re.compile(r"[A-Za-z]+")
HIDDEN_JSON_KEYS = {"key", "pane", "type", "id", "code"}  # map data: identifiers, never shown
VI_NUMBER = re.compile(r"(?<![\d.,])\d{1,3}(?:\.\d{3})+,\d+(?![\d.,])")  # 1.234,5


def english_labels() -> set[str]:
    """The distinctive English pieces of en.toml whose Vietnamese differs."""
    en, vi = i18n.messages("en"), i18n.messages("vi")
    vi_text = "\n".join(str(v) for v in vi.values())
    out = set()
    for key, value in en.items():
        if str(vi.get(key)) == str(value):
            continue
        for part in re.split(r"\{[^}]*\}", str(value)):
            for piece in re.split(r"[\n:;()“”]|\s[·–]\s|\. ", part):
                piece = piece.strip(" ,.·/-→%+")
                words = WORD.findall(piece)
                if not words or piece in vi_text:
                    continue
                if len(words) >= 2 or max(len(w) for w in words) >= 8:
                    out.add(piece)
    return out


LABELS = english_labels()


class _Text(HTMLParser):
    """The text a reader sees: text outside script/style, title/alt/placeholder/aria-label
    attributes, and the string values of a page's JSON data (HTML in them read as text)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.scripts: list[str] = []
        self._in: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._in.append(tag)
        self.parts += [v for k, v in attrs if k in ("title", "alt", "placeholder", "aria-label") and v]

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._in:
            self._in.pop()

    def handle_data(self, data):
        if not self._in:
            self.parts.append(data)
        elif self._in[-1] == "script":
            self.scripts.append(data)


def _json_strings(node, out: list[str]) -> None:
    if isinstance(node, dict):
        for k, v in node.items():
            if k not in HIDDEN_JSON_KEYS:
                _json_strings(v, out)
    elif isinstance(node, list):
        for v in node:
            _json_strings(v, out)
    elif isinstance(node, str):
        out.append(html_text(node) if "<" in node else node)


def html_text(page: str) -> str:
    parser = _Text()
    parser.feed(page)
    parts = list(parser.parts)
    for script in parser.scripts:
        script = script.strip()
        if script.startswith("{"):
            try:
                _json_strings(json.loads(script), parts)
            except ValueError:
                pass
    return "\n".join(parts)


def pdf_text(path: Path) -> str:
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    meta = reader.metadata or {}
    return "\n".join([p.extract_text() for p in reader.pages] + [str(meta.get("/Subject", ""))])


def english_in(text: str, data: tuple[str, ...] = ()) -> list[str]:
    """The English labels found in `text`, once the strings of `data` (input text) are taken out."""
    for d in data:
        text = text.replace(d, " ")
    text = re.sub(r"\s+", " ", text)
    return sorted(w for w in LABELS if re.search(r"(?<![A-Za-z_])" + re.escape(w) + r"(?![A-Za-z_])", text))


def _read(path: Path) -> str:
    if path.suffix == ".pdf":
        return pdf_text(path)
    text = path.read_text(encoding="utf-8")
    return html_text(text) if path.suffix == ".html" else text


@pytest.fixture(scope="module")
def vi_run(tmp_path_factory, geodata):
    """Nghệ An, official merger, in Vietnamese (through the command line)."""
    out = tmp_path_factory.mktemp("vi")
    scenario = ROOT / "scenarios" / "nghe_an_official.toml"
    rc = main(["run", str(scenario), "--geodata", str(geodata), "--out", str(out), "--lang", "vi", "--quiet"])
    assert rc == 0
    folder = out / "nghe_an_official"
    return folder, json.loads((folder / "summary.json").read_text(encoding="utf-8"))


def test_the_label_set_is_wide_and_catches_a_forgotten_heading():
    """The check would fail on an English heading, a column header, a parameter description or a
    progress line left in a Vietnamese page."""
    assert len(LABELS) > 300
    for key in ("report.h_assumptions", "pdf.h_figures", "report.col_main_station", "national.h_provinces"):
        page = f"<html><body><h2>{i18n.text(key, 'en')}</h2><p>{i18n.text(key, 'vi')}</p></body></html>"
        assert english_in(html_text(page)), key
    assert english_in(params.description("doctor_presence_share", "en"))
    assert english_in(i18n.text("progress.network", "en"))
    assert not english_in(params.description("doctor_presence_share", "vi"))


def test_every_parameter_has_words_in_every_language():
    for lang in i18n.LANGS:
        for p in params.PARAMETERS:
            assert params.description(p.name, lang) and params.source(p.name, lang) and params.unit_text(p.name, lang)


@pytest.mark.parametrize("name", ["report.md", "report.html", "report.pdf", "map.html"])
def test_vietnamese_run_has_no_english_label(vi_run, name):
    folder, summary = vi_run
    assert summary["scenario"]["lang"] == "vi"
    text = _read(folder / name)
    assert english_in(text, (summary["scenario"]["title"],)) == [], name
    assert "Trạm y tế" in text or "trạm y tế" in text, name


@pytest.mark.parametrize("name", ["report.md", "report.html", "report.pdf", "map.html"])
def test_vietnamese_numbers(vi_run, name):
    """Numbers with "." thousands and "," decimals (3.327.791; 12,3), none the English way."""
    import csv

    folder, summary = vi_run
    text = _read(folder / name)
    english_number = re.compile(r"(?<![\d.,])[1-9]\d{0,2}(?:,\d{3})+(?:\.\d+)?(?![\d,])")
    assert not english_number.findall(text), english_number.findall(text)[:5]
    if name == "map.html":  # popups: each new commune's population
        with (folder / "communes_after.csv").open(encoding="utf-8") as fh:
            pops = [round(float(row["population"])) for row in csv.DictReader(fh)]
        big = [p for p in pops if p >= 1000]
        assert big and all(f"{p:,}".replace(",", ".") in text for p in big), name
        return
    population = round(summary["indicators"]["after"]["population"])
    assert f"{population:,}".replace(",", ".") in text, name
    assert VI_NUMBER.search(text) or re.search(r"\d+,\d %", text), name


def test_pdf_embeds_a_font_with_vietnamese_diacritics(vi_run):
    from pypdf import PdfReader

    folder, _ = vi_run
    text = pdf_text(folder / "report.pdf")
    for words in ("Trạm y tế chính", "Điểm trạm", "Trung tâm y tế khu vực", "Bác sĩ", "Điều dưỡng", "Hộ sinh", "Dược sĩ"):
        assert words in text, words
    fonts = set()
    for page in PdfReader(str(folder / "report.pdf")).pages[:2]:
        for font in page["/Resources"]["/Font"].values():
            fonts.add(str(font.get_object()["/BaseFont"]))
    assert any("DejaVu" in f for f in fonts), fonts


def test_vietnamese_progress_lines(geodata):
    """The stage lines of a run come from the message files in the scenario's language."""
    import io

    from reorg.pipeline import Progress, run
    from reorg.scenario import load_scenario

    scenario = load_scenario(str(ROOT / "scenarios" / "nghe_an_official.toml"), ["output.lang='vi'"])
    stream = io.StringIO()
    run(scenario, geodata=str(geodata), progress=Progress(stream=stream))
    err = stream.getvalue()
    for key in ("load", "network", "measure"):
        assert i18n.text(f"progress.{key}", "vi") in err
        assert i18n.text(f"progress.{key}", "en") not in err
    assert re.search(r"xong sau \d+,\d\d giây", err) and " done in " not in err


def test_vietnamese_comparison(vi_run, tmp_path):
    """`reorg compare` of Vietnamese runs writes Vietnamese pages (the first run's language) unless
    --lang says otherwise."""
    folder, summary = vi_run
    other = tmp_path / "runs"
    rc = main(
        ["run", str(ROOT / "scenarios" / "nghe_an_official.toml"), "--out", str(other), "--quiet", "--lang", "vi"]
        + ["--set", "name=nghe_an_seed2", "--set", "seed=2"]
    )
    assert rc == 0
    out = tmp_path / "cmp"
    assert main(["compare", str(folder), str(other / "nghe_an_seed2"), "--out", str(out)]) == 0
    data = (summary["scenario"]["title"], str(folder), str(other / "nghe_an_seed2"))
    for name in ("comparison.md", "comparison.html"):
        text = _read(out / name)
        assert english_in(text, data) == [], name
        assert VI_NUMBER.search(text) or re.search(r"\d+,\d\d %", text), name
    assert '<html lang="vi">' in (out / "comparison.html").read_text(encoding="utf-8")
    en = tmp_path / "cmp_en"
    assert main(["compare", str(folder), str(other / "nghe_an_seed2"), "--out", str(en), "--lang", "en"]) == 0
    assert i18n.text("compare.h_runs", "en") in (en / "comparison.md").read_text(encoding="utf-8")


def test_vietnamese_national_report_and_index(tmp_path, geodata):
    """A national run in Vietnamese (Lai Châu and a bogus code, as in test_national): the national
    report and index map show no English label."""
    folder = reorg_national.run_national(
        str(ROOT / "scenarios" / "lao_cai_official.toml"),
        ["name=national_vi", "output.lang='vi'"],
        str(geodata),
        tmp_path,
        workers=1,
        progress=False,
        provinces=["00", "12"],
    )
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    data = [summary["scenario"]["title"]] + [f["error"] for f in summary["failed"]]
    for name in ("report.md", "report.html", "index.html"):
        text = _read(folder / name)
        assert english_in(text, tuple(data)) == [], name
        assert i18n.text("national.h_provinces", "vi") in text or name == "index.html", name
    province = next(p for p in summary["provinces"] if p["status"] == "done")
    report = (folder / province["folder"] / "report.md").read_text(encoding="utf-8")
    assert english_in(report, (summary["scenario"]["title"],)) == []
