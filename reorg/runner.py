"""One runner for the national run and the sweep: many scenarios, each in a worker, one folder each.

    executor = make_executor(workers=2)                  # local processes (fork when safe, else spawn)
    executor = make_executor(scheduler="tcp://host:8786")  # tasks on an existing Dask cluster
    run_all(executor, [scenario_task(key, scenario, geodata, out), ...], on_result)

A task is one scenario run by `run_scenario` in a worker: the ordinary pipeline, and the ordinary
scenario folder. With local workers (`LocalExecutor`, a shared filesystem) the worker writes the
folder straight into `out` (atomically, `pipeline.write(clean=False)`: workers sharing `out` never
tidy each other's folders in progress). On a Dask cluster (`DaskExecutor`: the workers need reorg
and the geodata pack at the same path, not the output folder) the worker writes into a local
temporary folder and sends the files back as bytes (`files`), which `place_files` writes.

Every task gives a record, never an exception: `key`, `status` ("done"/"failed"), `exit_code`,
`error`, `traceback`, `folder` (the folder's name, or None), `files`, `worker` (host, pid, Dask
worker), and the measurements `timings`, `peak_memory_mb` (per stage), `solver_seconds` and
`seconds` (the task's wall time). `failure(exc)` is the one way an exception becomes a record: exit
code 2 for bad input (`InputError`, its problems as the message, no traceback), 1 for anything
else (`Type: message` and the traceback); a task the cluster lost, or one whose local worker
died (killed, out of memory: that breaks the local pool, so the tasks not yet finished are lost
with it), is `failure(exc, lost=True)`. When the caller is interrupted (Ctrl-C) or
`on_result` raises, the tasks still waiting are cancelled and the exception goes on.

`progress_bar` is the one progress bar (tqdm on stderr) of both commands.
"""

from __future__ import annotations

import os
import socket
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Generator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from . import __version__
from ._errors import InputError, Problem
from .scenario import Scenario

if TYPE_CHECKING:
    from tqdm import tqdm

#: how local workers start when forking is not safe (`start_method`): a fresh interpreter each
SAFE_START_METHOD = "spawn"
CONNECT_TIMEOUT = "20s"  # how long to try reaching a Dask scheduler

Task = dict[str, Any]
Record = dict[str, Any]


# ---------------------------------------------------------------- failures and the worker's side


def failure(exc: BaseException, *, lost: bool = False) -> Record:
    """The record of a task that raised `exc` (or whose worker was lost): status, exit code
    (2 for bad input, 1 otherwise), message and traceback (None for bad input)."""
    if isinstance(exc, InputError):
        code, error, trace = 2, exc.describe(limit=20), None
    else:
        code, error = 1, f"{type(exc).__name__}: {exc}"
        trace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    if lost:
        error = f"worker process lost: {error}"
    return {"status": "failed", "exit_code": code, "error": error, "traceback": trace}


def worker_identity() -> dict[str, Any]:
    """Where a task ran: host, process id, reorg version, and the Dask worker's address if any."""
    ident: dict[str, Any] = {"host": socket.gethostname(), "pid": os.getpid(), "reorg_version": __version__}
    if "distributed" in sys.modules:  # imported in a Dask worker; not worth importing elsewhere
        try:
            ident["dask_worker"] = sys.modules["distributed"].get_worker().address
        except Exception:  # noqa: BLE001 - not inside a Dask worker
            pass
    return ident


def scenario_task(key: str, scenario: Scenario, geodata: str | None, out: str | Path | None) -> Task:
    """A task: the checked scenario with absolute paths (workers may run elsewhere); `out`: the
    folder the worker writes into (shared filesystem), or None to have the files sent back."""
    from .load import find_pack

    pack = str(find_pack(geodata or scenario.geodata).resolve())
    roster = str(Path(scenario.roster).resolve()) if scenario.roster else None
    dem = str(Path(scenario.dem).resolve()) if scenario.dem else None
    raster = str(Path(scenario.population_raster).resolve()) if scenario.population_raster else None
    return {
        "key": key,
        "scenario": replace(scenario, roster=roster, geodata=pack, dem=dem, population_raster=raster),
        "geodata": pack,
        "out": str(out) if out is not None else None,
    }


