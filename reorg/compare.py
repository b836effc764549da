"""`reorg compare RUN1 RUN2 [...] --out DIR`: scenario runs of one province side by side.

Reads only what every run folder (`outputs/<scenario>/`) holds: `summary.json` (the contract),
`stations.csv`, `communes_after.csv` and `map.html`. Writes, atomically (`reorg.outputs.atomic_dir`):

- `comparison.csv`: one row per indicator (every key of `indicators.after`): `indicator`,
  `label`, `unit` (from the indicator table, in English), `before` (the first run's pre-reform
  value: the network before the reform is the same for every run of a province), one column per
  run named by its scenario name (the exact numbers of its summary.json), and `best`: the run(s)
  best for that indicator, by the indicator table's `better` direction (empty for neutral counts
  such as population, open and main stations, staff norm). Tied runs are joined with ";".
- `comparison.md` and `comparison.html` (`reorg.compare_page`; self-contained: the shared page
  stylesheet inlined, charts as inline SVG drawn with matplotlib, one script that unpacks the
  maps): the runs'
  synthetic-data notices first, the indicators side by side with the best value of each row
  marked, the counts and staff, the solver records, the stations whose role differs, the communes
  whose regional centre differs and, in the HTML, each run's own map side by side (an iframe
  showing the run's map.html exactly; the maps share one copy of their geometry and of Leaflet,
  `reorg.compare_maps`).
- `comparison.pdf` (`reorg.compare_pdf`): the indicator table with the best run of each row marked
  and the runs' static maps side by side (two a row), in the pages' language.
- `comparison.xlsx` (`reorg.workbook.comparison_sheets`, and the plans' sheets of
  `workforce.compare.plan_sheets` when two runs or more hold a plan): the indicators side by side with each
  row's best run highlighted, the stations whose role differs and the communes whose regional
  centre differs, in the output language, codes as text.

Refused with exit code 2 (`InputError`), nothing written: fewer than two runs, the same folder
twice, a folder that is not a run (no summary.json), runs of different provinces, runs written by
reorg versions whose major.minor differ, an output folder that is (or holds, or lies inside) one
of the runs, or an existing folder that is not an earlier comparison.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import compare_page, compare_pdf, i18n, indicators, workbook
from ._errors import InputError, Phrase, Problem
from .workforce.compare import plan_sheets, with_plan

FILES = ("comparison.csv", "comparison.md", "comparison.html", "comparison.pdf", "comparison.xlsx")

RESERVED = {"indicator", "label", "unit", "before", "best"}  # columns of comparison.csv


_number = compare_page.number


def direction(key: str) -> str | None:
    """'lower' or 'higher' when that is better for indicator `key` (the indicator table); None for a
    neutral count or an indicator the table does not know."""
    return indicators.get(key).direction if key in indicators.table() else None


def best_runs(values: dict[str, float | int | None], how: str | None) -> list[str]:
    """Names of the runs with the best value (all of them when tied); [] when there is no best."""
    ok: dict[str, float | int] = {}
    for n, v in values.items():
        x = _number(v)
        if x is not None:
            ok[n] = x
    if how is None or len(ok) < 2:
        return []
    target = min(ok.values()) if how == "lower" else max(ok.values())
    return [n for n, v in ok.items() if math.isclose(v, target, rel_tol=1e-12, abs_tol=1e-12)]


# ---------------------------------------------------------------- reading the runs


@dataclass
class Run:
    folder: Path
    summary: dict
    name: str = ""  # column name: the scenario name (made unique when two runs share one)
    stations: list[dict] = field(default_factory=list)
    communes: list[dict] = field(default_factory=list)


def _read_csv(path: Path, needed: tuple[str, ...]) -> list[dict]:
    if not path.is_file():
        raise InputError(Problem.of("missing_from_run", file=str(path)))
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            rows = list(reader)
            header = reader.fieldnames or []
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InputError(Problem.of("not_utf8_csv_file", file=str(path), reason=str(exc))) from None
    missing = [c for c in needed if c not in header]
    if missing:
        raise InputError(Problem.of("columns_missing", file=str(path), field=missing[0], row=1, columns=", ".join(missing)))
    return rows


def _read_summary(folder: Path) -> dict:
    f = folder / "summary.json"
    try:
        s = json.loads(f.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(Problem.of("not_json", file=str(f), reason=str(exc))) from None
    if not isinstance(s, dict):
        raise InputError(Problem.of("summary_not_object", file=str(f)))
    for key, sub in (
        ("reorg_version", None),
        ("scenario", "name"),
        ("province", "code"),
        ("indicators", "after"),
        ("indicators", "before"),
    ):
        ok = key in s and (sub is None or (isinstance(s[key], dict) and sub in s[key]))
        if not ok:
            raise InputError(Problem.of("summary_key_missing", file=str(f), field=key if sub is None else f"{key}.{sub}"))
    return s


def _version(run: Run) -> tuple[str, ...]:
    v = str(run.summary["reorg_version"])
    m = re.match(r"^(\d+)\.(\d+)", v)
    if not m:
        raise InputError(Problem.of("not_a_version", file=str(run.folder / "summary.json"), field="reorg_version", value=v))
    return m.groups()


def _load_runs(folders: list[Path]) -> list[Run]:
    if len(folders) < 2:
        raise InputError(
            Problem.of(
                "two_runs_needed",
                file="reorg compare",
                n=len(folders),
                folders=", ".join(map(str, folders)) or Phrase.of("problem.none"),
            )
        )
    problems = []
    for f in folders:
        if not f.is_dir():
            problems.append(Problem.of("no_such_folder", file=str(f)))
        elif not (f / "summary.json").is_file():
            inner = sorted(p.parent.name for p in f.glob("*/summary.json"))
            hint = Phrase.of("error.holds_runs", runs=", ".join(inner)) if inner else ""
            problems.append(Problem.of("not_a_run", file=str(f), hint=hint))
    if problems:
        raise InputError(problems)
    seen: dict[Path, Path] = {}
    for f in folders:
        resolved = f.resolve()
        if resolved in seen:
            raise InputError(Problem.of("same_run_twice", file=str(f), first=str(seen[resolved]), second=str(f)))
        seen[resolved] = f
    runs = [Run(f, _read_summary(f)) for f in folders]

    first = runs[0]
    p0 = first.summary["province"]
    problems = [
        Problem.of(
            "different_provinces",
            file=str(r.folder / "summary.json"),
            field="province.code",
            run=str(r.folder),
            province=r.summary["province"]["code"],
            name=r.summary["province"].get("name", "?"),
            first=str(first.folder),
            first_province=p0["code"],
            first_name=p0.get("name", "?"),
        )
        for r in runs[1:]
        if str(r.summary["province"]["code"]) != str(p0["code"])
    ]
    if problems:
        raise InputError(problems)
    v0 = _version(first)
    problems = [
        Problem.of(
            "different_versions",
            file=str(r.folder / "summary.json"),
            field="reorg_version",
            run=str(r.folder),
            version=r.summary["reorg_version"],
            first=str(first.folder),
            first_version=first.summary["reorg_version"],
        )
        for r in runs[1:]
        if _version(r) != v0
    ]
    if problems:
        raise InputError(problems)

    taken: set[str] = set()
    for r in runs:
        base = str(r.summary["scenario"]["name"]) or r.folder.name
        name, k = (base if base not in RESERVED else f"{base}_run"), 2
        while name in taken:
            name, k = f"{base}#{k}", k + 1
        taken.add(name)
        r.name = name
    return runs


def _read_tables(run: Run) -> None:
    run.stations = _read_csv(
        run.folder / "stations.csv", ("station_code", "station_name", "new_commune_code", "new_commune_name", "role")
    )
    run.communes = _read_csv(run.folder / "communes_after.csv", ("new_commune_code", "new_commune_name", "centre_code"))


def _check_out(out_dir: Path, runs: list[Run]) -> None:
    out = out_dir.resolve()
    for r in runs:
        f = r.folder.resolve()
        if out == f or out in f.parents or f in out.parents:
            raise InputError(Problem.of("out_in_run", file=str(out_dir), field="--out", run=str(r.folder)))
    if out.exists() and not out.is_dir():
        raise InputError(Problem.of("out_not_folder", file=str(out_dir), field="--out"))
    if out.is_dir() and any(out.iterdir()) and not (out / "comparison.csv").is_file():
        raise InputError(Problem.of("out_not_comparison", file=str(out_dir), field="--out"))


# ---------------------------------------------------------------- tables


def _label_unit(key: str, lang: str) -> tuple[str, str]:
    if key not in indicators.table():
        return key, ""
    ind = indicators.get(key)
    return ind.label(lang), i18n.text(f"unit.{ind.unit}", lang)


def indicator_rows(runs: list[Run], lang: str = i18n.DEFAULT_LANG) -> list[dict]:
    """One row per indicator: indicator, label, unit, before, one value per run, best (list of names)."""
    keys: list[str] = []
    for r in runs:
        keys += [k for k in r.summary["indicators"]["after"] if k not in keys]
    rows = []
    for k in keys:
        label, unit = _label_unit(k, lang)
        vals = {r.name: _number(r.summary["indicators"]["after"].get(k)) for r in runs}
        rows.append(
            {
                "indicator": k,
                "label": label,
                "unit": unit,
                "before": _number(runs[0].summary["indicators"]["before"].get(k)),
                "values": vals,
                "direction": direction(k),
                "best": best_runs(vals, direction(k)),
            }
        )
    return rows


def _before_differs(runs: list[Run]) -> list[str]:
    """Indicators whose pre-reform value differs between the runs (different rosters or parameters)."""
    out = []
    b0 = runs[0].summary["indicators"]["before"]
    for k, v in b0.items():
        if any(_number(r.summary["indicators"]["before"].get(k)) != _number(v) for r in runs[1:]):
            out.append(k)
    return out


def role_differences(runs: list[Run]) -> list[dict]:
    """Stations whose role is not the same in every run (a station missing from a run counts as a difference)."""
    by_run = [{s["station_code"]: s for s in r.stations} for r in runs]
    codes: list[str] = []
    seen: set[str] = set()
    for t in by_run:
        for c in t:
            if c not in seen:
                seen.add(c)
                codes.append(c)
    out = []
    for c in codes:
        roles = [t[c]["role"] if c in t else None for t in by_run]
        if len(set(roles)) > 1:
            info = next(t[c] for t in by_run if c in t)
            out.append(
                {
                    "station_code": c,
                    "station_name": info["station_name"],
                    "new_commune_code": info["new_commune_code"],
                    "new_commune_name": info["new_commune_name"],
                    "roles": dict(zip((r.name for r in runs), roles)),
                }
            )
    return sorted(out, key=lambda d: (d["new_commune_code"], d["station_code"]))


def centre_differences(runs: list[Run]) -> list[dict]:
    """New communes whose regional centre is not the same in every run."""
    by_run = [{c["new_commune_code"]: c for c in r.communes} for r in runs]
    codes = sorted(set().union(*by_run))
    out = []
    for c in codes:
        centres = [t[c]["centre_code"] if c in t else None for t in by_run]
        if len(set(centres)) > 1:
            info = next(t[c] for t in by_run if c in t)
            shown = {}
            for r, t in zip(runs, by_run):
                row = t.get(c)
                shown[r.name] = (
                    None
                    if row is None
                    else (f"{row['centre_name']} ({row['centre_code']})" if row.get("centre_name") else row["centre_code"])
                )
            out.append(
                {
                    "new_commune_code": c,
                    "new_commune_name": info["new_commune_name"],
                    "population": info.get("population", ""),
                    "centres": shown,
                }
            )
    return out


def role_transitions(runs: list[Run], diffs: list[dict]) -> list[tuple[str, str, str, int]]:
    """(other run, role in the first run, role in the other run, stations) for every change against the first run."""
    out = []
    for r in runs[1:]:
        counts: dict[tuple[str, str], int] = {}
        for d in diffs:
            a, b = d["roles"][runs[0].name], d["roles"][r.name]
            if a != b:
                counts[(a or "absent", b or "absent")] = counts.get((a or "absent", b or "absent"), 0) + 1
        out += [(r.name, a, b, n) for (a, b), n in sorted(counts.items())]
    return out


# ---------------------------------------------------------------- formatting


def _csv_cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v)  # the shortest text that reads back as exactly this number
    return str(v)


def comparison_csv(rows: list[dict], runs: list[Run]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["indicator", "label", "unit", "before", *(r.name for r in runs), "best"])
    for row in rows:
        w.writerow(
            [
                row["indicator"],
                row["label"],
                row["unit"],
                _csv_cell(row["before"]),
                *(_csv_cell(row["values"][r.name]) for r in runs),
                ";".join(row["best"]),
            ]
        )
    return buf.getvalue()


# ---------------------------------------------------------------- entry points


def run_lang(runs: list[Run]) -> str:
    """The language of a comparison when none is given: the first run's (its summary.json's
    `scenario.lang`), else English."""
    lang = runs[0].summary["scenario"].get("lang") if runs else None
    return lang if lang in i18n.LANGS else i18n.DEFAULT_LANG


def compare_runs(folders: list[Path], out_dir: Path, lang: str | None = None) -> Path:
    """Compare the run folders (two or more, one province) and write comparison.csv, .md, .html and .xlsx
    into `out_dir` (atomically); returns `out_dir`. Raises InputError, writing nothing, when the
    runs cannot be compared. comparison.csv is always in English (a data file); the pages in `lang`
    (None: the first run's language, `run_lang`)."""
    from .outputs import atomic_dir

    folders = [Path(f) for f in folders]
    out_dir = Path(out_dir)
    runs = _load_runs(folders)
    _check_out(out_dir, runs)
    for r in runs:
        _read_tables(r)
    lang = i18n.check_lang(lang) if lang else run_lang(runs)
    table = comparison_csv(indicator_rows(runs), runs)
    rows = indicator_rows(runs, lang)
    roles = role_differences(runs)
    transitions = role_transitions(runs, roles)
    centres = centre_differences(runs)
    blocks = compare_page.blocks(runs, rows, roles, transitions, centres, _before_differs(runs), lang)
    blocks = with_plan(runs, blocks, lang)  # runs with plan/: the plans side by side (workforce/compare.py)
    md = compare_page.markdown(runs, blocks, lang)
    page = compare_page.html(runs, rows, blocks, lang)
    with atomic_dir(out_dir) as tmp:
        (tmp / "comparison.csv").write_text(table, encoding="utf-8", newline="")
        (tmp / "comparison.md").write_text(md, encoding="utf-8")
        (tmp / "comparison.html").write_text(page, encoding="utf-8")
        sheets = workbook.comparison_sheets(runs, rows, roles, centres, lang) + plan_sheets(runs, lang)
        workbook.write_sheets(sheets, tmp / "comparison.xlsx", title=compare_page.title(runs, lang), lang=lang)
        compare_pdf.write_pdf(runs, rows, tmp / "comparison.pdf", lang)
    return out_dir


def cmd_compare(args: argparse.Namespace) -> int:
    out = compare_runs([Path(r) for r in args.runs], Path(args.out), lang=getattr(args, "lang", None))
    for line in written(out):
        print(line)
    return 0


#: how `reorg compare` names each file it wrote, by suffix, in the order printed
LABELS = {".html": "comparison", ".csv": "table", ".md": "report", ".pdf": "pdf", ".xlsx": "workbook"}


def written(out: Path) -> list[str]:
    """A line "label: path" for every file of the comparison folder `out` (as `reorg run` prints
    its outputs): comparison.html, .csv, .md, then any other (pdf, workbook) it holds."""
    order = list(LABELS)
    files = sorted(
        (f for f in out.iterdir() if f.is_file()),
        key=lambda f: (order.index(f.suffix) if f.suffix in LABELS else len(order), f.name),
    )
    return [f"{LABELS.get(f.suffix, 'file')}: {f}" for f in files]


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "compare",
        help="compare scenario runs of one province side by side",
        description="Compare two or more run folders (outputs/<scenario>) of one province: indicators, "
        "counts, solver records, station roles and centre catchments that differ, maps side by side.",
    )
    p.add_argument("runs", nargs="+", help="run folders (outputs/<scenario>), two or more")
    p.add_argument("--out", required=True, help="folder for comparison.csv, .md, .html and .xlsx (replaced atomically)")
    p.add_argument(
        "--lang",
        choices=i18n.LANGS,
        help="language of comparison.md, .html and .xlsx (default: the first run's language, else en)",
    )
    p.set_defaults(handler=cmd_compare)
