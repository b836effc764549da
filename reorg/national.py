"""National run: the 34 new provinces in parallel, then one national summary, report and index map.

    run_national(scenario_path, sets, geodata, out_root, workers=2) -> out_root/<scenario name>/

Every new province (codes of `vn_provinces_after_2025-07.gpkg`) is an independent unit of work:
a worker process loads the scenario with `province=<code>` and `name="<code>_<slug>"`, runs the
ordinary pipeline and writes the ordinary scenario folder. The workers are local processes
(`concurrent.futures.ProcessPoolExecutor`, "spawn" start method, which is safe with OR-Tools);
the largest provinces are submitted first so the pool ends evenly. The parent process shows one
progress bar (tqdm, stderr) and writes the national files. `workers=0` runs every province in
this process (debugging, tests).

Layout, written atomically (`reorg.outputs.atomic_dir`: a hidden temporary folder renamed into
place when complete; the provinces are written inside it):

    <out>/<name>/summary.json                 national summary (keys below)
    <out>/<name>/report.html, report.md       table of the provinces, national totals, chart
    <out>/<name>/index.html                   offline country map; a province's popup links its map
    <out>/<name>/provinces/<code>_<slug>/     one ordinary scenario folder per province

Each worker writes into its own staging folder and renames the finished province folder into
`provinces/`: `pipeline.write` tidies stale temporary folders of its output root, so two workers
sharing `provinces/` as their root could remove each other's folder in progress.

Failures: a province that fails (bad input, `InputError`; or any other exception, or a worker
process that died) is recorded with its code and message in `summary.json` `failed` and in the
report; the other provinces are kept and `run_national` returns the folder without raising. The
national totals then cover the provinces that succeeded (`national.complete` is false). Only when
every province fails is nothing written: `InputError` if the first failure was bad input, else
`ReorgError`. `exit_code(folder)` gives the command's exit code: 0 when every province succeeded,
1 when some failed (as `reorg sweep`); `finish(folder)` prints the outcome and returns that code.

summary.json keys: `reorg_version`, `scenario` (name, title, source, seed, policy,
params_overridden, sets), `synthetic_roster`, `synthetic_pack`, `synthetic_centres`, `geodata`,
`map` (indicator, period), `provinces` (one record per province: code, name, status, folder,
error, counts, population, indicators before/after (the key ones), staff before/after by cadre,
seconds), `national` (provinces, done, failed, complete, counts summed, population, indicators
before/after, staff before/after), `failed` (code, name, exit_code, error), `timings` (total,
national_outputs, provinces {code: seconds}, stages summed over provinces), `peak_memory_mb`
(`stages_max`: the largest peak resident memory of any province's process during each stage;
`provinces`: each province's peak over its stages), `execution` (workers, start_method).

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
import os
import re
import shutil
import sys
import time
import traceback
import unicodedata
from pathlib import Path

import numpy as np
import shapely

from . import __version__
from ._errors import InputError, Problem, ProblemLog, ReorgError
from ._pool import START_METHOD, run_in_processes

DEFAULT_WORKERS = 2
PROVINCE_PREFIXES = ("Thành phố ", "Tỉnh ")

#: indicators kept per province in the national summary
KEY_INDICATORS = (
    "population", "open_stations", "main_stations",
    "pop_minutes_nearest_facility", "pop_minutes_main_station", "pop_minutes_regional_centre",
    "pop_share_within_30min", "pop_share_within_60min",
    "pop_share_main_station_within_30min", "pop_share_main_station_within_60min", "pop_share_centre_within_60min",
    "main_stations_with_doctor_share", "stations_meeting_norm_share",
    "staff_norm_total", "staff_total", "staff_shortfall_total", "doctor_shortfall_main_stations", "doctors_total",
    "doctors_per_10k", "population_per_health_worker", "centres_over_capacity", "centre_excess_population",
)
COUNT_KEYS = ("old_communes", "new_communes", "stations", "main_stations", "point_stations", "closed_stations",
              "regional_centres", "split_old_communes", "special_zone_stations", "new_sites_needed")
_POP_WEIGHTED = tuple(k for k in KEY_INDICATORS if k.startswith(("pop_minutes_", "pop_share_")))
_SUMMED = ("population", "open_stations", "main_stations", "staff_norm_total", "staff_total", "staff_shortfall_total",
           "doctor_shortfall_main_stations", "doctors_total", "centres_over_capacity", "centre_excess_population")
_COUNT_WEIGHTED = {"main_stations_with_doctor_share": "main_stations", "stations_meeting_norm_share": "open_stations"}

#: indicators the index map can be coloured by (a value v falls in class bisect_right(breaks, v)); the
#: same classes before and after, so the two maps compare; colours are reorg.render's ColorBrewer ones
_MINUTE_BREAKS = [2.5, 5, 7.5, 10, 15, 20, 30]
_SHARE_BREAKS = [0.6, 0.7, 0.8, 0.9, 0.95, 0.99]
MAP_INDICATORS = {
    "pop_minutes_main_station": dict(label="Mean minutes to one's main station", unit="min", digits=1,
                                     breaks=_MINUTE_BREAKS, colours="_YL_OR_RD_8"),
    "pop_minutes_nearest_facility": dict(label="Mean minutes to the nearest station or point", unit="min", digits=1,
                                         breaks=_MINUTE_BREAKS, colours="_YL_OR_RD_8"),
    "pop_minutes_regional_centre": dict(label="Mean minutes to one's regional centre", unit="min", digits=1,
                                        breaks=[15, 20, 25, 30, 40, 50, 60], colours="_YL_OR_RD_8"),
    "pop_share_main_station_within_30min": dict(label="Residents within 30 min of their main station", unit="%", digits=1,
                                                breaks=_SHARE_BREAKS, colours="_YL_GN_BU_7", percent=True),
    "pop_share_within_30min": dict(label="Residents within 30 min of a station or point", unit="%", digits=1,
                                   breaks=_SHARE_BREAKS, colours="_YL_GN_BU_7", percent=True),
}
DEFAULT_MAP_INDICATOR = "pop_minutes_main_station"
MAP_PERIODS = ("after", "before")

#: display simplification of the country map: tolerance (degrees, about 1 km), islets below this
#: area (square degrees, about 0.25 km²) left out, coordinates rounded to 3 decimals (about 100 m)
MAP_TOLERANCE = 0.01
MAP_MIN_PART_AREA = 2e-5
MAP_DECIMALS = 3


# ---------------------------------------------------------------- provinces

def short_name(name: str) -> str:
    """'Tỉnh Lào Cai' -> 'Lào Cai', 'Thành phố Huế' -> 'Huế'."""
    name = unicodedata.normalize("NFC", str(name)).strip()
    for prefix in PROVINCE_PREFIXES:
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


def province_slug(name: str) -> str:
    """ASCII folder slug of a province name: 'Thành phố Hồ Chí Minh' -> 'ho_chi_minh'."""
    s = short_name(name).replace("đ", "d").replace("Đ", "D")
    s = "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", "_", s.lower()).strip("_") or "province"


def province_table(pack: Path):
    """The new provinces of the pack (GeoDataFrame by code: province_name, n_communes, geometry)."""
    import geopandas as gpd

    from .load import _checked_table
    from .schema import PROVINCES_AFTER

    log = ProblemLog()
    raw, typed = _checked_table(pack, PROVINCES_AFTER, log)
    log.raise_if_errors()
    frame = gpd.GeoDataFrame(typed, geometry=raw.geometry.name, crs=raw.crs)
    dup = frame["province_code"].duplicated()
    if dup.any():
        raise InputError(Problem(file=PROVINCES_AFTER.file, layer=PROVINCES_AFTER.layer, field="province_code",
                                 message=f"province code {frame.loc[dup, 'province_code'].iloc[0]} appears twice"))
    frame = frame.set_index("province_code", drop=False).sort_index()
    frame.index.name = None
    return frame


def _normalise_code(code) -> str:
    code = str(code).strip()
    return code.zfill(2) if code.isdigit() and len(code) < 2 else code


# ---------------------------------------------------------------- one province (in a worker process)

def run_province(task: dict) -> dict:
    """Run one province and write its folder into `task["provinces_dir"]`; never raises.

    `task`: code, name, folder (folder name, `<code>_<slug>`), scenario_path (absolute or None),
    sets, geodata (absolute pack path), staging (a folder of this province alone), provinces_dir.
    """
    from .pipeline import Progress, run, write
    from .scenario import load_scenario

    t0 = time.perf_counter()
    res = {"code": task["code"], "name": task["name"], "folder": None, "status": "done", "error": None, "exit_code": 0,
           "timings": {}, "peak_memory_mb": {}, "pid": os.getpid()}
    staging = Path(task["staging"])
    try:
        sc = load_scenario(task["scenario_path"], list(task["sets"]) + [f'name="{task["folder"]}"'], province=task["code"])
        progress = Progress(enabled=False)
        result = run(sc, geodata=task["geodata"], progress=progress)
        written = write(result, staging, progress=progress)
        os.rename(written, Path(task["provinces_dir"]) / task["folder"])
        res["folder"] = f"provinces/{task['folder']}"
        res["timings"] = {k: round(v, 3) for k, v in progress.timings.items()}
        res["peak_memory_mb"] = {k: round(v, 1) for k, v in progress.peak_memory_mb.items()}
    except InputError as exc:
        res.update(status="failed", error=exc.describe(limit=20), exit_code=2)
    except ReorgError as exc:
        res.update(status="failed", error=str(exc), exit_code=exc.exit_code)
    except Exception:  # noqa: BLE001 - reported in summary.json with its traceback
        res.update(status="failed", error=traceback.format_exc(), exit_code=1)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    res["seconds"] = round(time.perf_counter() - t0, 3)
    return res


def _lost(task: dict, exc: BaseException) -> dict:
    return {"code": task["code"], "name": task["name"], "folder": None, "status": "failed", "exit_code": 1,
            "error": f"worker process lost: {type(exc).__name__}: {exc}", "timings": {}, "peak_memory_mb": {},
            "seconds": None}


def _progress_bar(total: int, desc: str, enabled: bool):
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - tqdm is installed with reorg's environment
        enabled = False
        tqdm = None
    if not enabled:
        class _Off:
            def update(self, n=1): pass
            def set_postfix_str(self, s, refresh=True): pass
            def close(self): pass
        return _Off()
    return tqdm(total=total, desc=desc, unit="province", file=sys.stderr, dynamic_ncols=True)


# ---------------------------------------------------------------- the national run

def run_national(scenario_path: str | None, sets: list[str], geodata: str | None, out_root: Path, *,
                 workers: int = DEFAULT_WORKERS, progress: bool = True, provinces: list[str] | None = None,
                 indicator: str = DEFAULT_MAP_INDICATOR, period: str = "after") -> Path:
    """Run every new province (or `provinces`) and write `<out_root>/<scenario name>/`; returns it.

    Bad scenario keys, a missing pack or a bad map indicator raise `InputError` before anything is
    written. A province that fails is listed in the summary (`failed`) and the others are kept;
    see `exit_code`. `indicator`/`period` colour the index map (`MAP_INDICATORS`, after/before).
    """
    from .load import find_pack
    from .outputs import atomic_dir, clean_stale
    from .scenario import load_scenario

    t0 = time.perf_counter()
    sets = list(sets or [])
    if indicator not in MAP_INDICATORS:
        raise InputError(Problem(file="national map", field="indicator", message=f"'{indicator}' is not one of {', '.join(MAP_INDICATORS)}"))
    if period not in MAP_PERIODS:
        raise InputError(Problem(file="national map", field="period", message=f"'{period}' is not one of {', '.join(MAP_PERIODS)}"))
    base = load_scenario(scenario_path, sets)  # every key checked before anything runs or is written
    pack = find_pack(geodata or base.geodata).resolve()
    table = province_table(pack)
    codes = list(table.index) if provinces is None else list(dict.fromkeys(_normalise_code(c) for c in provinces))
    if not codes:
        raise InputError(Problem(file="provinces", message="no province to run"))
    scenario_abs = str(Path(scenario_path).resolve()) if scenario_path else None
    size = {c: int(table.at[c, "n_communes"]) if c in table.index else 0 for c in codes}

    out_root = Path(out_root)
    final = out_root / base.name
    out_root.mkdir(parents=True, exist_ok=True)
    clean_stale(out_root)
    with atomic_dir(final) as tmp:
        provinces_dir = tmp / "provinces"
        provinces_dir.mkdir()
        staging_root = tmp / ".staging"
        staging_root.mkdir()
        tasks = []
        for code in sorted(codes, key=lambda c: (-size[c], c)):  # largest first: the pool ends evenly
            name = str(table.at[code, "province_name"]) if code in table.index else ""
            folder = f"{code}_{province_slug(name)}" if name else re.sub(r"[^A-Za-z0-9_-]+", "_", code) or "province"
            tasks.append({"code": code, "name": name, "folder": folder, "scenario_path": scenario_abs, "sets": sets,
                          "geodata": str(pack), "staging": str(staging_root / folder), "provinces_dir": str(provinces_dir)})
        results: dict[str, dict] = {}
        bar = _progress_bar(len(tasks), f"national {base.name}", progress)

        def on_result(res: dict) -> None:
            results[res["code"]] = res
            bar.set_postfix_str(f"{res['code']} {short_name(res['name'])}: {res['status']}", refresh=False)
            bar.update(1)

        try:
            run_in_processes(run_province, tasks, workers, on_result, _lost)
        finally:
            bar.close()
        shutil.rmtree(staging_root, ignore_errors=True)

        ordered = [results[c] for c in sorted(results)]
        done = [r for r in ordered if r["status"] == "done"]
        if not done:
            first = ordered[0]
            msg = f"every province failed; {first['code']} {first['name']}: {first['error']}".rstrip()
            if first["exit_code"] == 2:
                raise InputError(Problem(file=str(scenario_path or "scenario"), message=msg))
            raise ReorgError(msg)
        t1 = time.perf_counter()
        summary = build_summary(base, sets, pack, ordered, tmp, workers, indicator, period)
        summary["timings"]["provinces_wall"] = round(t1 - t0, 3)
        (tmp / "report.md").write_text(report_markdown(summary), encoding="utf-8")
        (tmp / "report.html").write_text(report_html(summary), encoding="utf-8")
        (tmp / "index.html").write_text(render_index(summary, table, indicator, period), encoding="utf-8")
        summary["timings"]["national_outputs"] = round(time.perf_counter() - t1, 3)
        summary["timings"]["total"] = round(time.perf_counter() - t0, 3)
        (tmp / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return final


def exit_code(folder: Path) -> int:
    """0 when every province of the national run succeeded, 1 when some failed."""
    summary = json.loads((Path(folder) / "summary.json").read_text(encoding="utf-8"))
    return 1 if summary["failed"] else 0


def finish(folder: Path, stream=None) -> int:
    """Print the outcome of a national run (failures on stderr, paths on stdout); its exit code."""
    stream = stream or sys.stderr
    summary = json.loads((Path(folder) / "summary.json").read_text(encoding="utf-8"))
    for f in summary["failed"]:
        print(f"reorg run: province {f['code']} {f['name'] or '?'} failed: {error_line(f)}", file=stream)
    nat = summary["national"]
    if summary["synthetic_roster"]:
        print("note: synthetic roster (no roster CSV given): station staff and locations are simulated", file=stream)
    print(f"outputs: {folder} ({nat['done']} of {nat['provinces']} provinces done)")
    print(f"map: {Path(folder) / 'index.html'}")
    return 1 if summary["failed"] else 0


# ---------------------------------------------------------------- summary

def _finite(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _round(x):
    if isinstance(x, dict):
        return {k: _round(v) for k, v in x.items()}
    if isinstance(x, float):
        return round(x, 6) if math.isfinite(x) else None
    return x


def aggregate_indicators(rows: list[dict]) -> dict:
    """National indicators of one period from the provinces' indicators of that period."""
    out: dict = {}
    for k in _SUMMED:
        vals = [r[k] for r in rows if _finite(r.get(k))]
        out[k] = sum(vals) if vals else None
    for k in _POP_WEIGHTED:
        pairs = [(r[k], r["population"]) for r in rows if _finite(r.get(k)) and _finite(r.get("population"))]
        w = sum(p for _, p in pairs)
        out[k] = sum(v * p for v, p in pairs) / w if w > 0 else None
    for k, wk in _COUNT_WEIGHTED.items():
        pairs = [(r[k], r[wk]) for r in rows if _finite(r.get(k)) and _finite(r.get(wk))]
        w = sum(p for _, p in pairs)
        out[k] = sum(v * p for v, p in pairs) / w if w > 0 else None
    pop, staff, doctors = out.get("population"), out.get("staff_total"), out.get("doctors_total")
    out["doctors_per_10k"] = doctors / pop * 1e4 if pop and doctors is not None else None
    out["population_per_health_worker"] = pop / staff if pop and staff else None
    return _round({k: out.get(k) for k in KEY_INDICATORS})


