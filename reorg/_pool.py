"""Run independent tasks in local worker processes, handing each result back as it arrives.

Used by the national run (one task per province) and the sweep (one task per combination).
Workers are started with the "spawn" method (a fresh interpreter; safe with OR-Tools' threads).
A worker that dies (killed, out of memory) does not stop the others: its task's result is
`lost(task, exc)`. When the caller is interrupted (Ctrl-C) or `on_result` raises, the tasks still
waiting are cancelled and the exception goes on.
"""
from __future__ import annotations

from typing import Any, Callable

START_METHOD = "spawn"


def run_in_processes(fn: Callable[[Any], Any], tasks: list, workers: int, on_result: Callable[[Any], None],
                     lost: Callable[[Any, BaseException], Any]) -> None:
    """`on_result(fn(task))` for every task, in completion order, in up to `workers` processes
    (`workers <= 0`: in this process, in order)."""
    if workers <= 0:
        for task in tasks:
            on_result(fn(task))
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    with ProcessPoolExecutor(max_workers=max(1, min(workers, len(tasks))),
                             mp_context=multiprocessing.get_context(START_METHOD)) as pool:
        futures = {pool.submit(fn, task): task for task in tasks}
        try:
            for fut in as_completed(futures):
                try:
                    res = fut.result()
                except Exception as exc:  # noqa: BLE001 - the worker process died
                    res = lost(futures[fut], exc)
                on_result(res)
        except BaseException:  # interrupted: do not start the tasks still waiting
            pool.shutdown(wait=False, cancel_futures=True)
            raise
