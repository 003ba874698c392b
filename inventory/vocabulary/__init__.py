"""The one vocabulary of tokenfleet: every domain word in Vietnamese and English, and numbers
and dates as each language writes them.

    terms.py      the catalogue: domain → code → (vi, en)   (device kinds, statuses, moves,
                  audit events, request kinds/states/steps, dossier documents, handover and
                  unlock methods, alert rules/states, agency kinds, roles, error headings)
    messages.py   sentences the core says (refusals), with codes filled in as labels
    formats.py    ``format_number``, ``format_date``, ``format_datetime``, ``format_month``
    catalogue.py  ``Vocabulary(lang)``: all of the above in one language

It imports nothing from tokenfleet, so every layer — the register kernel included — may use it.
No front end shows a raw code: it asks ``Vocabulary.term(domain, code)``.
"""

from .catalogue import Vocabulary, inline, label
from .formats import LANGUAGES, format_date, format_datetime, format_month, format_number
from .messages import MESSAGES
from .terms import DOMAINS

__all__ = [
    "DOMAINS",
    "LANGUAGES",
    "MESSAGES",
    "Vocabulary",
    "format_date",
    "format_datetime",
    "format_month",
    "format_number",
    "inline",
    "label",
]
