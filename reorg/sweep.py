"""`reorg sweep`: run every combination of a grid of scenario overrides, then compare them.

    reorg sweep SCENARIO.toml --grid KEY=V1,V2,... [--grid ...] [--set KEY=VALUE ...]
                [--out DIR] [--geodata DIR] [--name NAME] [--scheduler ADDRESS] [--workers N] [--quiet]

Each combination of the grid values is the scenario with `--set KEY=Vi` overrides applied (values
are read like `--set` values: TOML numbers, booleans and quoted strings, else plain text); its
name is the scenario's name plus a short suffix built from the keys and values, e.g.
`nghe_an_official__doctors_min_main_station-2` (a `.` in a value becomes `p`, a leading `-`
becomes `m`: `doctor_presence_share-0p9`, `centres_kept-m1`).

Every combination's scenario is checked before anything runs: a misspelt key or a bad value exits
with code 2 and writes nothing. The runs go to worker processes: by default two local processes
(`concurrent.futures.ProcessPoolExecutor`, spawn start method; `--workers N`), or, with
`--scheduler ADDRESS`, tasks on an existing Dask distributed cluster (`dask.distributed.Client`;
the workers need `reorg` installed and the geodata pack at the same path, but no shared output
folder: each worker writes its run into a local temporary folder and sends the files back).

Layout, written atomically (a hidden temporary folder renamed into place when complete):

    <out>/<sweep name>/sweep.json              combinations, their folders, status and worker
    <out>/<sweep name>/runs/<scenario name>/   one ordinary scenario folder per combination
    <out>/<sweep name>/comparison/             reorg.compare.compare_runs over the finished runs (two or more)

A combination that fails is recorded as `failed` with its error in sweep.json and the others are
kept (exit code 1); when every combination fails nothing is written.
"""
from __future__ import annotations

import hashlib
import importlib
import itertools
import json
import os
import re
import socket
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from . import __version__
from ._errors import InputError, Problem, ReorgError
from ._pool import run_in_processes
from .scenario import Scenario, load_scenario, parse_value

MAX_NAME = 120  # longest scenario name built from a grid; longer ones end in a hash instead
LOCAL_WORKERS = 2
CONNECT_TIMEOUT = "20s"  # how long to try reaching a Dask scheduler


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
            problems.append(Problem(file="--grid", field=item, message="expected KEY=V1,V2,..., e.g. params.doctor_presence_share=0.5,0.9"))
            continue
        key, text = item.split("=", 1)
        key = key.strip()
        if not key or any(not part for part in key.split(".")):
            problems.append(Problem(file="--grid", field=item, message="empty key"))
            continue
        if key == "name":
            problems.append(Problem(file="--grid", field=key, message="the sweep names each combination itself; use --name for the sweep's name"))
            continue
        if key in seen_keys:
            problems.append(Problem(file="--grid", field=key, message="key given in two --grid options: list all its values in one"))
            continue
        seen_keys.add(key)
        texts = split_values(text)
        if any(t == "" for t in texts):
            problems.append(Problem(file="--grid", field=key, message=f"empty value in '{text}'"))
            continue
        values, seen = [], set()
        for t in texts:
            v = parse_value(t)
            marker = (type(v).__name__, json.dumps(v, sort_keys=True, default=str))
            if marker in seen:
                problems.append(Problem(file="--grid", field=key, message=f"value {t} is listed twice"))
            seen.add(marker)
            values.append((t, v))
        grid.append((key, values))
    if not items:
        problems.append(Problem(file="--grid", message="give at least one --grid KEY=V1,V2,..."))
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


def combination_names(base: str, grid, combos: list[dict[str, Any]]) -> list[str]:
    """Deterministic, unique scenario names: base + `__key-value` per grid key."""
    keys = [k for k, _ in grid]
    last = [k.split(".")[-1] for k in keys]
    labels = {k: (lab if last.count(lab) == 1 else k.replace(".", "_")) for k, lab in zip(keys, last)}
    names = []
    for combo in combos:
        name = base + "".join(f"__{labels[k]}-{_slug(combo[k])}" for k in keys)
        if len(name) > MAX_NAME:
            name = f"{base[:MAX_NAME - 12]}__{_digest(combo)[:8]}"
        names.append(name)
    dupes = {n for n in names if names.count(n) > 1}
    return [f"{n}-{_digest(c)[:6]}" if n in dupes else n for n, c in zip(names, combos)]


@dataclass
class Combination:
    name: str
    overrides: dict[str, Any]  # key -> parsed value
    sets: list[str]  # the --set items that make this combination
    scenario: Scenario | None = None
    status: str = "pending"
    error: str | None = None
    exit_code: int | None = None
    worker: dict = field(default_factory=dict)
    seconds: float | None = None


def plan_sweep(scenario_path: str, grid_items: list[str], fixed_sets: list[str] | None = None) -> tuple[Scenario, list[Combination]]:
    """Check the base scenario and every combination's scenario; raises InputError (nothing runs)."""
    fixed_sets = list(fixed_sets or [])
    base = load_scenario(scenario_path, fixed_sets)
    grid = parse_grid(grid_items)
    combos = [dict(zip([k for k, _ in grid], [v for _, v in values])) for values in itertools.product(*[vals for _, vals in grid])]
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


