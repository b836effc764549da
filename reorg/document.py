"""A page as a list of blocks (headings, paragraphs, lists, tables, figures), written once by the
page's module and rendered twice: to Markdown here (`markdown`), to HTML by the page templates
(``templates/_blocks.html``), so report.md and report.html say the same thing.

Text is either a plain string (data: escaped in HTML, never read as markup) or rich text, a tuple
of spans ``(kind, text)``: ``t`` plain, ``b`` bold, ``code``, ``a`` a link ``(kind, text, href)``.
`rich(message, **fields)` turns a message with ``{slots}`` into rich text, a slot's value being a
span (``bold(x)``, ``code(x)``) or plain text.
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from markupsafe import Markup, escape

Span = tuple[str, ...]
Rich = str | tuple[Span, ...]


def bold(text: Any) -> Span:
    return ("b", str(text))


def code(text: Any) -> Span:
    return ("code", str(text))


def link(text: Any, href: str) -> Span:
    return ("a", str(text), href)


def rich(message: str, **fields: Any) -> tuple[Span, ...]:
    """`message` with its ``{slots}`` filled: a span value stays a span, any other value is text."""
    out: list[Span] = []
    for literal, name, spec, _ in string.Formatter().parse(message):
        if literal:
            out.append(("t", literal))
        if name is not None:
            v = fields[name]
            out.append(v if isinstance(v, tuple) else ("t", format(v, spec or "")))
    return tuple(out)


def join(*parts: Rich | Span) -> tuple[Span, ...]:
    """Rich texts, spans and strings one after the other."""
    out: list[Span] = []
    for p in parts:
        if isinstance(p, str):
            out.append(("t", p))
        elif p and isinstance(p[0], str):
            out.append(p)
        else:
            out.extend(cast(tuple[Span, ...], p))  # not a span, not a string: rich text
    return tuple(out)


def plain(text: Rich) -> str:
    """The words of `text`, without markup."""
    return text if isinstance(text, str) else "".join(s[1] for s in text)


@dataclass(frozen=True)
class Heading:
    text: Rich
    level: int = 2
    tag = "heading"


@dataclass(frozen=True)
class Para:
    text: Rich
    kind: str = "p"  # p | notice | muted
    tag = "para"


@dataclass(frozen=True)
class Items:
    items: Sequence[Rich]
    tag = "items"


@dataclass(frozen=True)
class Table:
    header: Sequence[str]
    rows: Sequence[Sequence[Rich]]
    align: str = ""  # one letter per column: l (text) or r (a number); default all l
    id: str = ""
    classes: list[list[str]] | None = None  # an extra class per cell (HTML only)
    row_classes: list[str] | None = None
    long: bool = False  # a long table: scrolls in HTML
    tag = "table"

    def right(self, j: int) -> bool:
        return j < len(self.align) and self.align[j] == "r"

    def cell_class(self, i: int, j: int) -> str:
        """The HTML class of cell (row i, column j): `num` for a number, and its extra class."""
        extra = self.classes[i][j] if self.classes else ""
        return " ".join(c for c in ("num" if self.right(j) else "", extra) if c)

    def html_rows(self) -> list[tuple[str, list[tuple[str, Markup]]]]:
        """Each row's class and its cells as (class, escaped HTML), for the templates."""
        return [
            ((self.row_classes[i] if self.row_classes else ""), [(self.cell_class(i, j), html(c)) for j, c in enumerate(row)])
            for i, row in enumerate(self.rows)
        ]


@dataclass(frozen=True)
class Figures:
    """Inline SVG figures (HTML only: Markdown has no charts)."""

    title: str
    svgs: list[str] = field(default_factory=list)
    tag = "figures"


Block = Heading | Para | Items | Table | Figures


def html(text: Rich) -> Markup:
    """`text` as HTML: plain text escaped; spans as <strong>, <code>, <a href>."""
    if isinstance(text, str):
        return escape(text)
    out = []
    for span in text:
        kind, words = span[0], escape(span[1])
        if kind == "b":
            out.append(f"<strong>{words}</strong>")
        elif kind == "code":
            out.append(f"<code>{words}</code>")
        elif kind == "a":
            out.append(f'<a href="{escape(span[2])}">{words}</a>')
        else:
            out.append(str(words))
    return Markup("".join(out))


def _md(text: Rich, cell: bool = False) -> str:
    if isinstance(text, str):
        s = text
    else:
        parts = []
        for span in text:
            kind, words = span[0], span[1]
            parts.append(f"**{words}**" if kind == "b" else f"`{words}`" if kind == "code" else words)
        s = "".join(parts)
    return s.replace("|", "\\|") if cell else s


def markdown(blocks: list[Block]) -> str:
    """The blocks as Markdown: a blank line between blocks, figures left out."""
    out: list[str] = []
    for b in blocks:
        if isinstance(b, Figures):
            continue
        if isinstance(b, Heading):
            lines = ["#" * b.level + " " + _md(b.text)]
        elif isinstance(b, Para):
            if b.kind == "notice":  # a plain notice is bold as a whole; rich text carries its own bold
                lines = ["> " + (f"**{b.text}**" if isinstance(b.text, str) else _md(b.text))]
            else:
                lines = [_md(b.text)]
        elif isinstance(b, Items):
            lines = ["- " + _md(i) for i in b.items]
        else:
            lines = [
                "| " + " | ".join(_md(h, True) for h in b.header) + " |",
                "|" + "|".join("---:" if b.right(j) else "---" for j in range(len(b.header))) + "|",
            ]
            lines += ["| " + " | ".join(_md(c, True) for c in row) + " |" for row in b.rows]
        out += lines + [""]
    return "\n".join(out)