def build_summary(base, sets, pack: Path, ordered: list[dict], tmp: Path, workers: int, indicator: str, period: str) -> dict:
    from . import params as P

    provinces, failed, summaries = [], [], []
    for r in ordered:
        rec = {"code": r["code"], "name": r["name"], "status": r["status"], "folder": r["folder"], "error": r["error"],
               "exit_code": r["exit_code"], "seconds": r["seconds"]}
        if r["status"] == "done":
            s = json.loads((tmp / r["folder"] / "summary.json").read_text(encoding="utf-8"))
            summaries.append(s)
            rec["name"] = s["province"]["name"]
            rec["counts"] = {k: s["counts"].get(k) for k in COUNT_KEYS}
            rec["population"] = s["indicators"]["after"].get("population")
            rec["indicators"] = {p: {k: s["indicators"][p].get(k) for k in KEY_INDICATORS} for p in ("before", "after")}
            rec["staff"] = {"before": s["staff"]["before"], "after": s["staff"]["after"], "moved": s["staff"].get("moved", 0),
                            "hired": s["staff"].get("hired", 0), "lost": s["staff"].get("lost", 0)}
            rec["synthetic_roster"] = s.get("synthetic_roster")
        else:
            failed.append({"code": r["code"], "name": r["name"], "exit_code": r["exit_code"], "error": r["error"]})
        provinces.append(rec)
    done = [p for p in provinces if p["status"] == "done"]

    def total(fn):
        return sum(fn(p) for p in done)

    cadres = list(done[0]["staff"]["before"])
    national = {
        "provinces": len(provinces), "done": len(done), "failed": len(failed), "complete": not failed,
        "counts": {k: total(lambda p, k=k: p["counts"].get(k) or 0) for k in COUNT_KEYS},
        "population": total(lambda p: p["population"] or 0),
        "indicators": {per: aggregate_indicators([p["indicators"][per] for p in done]) for per in ("before", "after")},
        "staff": {per: {c: total(lambda p, c=c, per=per: p["staff"][per].get(c, 0)) for c in cadres} for per in ("before", "after")}
                 | {k: total(lambda p, k=k: p["staff"].get(k) or 0) for k in ("moved", "hired", "lost")},
    }
    stages: dict[str, float] = {}
    stage_peaks: dict[str, float] = {}
    for r in ordered:
        for k, v in (r.get("timings") or {}).items():
            stages[k] = round(stages.get(k, 0.0) + v, 3)
        for k, v in (r.get("peak_memory_mb") or {}).items():
            stage_peaks[k] = max(stage_peaks.get(k, 0.0), v)
    return {
        "reorg_version": __version__,
        "scenario": {"name": base.name, "title": base.title, "source": base.source, "seed": base.seed, "policy": base.policy,
                     "params_overridden": {k: v for k, v in base.params.items() if v != P.BY_NAME[k].default}, "sets": list(sets)},
        "synthetic_roster": any(s.get("synthetic_roster") for s in summaries),
        "synthetic_pack": any(s.get("synthetic_pack") for s in summaries),
        "synthetic_centres": any(s.get("synthetic_centres") for s in summaries),
        "geodata": str(pack),
        "map": {"indicator": indicator, "period": period},
        "provinces": provinces,
        "national": national,
        "failed": failed,
        "timings": {"total": None, "provinces_wall": None, "national_outputs": None, "provinces": {r["code"]: r["seconds"] for r in ordered},
                    "provinces_sum": round(sum(r["seconds"] or 0 for r in ordered), 3), "stages_sum": stages},
        "peak_memory_mb": {"stages_max": stage_peaks,
                           "provinces": {r["code"]: max((r.get("peak_memory_mb") or {}).values(), default=None) for r in ordered}},
        "execution": {"workers": workers if workers > 0 else 0, "start_method": START_METHOD if workers > 0 else "in-process"},
    }


