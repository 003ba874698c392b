"""Pick the label set for the operator's language (``Settings.lang``: ``vi`` or ``en``).

``Labels`` is the vocabulary (``inventory.vocabulary``: domain words, numbers, dates) plus the
TUI's own strings (``tui/strings``: captions, hints, help). A key ``<domain>.<code>`` of a
vocabulary domain (``device_status.locked``, ``event.device.add``) is a domain word and is
always answered by the catalogue, so the screens can never hold a second translation of it.
"""

from __future__ import annotations

from typing import Any

from inventory.vocabulary import DOMAINS, Vocabulary

from .strings import en, vi

LANGUAGES = {"en": en.STRINGS, "vi": vi.STRINGS}


class Labels(Vocabulary):
    """``labels("key", **values)``: the label in one language, falling back to English."""

    def __init__(self, lang: str = "en") -> None:
        super().__init__(lang if lang in LANGUAGES else "en")
        self._table = LANGUAGES[self.lang]

    def __call__(self, key: str, **values: Any) -> str:
        domain, _, code = key.partition(".")
        if domain in DOMAINS and code:
            text = self.term(domain, code)
        else:
            text = self._table.get(key) or en.STRINGS.get(key, key)
        return text.format(**values) if values else text
