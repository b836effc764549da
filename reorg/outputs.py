"""The one place that writes outputs, atomically.

A run writes into a hidden temporary folder beside the target and renames it into place only when
every file is written: an interrupted or failed run leaves no half-written scenario folder and
never damages the previous run's folder.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import shutil
import signal
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path


def clean_stale(parent: Path) -> None:
    """Tidy what killed runs left behind: half-written temporary folders are removed; a previous
    run's folder caught mid-swap (`.name.old-*` with no `name`) is put back."""
    if parent.is_dir():
        for p in parent.glob(".*.tmp-*"):
            shutil.rmtree(p, ignore_errors=True)
        for p in sorted(parent.glob(".*.old-*")):
            name = p.name[1 : p.name.rindex(".old-")]
            if not (parent / name).exists():
                os.rename(p, parent / name)
            else:
                shutil.rmtree(p, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one atomic step (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    AT_FDCWD, RENAME_EXCHANGE = -100, 2
    return fn(AT_FDCWD, os.fsencode(str(a)), AT_FDCWD, os.fsencode(str(b)), RENAME_EXCHANGE) == 0


@contextlib.contextmanager
def atomic_dir(final: Path) -> Iterator[Path]:
    """Yield a temporary folder; on success it replaces `final` (rename), on failure it is removed."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.tmp-", dir=final.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    os.chmod(tmp, 0o755)
    if final.exists() and _exchange(tmp, final):
        shutil.rmtree(tmp, ignore_errors=True)  # tmp now holds the previous run
        return
    old = None
    if final.exists():
        old = final.parent / f".{final.name}.old-{os.getpid()}"
        os.rename(final, old)  # a kill here leaves .name.old-*, which clean_stale puts back
    os.rename(tmp, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


GPKG_DATE = "2025-07-01T00:00:00Z"  # the reform's date, written as every GeoPackage's timestamp


@contextlib.contextmanager
def fixed_gpkg_timestamp(date: str = GPKG_DATE, *, sync: bool = True) -> Iterator[None]:
    """GeoPackages store the time they were written; pin it so the same run gives the same bytes.
    `sync=False`: SQLite does not wait for the disk after each layer (the same bytes, about 0.15 s
    less per layer); for a file in a temporary folder that is renamed into place once complete."""
    import pyogrio

    options = {"OGR_CURRENT_DATE": date, **({} if sync else {"OGR_SQLITE_SYNCHRONOUS": "OFF"})}
    saved = {k: pyogrio.get_gdal_config_option(k) for k in options}
    pyogrio.set_gdal_config_options(options)
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options(saved)


class Beside:
    """Work run in a forked child process beside this one (`beside`); `join()` waits for it and
    returns its seconds per part, or raises what it raised. Without fork (or when not enabled) the
    work runs in this process at `join()`: the same files either way."""

    def __init__(self, parts: dict[str, Callable[[], object]], *, enabled: bool = True) -> None:
        self.parts = parts
        self.pid: int | None = None
        if enabled and hasattr(os, "fork"):
            read, write = os.pipe()
            pid = os.fork()
            if pid == 0:  # the child: run the parts, send their seconds or the failure, leave at once
                os.close(read)
                _child(parts, write)
            os.close(write)
            self.pid, self.read = pid, read

    def join(self) -> dict[str, float]:
        if self.pid is None:
            return _timed(self.parts)
        with os.fdopen(self.read, "rb") as pipe:
            payload = pipe.read()
        _, status = os.waitpid(self.pid, 0)
        self.pid = None
        outcome = pickle.loads(payload) if payload else RuntimeError(f"the output process ended with status {status}")
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def cancel(self) -> None:
        """Stop the child if it still runs (the parent failed before joining it)."""
        if self.pid is not None:
            with contextlib.suppress(OSError):
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            os.close(self.read)
            self.pid = None


def _timed(parts: dict[str, Callable[[], object]]) -> dict[str, float]:
    seconds = {}
    for name, part in parts.items():
        t = time.perf_counter()
        part()
        seconds[name] = time.perf_counter() - t
    return seconds


def _child(parts: dict[str, Callable[[], object]], fd: int) -> None:
    code = 0
    try:
        outcome: object = _timed(parts)
    except BaseException as exc:  # noqa: BLE001 - sent to the parent, which raises it
        code = 1
        outcome = exc
    try:
        data = pickle.dumps(outcome)
    except Exception:  # noqa: BLE001 - an exception that cannot be pickled: its text and traceback
        data = pickle.dumps(
            RuntimeError("".join(traceback.format_exception(outcome)) if isinstance(outcome, BaseException) else repr(outcome))
        )
    with contextlib.suppress(OSError):
        _write_all(fd, data)
    os._exit(code)  # no atexit handlers, no flushing of the parent's buffers


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def beside(parts: dict[str, Callable[[], object]], *, enabled: bool = True) -> Beside:
    """Start `parts` (name -> function, run in order) in a forked child process: the outputs that
    take longest (the PDF, the workbook) are written on the second core while this process writes
    the rest. The child shares the parent's memory (copy on write), so nothing is pickled but the
    seconds it returns or the exception it raised."""
    return Beside(parts, enabled=enabled)