# ---------------------------------------------------------------- report

_ROW_INDICATORS = (  # national table: key, label, format
    ("pop_minutes_main_station", "Mean minutes to one's main station", "min"),
    ("pop_minutes_nearest_facility", "Mean minutes to the nearest station or point", "min"),
    ("pop_minutes_regional_centre", "Mean minutes to one's regional centre", "min"),
    ("pop_share_main_station_within_30min", "Residents within 30 min of their main station", "pct"),
    ("pop_share_main_station_within_60min", "Residents within 60 min of their main station", "pct"),
    ("pop_share_within_30min", "Residents within 30 min of a station or point", "pct"),
    ("pop_share_centre_within_60min", "Residents within 60 min of their centre", "pct"),
    ("open_stations", "Open stations and points", "int"),
    ("main_stations", "Main stations", "int"),
    ("main_stations_with_doctor_share", "Main stations with at least one doctor", "pct"),
    ("stations_meeting_norm_share", "Open sites meeting the Circular 03/2023 norm", "pct"),
    ("staff_total", "Station staff", "int"),
    ("staff_norm_total", "Staff required by the norm", "int"),
    ("staff_shortfall_total", "Staff shortfall against the norm", "int"),
    ("doctor_shortfall_main_stations", "Doctors missing at main stations (vs minimum)", "int"),
    ("doctors_per_10k", "Station doctors per 10,000 residents", "2"),
    ("population_per_health_worker", "Residents per station health worker", "int"),
    ("centres_over_capacity", "Regional centres over capacity", "int"),
)
_COUNT_LABELS = (("old_communes", "Old communes (before 1 July 2025)"), ("new_communes", "New communes"),
                 ("stations", "Stations (incl. special-zone and new sites)"), ("main_stations", "Main stations"),
                 ("point_stations", "Station points"), ("closed_stations", "Closed stations"),
                 ("regional_centres", "Regional centres"))


