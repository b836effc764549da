"""reorg.runner: the one failure record, local executors (forked or spawned: the same files), cancellation."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from reorg._errors import InputError, Problem
from reorg.runner import LocalExecutor, failure, lost, make_executor, run_all, start_method

ROOT = Path(__file__).resolve().parents[1]


# task functions: module level, so spawned workers can import them
def _echo(task: dict) -> dict:
    return {"key": task["key"], "status": "done", "pid": os.getpid()}


def _die_on_b(task: dict) -> dict:
    if task["key"] == "b":
        os._exit(3)  # the worker process dies: no exception, no result
    time.sleep(0.5)
    return {"key": task["key"], "status": "done"}


def _mark(task: dict) -> dict:
    time.sleep(0.3)
    Path(task["dir"], task["key"]).write_text("ran")
    return {"key": task["key"], "status": "done"}


def _boom() -> None:
    raise RuntimeError("boom in Điện Biên")


def test_failure_record_for_bad_input_and_for_a_bug():
    bad = InputError(Problem(file="scenario", field="province", message="unknown province code '00'"))
    rec = failure(bad)
    assert rec == {"status": "failed", "exit_code": 2, "error": bad.describe(limit=20), "traceback": None}
    assert "unknown province code '00'" in rec["error"]
    try:
        _boom()
    except RuntimeError as exc:
        rec = failure(exc)
    assert rec["status"] == "failed" and rec["exit_code"] == 1
    assert rec["error"] == "RuntimeError: boom in Điện Biên"
    assert rec["traceback"].startswith("Traceback") and "in _boom" in rec["traceback"]
    gone = lost({"key": "x"}, RuntimeError("worker died"))
    assert gone["key"] == "x" and gone["exit_code"] == 1 and gone["error"] == "worker process lost: RuntimeError: worker died"
    assert gone["files"] == {} and gone["folder"] is None


def test_local_executor_runs_in_other_processes_or_in_this_one():
    tasks = [{"key": k} for k in "abc"]
    got: list[dict] = []
    run_all(LocalExecutor(2), tasks, got.append, fn=_echo)
    assert sorted(r["key"] for r in got) == ["a", "b", "c"]
    assert os.getpid() not in {r["pid"] for r in got}
    assert LocalExecutor(2).describe(3) == {"kind": "local", "workers": 2, "start_method": start_method()}
    assert LocalExecutor(4).describe(3)["workers"] == 3
    got = []
    run_all(make_executor(workers=0), tasks, got.append, fn=_echo)
    assert [r["key"] for r in got] == ["a", "b", "c"] and {r["pid"] for r in got} == {os.getpid()}
    assert make_executor(workers=0).describe(3) == {"kind": "in-process", "workers": 0, "start_method": None}


def test_a_dead_worker_gives_a_lost_record_and_every_task_a_record():
    got: dict[str, dict] = {}
    run_all(LocalExecutor(2), [{"key": k} for k in "abc"], lambda r: got.__setitem__(r["key"], r), fn=_die_on_b)
    assert sorted(got) == ["a", "b", "c"], "no task is left without a record"
    assert got["b"]["status"] == "failed" and got["b"]["exit_code"] == 1
    assert got["b"]["error"].startswith("worker process lost: BrokenProcessPool")


def test_an_error_in_on_result_cancels_the_tasks_still_waiting(tmp_path):
    tasks = [{"key": f"t{k}", "dir": str(tmp_path)} for k in range(12)]

    def on_result(res: dict) -> None:
        raise KeyError("stop")

    with pytest.raises(KeyError):
        run_all(LocalExecutor(1), tasks, on_result, fn=_mark)
    ran = len(list(tmp_path.iterdir()))
    time.sleep(1.5)
    assert len(list(tmp_path.iterdir())) == ran, "a task still ran after run_all had raised"
    # the first, the one running, and the few the pool had already handed to its worker's queue
    assert 1 <= ran <= 5, f"{ran} of 12 tasks ran after the first result raised"


# a national run of two provinces in a fresh process: forked workers there; spawned ones when a thread runs
_NATIONAL = """
import json, sys, threading, time
from pathlib import Path
from reorg.national import run_national
if sys.argv[3] == "thread":
    threading.Thread(target=time.sleep, args=(600,), daemon=True).start()
folder = run_national(sys.argv[1], ["name=n"], sys.argv[2], Path(sys.argv[4]), workers=2, progress=False, provinces=["12", "46"])
print(json.loads((folder / "run.json").read_text(encoding="utf-8"))["execution"]["start_method"])
"""


def test_workers_are_forked_when_safe_and_write_the_same_files_as_spawned_ones(tmp_path, geodata):
    import subprocess
    import sys

    scenario = str(ROOT / "scenarios" / "lao_cai_official.toml")
    methods, folders = [], []
    for how in ("alone", "thread"):
        out = tmp_path / how
        done = subprocess.run(
            [sys.executable, "-c", _NATIONAL, scenario, str(geodata), how, str(out)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=600,
        )
        assert done.returncode == 0, done.stderr
        methods.append(done.stdout.strip().splitlines()[-1])
        folders.append(out / "n")
    # no other thread, no OR-Tools loaded: forked; another thread running: spawned
    assert methods == ["fork", "spawn"]
    files = [sorted(p.relative_to(f).as_posix() for p in f.rglob("*") if p.is_file() and p.name != "run.json") for f in folders]
    assert files[0] == files[1] and any(name.endswith("/map.html") for name in files[0])
    assert [n for n in files[0] if (folders[0] / n).read_bytes() != (folders[1] / n).read_bytes()] == []
