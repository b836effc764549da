"""The codebase keeps its shape: small modules, stages that only move forward, no private names
shared between modules, no import cycle, and no JavaScript or CSS inside Python."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from conftest import ROOT

PACKAGE = ROOT / "reorg"
MODULES = sorted(p for p in PACKAGE.rglob("*.py"))
MAX_LINES = 600


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


NAMES = {module_name(p): p for p in MODULES}


def resolve(current: str, is_package: bool, level: int, module: str | None) -> str:
    """The absolute name of a relative import `from <level dots><module> import ...` in `current`."""
    base = current.split(".")
    base = base if is_package else base[:-1]
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join([*base, module] if module else base)


def imports(path: Path) -> list[tuple[str, list[str], int]]:
    """(imported reorg module, names taken from it, line) for every import in the file, also inside functions."""
    name = module_name(path)
    is_package = path.name == "__init__.py"
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            target = resolve(name, is_package, node.level, node.module) if node.level else (node.module or "")
            if not target.startswith("reorg"):
                continue
            taken = [a.name for a in node.names]
            submodules = [f"{target}.{a}" for a in taken if f"{target}.{a}" in NAMES]
            if submodules:
                out += [(s, [], node.lineno) for s in submodules]
                taken = [a for a in taken if f"{target}.{a}" not in NAMES]
            if target in NAMES and taken:
                out.append((target, taken, node.lineno))
        elif isinstance(node, ast.Import):
            out += [(a.name, [], node.lineno) for a in node.names if a.name in NAMES]
    return out


@pytest.mark.parametrize("path", MODULES, ids=lambda p: module_name(p))
def test_no_module_over_600_lines(path):
    n = len(path.read_text(encoding="utf-8").splitlines())
    assert n <= MAX_LINES, f"{path.relative_to(ROOT)} has {n} lines: split it by concern"


def test_no_module_imports_another_modules_private_names():
    bad = []
    for path in MODULES:
        for target, taken, line in imports(path):
            if target != module_name(path):
                bad += [
                    f"{path.relative_to(ROOT)}:{line} takes {target}.{n}"
                    for n in taken
                    if n.startswith("_") and not n.startswith("__")
                ]
        text = path.read_text(encoding="utf-8")
        for alias in re.findall(r"^\s*(?:from [.\w]+ )?import ([\w.]+) as (\w+)", text, re.M):
            bad += [f"{path.relative_to(ROOT)}: {alias[1]}._..." for _ in re.findall(rf"\b{alias[1]}\._[a-z]\w*", text)]
    assert bad == []


def test_the_checks_would_catch_a_private_import(tmp_path):
    """The import reader sees relative imports inside functions (what the test above relies on)."""
    fake = PACKAGE / "report.py"
    found = imports(fake)
    assert any(target == "reorg.tables" for target, _, _ in found), found


def test_no_import_cycle():
    graph = {name: {t for t, _, _ in imports(path) if t != name} for name, path in NAMES.items()}
    # a package's __init__ is imported with any of its modules: leave those edges out
    graph = {k: {t for t in v if not k.startswith(t + ".")} for k, v in graph.items()}
    seen: dict[str, int] = {}
    cycles = []

    def visit(node: str, stack: list[str]) -> None:
        seen[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if seen.get(nxt) == 1:
                cycles.append(" -> ".join([*stack[stack.index(nxt) :], nxt]))
            elif nxt not in seen:
                visit(nxt, [*stack, nxt])
        seen[node] = 2

    for name in sorted(graph):
        if name not in seen:
            visit(name, [name])
    assert cycles == []


JS_OR_CSS = re.compile(
    r"\bfunction\s*\(|\bvar\s+\w+\s*=|\bconst\s+\w+\s*=|addEventListener|=>\s*\{|<style\b|"
    r"^\s*[.#]?[\w-]+[^{}\n]*\{\s*[\w-]+\s*:[^;]+;|style=\"[\w-]+\s*:",
    re.M,
)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: module_name(p))
def test_no_javascript_or_css_in_python(path):
    """Scripts and stylesheets live in reorg/assets/ (linted there); Python only passes data to them.
    Charts' SVG presentation attributes are SVG, not CSS rules."""
    found = []
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(n.body[0].value)
        for n in ast.walk(tree)
        if isinstance(n, (ast.Module, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))
        and n.body
        and isinstance(n.body[0], ast.Expr)
    }
    for node in ast.walk(tree):
        if id(node) in docstrings:
            continue
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and (m := JS_OR_CSS.search(node.value)):
            if path.name == "charts.py" and m.group(0).startswith('style="'):
                continue
            found.append((node.lineno, m.group(0)))
    assert found == [], f"{path.relative_to(ROOT)}: {found}"


def test_js_or_css_pattern_catches_both():
    assert JS_OR_CSS.search("document.addEventListener('x', f)")
    assert JS_OR_CSS.search(".reorg-legend { top: 10px; }")
    assert JS_OR_CSS.search('<p style="margin:6px">')
    assert not JS_OR_CSS.search("Mean minutes to one's main station: {value}")
