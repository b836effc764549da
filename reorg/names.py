"""Province names: short names and ASCII folder slugs."""

from __future__ import annotations

import re
import unicodedata

PROVINCE_PREFIXES = ("Thành phố ", "Tỉnh ")


def short_name(name: str) -> str:
    """'Tỉnh Lào Cai' -> 'Lào Cai', 'Thành phố Huế' -> 'Huế'."""
    name = unicodedata.normalize("NFC", str(name)).strip()
    for prefix in PROVINCE_PREFIXES:
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


def province_slug(name: str) -> str:
    """ASCII folder slug of a province name: 'Thành phố Hồ Chí Minh' -> 'ho_chi_minh'."""
    s = short_name(name).replace("đ", "d").replace("Đ", "D")
    s = "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", "_", s.lower()).strip("_") or "province"
