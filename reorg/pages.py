"""HTML pages from Jinja2 templates (``reorg/templates/``) and asset files (``reorg/assets/``).

One environment for every page: autoescaping on (text from input files is data, never markup),
the formatters of ``fmt`` and the words of ``i18n`` available to every template, and ``asset(name)``
to inline an asset file (stylesheets, scripts) so a page works with no network.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from . import fmt, i18n, indicators

TEMPLATES = Path(__file__).with_name("templates")
ASSETS = Path(__file__).with_name("assets")


@cache
def asset(name: str) -> str:
    """The text of ``assets/<name>`` (UTF-8)."""
    return (ASSETS / name).read_text(encoding="utf-8")


@cache
def environment() -> jinja2.Environment:
    """The Jinja2 environment of every page (autoescape, strict undefined, stable whitespace)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals.update(asset=asset, fmt=fmt, indicators=indicators)
    return env


def render(template: str, lang: str = i18n.DEFAULT_LANG, **context: Any) -> str:
    """Template `template` rendered in `lang`: ``t(key, **fields)`` gives the words, ``lang`` the language."""
    return environment().get_template(template).render(lang=lang, t=i18n.translator(lang), **context)
