"""Every text that enters the register is checked here, once, whatever front end typed it.

The lifecycle functions (``inventory.fleet.lifecycle``) call these for each value they store, so
the CLI, the TUI, the request desk, the poller's claims and bulk imports all get the same rules:

- text is NFC-normalised (a name typed in decomposed Unicode is the same name) and trimmed;
  runs of white space in one-line fields (an Excel cell wrapped with Alt+Enter) become one space;
- control characters, NUL and bidirectional overrides are refused: they hide or reorder what a
  person reads on a screen or in a report;
- lengths stay within the column sizes of the models (one place: the models say them);
- national ID numbers are ASCII digits (``str.isdigit`` also accepts Arabic-Indic and fullwidth
  digits); SHA-256 fingerprints are 64 hex digits; device kinds are read from the words people
  write ("SIM ký số", "Token ký số", "USB Token" …).

A refused value raises ``ValidationError`` naming the field; the importer adds row and column.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any

from inventory.register.errors import ValidationError
from inventory.register.text import fold
from inventory.vocabulary.terms import (
    DEVICE_KIND,
    DEVICE_KIND_SYNONYMS,
    DEVICE_STATUS,
    DEVICE_STATUS_SYNONYMS,
)

# C0 controls but tab/newline/CR (handled as white space), DEL, C1 controls, and the
# bidirectional embeddings, overrides, isolates and marks.
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f"
                        "\u202a-\u202e\u2066-\u2069]")
_LINE_BREAKS = re.compile(r"\r\n?")
_WHITE = re.compile(r"\s+")
NOTES_MAX = 4000  # notes are Text columns: a generous bound still stops a 100,000-char paste


def _describe(ch: str) -> str:
    name = unicodedata.name(ch, "")
    return f"U+{ord(ch):04X}" + (f" {name}" if name else " (a control character)")


def column_size(column: Any) -> int | None:
    """The length a model column allows (``String(200)`` → 200; Text → None)."""
    from sqlalchemy import String

    type_ = column.property.columns[0].type if hasattr(column, "property") else column.type
    return type_.length if isinstance(type_, String) else None


def text(value: Any, what: str, *, max_len: int | None = None, multiline: bool = False,
         required: bool = False) -> str | None:
    """One text value made safe to store: NFC, trimmed, no control characters, within size.

    ``None`` and blank text give ``None`` (or refuse when ``required``). ``multiline`` fields
    (notes) keep their line breaks and tabs; one-line fields fold white space runs to a space.
    """
    if value is None:
        if required:
            raise ValidationError(f"{what} is empty")
        return None
    raw = value if isinstance(value, str) else str(value)
    if raw.isprintable() and "  " not in raw and (
            raw.isascii() or unicodedata.is_normalized("NFC", raw)):
        cleaned = raw.strip()  # the usual cell: no control, bidi or odd white space
    else:
        if not unicodedata.is_normalized("NFC", raw):
            raw = unicodedata.normalize("NFC", raw)
        bad = _FORBIDDEN.search(raw)
        if bad:
            raise ValidationError(f"{what} contains {_describe(bad.group())}, which is not "
                                  "allowed in text")
        cleaned = _LINE_BREAKS.sub("\n", raw).strip() if multiline \
            else _WHITE.sub(" ", raw).strip()
    if not cleaned:
        if required:
            raise ValidationError(f"{what} is empty")
        return None
    limit = max_len if max_len is not None else (NOTES_MAX if multiline else None)
    if limit is not None and len(cleaned) > limit:
        raise ValidationError(f"{what} is {len(cleaned)} characters long; at most {limit} fit")
    return cleaned


def already_clean(values: list[str], *, max_len: int | None) -> bool:
    """Whether ``text`` would store every one of ``values`` (non-empty one-line strings) as it
    is: one C-speed pass over a whole column of an import (its serials, names, ID numbers)
    instead of a check per cell. Only ever sure: False means "check each value"."""
    joined = "|".join(values)  # "|" neither composes with nor reorders around its neighbours
    return (joined.isprintable() and "  " not in joined and "| " not in joined
            and " |" not in joined and joined[:1] != " " and joined[-1:] != " "
            and (joined.isascii() or unicodedata.is_normalized("NFC", joined))
            and (max_len is None or max(map(len, values), default=0) <= max_len))


def same_text(stored: str | None, incoming: str | None, *, multiline: bool = False) -> bool:
    """Whether a stored value equals an incoming checked one once both are normalised (values
    stored before these checks may hold NFD text or double spaces)."""
    if stored is None or incoming is None:
        return stored == incoming
    norm = unicodedata.normalize("NFC", stored)
    norm = _LINE_BREAKS.sub("\n", norm).strip() if multiline else _WHITE.sub(" ", norm).strip()
    return norm == incoming


# --- fields ----------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _sizes() -> dict[str, int | None]:
    """The named fields' sizes, read off the models (imported here, when a field is first
    checked: ``checks.actor`` is used before the register is open)."""
    from inventory.register.models import Agency, Certificate, Device, Holder

    return {
        "serial": column_size(Device.serial),
        "manufacturer": column_size(Device.manufacturer),
        "model": column_size(Device.model),
        "phone_number": column_size(Device.phone_number),
        "holder": column_size(Holder.full_name),
        "title": column_size(Holder.title),
        "email": column_size(Holder.email),
        "phone": column_size(Holder.phone),
        "agency_code": column_size(Agency.code),
        "agency": column_size(Agency.name),
        "certificate_serial": column_size(Certificate.serial),
        "subject": column_size(Certificate.subject),
        "issuer": column_size(Certificate.issuer),
    }


LABELS = {
    "serial": "serial", "manufacturer": "manufacturer", "model": "model",
    "phone_number": "SIM phone number", "holder": "holder name", "title": "title",
    "email": "e-mail", "phone": "phone", "agency_code": "agency code", "agency": "agency name",
    "certificate_serial": "certificate serial", "subject": "certificate subject",
    "issuer": "certificate issuer", "notes": "notes",
}


def field_size(name: str) -> int | None:
    """How many characters a named field holds (``field`` refuses more)."""
    return NOTES_MAX if name == "notes" else _sizes().get(name)


def field(name: str, value: Any, *, required: bool = False) -> str | None:
    """A named register field (``holder``, ``title``, ``serial`` …) checked by its column."""
    if name == "notes":
        return text(value, "notes", multiline=True)
    return text(value, LABELS.get(name, name), max_len=_sizes().get(name), required=required)


def serial(value: Any) -> str:
    """A device serial (token serial, or ICCID for a SIM): text, never a number."""
    checked = field("serial", value, required=True)
    assert checked is not None
    if " " in checked:
        raise ValidationError(f"serial {checked!r} contains a space")
    return checked


def actor(value: Any) -> str:
    """Who the audit trail names (``--actor``, operators)."""
    checked = text(value, "actor name", max_len=120, required=True)
    assert checked is not None
    return checked


_NATIONAL_ID = re.compile(r"[0-9]{9}|[0-9]{12}")


def national_id(value: Any) -> str:
    """Vietnam's citizen ID (CCCD) has 12 digits, the older ID card (CMND) 9: ASCII digits."""
    checked = text(value, "national ID number", max_len=20, required=True)
    assert checked is not None
    if not _NATIONAL_ID.fullmatch(checked):
        shown = checked if len(checked) <= 24 else checked[:20] + "…"
        raise ValidationError(f"national ID number {shown!r} is not 12 digits (CCCD) or "
                              "9 digits (CMND), written with the digits 0-9",
                              key="national_id_invalid", value=shown)
    return checked