def _fmt(v, kind: str = "int") -> str:
    if not _finite(v):
        return "–"
    if kind == "pct":
        return f"{100 * v:.1f} %"
    if kind == "min":
        return f"{v:.1f}"
    if kind == "2":
        return f"{v:.2f}"
    return f"{round(v):,}"


def _notices(summary: dict) -> list[str]:
    from .report import SYNTHETIC_CENTRES_NOTICE, SYNTHETIC_PACK_NOTICE, SYNTHETIC_ROSTER_NOTICE

    out = []
    if summary["synthetic_pack"]:
        out.append(SYNTHETIC_PACK_NOTICE)
    if summary["synthetic_roster"]:
        out.append(SYNTHETIC_ROSTER_NOTICE)
    if summary["synthetic_centres"]:
        out.append(SYNTHETIC_CENTRES_NOTICE)
    return out


def _status_line(summary: dict) -> str:
    nat = summary["national"]
    line = f"{nat['done']} of {nat['provinces']} provinces done"
    if summary["failed"]:
        line += " (failed: " + ", ".join(f"{f['code']} {f['name'] or '?'}" for f in summary["failed"]) + \
                "); national totals cover the provinces done only"
    return line + "."


def _province_columns():
    """(header, function of a province record -> text)."""
    def ind(per, key, kind):
        return lambda p: _fmt(p["indicators"][per].get(key), kind) if p["status"] == "done" else "–"

    def cnt(key):
        return lambda p: _fmt(p["counts"].get(key)) if p["status"] == "done" else "–"

    return [
        ("code", lambda p: p["code"]),
        ("province", lambda p: p["name"] or "?"),
        ("status", lambda p: p["status"]),
        ("old communes", cnt("old_communes")),
        ("new communes", cnt("new_communes")),
        ("main stations", cnt("main_stations")),
        ("points", cnt("point_stations")),
        ("closed", cnt("closed_stations")),
        ("centres", cnt("regional_centres")),
        ("population", lambda p: _fmt(p.get("population")) if p["status"] == "done" else "–"),
        ("min. to main station, before", ind("before", "pop_minutes_main_station", "min")),
        ("min. to main station, after", ind("after", "pop_minutes_main_station", "min")),
        ("min. to nearest site, after", ind("after", "pop_minutes_nearest_facility", "min")),
        ("≤ 30 min of main station, before", ind("before", "pop_share_main_station_within_30min", "pct")),
        ("≤ 30 min of main station, after", ind("after", "pop_share_main_station_within_30min", "pct")),
        ("staff", lambda p: _fmt(p["staff"]["after"]["total"]) if p["status"] == "done" else "–"),
        ("staff shortfall, after", ind("after", "staff_shortfall_total", "int")),
    ]


