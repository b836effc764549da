"""National run: the 34 new provinces in parallel, then one national summary, report and index map.

    run_national(scenario_path, sets, geodata, out_root, workers=2) -> out_root/<scenario name>/

Every new province (codes of `vn_provinces_after_2025-07.gpkg`) is an independent unit of work:
the scenario with `province=<code>` and `name="<code>_<slug>"`, checked here, run by a worker
of `reorg.runner` (the ordinary pipeline, the ordinary scenario folder). The workers are local
processes (forked when that is safe, else spawned: `runner.start_method`; `workers=0` runs every province in
this process: debugging, tests) or, with `scheduler`, tasks on a Dask cluster (`reorg run
--province all --scheduler ADDRESS`); the largest provinces are submitted first so the pool ends
evenly. The parent process shows one progress bar (tqdm, stderr) and writes the national files.

Layout, written atomically (`reorg.outputs.atomic_dir`: a hidden temporary folder renamed into
place when complete; the provinces are written inside it):

    <out>/<name>/summary.json                 national summary (keys below)
    <out>/<name>/run.json                     measurements: seconds, memory, workers, versions (`run_record`)
    <out>/<name>/report.html, report.md       table of the provinces, national totals, chart
    <out>/<name>/index.html                   offline country map; a province's popup links its map
    <out>/<name>/provinces/<code>_<slug>/     one ordinary scenario folder per province

Local workers write their province's folder atomically into `provinces/` without tidying the
folder (`pipeline.write(clean=False)`), so two workers never remove each other's folder in
progress; Dask workers send the files back and this process writes them.

Failures: a province that fails (bad input, `InputError`; or any other exception, or a worker
process that died) is recorded with its code, message and traceback in `summary.json` `failed`
and in the report (`reorg.runner.failure`); the other provinces are kept and `run_national`
returns the folder without raising. The national totals then cover the provinces that succeeded
(`national.complete` is false). Only when every province fails is nothing written: `InputError`
if the first failure was bad input, else `ReorgError`. `exit_code(folder)` gives the command's
exit code: 0 when every province succeeded, 1 when some failed (as `reorg sweep`); `finish(folder)`
prints the outcome and returns that code.

summary.json keys (the same bytes for the same inputs: nothing measured): `reorg_version`,
`scenario` (name, title, source, seed, policy, params_overridden, sets), `synthetic_roster`,
`synthetic_pack`, `synthetic_centres`, `geodata`, `map` (indicator, period), `provinces` (one
record per province: code, name, status, folder, error, exit_code, counts, population,
indicators before/after (the key ones), staff before/after by cadre), `national` (provinces,
done, failed, complete, counts summed, population, indicators before/after, staff before/after),
`failed` (code, name, exit_code, error, traceback).

National indicators: mean minutes and population shares are weighted by each province's
population (exact: each province figure is itself a population-weighted mean); the doctor share of
main stations is weighted by main stations, the share of sites meeting the norm by open sites;
staff, shortfalls and centres are summed; doctors per 10,000 and residents per health worker are
recomputed from the sums. Gini coefficients and minutes by terrain are not aggregated (they need
the commune-level distribution; see each province's summary).
"""

from __future__ import annotations

import json
import math
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from . import __version__, i18n, indicators, runinfo
from ._errors import InputError, Problem, ReorgError
from .names import province_slug, short_name
from .national_map import DEFAULT_MAP_INDICATOR, MAP_INDICATORS, MAP_PERIODS, render_index
from .national_report import error_line, report_html, report_markdown
from .runner import make_executor, place_files, progress_bar, run_all, scenario_task

if TYPE_CHECKING:
    from .scenario import Scenario

DEFAULT_WORKERS = 2

#: indicators kept per province in the national summary: the indicator table's rows with a national rule
KEY_INDICATORS = indicators.national_keys()
COUNT_KEYS = (
    "old_communes",
    "new_communes",
    "stations",
    "main_stations",
    "point_stations",
    "closed_stations",
    "regional_centres",
    "split_old_communes",
    "special_zone_stations",
    "new_sites_needed",
)


