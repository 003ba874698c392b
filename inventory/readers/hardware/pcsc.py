"""PC/SC adapter: the only module that talks to pyscard's ``smartcard.scard``.

It moves bytes and nothing else: APDUs, status words and their chaining are the protocol
layer's (:mod:`inventory.readers.hardware.apdu`, free of pyscard). One :class:`PcscClient` owns
one PC/SC context and rebuilds it when pcscd went away (restart, crash, not yet started). Every
pyscard return code is mapped here, in :func:`_check`, to the project's errors: the rest of the
hardware package never sees a PC/SC code.

    SCARD_E_NO_SERVICE, SERVICE_STOPPED, INVALID_HANDLE …  → PcscUnavailableError (context dropped)
    SCARD_W_REMOVED_CARD, NO_SMARTCARD, RESET/UNPOWERED    → CardRemovedError(reader)
    anything else on a reader                              → ReaderError(reader)
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass

from smartcard import scard

from inventory.readers.hardware.apdu import exchange
from inventory.register.errors import CardRemovedError, PcscUnavailableError, ReaderError

log = logging.getLogger(__name__)

PNP_NOTIFICATION = "\\\\?PnP?\\Notification"
# SCardGetStatusChange accepts at most 16 entries; one is the PnP pseudo-reader
MAX_WATCHED_READERS = 15

_UNAVAILABLE = {
    scard.SCARD_E_NO_SERVICE,
    scard.SCARD_E_SERVICE_STOPPED,
    scard.SCARD_E_INVALID_HANDLE,
    getattr(scard, "SCARD_F_COMM_ERROR", 0x80100013),
    getattr(scard, "SCARD_E_COMM_DATA_LOST", 0x8010002F),
}
_CARD_GONE = {
    scard.SCARD_W_REMOVED_CARD,
    scard.SCARD_E_NO_SMARTCARD,
    scard.SCARD_W_RESET_CARD,
    scard.SCARD_W_UNPOWERED_CARD,
}


def _message(rc: int) -> str:
    try:
        return str(scard.SCardGetErrorMessage(rc))
    except Exception:  # pragma: no cover - pyscard always has a message
        return f"PC/SC error {rc & 0xFFFFFFFF:#010x}"


@dataclass(frozen=True)
class ReaderStatus:
    """One reader as SCardGetStatusChange reported it."""

    name: str
    present: bool
    atr: bytes
    event_state: int
    gone: bool = False  # the reader was unplugged (UNKNOWN/UNAVAILABLE): relist

    @property
    def event_count(self) -> int:
        """pcsc-lite counts card events in the high 16 bits: a new count is a new insertion."""
        return (self.event_state >> 16) & 0xFFFF


class PcscClient:
    """One PC/SC context that survives pcscd restarts.

    "PC/SC not available" is logged once per outage (warning), and its end once (info), so a
    poller that retries every second does not flood the log.
    """

    def __init__(self) -> None:
        self._ctx: int | None = None
        self._outage = False

    # ------------------------------------------------------------------ context
    def _context(self) -> int:
        if self._ctx is None:
            rc, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
            if rc != scard.SCARD_S_SUCCESS:
                self._unavailable(_message(rc))
            self._ctx = ctx
            if self._outage:
                self._outage = False
                log.info("PC/SC service is available again")
        return self._ctx

    def _unavailable(self, why: str) -> None:
        self.invalidate()
        if not self._outage:
            self._outage = True
            log.warning("PC/SC not available (%s); will keep retrying quietly", why)
        raise PcscUnavailableError(f"PC/SC not available: {why}")

    @property
    def available(self) -> bool:
        return not self._outage

    def invalidate(self) -> None:
        """Drop the context (pcscd restarted): the next call establishes a new one."""
        if self._ctx is not None:
            with contextlib.suppress(Exception):
                scard.SCardReleaseContext(self._ctx)
            self._ctx = None

    close = invalidate

    def _check(self, rc: int, reader: str | None = None) -> None:
        if rc == scard.SCARD_S_SUCCESS:
            return
        if rc in _UNAVAILABLE:
            self._unavailable(_message(rc))
        name = reader or "?"
        if rc in _CARD_GONE:
            raise CardRemovedError(name, _message(rc))
        raise ReaderError(name, _message(rc))

    # ------------------------------------------------------------------ readers
    def list_readers(self) -> list[str]:
        ctx = self._context()
        rc, names = scard.SCardListReaders(ctx, [])
        if rc == scard.SCARD_E_NO_READERS_AVAILABLE:
            return []
        self._check(rc)
        return list(names)

    def get_status_change(
        self, states: list[tuple[str, int]], timeout: float
    ) -> list[ReaderStatus] | None:
        """Block in pcscd (GIL released) up to ``timeout`` s; None on timeout (nothing changed).

        ``states`` are (reader, last event_state) pairs; pass 0 to learn the current state now.
        """
        ctx = self._context()
        rc, out = scard.SCardGetStatusChange(ctx, int(timeout * 1000), list(states))
        if rc == scard.SCARD_E_TIMEOUT:
            return None
        if rc == scard.SCARD_E_UNKNOWN_READER:
            # a reader vanished between listing and waiting: the caller relists
            raise ReaderError("?", _message(rc))
        self._check(rc)
        return [
            ReaderStatus(
                name=name,
                present=bool(state & scard.SCARD_STATE_PRESENT),
                atr=bytes(atr),
                event_state=state & ~scard.SCARD_STATE_CHANGED,
                gone=bool(state & (scard.SCARD_STATE_UNKNOWN | scard.SCARD_STATE_UNAVAILABLE)),
            )
            for name, state, atr in out
        ]

    def status_now(self, readers: list[str]) -> list[ReaderStatus]:
        """Current state of ``readers`` without waiting."""
        if not readers:
            return []
        out = self.get_status_change([(r, scard.SCARD_STATE_UNAWARE) for r in readers], 0)
        return out or []

    # ------------------------------------------------------------------ cards
    def connect(self, reader: str) -> CardConnection:
        ctx = self._context()
        rc, hcard, protocol = scard.SCardConnect(
            ctx, reader, scard.SCARD_SHARE_SHARED, scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1
        )
        self._check(rc, reader)
        conn = CardConnection(self, reader, hcard, protocol)
        try:
            rc, _name, _state, _proto, atr = scard.SCardStatus(hcard)
            self._check(rc, reader)
            conn.atr = bytes(atr)
        except BaseException:
            conn.close()
            raise
        return conn


class CardConnection:
    """A connected card: the live :class:`~inventory.readers.hardware.apdu.Connection`."""

    def __init__(self, client: PcscClient, reader: str, hcard: int, protocol: int) -> None:
        self.client, self.reader = client, reader
        self._hcard: int | None = hcard
        t1 = protocol == scard.SCARD_PROTOCOL_T1
        self._pci = scard.SCARD_PCI_T1 if t1 else scard.SCARD_PCI_T0
        self.atr = b""

    def transmit(self, apdu: bytes) -> tuple[bytes, int]:
        """One exchange, no chaining."""
        if self._hcard is None:
            raise ReaderError(self.reader, "connection closed")
        rc, resp = scard.SCardTransmit(self._hcard, self._pci, list(apdu))
        self.client._check(rc, self.reader)
        if len(resp) < 2:
            raise ReaderError(self.reader, "card answered without a status word")
        return bytes(resp[:-2]), (resp[-2] << 8) | resp[-1]

    def send_and_receive(self, apdu: bytes) -> tuple[bytes, int]:
        """The protocol (:func:`~inventory.readers.hardware.apdu.exchange`: chaining, and no PIN
        attempt ever) over this card's raw ``transmit``."""
        return exchange(self.transmit, apdu)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Hold the card for a multi-command read so another application cannot interleave."""
        if self._hcard is None:
            raise ReaderError(self.reader, "connection closed")
        rc = scard.SCardBeginTransaction(self._hcard)
        self.client._check(rc, self.reader)
        try:
            yield
        finally:
            if self._hcard is not None:
                with contextlib.suppress(Exception):
                    scard.SCardEndTransaction(self._hcard, scard.SCARD_LEAVE_CARD)

    def close(self) -> None:
        if self._hcard is not None:
            with contextlib.suppress(Exception):
                scard.SCardDisconnect(self._hcard, scard.SCARD_LEAVE_CARD)
            self._hcard = None

    def __enter__(self) -> CardConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
