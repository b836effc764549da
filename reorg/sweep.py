"""`reorg sweep`: run every combination of a grid of scenario overrides, then compare them.

    reorg sweep SCENARIO.toml --grid KEY=V1,V2,... [--grid ...] [--set KEY=VALUE ...]
                [--out DIR] [--geodata DIR] [--name NAME] [--scheduler ADDRESS] [--workers N] [--quiet]

Each combination of the grid values is the scenario with `--set KEY=Vi` overrides applied (values
are read like `--set` values: TOML numbers, booleans and quoted strings, else plain text); its
name is the scenario's name plus a short suffix built from the keys and values, e.g.
`nghe_an_official__doctors_min_main_station-2` (a `.` in a value becomes `p`, a leading `-`
becomes `m`: `doctor_presence_share-0p9`, `centres_kept-m1`).

Every combination's scenario is checked before anything runs: a misspelt key or a bad value exits
with code 2 and writes nothing. The runs go to the workers of `reorg.runner`: by default two local
processes (`concurrent.futures.ProcessPoolExecutor`, `runner.start_method`; `--workers N`), which
write their run straight into `runs/`, or, with `--scheduler ADDRESS`, tasks on an existing Dask
distributed cluster (`dask.distributed.Client`; the workers need `reorg` installed and the geodata
pack at the same path, but no shared output folder: each worker writes its run into a local
temporary folder and sends the files back).

Layout, written atomically (a hidden temporary folder renamed into place when complete):

    <out>/<sweep name>/sweep.json              combinations, their overrides, folders and status (the
                                               same bytes for the same inputs, whatever ran them)
    <out>/<sweep name>/run.json                seconds, workers (host, pid), executor, versions (`run_record`)
    <out>/<sweep name>/runs/<scenario name>/   one ordinary scenario folder per combination
    <out>/<sweep name>/comparison/             reorg.compare.compare_runs over the finished runs (two or more)

A combination that fails is recorded as `failed` with its error (and traceback) in sweep.json and
the others are kept (exit code 1); when every combination fails nothing is written.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import itertools
import json
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from . import __version__, runinfo
from ._errors import InputError, Problem, ReorgError
from .load import find_pack
from .runner import make_executor, place_files, progress_bar, run_all, scenario_task
from .scenario import Scenario, load_scenario, parse_value

MAX_NAME = 120  # longest scenario name built from a grid; longer ones end in a hash instead
LOCAL_WORKERS = 2


# ---------------------------------------------------------------- grid and combinations


def split_values(text: str) -> list[str]:
    """Split `V1,V2,...` on commas outside quotes and brackets (a quoted string may hold a comma)."""
    out, cur, depth, quote = [], [], 0, None
    for ch in text:
        if quote:
            cur.append(ch)
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
            cur.append(ch)
        elif ch in "[{":
            depth += 1
            cur.append(ch)
        elif ch in "]}":
            depth -= 1
            cur.append(ch)
        elif ch == "," and depth == 0:
            out.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur).strip())
    return out


def parse_grid(items: list[str]) -> list[tuple[str, list[tuple[str, Any]]]]:
    """`["KEY=V1,V2", ...]` -> [(key, [(text, value), ...]), ...], checked for shape and repeats."""
    grid: list[tuple[str, list[tuple[str, Any]]]] = []
    problems: list[Problem] = []
    seen_keys: set[str] = set()
    for item in items or []:
        if "=" not in item:
            problems.append(Problem.of("grid_syntax", file="--grid", field=item))
            continue
        key, text = item.split("=", 1)
        key = key.strip()
        if not key or any(not part for part in key.split(".")):
            problems.append(Problem.of("grid_empty_key", file="--grid", field=item))
            continue
        if key == "name":
            problems.append(Problem.of("grid_name", file="--grid", field=key))
            continue
        if key in seen_keys:
            problems.append(Problem.of("grid_key_twice", file="--grid", field=key))
            continue
        seen_keys.add(key)
        texts = split_values(text)
        if any(t == "" for t in texts):
            problems.append(Problem.of("grid_empty_value", file="--grid", field=key, values=text))
            continue
        values, seen = [], set()
        for t in texts:
            v = parse_value(t)
            marker = (type(v).__name__, json.dumps(v, sort_keys=True, default=str))
            if marker in seen:
                problems.append(Problem.of("grid_value_twice", file="--grid", field=key, value=t))
            seen.add(marker)
            values.append((t, v))
        grid.append((key, values))
    if not items:
        problems.append(Problem.of("grid_missing", file="--grid"))
    if problems:
        raise InputError(problems)
    return grid


def _slug(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        text = repr(value)
        return re.sub(r"[^A-Za-z0-9_]", "_", text.replace("-", "m").replace(".", "p").replace("+", ""))
    if isinstance(value, str):
        return re.sub(r"_+", "_", re.sub(r"[^A-Za-z0-9_-]+", "_", value)).strip("_") or "x"
    return "h" + _digest(value)[:6]


def _digest(obj: Any) -> str:
    return hashlib.sha1(json.dumps(obj, sort_keys=True, default=str).encode("utf-8")).hexdigest()


def combination_names(base: str, grid: list[tuple[str, list[tuple[str, Any]]]], combos: list[dict[str, Any]]) -> list[str]:
    """Deterministic, unique scenario names: base + `__key-value` per grid key."""
    keys = [k for k, _ in grid]
    last = [k.split(".")[-1] for k in keys]
    labels = {k: (lab if last.count(lab) == 1 else k.replace(".", "_")) for k, lab in zip(keys, last)}
    names = []
    for combo in combos:
        name = base + "".join(f"__{labels[k]}-{_slug(combo[k])}" for k in keys)
        if len(name) > MAX_NAME:
            name = f"{base[: MAX_NAME - 12]}__{_digest(combo)[:8]}"
        names.append(name)
    dupes = {n for n in names if names.count(n) > 1}
    return [f"{n}-{_digest(c)[:6]}" if n in dupes else n for n, c in zip(names, combos)]


@dataclass
class Combination:
    name: str
    overrides: dict[str, Any]  # key -> parsed value
    sets: list[str]  # the --set items that make this combination
    scenario: Scenario
    status: str = "pending"
    error: str | None = None
    exit_code: int | None = None
    traceback: str | None = None


def plan_sweep(
    scenario_path: str, grid_items: list[str], fixed_sets: list[str] | None = None
) -> tuple[Scenario, list[Combination]]:
    """Check the base scenario and every combination's scenario; raises InputError (nothing runs)."""
    fixed_sets = list(fixed_sets or [])
    base = load_scenario(scenario_path, fixed_sets)
    grid = parse_grid(grid_items)
    combos = [
        dict(zip([k for k, _ in grid], [v for _, v in values])) for values in itertools.product(*[vals for _, vals in grid])
    ]
    texts = [dict(zip([k for k, _ in grid], [t for t, _ in values])) for values in itertools.product(*[vals for _, vals in grid])]
    names = combination_names(base.name, grid, combos)
    out: list[Combination] = []
    problems: list[Problem] = []
    for name, combo, text in zip(names, combos, texts):
        sets = [f"{k}={t}" for k, t in text.items()]
        try:
            scenario = load_scenario(scenario_path, fixed_sets + sets + [f'name="{name}"'])
        except InputError as exc:
            for p in exc.problems:  # a bad key or value repeats in many combinations: report it once
                if p not in problems:
                    problems.append(p)
            continue
        out.append(Combination(name=name, overrides=combo, sets=sets, scenario=scenario))
    if problems:
        raise InputError(problems)
    return base, out


