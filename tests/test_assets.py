"""The maps' own scripts and styles are real files under reorg/assets/, checked as such:
`node --check` parses every script; ESLint (installed by `npm ci` from package-lock.json, config in
eslint.config.mjs) lints them; no Python module of the maps holds JavaScript or CSS; the JSON
embedding cannot be closed by text from input files."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from reorg import leaflet

ROOT = Path(__file__).resolve().parents[1]
ASSETS = ROOT / "reorg" / "assets"
OWN_SCRIPTS = sorted(p for p in ASSETS.glob("*.js") if p.name != "leaflet.js")
MAP_MODULES = ("render.py", "leaflet.py", "map_popups.py", "map_geometry.py", "national_map.py")


def test_there_are_scripts_and_a_stylesheet():
    assert {p.name for p in OWN_SCRIPTS} >= {"map_base.js", "map.js", "map_national.js"}
    assert (ASSETS / "map.css").is_file()


@pytest.mark.parametrize("script", OWN_SCRIPTS, ids=lambda p: p.name)
def test_node_parses_the_script(script):
    node = shutil.which("node")
    assert node, "node is needed to check the map scripts (apt-get install nodejs)"
    run = subprocess.run([node, "--check", str(script)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr


def test_node_check_catches_a_syntax_error(tmp_path):
    bad = tmp_path / "bad.js"
    bad.write_text("function f( {", encoding="utf-8")
    assert subprocess.run([shutil.which("node") or "node", "--check", str(bad)], capture_output=True).returncode != 0


def test_eslint_passes():
    eslint = ROOT / "node_modules" / ".bin" / "eslint"
    assert eslint.exists(), "ESLint is not installed: run `npm ci` in the repository (package-lock.json pins it)"
    run = subprocess.run([str(eslint), "--max-warnings", "0", *map(str, OWN_SCRIPTS)], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_no_javascript_or_css_in_the_map_modules():
    js_or_css = re.compile(r"\bfunction\s*\(|\bvar\s+\w+\s*=|addEventListener|^\s*[.#][\w-]+[^{}\n]*\{\s*[\w-]+\s*:", re.M)
    for name in MAP_MODULES:
        text = (ROOT / "reorg" / name).read_text(encoding="utf-8")
        assert not js_or_css.search(text), (name, js_or_css.search(text))


def test_json_script_cannot_be_closed_by_data():
    evil = {"name": "</script><script>alert(1)</script><!-- x", "ok": "Xã Diễn Châu"}
    text = str(leaflet.json_script(evil))
    assert "</" not in text and "<!" not in text
    assert json.loads(text) == evil
    assert json.loads(str(leaflet.json_script({"geometry": leaflet.RawJSON('{"type":"Point","coordinates":[1,2]}')}))) == {
        "geometry": {"type": "Point", "coordinates": [1, 2]}
    }


def test_check_offline_refuses_external_loads():
    for doc in (
        '<script src="https://cdn.example/x.js"></script>',
        '<link rel="stylesheet" href="x.css">',
        "<style>@import 'x.css';</style>",
        '<img SRC="//example.org/a.png">',
        '{"popup":"<img src=\\"http://example.org/a.png\\">"}',
    ):
        with pytest.raises(RuntimeError):
            leaflet.check_offline(doc)
    leaflet.check_offline('<a href="provinces/40/map.html">map</a><script>var a = 1;</script>')