def error_line(failure: dict) -> str:
    """One line of a failure's message: the first problem of bad input, the last line of a traceback."""
    lines = [ln for ln in (failure.get("error") or "unknown error").strip().splitlines() if ln.strip()]
    if not lines:
        return "unknown error"
    return lines[0] if failure.get("exit_code") == 2 else lines[-1]


def _md_head(summary: dict) -> list[str]:
    sc, nat = summary["scenario"], summary["national"]
    lines = [f"# {sc['title']}", ""]
    lines += [f"> **{n}**" for n in _notices(summary)]
    lines += ["", f"National run of scenario `{sc['name']}` ({sc['source']}), reorg {summary['reorg_version']}: {_status_line(summary)}",
              "Each province is an ordinary scenario folder under `provinces/`; `index.html` is the country map.", "",
              "## National totals", "", "| | count |", "|---|---:|"]
    lines += [f"| {label} | {_fmt(nat['counts'].get(k))} |" for k, label in _COUNT_LABELS]
    lines += [f"| Population | {_fmt(nat['population'])} |", "", "| indicator | before | after |", "|---|---:|---:|"]
    for k, label, kind in _ROW_INDICATORS:
        lines.append(f"| {label} | {_fmt(nat['indicators']['before'].get(k), kind)} | {_fmt(nat['indicators']['after'].get(k), kind)} |")
    lines += ["", "| staff by cadre | before | after |", "|---|---:|---:|"]
    for c in nat["staff"]["before"]:
        lines.append(f"| {c} | {_fmt(nat['staff']['before'][c])} | {_fmt(nat['staff']['after'][c])} |")
    return lines + [""]


