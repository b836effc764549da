"""The indicator table (``indicators.toml``): every indicator's label, unit, better direction,
national aggregation, number format and map classes, as data read once.

Reports, the PDF, the comparison, the national run and the maps read this table; none keeps its
own list. Adding an indicator means one row in ``indicators.toml`` and its computation in
``measure.py``; ``check_table`` (run by the tests) keeps the table consistent.
"""

from __future__ import annotations

import bisect
import math
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

TABLE_FILE = Path(__file__).with_name("indicators.toml")

BETTER = ("lower", "higher", "none")
FORMATS = ("count", "minutes", "share", "decimal")
SCOPES = ("province", "commune", "plan")


@dataclass(frozen=True)
class Indicator:
    """One row of the indicator table."""

    key: str
    label_en: str
    label_vi: str
    unit: str
    better: str
    national: str
    format: str
    scope: str = "province"
    digits: int = 1
    numerator: str | None = None
    denominator: str | None = None
    scale: float = 1.0
    breaks: tuple[float, ...] = ()
    palette: str | None = None
    class_labels_en: tuple[str, ...] = ()
    class_labels_vi: tuple[str, ...] = ()

    def label(self, lang: str = "en") -> str:
        """The indicator's label in `lang` ('en' or 'vi')."""
        return self.label_vi if lang == "vi" else self.label_en

    @property
    def direction(self) -> str | None:
        """'lower' or 'higher' when that is better; None for a neutral count."""
        return None if self.better == "none" else self.better

    @property
    def weight_key(self) -> str | None:
        """The count a `mean_by:<key>` indicator is weighted by nationally."""
        return self.national.split(":", 1)[1] if self.national.startswith("mean_by:") else None

    def colours(self) -> tuple[str, ...]:
        """The map colours of its classes (one more than breaks)."""
        return tuple(palettes()[self.palette]) if self.palette else ()

    def map_class(self, value: object) -> int | None:
        """Class index of `value` on the map (None when it is not a finite number)."""
        if not self.breaks or not _finite(value):
            return None
        return bisect.bisect_right(self.breaks, float(value))  # type: ignore[arg-type]

    @property
    def can_colour_map(self) -> bool:
        return bool(self.breaks and self.palette)


def _finite(x: object) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


@cache
def _raw() -> dict:
    with open(TABLE_FILE, "rb") as f:
        return tomllib.load(f)


@cache
def table() -> dict[str, Indicator]:
    """Every indicator by key, in table order."""
    out: dict[str, Indicator] = {}
    for row in _raw()["indicator"]:
        row = dict(row)
        for k in ("breaks", "class_labels_en", "class_labels_vi"):
            if k in row:
                row[k] = tuple(row[k])
        if "scale" in row:
            row["scale"] = float(row["scale"])
        if "digits" not in row:
            row["digits"] = {"minutes": 1, "share": 1, "count": 0}.get(row.get("format", ""), 2)
        ind = Indicator(**row)
        out[ind.key] = ind
    return out


@cache
def palettes() -> dict[str, list[str]]:
    """Map palettes by name (ColorBrewer), and `no_data` (a single colour)."""
    return dict(_raw()["palettes"])


def no_data_colour() -> str:
    return str(palettes()["no_data"])


def get(key: str) -> Indicator:
    """The row of `key` (KeyError naming the table when absent)."""
    try:
        return table()[key]
    except KeyError:
        raise KeyError(f"indicator {key!r} is not in {TABLE_FILE.name}") from None


def province_keys() -> tuple[str, ...]:
    """Keys of summary.json `indicators`, in table order."""
    return tuple(k for k, i in table().items() if i.scope == "province")


def national_keys() -> tuple[str, ...]:
    """Keys the national run aggregates, in table order."""
    return tuple(k for k, i in table().items() if i.scope == "province" and i.national != "none")


def map_keys(scope: str = "province") -> tuple[str, ...]:
    """Keys that can colour a map of the given scope."""
    return tuple(k for k, i in table().items() if i.scope == scope and i.can_colour_map)


def aggregate(rows: list[dict]) -> dict:
    """National values of one period from the provinces' values of that period, by each row's
    `national` rule; a value missing or not finite in a province is left out of that indicator."""
    out: dict[str, float | int | None] = {}
    keys = national_keys()
    rules = {k: get(k) for k in keys}
    for k, ind in rules.items():
        if ind.national == "sum":
            vals = [r[k] for r in rows if _finite(r.get(k))]
            out[k] = sum(vals) if vals else None
    for k, ind in rules.items():
        weight = "population" if ind.national == "population_mean" else ind.weight_key
        if weight is None:
            continue
        pairs = [(r[k], r[weight]) for r in rows if _finite(r.get(k)) and _finite(r.get(weight))]
        w = sum(p for _, p in pairs)
        out[k] = sum(v * p for v, p in pairs) / w if w > 0 else None
    for k, ind in rules.items():
        if ind.national == "ratio":
            num, den = out.get(ind.numerator or ""), out.get(ind.denominator or "")
            out[k] = num / den * ind.scale if num is not None and den else None
    return {k: out.get(k) for k in keys}


def check_table() -> list[str]:
    """Problems of the table itself (empty when consistent): unknown codes, missing labels,
    references to unknown indicators, breaks that do not match their palette."""
    problems = []
    t = table()
    pal = palettes()
    for k, i in t.items():
        where = f"{TABLE_FILE.name} [{k}]"
        if i.better not in BETTER:
            problems.append(f"{where}: better {i.better!r} not in {BETTER}")
        if i.format not in FORMATS:
            problems.append(f"{where}: format {i.format!r} not in {FORMATS}")
        if i.scope not in SCOPES:
            problems.append(f"{where}: scope {i.scope!r} not in {SCOPES}")
        if not i.label_en.strip() or not i.label_vi.strip():
            problems.append(f"{where}: a label is empty")
        rule = i.national
        if rule == "ratio":
            for ref in (i.numerator, i.denominator):
                if ref not in t or t[ref].national != "sum":
                    problems.append(f"{where}: ratio of {ref!r}, which is not a summed indicator")
        elif rule.startswith("mean_by:"):
            if i.weight_key not in t or t[i.weight_key].national != "sum":
                problems.append(f"{where}: weighted by {i.weight_key!r}, which is not a summed indicator")
        elif rule not in ("sum", "population_mean", "none"):
            problems.append(f"{where}: unknown national rule {rule!r}")
        if i.breaks:
            if list(i.breaks) != sorted(i.breaks):
                problems.append(f"{where}: breaks not increasing")
            if i.palette not in pal or len(pal[i.palette]) != len(i.breaks) + 1:
                problems.append(f"{where}: palette {i.palette!r} must have len(breaks) + 1 colours")
            for labels in (i.class_labels_en, i.class_labels_vi):
                if labels and len(labels) != len(i.breaks) + 1:
                    problems.append(f"{where}: class labels must be len(breaks) + 1")
    return problems
