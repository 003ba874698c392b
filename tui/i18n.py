"""Pick the label set for the operator's language (``Settings.lang``: ``vi`` or ``en``)."""

from __future__ import annotations

from typing import Any

from .strings import en, vi

LANGUAGES = {"en": en.STRINGS, "vi": vi.STRINGS}


class Labels:
    """``labels("key", **values)``: the label in one language, falling back to English."""

    def __init__(self, lang: str = "en") -> None:
        self.lang = lang if lang in LANGUAGES else "en"
        self._table = LANGUAGES[self.lang]

    def __call__(self, key: str, **values: Any) -> str:
        text = self._table.get(key) or en.STRINGS.get(key, key)
        return text.format(**values) if values else text