def _blank(key: str) -> Record:
    return {
        "key": key,
        "status": "done",
        "exit_code": 0,
        "error": None,
        "traceback": None,
        "folder": None,
        "files": {},
        "worker": {},
        "timings": {},
        "peak_memory_mb": {},
        "solver_seconds": {},
        "seconds": None,
    }


def read_folder(folder: Path) -> dict[str, bytes]:
    """Every file of `folder` as {relative posix path: bytes}."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(Path(folder).rglob("*")) if p.is_file()}


def place_files(files: dict[str, bytes], folder: Path) -> None:
    """Write `read_folder`'s files into `folder`."""
    for rel, data in files.items():
        path = Path(folder) / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def run_scenario(task: Task) -> Record:
    """Run one scenario in this process and write its folder (see the module's docstring); never raises."""
    from . import runinfo
    from .pipeline import Progress, run, write

    t0 = time.perf_counter()
    res = _blank(task["key"])
    res["worker"] = worker_identity()
    try:
        progress = Progress(enabled=False)
        result = run(task["scenario"], geodata=task["geodata"], progress=progress)
        if task.get("out"):
            # parallel=False: the workers already keep the cores busy, and a worker that wrote its
            # PDF in a child would import reportlab and load its fonts again for every province
            res["folder"] = write(result, task["out"], progress=progress, clean=False, parallel=False).name
        else:
            with tempfile.TemporaryDirectory(prefix="reorg-run-") as tmp:
                folder = write(result, tmp, progress=progress, parallel=False)
                res["folder"], res["files"] = folder.name, read_folder(folder)
        res["timings"] = {k: round(v, 3) for k, v in progress.timings.items()}
        res["peak_memory_mb"] = {k: round(v, 1) for k, v in progress.peak_memory_mb.items()}
        res["solver_seconds"] = runinfo.solver_seconds(result.plan.solver)
    except Exception as exc:  # noqa: BLE001 - every failure becomes the task's record
        res.update(failure(exc), folder=None, files={})
    res["seconds"] = round(time.perf_counter() - t0, 3)
    return res


def lost(task: Task, exc: BaseException) -> Record:
    """The record of a task whose worker died or that the cluster lost."""
    return _blank(task["key"]) | failure(exc, lost=True)


# ---------------------------------------------------------------- executors


def start_method() -> str:
    """How local worker processes start now: "fork" on Linux when this process runs no other Python
    thread and has not loaded OR-Tools (whose native threads a forked child would inherit in an
    unknown state), so the workers begin with this process's imports done (pandas, geopandas,
    shapely, pyogrio: about a second or two per worker); otherwise "spawn" (a fresh interpreter).
    The outputs are the same bytes either way (tests/test_runner.py)."""
    import threading

    if sys.platform != "linux" or threading.active_count() != 1:
        return SAFE_START_METHOD
    if any(name == "ortools" or name.startswith("ortools.") for name in sys.modules):
        return SAFE_START_METHOD
    return "fork"