def _md_provinces(summary: dict) -> list[str]:
    cols = _province_columns()
    lines = ["## Provinces", "", "| " + " | ".join(h for h, _ in cols) + " | folder |",
             "|" + "---|" * 3 + "---:|" * (len(cols) - 3) + "---|"]
    for p in summary["provinces"]:
        lines.append("| " + " | ".join(f(p) for _, f in cols) + f" | {p['folder'] or '–'} |")
    return lines + [""]


def _md_tail(summary: dict) -> list[str]:
    lines = []
    if summary["failed"]:
        lines += ["## Failed provinces", "", "The full messages are in `summary.json` `failed`.", ""]
        lines += [f"- **{f['code']} {f['name'] or '?'}** (exit code {f['exit_code']}): {error_line(f)}" for f in summary["failed"]]
        lines.append("")
    t, ex = summary["timings"], summary["execution"]
    lines += ["## Method", "",
              "Mean minutes and population shares are weighted by each province's population; the doctor share of main "
              "stations by main stations, the share of sites meeting the norm by open sites; staff and shortfalls are summed. "
              "Gini coefficients and minutes by terrain are in each province's own report.", "",
              "## Timings", "",
              f"Every province done {_fmt(t.get('provinces_wall'), 'min')} s after the start, with {ex['workers']} worker processes "
              f"({ex['start_method']}); the provinces' own runs add up to {t['provinces_sum']:.1f} s. "
              "Total wall time, with these national files, is in `summary.json` `timings.total`.", ""]
    return lines


def report_markdown(summary: dict) -> str:
    return "\n".join(_md_head(summary) + _md_provinces(summary) + _md_tail(summary))


def _paired_hbars(rows: list[tuple[str, float, float]], *, title: str, xlabel: str, width: int = 760) -> str:
    """Horizontal bars of two values per label (before, after), as inline SVG (reorg.charts style)."""
    import html as H

    from . import charts as CH

    row = 22
    height = 70 + row * len(rows)
    vals = [v for _, a, b in rows for v in (a, b) if _finite(v)]
    xmax = CH._nice_max(max(vals) if vals else 1.0)
    x0, w = 170, width - 210
    body = ""
    for k in range(6):
        x = x0 + w * k / 5
        body += (f'<line x1="{x:.1f}" y1="24" x2="{x:.1f}" y2="{height - 40}" stroke="#e5e5e5"/>'
                 f'<text x="{x:.1f}" y="{height - 28}" text-anchor="middle" font-size="10">{CH._fmt(xmax * k / 5)}</text>')
    for i, (label, before, after) in enumerate(rows):
        y = 28 + i * row
        body += f'<text x="{x0 - 5}" y="{y + 13}" text-anchor="end" font-size="10.5">{H.escape(label)}</text>'
        for j, (v, colour) in enumerate(((before, CH.PALETTE[0]), (after, CH.PALETTE[1]))):
            if _finite(v):
                bw = w * max(v, 0) / xmax
                body += (f'<rect x="{x0}" y="{y + 2 + 9 * j}" width="{bw:.1f}" height="8" fill="{colour}"/>'
                         f'<text x="{x0 + bw + 3:.1f}" y="{y + 9 + 9 * j}" font-size="8.5">{v:.1f}</text>')
    body += f'<text x="{x0 + w / 2}" y="{height - 14}" text-anchor="middle" font-size="11">{H.escape(xlabel)}</text>'
    return CH._frame(width, height, title, body, [("before", CH.PALETTE[0]), ("after", CH.PALETTE[1])])


def report_html(summary: dict) -> str:
    import html as H

    from .report import _md_to_html

    sc = summary["scenario"]
    cols = _province_columns()
    table = ["<table><thead><tr>" + "".join(f"<th>{H.escape(h)}</th>" for h, _ in cols) + "<th>map</th><th>report</th></tr></thead><tbody>"]
    for p in summary["provinces"]:
        cells = "".join(f"<td>{H.escape(f(p))}</td>" for _, f in cols)
        if p["folder"]:
            links = f'<td><a href="{H.escape(p["folder"])}/map.html">map</a></td><td><a href="{H.escape(p["folder"])}/report.html">report</a></td>'
        else:
            links = "<td>–</td><td>–</td>"
        cls = "" if p["status"] == "done" else " class='failed'"
        table.append(f"<tr{cls}>{cells}{links}</tr>")
    table.append("</tbody></table>")
    done = [p for p in summary["provinces"] if p["status"] == "done"]
    rows = sorted(((f"{p['code']} {short_name(p['name'])}", p["indicators"]["before"].get("pop_minutes_main_station"),
                    p["indicators"]["after"].get("pop_minutes_main_station")) for p in done),
                  key=lambda r: (-(r[2] if _finite(r[2]) else -1), r[0]))
    chart = _paired_hbars(rows, title="Mean minutes to one's main station, by province", xlabel="population-weighted mean minutes")
    body = (_md_to_html("\n".join(_md_head(summary))) + '\n<p><a href="index.html">Country map</a></p>\n<h2>Provinces</h2>\n'
            + "\n".join(table) + "\n<h2>Chart</h2><figure>" + chart + "</figure>\n" + _md_to_html("\n".join(_md_tail(summary))))
    css = ("body{font-family:'DejaVu Sans',Arial,sans-serif;max-width:1400px;margin:2em auto;padding:0 1em;color:#222}"
           "table{border-collapse:collapse;margin:0.5em 0 1.5em;font-size:0.85em}td,th{border:1px solid #ccc;padding:3px 6px}"
           "th{background:#f0f0f0}td:not(:nth-child(2)):not(:first-child){text-align:right}tr.failed td{background:#fde0dd}"
           ".notice{background:#fff3cd;border:1px solid #e0c36c;padding:0.6em 1em;font-weight:bold}figure{margin:1em 0}"
           "svg{max-width:100%;height:auto}h2{border-bottom:2px solid #3182bd;padding-bottom:2px}")
    doc = (f"<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'><title>{H.escape(sc['title'])}</title>"
           f"<style>{css}</style></head><body>\n{body}\n</body></html>\n")
    return doc


