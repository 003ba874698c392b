"""Look-ups in the catalogue: a ``Vocabulary`` speaks one language.

Every front end (the TUI's labels, the report's labels, the alert digests, the handover record,
the request exports) holds one and asks it for domain words, numbers and dates, so a word or a
date reads the same everywhere.
"""

from __future__ import annotations

import datetime as dt
import re
import string
from collections.abc import Iterable, Mapping
from numbers import Real
from typing import Any

from .formats import LANGUAGES, format_date, format_datetime, format_month, format_number
from .messages import MESSAGES
from .terms import DOMAINS


def label(domain: str, code: str | None, lang: str) -> str:
    """The label of ``code`` in ``domain``; an unknown code (a newer program's) shows as itself,
    None as nothing. An unknown domain is a programming error (``KeyError``)."""
    if code is None:
        return ""
    entry = DOMAINS[domain].get(code)
    if entry is None:
        return code
    return entry[0] if lang == "vi" else entry[1]


def inline(text: str) -> str:
    """A label as it reads inside a sentence: first letter lowered unless the first word is an
    acronym ("USB Token", "CA khôi phục", "SO PIN" keep theirs)."""
    first = text.split(" ", 1)[0]
    letters = [c for c in first if c.isalpha()]
    if len(letters) >= 2 and all(c.isupper() for c in letters):
        return text
    return text[:1].lower() + text[1:]


# The codes an audit event's recorded note may hold, by event action ("to An (in_person)",
# "so_pin_reset"): ``Vocabulary.note`` names them.
NOTE_CODES: dict[str, tuple[str, ...]] = {
    "device.issue": ("handover_method",),
    "device.unlock": ("unlock_method",),
    "unlock_case.close": ("unlock_method",),
    "request.new": ("request_kind",),
}
_NOTE_PATTERNS = {
    action: re.compile(r"\b(" + "|".join(sorted((code for d in domains for code in DOMAINS[d]),
                                                key=len, reverse=True)) + r")\b")
    for action, domains in NOTE_CODES.items()}


class _TermFormatter(string.Formatter):
    """``{status:device_status}`` formats a code as its label (inside a sentence);
    ``{allowed:device_status+}`` a list of codes, comma-separated; ``{n:n}``, ``{d:date}`` and
    ``{t:datetime}`` a number, date or time in the language's format."""

    def __init__(self, vocabulary: Vocabulary):
        self.vocabulary = vocabulary

    def format_field(self, value: Any, format_spec: str) -> str:
        domain = format_spec.rstrip("+")
        if domain in DOMAINS:
            if format_spec.endswith("+"):
                return ", ".join(self.vocabulary.inline(domain, v) for v in value)
            return self.vocabulary.inline(domain, value)
        if format_spec == "n" and isinstance(value, Real):
            return self.vocabulary.number(value)
        if format_spec == "date" and isinstance(value, dt.date):
            return self.vocabulary.date(value)
        if format_spec == "datetime" and isinstance(value, dt.datetime):
            return self.vocabulary.datetime(value)
        return super().format_field(value, format_spec)


class Vocabulary:
    """Domain words, numbers and dates in one language (``vi`` or ``en``)."""

    def __init__(self, lang: str = "vi"):
        if lang not in LANGUAGES:
            raise ValueError(f"language {lang!r} is not one of {', '.join(LANGUAGES)}")
        self.lang = lang
        self._formatter = _TermFormatter(self)

    # --- words ---------------------------------------------------------------------------------

    def term(self, domain: str, code: str | None) -> str:
        """``term("device_status", "locked")`` → "Bị khóa" / "Locked"."""
        return label(domain, code, self.lang)

    def inline(self, domain: str, code: str | None) -> str:
        """The term as it reads inside a sentence ("bị khóa", "USB Token")."""
        return inline(self.term(domain, code))

    def terms(self, domain: str, codes: Iterable[str]) -> str:
        """Several codes of one domain as a comma-separated list of labels."""
        return ", ".join(self.term(domain, c) for c in codes)

    def document(self, request_kind: str, key: str) -> str:
        """A dossier document; the request form takes the full name for the kind of request."""
        if key == "don_de_nghi" and request_kind in DOMAINS["request_form"]:
            return self.term("request_form", request_kind)
        return self.term("document", key)

    def note(self, action: str, summary: str | None) -> str:
        """An audit event's recorded note with the codes it holds named (the note itself is
        kept as written: the audit chain is never rewritten)."""
        if not summary:
            return ""
        pattern = _NOTE_PATTERNS.get(action)
        if pattern is None:
            return summary
        domains = NOTE_CODES[action]

        def name(match: re.Match[str]) -> str:
            code = match.group(1)
            domain = next(d for d in domains if code in DOMAINS[d])
            return self.inline(domain, code)

        return pattern.sub(name, summary)

    def error_title(self, error: BaseException) -> str:
        """The heading for an error: its class's, or its nearest listed base class's."""
        for cls in type(error).__mro__:
            if cls.__name__ in DOMAINS["error_title"]:
                return self.term("error_title", cls.__name__)
        return type(error).__name__

    def message(self, key: str, facts: Mapping[str, Any] | None = None) -> str | None:
        """A sentence of ``messages.MESSAGES`` with the facts filled in (codes become labels);
        None when the catalogue has no such sentence."""
        entry = MESSAGES.get(key)
        if entry is None:
            return None
        template = entry[0] if self.lang == "vi" else entry[1]
        return self._formatter.vformat(template, (), dict(facts or {}))

    def explain(self, error: BaseException) -> str:
        """What went wrong, in this language when the error names a catalogue sentence
        (``error.key`` and ``error.facts``), else the error's own (English) text."""
        key = getattr(error, "key", None)
        if key:
            try:
                said = self.message(key, getattr(error, "facts", None))
            except (KeyError, IndexError, ValueError):
                said = None  # facts that do not fit the sentence: the error's text is safer
            if said is not None:
                return said
        return str(error)

    # --- numbers and dates ---------------------------------------------------------------------

    def number(self, value: Real | int | float, *, decimals: int | None = None) -> str:
        return format_number(value, self.lang, decimals=decimals)

    def date(self, value: dt.date | None) -> str:
        return format_date(value, self.lang)

    def datetime(self, value: dt.datetime | None, *, seconds: bool = False) -> str:
        return format_datetime(value, self.lang, seconds=seconds)

    def month(self, value: dt.date) -> str:
        return format_month(value, self.lang)
