"""The plan's pages and workbook, written beside its tables (pipeline.write calls `write_plan_pages`
after workforce.tables.write_plan): plan/report.md and plan/report.html (report.py), plan/map.html
(map.py) and plan/plan.xlsx (workbook.py), in the scenario's language.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .. import document as doc
from .map import render_plan_map
from .report import report_blocks, report_html
from .workbook import write_plan_workbook


def write_plan_pages(result: Any, summary: dict, folder: Path) -> None:
    """plan/report.md, report.html, map.html and plan.xlsx into `folder`; `summary`: what
    workforce.tables.write_plan returned (plan/summary.json)."""
    lang = result.scenario.lang
    folder = Path(folder)
    (folder / "report.md").write_text(doc.markdown(report_blocks(result, summary, lang)), encoding="utf-8")
    (folder / "report.html").write_text(report_html(result, summary, lang), encoding="utf-8")
    (folder / "map.html").write_text(render_plan_map(result, lang), encoding="utf-8")
    write_plan_workbook(result, summary, folder / "plan.xlsx", lang)