# ---------------------------------------------------------------- index map

def _map_class(value, spec) -> int | None:
    import bisect

    return None if not _finite(value) else bisect.bisect_right(spec["breaks"], float(value))


def _map_value(value, spec) -> str:
    if not _finite(value):
        return "–"
    return f"{100 * value:.{spec['digits']}f} %" if spec.get("percent") else f"{value:.{spec['digits']}f} {spec['unit']}"


def _map_class_labels(spec) -> list[str]:
    f = (lambda v: f"{100 * v:g} %") if spec.get("percent") else (lambda v: f"{v:g}")
    b = spec["breaks"]
    return [f"< {f(b[0])}"] + [f"{f(lo)} – {f(hi)}" for lo, hi in zip(b[:-1], b[1:])] + [f"≥ {f(b[-1])}"]


def display_geometry(geoms) -> np.ndarray:
    """Provinces for a country overview: islets below MAP_MIN_PART_AREA left out (the largest part
    of a province is always kept), coverage-simplified (shared borders stay shared), rounded."""
    geoms = np.asarray(geoms, dtype=object)
    parts, idx = shapely.get_parts(geoms, return_index=True)
    area = shapely.area(parts)
    kept = []
    for i in range(len(geoms)):
        sel = np.flatnonzero(idx == i)
        if not len(sel):
            kept.append(None)
            continue
        keep = sel[area[sel] >= MAP_MIN_PART_AREA]
        if not len(keep):
            keep = sel[[int(np.argmax(area[sel]))]]
        kept.append(shapely.multipolygons(parts[keep]))
    out = np.array(kept, dtype=object)
    ok = np.array([g is not None for g in out])
    if ok.any():
        out[ok] = shapely.coverage_simplify(out[ok], tolerance=MAP_TOLERANCE)
        out[ok] = shapely.transform(out[ok], lambda c: np.rint(c * 10 ** MAP_DECIMALS) / 10 ** MAP_DECIMALS)
    return out


def _province_popup(p: dict, spec_key: str, period: str) -> str:
    from .render import _esc, _table

    sub = f"Province {_esc(p['code'])} (after 1 July 2025)"
    if p["status"] != "done":
        return (f'<div class="reorg-pop"><h3>{_esc(p["name"] or p["code"])}</h3><div class="sub">{sub}</div>'
                f'<p class="neg">This province failed: {_esc(error_line(p))}</p></div>')
    c, b, a = p["counts"], p["indicators"]["before"], p["indicators"]["after"]
    counts = _table([
        ("Old → new communes", f"{_fmt(c['old_communes'])} → <b>{_fmt(c['new_communes'])}</b>"),
        ("Main stations", _fmt(c["main_stations"])),
        ("Station points", _fmt(c["point_stations"])),
        ("Closed stations", _fmt(c["closed_stations"])),
        ("Regional centres", _fmt(c["regional_centres"])),
        ("Population", _fmt(p["population"])),
    ])
    rows = []
    for key, label, kind in _ROW_INDICATORS[:4] + (("staff_total", "Station staff", "int"),
                                                    ("staff_shortfall_total", "Staff shortfall vs norm", "int"),
                                                    ("main_stations_with_doctor_share", "Main stations with a doctor", "pct")):
        mark = " <b>◀</b>" if key == spec_key else ""
        rows.append((label, _fmt(b.get(key), kind), _fmt(a.get(key), kind) + mark))
    ind = _table(rows, head=("Indicator", "Before", "After"))
    folder = _esc(p["folder"])
    links = (f'<p style="margin:6px 0 0 0"><a href="{folder}/map.html"><b>Open the province map</b></a>'
             f' · <a href="{folder}/report.html">report</a></p>')
    return f'<div class="reorg-pop"><h3>{_esc(p["name"])}</h3><div class="sub">{sub}</div>{counts}{ind}{links}</div>'