# ---------------------------------------------------------------- provinces


def _normalise_code(code) -> str:
    code = str(code).strip()
    return code.zfill(2) if code.isdigit() and len(code) < 2 else code


# ---------------------------------------------------------------- the national run


def run_national(
    scenario_path: str | None,
    sets: list[str],
    geodata: str | None,
    out_root: Path,
    *,
    workers: int = DEFAULT_WORKERS,
    progress: bool = True,
    provinces: list[str] | None = None,
    indicator: str = DEFAULT_MAP_INDICATOR,
    period: str = "after",
    scheduler: str | None = None,
) -> Path:
    """Run every new province (or `provinces`) and write `<out_root>/<scenario name>/`; returns it.

    Bad scenario keys, a missing pack, a bad map indicator or an unreachable `scheduler` raise
    `InputError` before anything is written. A province that fails is listed in the summary
    (`failed`) and the others are kept; see `exit_code`. `indicator`/`period` colour the index map
    (`MAP_INDICATORS`, after/before). The provinces run in `workers` local processes, or on the
    Dask cluster at `scheduler` (reorg.runner).
    """
    from .load import find_pack, province_table
    from .outputs import atomic_dir, clean_stale
    from .scenario import load_scenario

    started, t0 = runinfo.now(), time.perf_counter()
    sets = list(sets or [])
    if indicator not in MAP_INDICATORS:
        raise InputError(
            Problem.of("not_one_of", file="national map", field="indicator", value=indicator, choices=", ".join(MAP_INDICATORS))
        )
    if period not in MAP_PERIODS:
        raise InputError(
            Problem.of("not_one_of", file="national map", field="period", value=period, choices=", ".join(MAP_PERIODS))
        )
    base = load_scenario(scenario_path, sets)  # every key checked before anything runs or is written
    pack = find_pack(geodata or base.geodata).resolve()
    table = province_table(pack)
    codes = list(table.index) if provinces is None else list(dict.fromkeys(_normalise_code(c) for c in provinces))
    if not codes:
        raise InputError(Problem.of("no_province_to_run", file="provinces"))
    size = {c: int(table.at[c, "n_communes"]) if c in table.index else 0 for c in codes}
    names = {c: str(table.at[c, "province_name"]) if c in table.index else "" for c in codes}
    folders = {
        c: f"{c}_{province_slug(names[c])}" if names[c] else re.sub(r"[^A-Za-z0-9_-]+", "_", c) or "province" for c in codes
    }
    scenarios = {c: load_scenario(scenario_path, sets + [f'name="{folders[c]}"', 'title=""'], province=c) for c in codes}
    executor = make_executor(workers=workers, scheduler=scheduler)  # a scheduler is reached before anything is written

    out_root = Path(out_root)
    final = out_root / base.name
    try:
        out_root.mkdir(parents=True, exist_ok=True)
        clean_stale(out_root)
        with atomic_dir(final) as tmp:
            provinces_dir = tmp / "provinces"
            provinces_dir.mkdir()
            out = provinces_dir if executor.shared_filesystem else None
            # largest first: the pool ends evenly
            tasks = [scenario_task(c, scenarios[c], str(pack), out) for c in sorted(codes, key=lambda c: (-size[c], c))]
            results: dict[str, dict] = {}

            def on_result(res: dict) -> None:
                if res["files"]:
                    place_files(res.pop("files"), provinces_dir / res["folder"])
                results[res["key"]] = res

            bar = progress_bar(len(tasks), f"national {base.name}", "province", enabled=progress)
            try:
                run_all(
                    executor,
                    tasks,
                    on_result,
                    bar=bar,
                    label=lambda r: f"{r['key']} {short_name(names[r['key']])}: {r['status']}",
                )
            finally:
                bar.close()
            clean_stale(provinces_dir)  # what a worker that died left behind

            ordered = [results[c] for c in sorted(results)]
            for r in ordered:
                r["code"], r["name"] = r["key"], names[r["key"]]
                r["folder"] = f"provinces/{r['folder']}" if r["status"] == "done" else None
            done = [r for r in ordered if r["status"] == "done"]
            if not done:
                first = ordered[0]
                msg = f"every province failed; {first['code']} {first['name']}: {first['error']}".rstrip()
                if first["exit_code"] == 2:
                    raise InputError(
                        Problem.of(
                            "every_province_failed",
                            file=str(scenario_path or "scenario"),
                            province=first["code"],
                            name=first["name"],
                            detail=first["error"],
                        )
                    )
                raise ReorgError(msg)
            t1 = time.perf_counter()
            summary = build_summary(base, sets, pack, ordered, tmp, indicator, period)
            lang = base.lang
            (tmp / "report.md").write_text(report_markdown(summary, lang), encoding="utf-8")
            (tmp / "report.html").write_text(report_html(summary, lang), encoding="utf-8")
            (tmp / "index.html").write_text(render_index(summary, table, indicator, period, lang), encoding="utf-8")
            (tmp / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
            t2 = time.perf_counter()
            runinfo.write(
                tmp,
                run_record(
                    started,
                    pack,
                    ordered,
                    executor.describe(len(tasks)),
                    {"provinces_wall": t1 - t0, "national_outputs": t2 - t1, "total": time.perf_counter() - t0},
                ),
            )
    finally:
        executor.close()
    return final


def run_record(started: str, pack: Path, ordered: list[dict], execution: dict, wall: dict[str, float]) -> dict:
    """The national run.json: the environment, `timings` (`total`, `provinces_wall`,
    `national_outputs`, `provinces` {code: seconds}, `provinces_sum`, `stages_sum`: each stage's
    seconds summed over the provinces), `peak_memory_mb` (`stages_max`: the largest peak of any
    province's process during each stage; `provinces`: each province's peak over its stages),
    `solver_seconds` ({code: {model: seconds}}), `execution` (kind, workers, start_method or
    scheduler) and `workers` ({code: host, pid, Dask worker})."""
    stages: dict[str, float] = {}
    stage_peaks: dict[str, float] = {}
    for r in ordered:
        for k, v in (r.get("timings") or {}).items():
            stages[k] = round(stages.get(k, 0.0) + v, 3)
        for k, v in (r.get("peak_memory_mb") or {}).items():
            stage_peaks[k] = max(stage_peaks.get(k, 0.0), v)
    return runinfo.environment(started, pack, runinfo.NATIONAL_FILES) | {
        "timings": {k: round(v, 3) for k, v in wall.items()}
        | {
            "provinces": {r["code"]: r["seconds"] for r in ordered},
            "provinces_sum": round(sum(r["seconds"] or 0 for r in ordered), 3),
            "stages_sum": stages,
        },
        "peak_memory_mb": {
            "stages_max": stage_peaks,
            "provinces": {r["code"]: max((r.get("peak_memory_mb") or {}).values(), default=None) for r in ordered},
        },
        "solver_seconds": {r["code"]: r["solver_seconds"] for r in ordered if r.get("solver_seconds")},
        "execution": execution,
        "workers": {r["code"]: r["worker"] for r in ordered},
    }


def exit_code(folder: Path) -> int:
    """0 when every province of the national run succeeded, 1 when some failed."""
    summary = json.loads((Path(folder) / "summary.json").read_text(encoding="utf-8"))
    return 1 if summary["failed"] else 0


def finish(folder: Path, stream: TextIO | None = None) -> int:
    """Print the outcome of a national run (failures on stderr, paths on stdout); its exit code."""
    stream = stream or sys.stderr
    summary = json.loads((Path(folder) / "summary.json").read_text(encoding="utf-8"))
    lang = summary["scenario"].get("lang", i18n.DEFAULT_LANG)
    for f in summary["failed"]:
        print(i18n.text("cli.province_failed", lang, code=f["code"], name=f["name"] or "?", error=error_line(f)), file=stream)
    nat = summary["national"]
    if summary["synthetic_roster"]:
        print(i18n.text("cli.synthetic_roster", lang), file=stream)
    print(i18n.text("cli.national_outputs", lang, path=folder, done=nat["done"], provinces=nat["provinces"]))
    print(i18n.text("cli.map", lang, path=Path(folder) / "index.html"))
    return 1 if summary["failed"] else 0


# ---------------------------------------------------------------- summary


def _round(x):
    if isinstance(x, dict):
        return {k: _round(v) for k, v in x.items()}
    if isinstance(x, float):
        return round(x, 6) if math.isfinite(x) else None
    return x


def aggregate_indicators(rows: list[dict]) -> dict:
    """National indicators of one period from the provinces' indicators of that period, by each
    indicator's national rule in the indicator table (`indicators.aggregate`), rounded."""
    return _round(indicators.aggregate(rows))


def build_summary(
    base: Scenario, sets: Sequence[str], pack: Path, ordered: list[dict], tmp: Path, indicator: str, period: str
) -> dict:
    """The national summary.json (no measurement: seconds, memory and workers are in run.json)."""
    from . import params

    provinces, failed, summaries = [], [], []
    for r in ordered:
        rec = {
            "code": r["code"],
            "name": r["name"],
            "status": r["status"],
            "folder": r["folder"],
            "error": r["error"],
            "exit_code": r["exit_code"],
        }
        if r["status"] == "done":
            s = json.loads((tmp / r["folder"] / "summary.json").read_text(encoding="utf-8"))
            summaries.append(s)
            rec["name"] = s["province"]["name"]
            rec["counts"] = {k: s["counts"].get(k) for k in COUNT_KEYS}
            rec["population"] = s["indicators"]["after"].get("population")
            rec["indicators"] = {p: {k: s["indicators"][p].get(k) for k in KEY_INDICATORS} for p in ("before", "after")}
            rec["staff"] = {
                "before": s["staff"]["before"],
                "after": s["staff"]["after"],
                "moved": s["staff"].get("moved", 0),
                "hired": s["staff"].get("hired", 0),
                "lost": s["staff"].get("lost", 0),
            }
            rec["synthetic_roster"] = s.get("synthetic_roster")
            rec["special_zones"] = s["extremes"].get("special_zones", [])
        else:
            failed.append(
                {
                    "code": r["code"],
                    "name": r["name"],
                    "exit_code": r["exit_code"],
                    "error": r["error"],
                    "traceback": r["traceback"],
                }
            )
        provinces.append(rec)
    done = [p for p in provinces if p["status"] == "done"]

    def total(fn):
        return sum(fn(p) for p in done)

    cadres = list(done[0]["staff"]["before"])
    national = {
        "provinces": len(provinces),
        "done": len(done),
        "failed": len(failed),
        "complete": not failed,
        "counts": {k: total(lambda p, k=k: p["counts"].get(k) or 0) for k in COUNT_KEYS},
        "population": total(lambda p: p["population"] or 0),
        "indicators": {per: aggregate_indicators([p["indicators"][per] for p in done]) for per in ("before", "after")},
        "staff": {
            per: {c: total(lambda p, c=c, per=per: p["staff"][per].get(c, 0)) for c in cadres} for per in ("before", "after")
        }
        | {k: total(lambda p, k=k: p["staff"].get(k) or 0) for k in ("moved", "hired", "lost")},
    }
    return {
        "reorg_version": __version__,
        "scenario": {
            "name": base.name,
            "title": base.title,
            "source": base.source,
            "seed": base.seed,
            "policy": base.policy,
            "params_overridden": {k: v for k, v in base.params.items() if v != params.BY_NAME[k].default},
            "sets": list(sets),
            "lang": base.lang,
        },
        "synthetic_roster": any(s.get("synthetic_roster") for s in summaries),
        "synthetic_pack": any(s.get("synthetic_pack") for s in summaries),
        "synthetic_centres": any(s.get("synthetic_centres") for s in summaries),
        "geodata": str(pack),
        "map": {"indicator": indicator, "period": period},
        "provinces": provinces,
        "national": national,
        "failed": failed,
    }