# ---------------------------------------------------------------- one run (in a worker process)

def _worker_identity() -> dict:
    ident = {"host": socket.gethostname(), "pid": os.getpid(), "reorg_version": __version__}
    if "distributed" in sys.modules:  # imported in a Dask worker; not worth importing elsewhere
        try:
            ident["dask_worker"] = sys.modules["distributed"].get_worker().address
        except Exception:  # noqa: BLE001 - not inside a Dask worker
            pass
    return ident


def run_one(task: dict) -> dict:
    """Run one combination in this process and return its folder's files (bytes), never raising.

    `task`: {"name", "scenario" (Scenario), "geodata" (absolute path)}. The files travel back to
    the sweep's process, so workers need no shared output folder.
    """
    from .pipeline import run, write

    t0 = time.perf_counter()
    result = {"name": task["name"], "worker": _worker_identity(), "status": "done", "error": None, "exit_code": 0, "files": {}}
    try:
        with tempfile.TemporaryDirectory(prefix="reorg-sweep-") as tmp:
            res = run(task["scenario"], geodata=task["geodata"])
            folder = write(res, tmp)
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    result["files"][path.relative_to(folder).as_posix()] = path.read_bytes()
    except InputError as exc:
        result.update(status="failed", error=exc.describe(limit=20), exit_code=2, files={})
    except ReorgError as exc:
        result.update(status="failed", error=str(exc), exit_code=exc.exit_code, files={})
    except Exception:  # noqa: BLE001 - reported in sweep.json with its traceback
        result.update(status="failed", error=traceback.format_exc(), exit_code=1, files={})
    result["seconds"] = round(time.perf_counter() - t0, 3)
    return result


# ---------------------------------------------------------------- executors

def _tasks(combos: list[Combination], geodata: str | None) -> list[dict]:
    """What a worker needs: the checked scenario, with absolute paths (workers may run elsewhere)."""
    from .load import find_pack

    tasks = []
    for c in combos:
        roster = str(Path(c.scenario.roster).resolve()) if c.scenario.roster else None
        pack = str(find_pack(geodata or c.scenario.geodata).resolve())
        tasks.append({"name": c.name, "scenario": replace(c.scenario, roster=roster, geodata=pack), "geodata": pack})
    return tasks


def _connect(address: str):
    try:
        from distributed import Client
    except ImportError:
        raise InputError(Problem(file="--scheduler", field=address, message="needs Dask: pip install 'dask[distributed]' (or reorg[dask])")) from None
    try:
        return Client(address, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError, ValueError) as exc:
        raise InputError(Problem(file="--scheduler", field=address, message=f"cannot reach the Dask scheduler: {exc}")) from None


def _run_dask(client, tasks: list[dict], on_result) -> None:
    from distributed import as_completed

    futures = client.map(run_one, tasks, pure=False)
    names = {f.key: t["name"] for f, t in zip(futures, tasks)}
    for fut in as_completed(futures):
        try:
            res = fut.result()
        except Exception as exc:  # noqa: BLE001 - e.g. KilledWorker, or reorg missing on a worker
            res = _lost(names[fut.key], exc)
        fut.release()
        on_result(res)


def _lost(name: str, exc: BaseException) -> dict:
    return {"name": name, "worker": {}, "status": "failed", "error": f"{type(exc).__name__}: {exc}", "exit_code": 1, "files": {}, "seconds": None}


# ---------------------------------------------------------------- the sweep

def _safe_name(name: str, what: str) -> str:
    if not name or not name.replace("_", "").replace("-", "").isalnum():
        raise InputError(Problem(file=what, field=name, message="must be letters, digits, '-' or '_' (it names the output folder)"))
    return name


def _comparison(folders: list[Path], out_dir: Path, tmp: Path, final: Path) -> Path:
    """The comparison report over the run folders; paths to the hidden temporary folder it may
    have written are pointed at the final folder (which the temporary one becomes)."""
    path = importlib.import_module("reorg.compare").compare_runs(folders, out_dir)
    swaps = [(str(tmp.resolve()), str(final.resolve())), (str(tmp), str(final))]
    for f in Path(out_dir).rglob("*"):
        if f.is_file() and f.suffix.lower() in {".html", ".md", ".json", ".csv", ".txt", ".svg"}:
            text = f.read_text(encoding="utf-8", errors="surrogateescape")
            fixed = text
            for a, b in swaps:
                fixed = fixed.replace(a, b)
            if fixed != text:
                f.write_text(fixed, encoding="utf-8", errors="surrogateescape")
    return path


