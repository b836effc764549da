"""Errors and problem records: one place turns them into messages and exit codes.

`InputError` (exit code 2) carries one or more `Problem`s, each naming the file, layer, row and
field at fault. Anything else that escapes the pipeline is an internal error (exit code 1).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One defect found in the input.

    `row` is a human row reference: for CSV files the 1-based line number in the file (the header
    is line 1); for GeoPackage layers the 1-based feature number. `severity` is "error" (the run
    cannot go on) or "warning" (repaired or tolerated, and reported).
    """

    file: str
    message: str
    layer: str | None = None
    row: int | None = None
    field: str | None = None
    severity: str = "error"
    code: str | None = None  # the record's key (commune code, ...) when one is known

    def format(self) -> str:
        where = [self.file]
        if self.layer:
            where.append(f"layer '{self.layer}'")
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.field:
            where.append(f"field '{self.field}'")
        key = f" [{self.code}]" if self.code else ""
        return f"{self.severity}: {', '.join(where)}{key}: {self.message}"


class ReorgError(Exception):
    """Base class of the errors reorg raises on purpose."""

    exit_code = 1


class InputError(ReorgError):
    """Bad input: a file, a scenario key, a roster row. Exit code 2, no output written."""

    exit_code = 2

    def __init__(self, problems: Problem | Iterable[Problem] | str, *, file: str = "input") -> None:
        if isinstance(problems, str):
            problems = [Problem(file=file, message=problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        super().__init__(self.describe())

    def describe(self, limit: int = 50) -> str:
        errors = [p for p in self.problems if p.severity == "error"]
        lines = [p.format() for p in errors[:limit]]
        if len(errors) > limit:
            lines.append(f"... and {len(errors) - limit} more errors")
        return "\n".join(lines)


@dataclass
class ProblemLog:
    """Collects problems while validating, so every problem is reported, not only the first."""

    problems: list[Problem] = field(default_factory=list)

    def add(self, file: str, message: str, **kw: Any) -> None:
        self.problems.append(Problem(file=file, message=message, **kw))

    def warn(self, file: str, message: str, **kw: Any) -> None:
        self.problems.append(Problem(file=file, message=message, severity="warning", **kw))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    def raise_if_errors(self) -> None:
        if self.errors:
            raise InputError(self.problems)