def render_index(summary: dict, table, indicator: str = DEFAULT_MAP_INDICATOR, period: str = "after") -> str:
    """The country map (offline, deterministic): the provinces coloured by `indicator` (`period`),
    a popup per province with its figures and a relative link to `provinces/<folder>/map.html`."""
    import folium
    from folium.utilities import JsCode

    from .render import (_HELPERS_JS, _STYLE_CSS, NO_DATA, OfflineMap, _assign_ids, _esc, _leaflet_css, _leaflet_js, _Raw,
                         _Script, check_offline)

    from . import render as RN

    spec = dict(MAP_INDICATORS[indicator])
    spec["colours"] = getattr(RN, spec["colours"])
    by_code = {p["code"]: p for p in summary["provinces"]}
    codes = [c for c in table.index]
    disp = display_geometry(table.geometry.to_numpy())
    minx, miny, maxx, maxy = shapely.total_bounds(table.geometry.to_numpy())
    m = OfflineMap(location=[round((miny + maxy) / 2, 3), round((minx + maxx) / 2, 3)], zoom_start=6, tiles=None,
                   control_scale=False, zoom_snap=0.25, zoom_delta=0.5, prefer_canvas=False)
    fig = m.get_root()
    fig.title = None
    fig.header._children.clear()
    title = summary["scenario"]["title"]
    for name, text in (("meta_charset", '<meta charset="utf-8" />'), ("title", f"<title>{_esc(title)} · national map</title>"),
                       ("leaflet_css", f"<style>\n{_leaflet_css()}\n</style>"), ("leaflet_js", f"<script>\n{_leaflet_js()}\n</script>"),
                       ("reorg_css", _STYLE_CSS), ("reorg_js", _HELPERS_JS),
                       ("national_css", "<style>.reorg-legend { top: 120px; right: 10px; bottom: auto; left: auto; }</style>")):
        fig.header.add_child(_Raw(text, name), name=name)
    m.add_child(_Script(
        "L.control.scale({imperial: false, position: 'bottomright'}).addTo(__MAP__);\n"
        "__MAP__.attributionControl.setPrefix(false);\n"
        f"__MAP__.attributionControl.addAttribution({json.dumps(f'reorg {__version__} · Leaflet (BSD-2) · boundaries simplified for display')});\n",
        "ReorgNational"), name="reorg_national")

    feats, class_counts, nodata = [], [0] * len(spec["colours"]), 0
    for code, g in zip(codes, disp):
        p = by_code.get(code)
        if g is None or p is None:
            continue
        value = p["indicators"][period].get(indicator) if p["status"] == "done" else None
        k = _map_class(value, spec)
        if k is None:
            nodata += 1
            fill = NO_DATA
        else:
            class_counts[k] += 1
            fill = spec["colours"][k]
        label = f"{p['name']} ({code}): {_map_value(value, spec)}" if p["status"] == "done" else f"{p['name'] or code} ({code}): failed"
        feats.append({"type": "Feature", "id": code, "geometry": json.loads(shapely.to_geojson(g)), "properties": {
            "code": code, "name": label,
            "style": {"fillColor": fill, "fillOpacity": 0.8, "color": "#333333", "weight": 1.0, "opacity": 0.9},
            "popup": _province_popup(p, indicator, period)}})
    folium.GeoJson({"type": "FeatureCollection", "features": feats}, name="Provinces",
                   on_each_feature=JsCode("reorgOnEachFeature")).add_to(m)
    folium.FitBounds([[round(miny, 3), round(minx, 3)], [round(maxy, 3), round(maxx, 3)]],
                     padding_top_left=(10, 80), padding_bottom_right=(10, 10)).add_to(m)

    nat = summary["national"]
    warn = ""
    if summary["synthetic_roster"]:
        warn += '<div class="warn">Synthetic roster: station staff and locations are simulated, not real data</div>'
    if summary["synthetic_pack"]:
        warn += '<div class="warn">Synthetic demo pack: every boundary, name and figure is made up</div>'
    if summary["failed"]:
        warn += f'<div class="warn">{len(summary["failed"])} province(s) failed: ' + _esc(", ".join(f["code"] for f in summary["failed"])) + "</div>"
    when = "after the reform" if period == "after" else "before the reform"
    banner = (f'<div class="reorg-banner" id="reorg-banner"><div class="t">{_esc(title)}</div>'
              f'<div class="s">{nat["done"]} of {nat["provinces"]} provinces · {_fmt(nat["counts"]["old_communes"])} → '
              f'{_fmt(nat["counts"]["new_communes"])} communes · colour: {_esc(spec["label"])}, {when} · '
              f'<a href="report.html">national report</a></div>{warn}</div>')
    rows = [f'<h4>{_esc(spec["label"])}, {when} ({_esc(spec["unit"])})</h4>']
    for colour, label, n in zip(spec["colours"], _map_class_labels(spec), class_counts):
        rows.append(f'<div class="row"><span class="sw" style="background:{colour}"></span>{_esc(label)}'
                    f' <span style="color:#777">&nbsp;({n})</span></div>')
    if nodata:
        rows.append(f'<div class="row"><span class="sw" style="background:{NO_DATA}"></span>no data (failed) ({nodata})</div>')
    bi, ai = nat["indicators"]["before"], nat["indicators"]["after"]
    rows.append("<hr><b>Country</b> " + ("" if nat["complete"] else "(provinces done only)")
                + f'<br>{_esc(spec["label"])}: {_map_value(bi.get(indicator), spec)} before, {_map_value(ai.get(indicator), spec)} after'
                f'<br>Main stations {_fmt(nat["counts"]["main_stations"])}, points {_fmt(nat["counts"]["point_stations"])}, '
                f'closed {_fmt(nat["counts"]["closed_stations"])}, regional centres {_fmt(nat["counts"]["regional_centres"])}')
    rows.append('<hr><div style="color:#555">Click a province for its figures and a link to its own map. '
                f'Boundaries simplified for display; small islets left out. reorg {_esc(__version__)}.</div>')
    fig.html.add_child(_Raw(banner, "Banner"), name="reorg_banner")
    fig.html.add_child(_Raw(f'<div class="reorg-legend" id="reorg-legend">{"".join(rows)}</div>', "Legend"), name="reorg_legend")

    _assign_ids(fig)
    doc = re.sub(r"[ \t]+\n", "\n", fig.render())
    check_offline(doc)
    return doc