def sweep(scenario_path: str, grid_items: list[str], *, out: str | Path = "outputs", geodata: str | None = None,
          name: str | None = None, scheduler: str | None = None, sets: list[str] | None = None,
          workers: int = LOCAL_WORKERS, quiet: bool = False, stream=None) -> tuple[Path, dict]:
    """Run the sweep and write `<out>/<name>/`; returns (folder, sweep.json content)."""
    from tqdm import tqdm

    from .outputs import atomic_dir, clean_stale

    t0 = time.perf_counter()
    base, combos = plan_sweep(scenario_path, grid_items, sets)
    sweep_name = _safe_name(name or f"{base.name}_sweep", "--name")
    tasks = _tasks(combos, geodata)  # checks the geodata folders exist
    client = _connect(scheduler) if scheduler else None  # an unreachable scheduler is found before anything is written

    out_root = Path(out)
    final = out_root / sweep_name
    by_name = {c.name: c for c in combos}
    executor = {"kind": "dask", "scheduler": scheduler} if scheduler else {"kind": "local", "workers": max(1, min(workers, len(combos))), "start_method": "spawn"}
    try:
        out_root.mkdir(parents=True, exist_ok=True)
        clean_stale(out_root)
        with atomic_dir(final) as tmp:
            (tmp / "runs").mkdir()
            bar = tqdm(total=len(combos), desc=f"sweep {sweep_name}", unit="run", file=stream or sys.stderr, disable=quiet, dynamic_ncols=True)

            def on_result(res: dict) -> None:
                c = by_name[res["name"]]
                c.status, c.error, c.exit_code, c.worker, c.seconds = res["status"], res["error"], res["exit_code"], res["worker"], res["seconds"]
                if res["status"] == "done":
                    folder = tmp / "runs" / c.name
                    for rel, data in res["files"].items():
                        path = folder / rel
                        path.parent.mkdir(parents=True, exist_ok=True)
                        path.write_bytes(data)
                bar.set_postfix_str(f"{c.name}: {c.status}", refresh=False)
                bar.update(1)

            try:
                if client is not None:
                    _run_dask(client, tasks, on_result)
                else:
                    run_in_processes(run_one, tasks, workers, on_result, lambda t, exc: _lost(t["name"], exc))
            finally:
                bar.close()
            done = [c for c in combos if c.status == "done"]
            if not done:
                first = combos[0]
                if first.exit_code == 2:
                    raise InputError(Problem(file=str(scenario_path), message=f"every combination failed; {first.name}: {first.error}"))
                raise ReorgError(f"every combination failed; {first.name}:\n{first.error}")
            comparison = None  # a comparison needs two runs
            if len(done) >= 2:
                _comparison([tmp / "runs" / c.name for c in done], tmp / "comparison", tmp, final)
                comparison = "comparison"
            doc = {
                "reorg_version": __version__,
                "sweep": sweep_name,
                "scenario": {"source": str(scenario_path), "name": base.name, "province": base.province, "sets": list(sets or [])},
                "grid": [{"key": k, "values": [v for _, v in vals]} for k, vals in parse_grid(grid_items)],
                "executor": executor,
                "geodata": sorted({t["geodata"] for t in tasks}),
                "combinations": [{"name": c.name, "overrides": c.overrides, "sets": c.sets, "folder": f"runs/{c.name}" if c.status == "done" else None,
                                  "status": c.status, "error": c.error, "seconds": c.seconds, "worker": c.worker} for c in combos],
                "counts": {"combinations": len(combos), "done": len(done), "failed": len(combos) - len(done)},
                "comparison": comparison,
                "seconds": round(time.perf_counter() - t0, 3),
            }
            (tmp / "sweep.json").write_text(json.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    finally:
        if client is not None:
            client.close()
    return final, doc


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("sweep", help="run every combination of a grid of overrides and compare them",
                              description="Run every combination of the --grid values as its own scenario, then the comparison report.")
    p.add_argument("scenario", help="scenario TOML file")
    p.add_argument("--grid", action="append", default=[], metavar="KEY=V1,V2,...", required=True,
                   help="a key and its values, e.g. params.doctor_presence_share=0.5,0.9 (repeat for more keys: every combination runs)")
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE", help="override a scenario key in every combination")
    p.add_argument("--out", default="outputs", help="output root (default: outputs); the sweep goes to <out>/<name>/")
    p.add_argument("--geodata", help="geodata pack directory (default: the scenario's, else $REORG_GEODATA)")
    p.add_argument("--name", help="sweep folder name (default: <scenario name>_sweep)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="run on an existing Dask distributed cluster, e.g. tcp://10.0.0.5:8786 (default: local processes)")
    p.add_argument("--workers", type=int, default=LOCAL_WORKERS, help=f"local worker processes (default: {LOCAL_WORKERS}; ignored with --scheduler)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(handler=cmd_sweep)


def cmd_sweep(args) -> int:
    folder, doc = sweep(args.scenario, args.grid, out=args.out, geodata=args.geodata, name=args.name, scheduler=args.scheduler,
                        sets=args.sets, workers=args.workers, quiet=args.quiet)
    failed = [c for c in doc["combinations"] if c["status"] != "done"]
    for c in failed:
        print(f"reorg sweep: {c['name']} failed: {c['error'].strip().splitlines()[-1] if c['error'] else 'unknown error'}", file=sys.stderr)
    print(f"sweep: {folder} ({doc['counts']['done']} of {doc['counts']['combinations']} runs done)")
    if doc["comparison"]:
        print(f"comparison: {folder / doc['comparison']}")
    return 1 if failed else 0
