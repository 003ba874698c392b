"""Numbers and dates as a reader of each language writes them.

Vietnamese groups thousands with a dot and writes decimals with a comma (20.000; 2,5) and puts
the day first (28/11/2026); English uses 20,000, 2.5 and ISO dates (2026-11-28), as tokenfleet
always has. Text only: a spreadsheet keeps real numbers and dates and gives them a number format.

Datetimes are shown as they are given (the register keeps UTC); nothing here converts zones.
Parsing dates typed by a person is not done here.
"""

from __future__ import annotations

from datetime import date, datetime
from numbers import Real

LANGUAGES = ("vi", "en")

_DATE = {"vi": "%d/%m/%Y", "en": "%Y-%m-%d"}
_DATETIME = {"vi": "%d/%m/%Y %H:%M", "en": "%Y-%m-%d %H:%M"}
_MONTH = {"vi": "%m/%Y", "en": "%Y-%m"}


def _lang(lang: str) -> str:
    if lang not in LANGUAGES:
        raise ValueError(f"language {lang!r} is not one of {', '.join(LANGUAGES)}")
    return lang


def format_number(value: Real | int | float, lang: str, *, decimals: int | None = None) -> str:
    """``20000`` → ``20.000`` (vi) / ``20,000`` (en); ``2.5`` → ``2,5`` / ``2.5``.

    Integers get no decimals. Other numbers get ``decimals`` places, or when it is None at most
    one, with a trailing zero dropped (``12.0`` → ``12``), as day counts read best.
    """
    _lang(lang)
    if isinstance(value, bool):
        raise TypeError("a truth value is not a number to format")
    if isinstance(value, int):
        text = f"{value:,}"
    else:
        places = 1 if decimals is None else decimals
        text = f"{float(value):,.{places}f}"
        if decimals is None and "." in text:
            text = text.rstrip("0").rstrip(".")
    if lang == "vi":
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text


def format_date(value: date | datetime | None, lang: str) -> str:
    """``28/11/2026`` (vi) / ``2026-11-28`` (en); None → empty."""
    return value.strftime(_DATE[_lang(lang)]) if value is not None else ""


def format_datetime(value: datetime | None, lang: str, *, seconds: bool = False) -> str:
    """``28/11/2026 14:05`` (vi) / ``2026-11-28 14:05`` (en); None → empty."""
    if value is None:
        return ""
    pattern = _DATETIME[_lang(lang)] + (":%S" if seconds else "")
    return value.strftime(pattern)


def format_month(value: date | datetime, lang: str) -> str:
    """``11/2026`` (vi) / ``2026-11`` (en)."""
    return value.strftime(_MONTH[_lang(lang)])
