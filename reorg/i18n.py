"""User-facing words, by language: ``messages/en.toml`` and ``messages/vi.toml``.

Keys are ``section.name`` (``notice.synthetic_roster``, ``unit.minutes``, ``map.view_after``...).
Both files must hold the same keys (``missing_keys`` is empty; a test checks it), so a Vietnamese
edition of any page is a matter of filling in ``vi.toml``. Values may hold ``{field}`` slots filled by
``text(key, lang, field=...)``.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

FOLDER = Path(__file__).with_name("messages")
LANGS = ("en", "vi")
DEFAULT_LANG = "en"


def _flatten(prefix: str, node: dict, out: dict[str, Any]) -> None:
    for k, v in node.items():
        key = f"{prefix}.{k}" if prefix else k
        if isinstance(v, dict):
            _flatten(key, v, out)
        else:
            out[key] = v


def check_lang(lang: str) -> str:
    """`lang` when it is a known language, else ValueError naming the known ones."""
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}: use one of {', '.join(LANGS)}")
    return lang


@cache
def messages(lang: str = DEFAULT_LANG) -> dict[str, Any]:
    """Every message of `lang`, by dotted key."""
    with open(FOLDER / f"{check_lang(lang)}.toml", "rb") as f:
        raw = tomllib.load(f)
    out: dict[str, Any] = {}
    _flatten("", raw, out)
    return out


def text(key: str, lang: str = DEFAULT_LANG, /, **fields: Any) -> str:
    """The message `key` in `lang`, its ``{slots}`` filled from `fields`."""
    try:
        value = messages(lang)[key]
    except KeyError:
        raise KeyError(f"message {key!r} is not in {FOLDER.name}/{lang}.toml") from None
    return str(value).format(**fields) if fields else str(value)


def word(section_name: str, value: Any, lang: str = DEFAULT_LANG) -> str:
    """`value` (a code or an English word kept in data: a model name, a solver status) in words of
    `lang` when the section `section_name` holds it, else `value` as it is."""
    return str(messages(lang).get(f"{section_name}.{value}", value))


def section(name: str, lang: str = DEFAULT_LANG) -> dict[str, Any]:
    """The messages of one section (``map``, ``unit``...) by their short key."""
    prefix = name + "."
    return {k[len(prefix) :]: v for k, v in messages(lang).items() if k.startswith(prefix)}


def translator(lang: str = DEFAULT_LANG) -> Callable[..., str]:
    """A function key, **fields -> text in `lang` (the ``t`` of the page templates)."""
    check_lang(lang)

    def t(key: str, **fields: Any) -> str:
        return text(key, lang, **fields)

    return t


def missing_keys() -> dict[str, list[str]]:
    """Keys present in one language and not in another, by the language that lacks them."""
    all_keys = set().union(*(messages(lang).keys() for lang in LANGS))
    return {lang: sorted(all_keys - messages(lang).keys()) for lang in LANGS}


#: the synthetic-data flags of a run (summary.json keys; the last two only when the input is given), in notice order
NOTICE_KEYS = ("synthetic_pack", "synthetic_roster", "synthetic_centres", "synthetic_dem", "synthetic_population")


def notices(flags: dict[str, bool], lang: str = DEFAULT_LANG) -> list[str]:
    """The notices that apply, in a fixed order: `flags` maps the `NOTICE_KEYS` (``synthetic_pack``,
    ``synthetic_roster``...) to whether the run's data are synthetic."""
    return [text(f"notice.{k}", lang) for k in NOTICE_KEYS if flags.get(k)]
