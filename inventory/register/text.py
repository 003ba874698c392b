"""Text folding for search that fits Vietnamese names, spreadsheet cells as text, and text made
safe for output (terminals, CSV files).

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


def _fold_table() -> dict[int, str]:
    """Precomposed Latin letters (Vietnamese among them) → their base letters."""
    table: dict[int, str] = {}
    for start, end in ((0x00C0, 0x0250), (0x1E00, 0x1F00)):
        for cp in range(start, end):
            decomposed = unicodedata.normalize("NFD", chr(cp).translate(_EXTRA))
            base = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
            if base != chr(cp):
                table[cp] = base
    return table


_FOLD = _fold_table()


def fold(text: str | None) -> str:
    if not text:
        return ""
    quick = text.translate(_FOLD)  # one C pass for the letters of Vietnamese names
    if quick.isascii():
        return _SPACES.sub(" ", quick).strip().lower()
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


# --- output ----------------------------------------------------------------------------------

# Characters a terminal acts on instead of showing: C0 controls (ESC starts ANSI sequences) but
# tab and newline, DEL, C1 controls (U+009B is a one-character CSI), and the bidirectional
# controls that reorder what follows them on screen.
_TERMINAL_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e"
                              "\u2066-\u2069]")


def terminal_safe(text: str) -> str:
    """``text`` with every character a terminal would act on shown as an escape (``\\x1b``)."""
    return _TERMINAL_UNSAFE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"),
                                text)


# A spreadsheet opening a CSV file runs a cell that starts with one of these as a formula (or,
# for tab and CR, shifts it so that the next character does). The xlsx writers store such text
# as a string cell; a CSV file has no cell types, so the cell gets a leading apostrophe, which
# spreadsheets take as "this is text". Text that already starts with apostrophes before one of
# these characters gets one more, so reading it back (``csv_unescape``) is exact.
_CSV_FORMULA = re.compile(r"'*[=+\-@\t\r]")
_CSV_ESCAPED = re.compile(r"'+[=+\-@\t\r]")


def csv_safe(value: object) -> object:
    """A value for a CSV cell that no spreadsheet runs as a formula (text only; numbers stay)."""
    if isinstance(value, str) and _CSV_FORMULA.match(value):
        return "'" + value
    return value


def csv_unescape(value: str) -> str:
    """The text ``csv_safe`` was given (imports of our own CSV files read it back exactly)."""
    return value[1:] if _CSV_ESCAPED.match(value) else value
