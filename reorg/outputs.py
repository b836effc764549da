"""The one place that writes outputs, atomically.

A run writes into a hidden temporary folder beside the target and renames it into place only when
every file is written: an interrupted or failed run leaves no half-written scenario folder and
never damages the previous run's folder.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path


def clean_stale(parent: Path) -> None:
    """Remove temporary folders that killed runs left behind."""
    if parent.is_dir():
        for p in parent.glob(".*.tmp-*"):
            shutil.rmtree(p, ignore_errors=True)
        for p in parent.glob(".*.old-*"):
            shutil.rmtree(p, ignore_errors=True)


@contextlib.contextmanager
def atomic_dir(final: Path):
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
    old = None
    if final.exists():
        old = final.parent / f".{final.name}.old-{os.getpid()}"
        os.rename(final, old)
    os.rename(tmp, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def write_text(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
