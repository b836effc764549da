"""reorg.runner: the one failure record, local executors, cancellation (fast: no scenario runs)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from reorg._errors import InputError, Problem
from reorg.runner import LocalExecutor, failure, lost, make_executor, run_all


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
    assert LocalExecutor(2).describe(3) == {"kind": "local", "workers": 2, "start_method": "spawn"}
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
