"""Text folding for search that fits Vietnamese names, and spreadsheet cells as text.

``fold("Đặng Quốc Bảo") == "dang quoc bao"``: case and diacritics are dropped, and ``đ``/``Đ``
(which do not decompose in Unicode) become ``d``. The register stores this folded form beside
every searchable name and indexes it, so search never scans or folds at query time.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

_EXTRA = str.maketrans({"đ": "d", "Đ": "d", "ð": "d", "Ð": "d"})
_SPACES = re.compile(r"\s+")


def fold(text: str | None) -> str:
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFD", text.translate(_EXTRA))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", stripped).strip().lower()


def escape_like(text: str) -> str:
    """Escape ``%``, ``_`` and ``\\`` for a ``LIKE … ESCAPE '\\'`` pattern."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def cell_text(value: Any) -> str | None:
    """A spreadsheet cell as text (None when empty); numbers from Excel lose a spurious ``.0``
    but never their leading zeros."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None