_NATIONAL_IDS = re.compile(r"(?:[0-9]{9}|[0-9]{12})(?:\|(?:[0-9]{9}|[0-9]{12}))*")


def already_national_ids(values: list[str]) -> bool:
    """Whether ``national_id`` would return every one of ``values`` as it is (a whole column
    of an import at once)."""
    return not values or bool(_NATIONAL_IDS.fullmatch("|".join(values)))


_HEX64 = re.compile(r"[0-9a-f]{64}")


def fingerprint(value: Any) -> str | None:
    """A SHA-256 fingerprint: 64 hex digits (``AA:BB:…`` as tools print it is accepted)."""
    checked = text(value, "SHA-256 fingerprint", max_len=200)
    if checked is None:
        return None
    compact = re.sub(r"[\s:]", "", checked).lower()
    if not _HEX64.fullmatch(compact):
        raise ValidationError(f"SHA-256 fingerprint {checked[:80]!r} is not 64 hex digits")
    return compact


# --- device kinds ------------------------------------------------------------------------------

def _words(table: dict[str, tuple[str, ...]], labels: dict[str, tuple[str, str]]
           ) -> dict[str, str]:
    """Folded word → code, from the vocabulary's labels and synonyms (one catalogue)."""
    found: dict[str, str] = {}
    for code, names in table.items():
        for name in (code, *labels.get(code, ()), *names):
            found[_fold_word(name)] = code
    return found


def _fold_word(value: str) -> str:
    return _WHITE.sub(" ", fold(value).replace("_", " ").replace("-", " ")).strip()


KIND_WORDS = _words(DEVICE_KIND_SYNONYMS, DEVICE_KIND)
STATUS_WORDS = _words(DEVICE_STATUS_SYNONYMS, DEVICE_STATUS)
_ICCID = re.compile(r"89[0-9]{17,18}")


@lru_cache(maxsize=4096)
def kind_word(value: str) -> str | None:
    """The device kind a word names (``"Sim ký số"`` → ``pki_sim``), or None."""
    return KIND_WORDS.get(_fold_word(value))


@lru_cache(maxsize=4096)
def _status_word(value: str) -> str | None:
    return STATUS_WORDS.get(_fold_word(value))


def status(value: Any) -> str:
    """A device status as code from the words agencies write ("Đang sử dụng" → issued)."""
    checked = text(value, "status", max_len=60, required=True)
    assert checked is not None
    found = _status_word(checked)
    if found is None:
        raise ValidationError(f"status {checked!r} is not one of "
                              f"{', '.join(DEVICE_STATUS_SYNONYMS)}")
    return found


def kind(value: Any) -> str:
    """A device kind as code (``usb_token``/``pki_sim``) from any of the words people use."""
    checked = text(value, "device kind", max_len=60, required=True)
    assert checked is not None
    found = kind_word(checked)
    if found is None:
        raise ValidationError(f"device kind {checked!r} is neither a USB token nor a PKI SIM "
                              "(write e.g. 'USB Token', 'Token ký số', 'SIM ký số', 'PKI SIM')")
    return found


def looks_like_iccid(serial_: str) -> bool:
    """A SIM's ICCID: 19–20 digits starting with 89 (the telecom industry identifier)."""
    return bool(_ICCID.fullmatch(serial_))