# ---------------------------------------------------------------- the sweep


def _safe_name(name: str, what: str) -> str:
    if not name or not name.replace("_", "").replace("-", "").isalnum():
        raise InputError(Problem.of("bad_folder_name", file=what, field=name))
    return name


def _comparison(folders: list[Path], out_dir: Path, tmp: Path) -> Path:
    """The comparison report over the run folders (`tmp/runs/<name>`, `out_dir` = `tmp/comparison`).
    The run folders it names are written relative to the comparison (`../runs/<name>`): right
    once the temporary folder `tmp` is renamed, wherever the sweep folder is, and the same bytes
    whatever the output root."""
    path = importlib.import_module("reorg.compare").compare_runs(folders, out_dir)
    swaps = [(str(tmp.resolve()) + "/", "../"), (str(tmp) + "/", "../")]
    for f in Path(out_dir).rglob("*"):
        if f.is_file() and f.suffix.lower() in {".html", ".md", ".json", ".csv", ".txt", ".svg"}:
            text = f.read_text(encoding="utf-8", errors="surrogateescape")
            fixed = text
            for a, b in swaps:
                fixed = fixed.replace(a, b)
            if fixed != text:
                f.write_text(fixed, encoding="utf-8", errors="surrogateescape")
    return path


def sweep(
    scenario_path: str,
    grid_items: list[str],
    *,
    out: str | Path = "outputs",
    geodata: str | None = None,
    name: str | None = None,
    scheduler: str | None = None,
    sets: list[str] | None = None,
    workers: int = LOCAL_WORKERS,
    quiet: bool = False,
    stream: TextIO | None = None,
) -> tuple[Path, dict]:
    """Run the sweep and write `<out>/<name>/`; returns (folder, sweep.json content)."""
    from .outputs import atomic_dir, clean_stale

    started, t0 = runinfo.now(), time.perf_counter()
    base, combos = plan_sweep(scenario_path, grid_items, sets)
    sweep_name = _safe_name(name or f"{base.name}_sweep", "--name")
    packs = {c.name: str(find_pack(geodata or c.scenario.geodata).resolve()) for c in combos}  # checks the geodata folders exist
    executor = make_executor(workers=workers, scheduler=scheduler)  # an unreachable scheduler is found before anything is written

    out_root = Path(out)
    final = out_root / sweep_name
    by_name = {c.name: c for c in combos}
    records: dict[str, dict] = {}
    try:
        out_root.mkdir(parents=True, exist_ok=True)
        clean_stale(out_root)
        with atomic_dir(final) as tmp:
            runs = tmp / "runs"
            runs.mkdir()
            target = runs if executor.shared_filesystem else None
            tasks = [scenario_task(c.name, c.scenario, packs[c.name], target) for c in combos]

            def on_result(res: dict) -> None:
                c = by_name[res["key"]]
                c.status, c.error, c.exit_code, c.traceback = res["status"], res["error"], res["exit_code"], res["traceback"]
                if res["files"]:
                    place_files(res.pop("files"), runs / c.name)
                records[c.name] = res

            bar = progress_bar(len(combos), f"sweep {sweep_name}", "run", enabled=not quiet, stream=stream)
            try:
                run_all(executor, tasks, on_result, bar=bar, label=lambda r: f"{r['key']}: {r['status']}")
            finally:
                bar.close()
            clean_stale(runs)  # what a worker that died left behind
            done = [c for c in combos if c.status == "done"]
            if not done:
                first = combos[0]
                if first.exit_code == 2:
                    raise InputError(
                        Problem.of("every_combination_failed", file=str(scenario_path), name=first.name, detail=first.error)
                    )
                raise ReorgError(f"every combination failed; {first.name}:\n{first.traceback or first.error}")
            comparison = None  # a comparison needs two runs
            if len(done) >= 2:
                _comparison([runs / c.name for c in done], tmp / "comparison", tmp)
                comparison = "comparison"
            doc = {
                "reorg_version": __version__,
                "sweep": sweep_name,
                "scenario": {
                    "source": str(scenario_path),
                    "name": base.name,
                    "province": base.province,
                    "sets": list(sets or []),
                },
                "grid": [{"key": k, "values": [v for _, v in vals]} for k, vals in parse_grid(grid_items)],
                "geodata": sorted(set(packs.values())),
                "combinations": [
                    {
                        "name": c.name,
                        "overrides": c.overrides,
                        "sets": c.sets,
                        "folder": f"runs/{c.name}" if c.status == "done" else None,
                        "status": c.status,
                        "error": c.error,
                        "traceback": c.traceback,
                    }
                    for c in combos
                ],
                "counts": {"combinations": len(combos), "done": len(done), "failed": len(combos) - len(done)},
                "comparison": comparison,
            }
            (tmp / "sweep.json").write_text(json.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
            runinfo.write(
                tmp,
                run_record(
                    started, packs, [records[c.name] for c in combos], executor.describe(len(combos)), time.perf_counter() - t0
                ),
            )
    finally:
        executor.close()
    return final, doc


def run_record(started: str, packs: dict[str, str], records: list[dict], execution: dict, seconds: float) -> dict:
    """The sweep's run.json: the environment (with the checksum of the first pack; `packs` lists
    every pack's), `seconds` (the whole sweep), `execution` (kind, workers, start_method or
    scheduler), `combinations` ({name: seconds, worker (host, pid, Dask worker), timings,
    peak_memory_mb, solver_seconds})."""
    paths = sorted(set(packs.values()))
    return runinfo.environment(started, paths[0]) | {
        "packs": [runinfo.pack_checksum(p) for p in paths],
        "seconds": round(seconds, 3),
        "execution": execution,
        "combinations": {
            r["key"]: {k: r[k] for k in ("seconds", "worker", "timings", "peak_memory_mb", "solver_seconds")} for r in records
        },
    }


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "sweep",
        help="run every combination of a grid of overrides and compare them",
        description="Run every combination of the --grid values as its own scenario, then the comparison report.",
    )
    p.add_argument("scenario", help="scenario TOML file")
    p.add_argument(
        "--grid",
        action="append",
        default=[],
        metavar="KEY=V1,V2,...",
        required=True,
        help="a key and its values, e.g. params.doctor_presence_share=0.5,0.9 (repeat for more keys: every combination runs)",
    )
    p.add_argument(
        "--set",
        dest="sets",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a scenario key in every combination",
    )
    p.add_argument("--out", default="outputs", help="output root (default: outputs); the sweep goes to <out>/<name>/")
    p.add_argument("--geodata", help="geodata pack directory (default: the scenario's, else $REORG_GEODATA)")
    p.add_argument("--name", help="sweep folder name (default: <scenario name>_sweep)")
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on an existing Dask distributed cluster, e.g. tcp://10.0.0.5:8786 (default: local processes)",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=LOCAL_WORKERS,
        help=f"local worker processes (default: {LOCAL_WORKERS}; ignored with --scheduler)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(handler=cmd_sweep)


def cmd_sweep(args: argparse.Namespace) -> int:
    folder, doc = sweep(
        args.scenario,
        args.grid,
        out=args.out,
        geodata=args.geodata,
        name=args.name,
        scheduler=args.scheduler,
        sets=args.sets,
        workers=args.workers,
        quiet=args.quiet,
    )
    failed = [c for c in doc["combinations"] if c["status"] != "done"]
    for c in failed:
        print(
            f"reorg sweep: {c['name']} failed: {c['error'].strip().splitlines()[-1] if c['error'] else 'unknown error'}",
            file=sys.stderr,
        )
    print(f"sweep: {folder} ({doc['counts']['done']} of {doc['counts']['combinations']} runs done)")
    if doc["comparison"]:
        print(f"comparison: {folder / doc['comparison']}")
    return 1 if failed else 0
