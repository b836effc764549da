"""Errors and problem records: one place turns them into messages and exit codes.

`InputError` (exit code 2) carries one or more `Problem`s, each naming the file, layer, row and
field at fault. Anything else that escapes the pipeline is an internal error (exit code 1).

A problem's words live in the message files (`[error]` and `[warning]` of `messages/en.toml`,
`vi.toml`): `Problem.of(key, file=..., **fields)` names the message, `text(lang)` and
`format(lang)` render it in either language (`message` keeps the English text).
"""

from __future__ import annotations

import dataclasses
import difflib
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from . import i18n

_VI_NUMBER = str.maketrans({",": ".", ".": ","})  # 1,234.5 -> 1.234,5 (as fmt writes Vietnamese numbers)


@dataclass(frozen=True)
class Phrase:
    """Words inside a message (a hint, a reason) rendered in the message's language: the message
    `key` (dotted, e.g. "error.did_you_mean") and its fields."""

    key: str
    args: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def of(cls, key: str, **fields: Any) -> Phrase:
        return cls(key, tuple(fields.items()))

    def text(self, lang: str = i18n.DEFAULT_LANG) -> str:
        return _Formatter(lang).vformat(i18n.text(self.key, lang), (), dict(self.args))


class _Formatter(string.Formatter):
    """str.format with phrases rendered and numbers written the language's way."""

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def format_field(self, value: Any, format_spec: str) -> str:
        if isinstance(value, Phrase):
            return value.text(self.lang)
        out = format(value, format_spec)
        if self.lang == "vi" and isinstance(value, (int, float)) and not isinstance(value, bool):
            out = out.translate(_VI_NUMBER)
        return out


def did_you_mean(name: str, options: Iterable[str]) -> Phrase | str:
    """The hint " (did you mean 'x'?)" for the option closest to `name`, or "" when none is close."""
    hint = difflib.get_close_matches(name, list(options), n=1)
    return Phrase.of("error.did_you_mean", name=hint[0]) if hint else ""


def render(key: str, lang: str, fields: Mapping[str, Any]) -> str:
    """The message `key` of the message files in `lang`, its ``{slots}`` filled from `fields` (an
    empty last slot leaves no trailing space)."""
    return _Formatter(lang).vformat(i18n.text(key, lang), (), dict(fields)).rstrip()


@dataclass(frozen=True)
class Problem:
    """One defect found in the input.

    `row` is a human row reference: for CSV files the 1-based line number in the file (the header
    is line 1); for GeoPackage layers the 1-based feature number. `severity` is "error" (the run
    cannot go on) or "warning" (repaired or tolerated, and reported). `key` names the message
    ("error.missing_column") and `args` its fields; `message` is its English text.
    """

    file: str
    message: str = ""
    layer: str | None = None
    row: int | None = None
    field: str | None = None
    severity: str = "error"
    code: str | None = None  # the record's key (commune code, ...) when one is known
    key: str | None = None
    args: tuple[tuple[str, Any], ...] = dataclasses.field(default=(), compare=False)
    sheet: str | None = None  # the sheet of an Excel workbook (its `row` is then the Excel row)
    cell: str | None = None  # the Excel cell or range ("B7", "C1:H1") when one is known

    @classmethod
    def of(
        cls,
        key: str,
        *,
        file: str,
        layer: str | None = None,
        row: int | None = None,
        field: str | None = None,
        code: str | None = None,
        severity: str = "error",
        sheet: str | None = None,
        cell: str | None = None,
        **fields: Any,
    ) -> Problem:
        """The problem whose words are `[severity] key` of the message files, filled from `fields`."""
        full = f"{severity}.{key}"
        return cls(
            file=file,
            message=render(full, i18n.DEFAULT_LANG, fields),
            layer=layer,
            row=row,
            field=field,
            severity=severity,
            code=code,
            key=full,
            args=tuple(fields.items()),
            sheet=sheet,
            cell=cell,
        )

    def text(self, lang: str = i18n.DEFAULT_LANG) -> str:
        """What is wrong, in `lang` (the English `message` when the problem has no key)."""
        return self.message if self.key is None else render(self.key, lang, dict(self.args))

    def place(self, lang: str = i18n.DEFAULT_LANG) -> str:
        """Where: file, sheet, layer, row, field, cell and the record's code, in `lang`."""
        where = [self.file]
        if self.sheet:
            where.append(i18n.text("roster_xlsx.sheet", lang, name=self.sheet))
        if self.layer:
            where.append(i18n.text("problem.layer", lang, name=self.layer))
        if self.row is not None:
            where.append(i18n.text("problem.row", lang, row=self.row))
        if self.field:
            where.append(i18n.text("problem.field", lang, name=self.field))
        if self.cell:
            where.append(i18n.text("roster_xlsx.cell", lang, ref=self.cell))
        return ", ".join(where) + (f" [{self.code}]" if self.code else "")

    def format(self, lang: str = i18n.DEFAULT_LANG) -> str:
        """One line: severity, place and text, in `lang`."""
        return f"{i18n.text(f'problem.{self.severity}', lang)}: {self.place(lang)}: {self.text(lang)}"


def grouped(problems: Iterable[Problem], lang: str = i18n.DEFAULT_LANG, places: int = 5) -> list[str]:
    """`problems` as lines, each message once: a message found more than once is shown with its
    count and first occurrence, then the first `places` other places where it was found."""
    groups: dict[tuple, list[Problem]] = {}
    for p in problems:
        groups.setdefault((p.severity, p.key or p.message), []).append(p)
    lines = []
    for (severity, _), group in groups.items():
        first = group[0]
        if len(group) == 1:
            lines.append(first.format(lang))
            continue
        head = i18n.text("problem.counted", lang, severity=i18n.text(f"problem.{severity}", lang), n=len(group))
        lines.append(f"{head}: {first.place(lang)}: {first.text(lang)}")
        others = [p.place(lang) for p in group[1 : 1 + places]]
        more = len(group) - 1 - len(others)
        lines.append("  " + i18n.text("problem.also", lang, places="; ".join(others)))
        if more:
            lines[-1] += " " + i18n.text("problem.and_more", lang, n=more)
    return lines


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

    def describe(self, limit: int = 50, lang: str = i18n.DEFAULT_LANG) -> str:
        errors = [p for p in self.problems if p.severity == "error"]
        lines = [p.format(lang) for p in errors[:limit]]
        if len(errors) > limit:
            lines.append(i18n.text("problem.more_errors", lang, n=len(errors) - limit))
        return "\n".join(lines)


@dataclasses.dataclass
class ProblemLog:
    """Collects problems while validating, so every problem is reported, not only the first.
    `add` and `warn` take the file, the message key (of `[error]`, `[warning]`), the place
    (layer, row, field, code) and the message's fields."""

    problems: list[Problem] = dataclasses.field(default_factory=list)

    def add(self, file: str, key: str, **kw: Any) -> None:
        self.problems.append(Problem.of(key, file=file, **kw))

    def warn(self, file: str, key: str, **kw: Any) -> None:
        self.problems.append(Problem.of(key, file=file, severity="warning", **kw))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    def raise_if_errors(self) -> None:
        if self.errors:
            raise InputError(self.problems)