class LocalExecutor:
    """Worker processes on this machine (`concurrent.futures.ProcessPoolExecutor`, forked when that is
    safe, else spawned: `start_method`); with
    `workers <= 0`, every task in this process, in order (debugging, tests)."""

    shared_filesystem = True

    def __init__(self, workers: int) -> None:
        self.workers = int(workers)
        self.method: str | None = None  # the start method of the last pool (`start_method`)

    def describe(self, n_tasks: int) -> dict[str, Any]:
        if self.workers <= 0:
            return {"kind": "in-process", "workers": 0, "start_method": None}
        return {"kind": "local", "workers": max(1, min(self.workers, n_tasks)), "start_method": self.method or start_method()}

    def results(self, fn: Callable[[Task], Record], tasks: list[Task]) -> Generator[Record, None, None]:
        if self.workers <= 0:
            for task in tasks:
                yield fn(task)
            return
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed

        self.method = start_method()
        with ProcessPoolExecutor(
            max_workers=max(1, min(self.workers, len(tasks))), mp_context=multiprocessing.get_context(self.method)
        ) as pool:
            futures = {pool.submit(fn, task): task for task in tasks}
            try:
                for fut in as_completed(futures):
                    try:
                        res = fut.result()
                    except Exception as exc:  # noqa: BLE001 - the worker process died
                        res = lost(futures[fut], exc)
                    yield res
            except BaseException:  # interrupted: do not start the tasks still waiting
                pool.shutdown(wait=True, cancel_futures=True)  # wait for the running ones: no write after we return
                raise

    def close(self) -> None:
        pass


class DaskExecutor:
    """Tasks on an existing Dask distributed cluster (`Client.submit`, `as_completed`). Connecting
    happens here, so an unreachable scheduler is bad input found before anything is written."""

    shared_filesystem = False

    def __init__(self, address: str) -> None:
        try:
            from distributed import Client
        except ImportError:
            raise InputError(Problem.of("needs_dask", file="--scheduler", field=address)) from None
        self.address = address
        try:
            self.client = Client(address, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError, ValueError) as exc:
            raise InputError(Problem.of("scheduler_unreachable", file="--scheduler", field=address, reason=str(exc))) from None

    def describe(self, n_tasks: int) -> dict[str, Any]:
        return {"kind": "dask", "scheduler": self.address}

    def results(self, fn: Callable[[Task], Record], tasks: list[Task]) -> Generator[Record, None, None]:
        from distributed import as_completed

        futures = [self.client.submit(fn, task, pure=False) for task in tasks]
        by_key = {fut.key: task for fut, task in zip(futures, tasks)}
        try:
            for fut in as_completed(futures):
                try:
                    res = fut.result()
                except Exception as exc:  # noqa: BLE001 - e.g. KilledWorker, or reorg missing on a worker
                    res = lost(by_key[fut.key], exc)
                fut.release()
                yield res
        except BaseException:
            self.client.cancel(futures)
            raise

    def close(self) -> None:
        self.client.close()


Executor = LocalExecutor | DaskExecutor


def make_executor(*, workers: int = 2, scheduler: str | None = None) -> Executor:
    """A Dask executor when `scheduler` is given, else local worker processes."""
    return DaskExecutor(scheduler) if scheduler else LocalExecutor(workers)


def progress_bar(total: int, desc: str, unit: str, *, enabled: bool = True, stream: TextIO | None = None) -> tqdm:
    """The progress bar of the national run and the sweep (tqdm on stderr; `enabled=False`: silent)."""
    from tqdm import tqdm

    tqdm.monitor_interval = 0  # no monitor thread: the workers can still be forked (`start_method`)
    return tqdm(total=total, desc=desc, unit=unit, file=stream or sys.stderr, disable=not enabled, dynamic_ncols=True)


def run_all(
    executor: Executor,
    tasks: list[Task],
    on_result: Callable[[Record], None],
    *,
    bar: tqdm | None = None,
    label: Callable[[Record], str] | None = None,
    fn: Callable[[Task], Record] = run_scenario,
) -> None:
    """`on_result(record)` for every task, in completion order; `bar` advances by one with
    `label(record)` as its note. Files sent back by remote workers are not written here (the
    caller knows where they go: `place_files`). When `on_result` raises (or on Ctrl-C), the
    tasks still waiting are cancelled before the exception goes on."""
    results = executor.results(fn, tasks)
    try:
        for res in results:
            on_result(res)
            if bar is not None:
                if label is not None:
                    bar.set_postfix_str(label(res), refresh=False)
                bar.update(1)
    finally:
        results.close()  # now, not when the traceback is released: cancels what is still waiting
