"""Numbers for reading, in English (1,234.5) or Vietnamese (1.234,5): counts, decimals, shares,
minutes, money and indicator values (by the indicator table's format). Missing or not finite -> "–".
"""

from __future__ import annotations

import math
from typing import Any

from . import i18n, indicators

DASH = "–"
MINUS = "−"


def finite(v: Any) -> float | None:
    """A finite float of `v`, or None (None, NaN, inf, text, bool)."""
    if type(v) is float:  # the common case first (popups and tables format thousands)
        return v if math.isfinite(v) else None
    if v is None or isinstance(v, (bool, str)):
        return None
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def _localise(s: str, lang: str) -> str:
    """English separators to the language's: 1,234.5 -> 1.234,5 in Vietnamese."""
    if lang == "vi":
        return s.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return s


def number(v: Any, digits: int = 0, lang: str = "en") -> str:
    """`v` with thousands separators and `digits` decimals."""
    x = finite(v)
    if x is None:
        return DASH
    s = f"{round(x):,}" if digits == 0 else f"{x:,.{digits}f}"
    return _localise(s, lang)


def plain(v: Any, lang: str = "en") -> str:
    """A parameter's value as written: numbers with as many digits as they have (0.9, 1,500, 0.25),
    the decimal mark of `lang`; text and booleans as they are."""
    if isinstance(v, bool) or not isinstance(v, int | float):
        return str(v)
    if isinstance(v, int) or float(v).is_integer() and abs(v) >= 1000:
        return number(v, 0, lang)
    return _localise(f"{v:g}", lang)


def count(v: Any, lang: str = "en") -> str:
    """A whole number: 12,345."""
    return number(v, 0, lang)


def signed(v: Any, digits: int = 0, lang: str = "en") -> str:
    """A change with its sign: +3, 0, −2 (a true minus sign)."""
    x = finite(v)
    if x is None:
        return DASH
    s = number(abs(x), digits, lang)
    if float(s.replace(",", "").replace(".", "") or 0) == 0:
        return s
    return ("+" if x > 0 else MINUS) + s


def share(v: Any, digits: int = 1, lang: str = "en") -> str:
    """A share of 1 as a percentage: 0.1234 -> 12.3 %."""
    x = finite(v)
    return DASH if x is None else number(100 * x, digits, lang) + " %"


def minutes(v: Any, digits: int = 1, lang: str = "en") -> str:
    """Minutes, with `digits` decimals (no unit)."""
    return number(v, digits, lang)


def money(v: Any, lang: str = "en") -> str:
    """An amount of Vietnamese đồng: 1,250,000 ₫ (1.250.000 ₫ in Vietnamese)."""
    x = finite(v)
    return DASH if x is None else number(x, 0, lang) + " ₫"


def indicator(key: str, v: Any, lang: str = "en", *, extra_digits: int = 0) -> str:
    """`v` as the indicator table formats indicator `key` (`extra_digits` more decimals, to tell
    close runs apart in a comparison)."""
    ind = indicators.get(key)
    digits = ind.digits + extra_digits
    if ind.format == "share":
        return share(v, digits, lang)
    if ind.format == "count":
        x = finite(v)
        if extra_digits and x is not None and not float(x).is_integer():
            return number(x, extra_digits, lang)
        return number(v, 0, lang)
    return number(v, digits, lang)


def indicator_change(key: str, before: Any, after: Any, lang: str = "en") -> str:
    """after − before of indicator `key`, signed, in its format (shares in percentage points)."""
    b, a = finite(before), finite(after)
    if a is None or b is None:
        return DASH
    ind = indicators.get(key)
    if ind.format == "share":
        return signed(100 * (a - b), ind.digits, lang) + " " + i18n.text("unit.percentage_points", lang)
    return signed(a - b, 0 if ind.format == "count" else ind.digits, lang)


def amount(v: Any, lang: str = "en") -> str:
    """A free-form number (a solver's objective or bound): whole with thousands separators when it is
    whole or at least 1,000, else with 2 decimals."""
    x = finite(v)
    if x is None:
        return DASH
    return number(x, 0 if x.is_integer() or abs(x) >= 1000 else 2, lang)
