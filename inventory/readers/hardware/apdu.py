"""The smart-card protocol layer (ISO 7816-4), free of pyscard as yubikit's is.

Everything between "a card edge wants to ask X" and "bytes went to a reader" that does not need
PC/SC lives here, so the card profiles (:mod:`inventory.readers.hardware.profiles`) and their
tests run without pyscard, pcscd or a reader:

- :class:`Connection`: what a card edge talks to — ``send_and_receive(apdu) -> (data, sw)``.
  ``pcsc.CardConnection`` is the live one (its ``transmit`` is one raw exchange, and
  :func:`exchange` adds the protocol on top); tests pass an in-memory one.
- :func:`build_apdu`: short command APDUs.
- :func:`exchange`: 61xx (GET RESPONSE chaining) and 6Cxx (wrong Le) handled once, and the one
  rule this register lives by enforced before anything is sent: a VERIFY carrying data (a PIN
  attempt, which spends a try when wrong) is refused with :class:`PinTryRefusedError`.
- Status words become typed results and errors: :func:`pin_state_from_sw` turns the answer to an
  empty VERIFY into a :class:`PinState` (tries left, blocked); :func:`expect_ok` turns any other
  non-9000 answer into :class:`~inventory.register.errors.CardStatusError` naming the status word.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from inventory.register.errors import CardStatusError, PinTryRefusedError

SW_OK = 0x9000
SW_PIN_BLOCKED = 0x6983  # authentication method blocked
SW_NOT_FOUND = 0x6A82  # file or application not found
SW_REFERENCE_NOT_FOUND = 0x6A88  # referenced data (e.g. a PIN) not found

INS_VERIFY = 0x20
INS_GET_RESPONSE = 0xC0

_SW_TEXT = {
    SW_OK: "success",
    SW_PIN_BLOCKED: "authentication method blocked",
    SW_NOT_FOUND: "file or application not found",
    SW_REFERENCE_NOT_FOUND: "referenced data not found",
    0x6982: "security status not satisfied",
    0x6985: "conditions of use not satisfied",
    0x6A80: "incorrect data",
    0x6A86: "incorrect P1/P2",
    0x6D00: "instruction not supported",
    0x6E00: "class not supported",
}


def sw_text(sw: int) -> str:
    """``6A82 (file or application not found)``: a status word as a person reads it."""
    if sw & 0xFFF0 == 0x63C0:
        return f"{sw:04X} ({sw & 0x0F} tries left)"
    meaning = _SW_TEXT.get(sw)
    return f"{sw:04X} ({meaning})" if meaning else f"{sw:04X}"


class Connection(Protocol):
    """A card as a card edge sees it (``pcsc.CardConnection`` live, an emulated card in tests)."""

    def send_and_receive(self, apdu: bytes) -> tuple[bytes, int]: ...


def build_apdu(
    cla: int, ins: int, p1: int, p2: int, data: bytes = b"", le: int | None = None
) -> bytes:
    """Short APDU; ``le=0`` asks for up to 256 bytes, ``None`` expects no data."""
    out = bytes([cla, ins, p1, p2])
    if data:
        if len(data) > 255:
            raise ValueError("short APDUs carry at most 255 data bytes")
        out += bytes([len(data)]) + data
    if le is not None:
        out += bytes([le & 0xFF])
    return out


def with_le(apdu: bytes, le: int) -> bytes:
    """Same short APDU with its Le replaced (or added)."""
    if len(apdu) == 4:
        return apdu + bytes([le])
    if len(apdu) == 5:
        return apdu[:4] + bytes([le])
    lc = apdu[4]
    return apdu[: 5 + lc] + bytes([le])


def carries_pin(apdu: bytes) -> bool:
    """A VERIFY with a data field: a PIN attempt. (``00 20 00 80`` alone is a status query.)"""
    return len(apdu) > 5 and apdu[1] == INS_VERIFY and apdu[4] > 0


def exchange(transmit: Callable[[bytes], tuple[bytes, int]], apdu: bytes) -> tuple[bytes, int]:
    """Send a short APDU through one raw ``transmit``: resend with the right Le on 6Cxx, collect
    61xx GET RESPONSE chains. Refuses a PIN attempt before anything reaches the card."""
    if carries_pin(apdu):
        raise PinTryRefusedError(
            f"refused to send VERIFY with data ({apdu[:4].hex(' ')} …): a wrong PIN spends a "
            "try; tokenfleet only reads the PIN state with an empty VERIFY")
    data, sw = transmit(apdu)
    if sw >> 8 == 0x6C and len(apdu) >= 4:  # wrong Le: the card tells the right one
        data, sw = transmit(with_le(apdu, sw & 0xFF))
    out = bytearray(data)
    rounds = 0
    while sw >> 8 == 0x61 and rounds < 256:
        rounds += 1
        data, sw = transmit(bytes([apdu[0] & 0x03, INS_GET_RESPONSE, 0x00, 0x00, sw & 0xFF]))
        out += data
    return bytes(out), sw


def expect_ok(answer: tuple[bytes, int], what: str) -> bytes:
    """The data of a 9000 answer; any other status word is a :class:`CardStatusError`."""
    data, sw = answer
    if sw != SW_OK:
        raise CardStatusError(what, sw, sw_text(sw))
    return data


# --------------------------------------------------------------------------- PIN state
@dataclass(frozen=True)
class PinState:
    """What an empty VERIFY says: tries left (None when the card does not count) and blocked."""

    tries_left: int | None
    blocked: bool


UNKNOWN_PIN = PinState(None, False)
"""A card edge that does not say (no PIN application, or an answer we do not read)."""


def pin_state_from_sw(sw: int) -> PinState:
    """Answer to VERIFY-without-data: 63Cx = x tries, 6983 = blocked, 9000 = already verified."""
    if sw & 0xFFF0 == 0x63C0:
        tries = sw & 0x0F
        return PinState(tries, tries == 0)
    if sw == SW_PIN_BLOCKED:
        return PinState(0, True)
    return UNKNOWN_PIN


def query_pin(conn: Connection, reference: int, cla: int = 0x00) -> PinState:
    """VERIFY with no command data (case 1 APDU): a status query, never an attempt."""
    _, sw = conn.send_and_receive(build_apdu(cla, INS_VERIFY, 0x00, reference))
    return pin_state_from_sw(sw)


__all__ = [
    "SW_NOT_FOUND",
    "SW_OK",
    "SW_PIN_BLOCKED",
    "UNKNOWN_PIN",
    "Connection",
    "PinState",
    "build_apdu",
    "carries_pin",
    "exchange",
    "expect_ok",
    "pin_state_from_sw",
    "query_pin",
    "sw_text",
    "with_le",
]
