"""ATR → manufacturer/model, and the historical bytes a profile may hint from.

Patterns are upper-case hex with ``..`` for "any byte" (the notation of pcsc-tools'
``smartcard_list.txt``). Add a row when a new token model joins the fleet; first match wins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PIV_AID = bytes.fromhex("A000000308000010000100")
PIV_AID_PREFIX = bytes.fromhex("A00000030800001000")  # what cards put in their historical bytes


@dataclass(frozen=True)
class AtrEntry:
    pattern: str
    manufacturer: str
    model: str
    profile_hint: str | None = None  # "piv" or "pki_sim": which profile to try first

    def regex(self) -> re.Pattern[str]:
        return re.compile(self.pattern.replace(" ", "").replace("..", "[0-9A-F]{2}") + r"\Z")


ATR_TABLE: tuple[AtrEntry, ...] = (
    AtrEntry("3B F8 13 00 00 81 31 FE 15 59 75 62 69 6B 65 79 34 D4", "Yubico", "YubiKey 4", "piv"),
    AtrEntry(
        "3B FD 13 00 00 81 31 FE 15 80 73 C0 21 C0 57 59 75 62 69 4B 65 79 40",
        "Yubico",
        "YubiKey 5 NFC",
        "piv",
    ),
    AtrEntry("3B 8C 80 01 59 75 62 69 6B 65 79 4E 45 4F 72 33 58", "Yubico", "YubiKey NEO", "piv"),
    # the project's emulated cards (tests/lab/vcard.py): PIV AID in the historical bytes
    AtrEntry("3B 8B 01 80 F9 A0 00 00 03 08 00 00 10 00 ..", "tokenfleet lab", "emulated PIV token",
             "piv"),
    AtrEntry("3B 88 80 01 80 56 56 4E 50 4B 49 53 ..", "tokenfleet lab", "emulated PKI SIM",
             "pki_sim"),
)
_COMPILED = tuple((e, e.regex()) for e in ATR_TABLE)


def lookup_atr(atr: bytes | str | None) -> AtrEntry | None:
    """The table row for an ATR, else a generic row when the ATR names the PIV AID, else None."""
    if not atr:
        return None
    raw = bytes.fromhex(atr) if isinstance(atr, str) else bytes(atr)
    text = raw.hex().upper()
    for entry, rx in _COMPILED:
        if rx.match(text):
            return entry
    if PIV_AID_PREFIX in historical_bytes(raw):
        return AtrEntry(text, "unknown", "PIV-compatible card", "piv")
    return None


def historical_bytes(atr: bytes) -> bytes:
    """The historical bytes of an ATR (ISO 7816-3: T0's low nibble counts them after TDi chain)."""
    if len(atr) < 2:
        return b""
    k = atr[1] & 0x0F
    y = atr[1] >> 4
    pos = 2
    while True:
        # TAi, TBi, TCi present per bits 5..7 of Y; TDi per bit 8
        pos += bin(y & 0x7).count("1")
        if y & 0x8:
            if pos >= len(atr):
                return b""
            td = atr[pos]
            pos += 1
            y = td >> 4
        else:
            break
    return atr[pos : pos + k]
