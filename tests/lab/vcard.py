"""Emulated smart cards for the reader lab, speaking vpcd's protocol over a plain socket.

vpcd (the virtual reader driver loaded by pcscd) listens on 127.0.0.1:35963+i for reader i; a
connected client *is* a card in that reader, closing the connection pulls it. Messages both ways:
2-byte big-endian length + payload. A 1-byte payload from vpcd is a control code (00 power off,
01 power on, 02 reset, 04 "send your ATR"); anything longer is a command APDU whose answer (data +
SW) goes back the same way.

Cards run as threads of the test process: ``InsertedCard(card, reader_index).start()`` inserts,
``.stop()`` pulls. Their state (PIN counter) can be changed at any time, and every command they
received is in ``card.commands`` (tests assert that no VERIFY ever carried data).
"""

from __future__ import annotations

import contextlib
import gzip
import socket
import struct
import threading
import time
from typing import Any, ClassVar

PIV_AID = bytes.fromhex("A000000308000010000100")
BASE_PORT = 35963
# FASC-N with agency code 9999 (as YubiKey's default CHUID): OpenSC then uses the GUID as serial
FASCN_9999 = bytes.fromhex("D4E739DA739CED39CE739D836858210842108421C84210C3EB")

SW_OK = b"\x90\x00"
SW_NOT_FOUND = b"\x6a\x82"
SW_BLOCKED = b"\x69\x83"
SW_INS = b"\x6d\x00"
SW_WRONG_LEN = b"\x67\x00"
SW_WRONG_P1P2 = b"\x6b\x00"
SW_NO_EF = b"\x69\x86"


def tlv(tag: int, value: bytes) -> bytes:
    n = len(value)
    length = bytes([n]) if n < 0x80 else (
        bytes([0x81, n]) if n < 0x100 else bytes([0x82]) + n.to_bytes(2, "big"))
    return tag.to_bytes((tag.bit_length() + 7) // 8 or 1, "big") + length + value


def make_atr(t0_td: bytes, hist: bytes) -> bytes:
    """3B, T0 (K = len(hist)), the TDi bytes, historical bytes, TCK (XOR from T0)."""
    body = bytes([(t0_td[0] & 0xF0) | len(hist)]) + t0_td[1:] + hist
    tck = 0
    for b in body:
        tck ^= b
    return b"\x3b" + body + bytes([tck])


def iccid_to_ef(iccid: str) -> bytes:
    """ICCID digits → EF.ICCID bytes: BCD, nibbles swapped, F-padded to 10 bytes."""
    d = iccid + "F" * (20 - len(iccid))
    return bytes(int(d[i + 1] + d[i], 16) for i in range(0, 20, 2))


def guid_for_serial(serial: str) -> bytes:
    """A GUID whose hex ends with ``serial`` (hex digits, ≤ 16): OpenSC then shows that serial."""
    return bytes.fromhex(serial.rjust(32, "0"))


class EmulatedCard:
    """Shared machinery: APDU parsing, Le and 61xx chaining, PIN counter, command log."""

    atr = b""

    def __init__(self, pin: bytes = b"123456", tries_left: int = 3, max_tries: int = 3) -> None:
        self.pin, self.tries, self.max_tries = pin, tries_left, max_tries
        self.commands: list[bytes] = []
        self._pending = b""  # answer bytes waiting for GET RESPONSE
        self.pull_after: int | None = None  # simulate a pull mid-read after this many commands
        self.lock = threading.Lock()

    # ------------------------------------------------------------------ inspection
    def verify_commands(self) -> list[bytes]:
        return [c for c in self.commands if len(c) >= 4 and c[1] == 0x20]

    def verify_commands_with_data(self) -> list[bytes]:
        """VERIFY APDUs that carried a PIN (length > 5: Lc + data): must stay empty."""
        return [c for c in self.verify_commands() if len(c) > 5]

    # ------------------------------------------------------------------ transport hooks
    def power_up(self) -> None:
        self._pending = b""
        self.reset_state()

    def reset_state(self) -> None:
        pass

    def process(self, apdu: bytes) -> bytes:
        with self.lock:
            self.commands.append(bytes(apdu))
            return self.execute(apdu)

    # ------------------------------------------------------------------ APDU level
    def execute(self, apdu: bytes) -> bytes:
        if len(apdu) < 4:
            return SW_WRONG_LEN
        ins, p1, p2, body = apdu[1], apdu[2], apdu[3], apdu[4:]
        data, le = b"", None
        if len(body) == 1:
            le = body[0] or 256
        elif len(body) > 1:
            lc = body[0]
            data = body[1 : 1 + lc]
            if len(body) > 1 + lc:
                le = body[1 + lc] or 256
        if ins == 0xC0:  # GET RESPONSE
            return self._chunk(self._pending, le or 256)
        self._pending = b""
        if ins == 0x20:
            return self.verify(p2, data)
        return self.command(ins, p1, p2, data, le)

    def respond(self, payload: bytes, le: int | None) -> bytes:
        """Answer with at most Le bytes; announce the rest with 61xx (GET RESPONSE)."""
        return self._chunk(payload, le or 256)

    def _chunk(self, payload: bytes, le: int) -> bytes:
        head, rest = payload[:le], payload[le:]
        self._pending = rest
        if rest:
            return head + bytes([0x61, len(rest) if len(rest) < 256 else 0])
        return head + SW_OK

    def verify(self, reference: int, data: bytes) -> bytes:
        if reference not in self.pin_references:
            return b"\x6a\x88"
        if self.tries <= 0:
            return SW_BLOCKED
        if not data:  # status query: never decrements
            return bytes([0x63, 0xC0 | self.tries])
        if data.rstrip(b"\xff") == self.pin:
            self.tries = self.max_tries
            return SW_OK
        self.tries -= 1
        return bytes([0x63, 0xC0 | self.tries])

    pin_references: tuple[int, ...] = ()

    def command(self, ins: int, p1: int, p2: int, data: bytes, le: int | None) -> bytes:
        return SW_INS


class PivCard(EmulatedCard):
    """A PIV token (NIST SP 800-73-4 subset) that OpenSC's PIV driver recognises.

    ``serial``: hex digits (≤ 16) put at the end of the CHUID GUID; ``certificates``: key
    reference ("9A", "9C", "9D", "9E") → DER.
    """

    atr = make_atr(b"\x80\x01", bytes.fromhex("80F9A00000030800001000"))
    pin_references: tuple[int, ...] = (0x80,)
    CONTAINERS: ClassVar[dict[str, int]] = {
        "9A": 0x5FC105, "9C": 0x5FC10A, "9D": 0x5FC10B, "9E": 0x5FC101,
    }

    def __init__(self, serial: str, certificates: dict[str, bytes] | None = None, *,
                 compress: bool = False, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.serial = serial
        self.certificates = dict(certificates or {})
        self.compress = compress
        self.selected = False

    def reset_state(self) -> None:
        self.selected = False

    def objects(self) -> dict[int, bytes]:
        objs = {0x5FC102: tlv(0x30, FASCN_9999) + tlv(0x34, guid_for_serial(self.serial))
                + tlv(0x35, b"20991231") + tlv(0x3E, b"") + tlv(0xFE, b"")}
        for ref, der in self.certificates.items():
            info = b"\x01" if self.compress else b"\x00"
            body = gzip.compress(der) if self.compress else der
            objs[self.CONTAINERS[ref]] = tlv(0x70, body) + tlv(0x71, info) + tlv(0xFE, b"")
        return objs

    def command(self, ins: int, p1: int, p2: int, data: bytes, le: int | None) -> bytes:
        if ins == 0xA4 and p1 == 0x04:
            if not data or not PIV_AID.startswith(data[: len(PIV_AID)]) or len(data) < 5:
                return SW_NOT_FOUND
            self.selected = True
            apt = tlv(0x61, tlv(0x4F, PIV_AID[5:]) + tlv(0x79, tlv(0x4F, PIV_AID[:5])))
            return self.respond(apt, le)
        if ins == 0xCB and (p1, p2) == (0x3F, 0xFF):
            if not self.selected:
                return SW_NOT_FOUND
            if len(data) < 3 or data[0] != 0x5C:
                return b"\x6a\x80"
            tag = int.from_bytes(data[2 : 2 + data[1]], "big")
            obj = self.objects().get(tag)
            if obj is None:
                return SW_NOT_FOUND
            return self.respond(tlv(0x53, obj), le)
        return self.file_command(ins, p1, p2, data, le)

    def file_command(self, ins: int, p1: int, p2: int, data: bytes, le: int | None) -> bytes:
        return SW_INS


class PkiSimCard(PivCard):
    """A PKI SIM: EF.ICCID (2FE2) under the MF, PIN1 (reference 01) status; certificates, when
    given, through a PIV-compatible PKI applet sharing the same PIN counter."""

    atr = make_atr(b"\x80\x80\x01", bytes.fromhex("8056") + b"VNPKIS")
    pin_references = (0x01, 0x80)

    def __init__(self, iccid: str, certificates: dict[str, bytes] | None = None,
                 **kw: Any) -> None:
        super().__init__(serial="0", certificates=certificates, **kw)
        self.iccid = iccid
        self.files = {0x2FE2: iccid_to_ef(iccid)}
        self.current: int | None = None

    def objects(self) -> dict[int, bytes]:
        objs = super().objects()
        del objs[0x5FC102]  # no CHUID: the SIM is known by its ICCID
        return objs

    def command(self, ins: int, p1: int, p2: int, data: bytes, le: int | None) -> bytes:
        if ins == 0xA4 and p1 == 0x04 and not self.certificates:
            return SW_NOT_FOUND
        return super().command(ins, p1, p2, data, le)

    def file_command(self, ins: int, p1: int, p2: int, data: bytes, le: int | None) -> bytes:
        if ins == 0xA4 and p1 in (0x00, 0x08):
            if len(data) != 2:
                return SW_WRONG_LEN
            fid = int.from_bytes(data, "big")
            if fid == 0x3F00:
                self.current = None
                self.selected = False
                return SW_OK
            if fid not in self.files:
                return SW_NOT_FOUND
            self.current = fid
            if p2 & 0x0C == 0x0C:
                return SW_OK
            fcp = tlv(0x80, len(self.files[fid]).to_bytes(2, "big")) + tlv(0x83, data)
            return self.respond(tlv(0x62, fcp), le)
        if ins == 0xB0:
            if self.current is None:
                return SW_NO_EF
            off = (p1 << 8) | p2
            content = self.files[self.current]
            if off > len(content):
                return SW_WRONG_P1P2
            return content[off : off + (le or 256)] + SW_OK
        return SW_INS


class InsertedCard:
    """A card in virtual reader ``index`` for as long as the thread runs (start = insert)."""

    def __init__(self, card: EmulatedCard, index: int, host: str = "127.0.0.1",
                 base_port: int = BASE_PORT) -> None:
        self.card, self.index, self.port, self.host = card, index, base_port + index, host
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None

    def start(self, wait: float = 10.0) -> InsertedCard:
        """Connect to vpcd (retrying until pcscd has opened the port) and serve in a thread."""
        deadline = time.monotonic() + wait
        while True:
            try:
                sock = socket.create_connection((self.host, self.port), timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        sock.settimeout(None)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock = sock
        self._thread = threading.Thread(target=self._run, name=f"vcard:{self.port}", daemon=True)
        self._thread.start()
        return self

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self) -> None:
        """Pull the card: vpcd reports it removed at pcscd's next presence poll."""
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(5)

    def _recv(self, n: int) -> bytes:
        assert self._sock is not None
        buf = b""
        while len(buf) < n:
            # vpcd writes length and payload separately: ACK at once, no 40 ms delayed-ACK stall
            self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
            part = self._sock.recv(n - len(buf))
            if not part:
                raise EOFError
            buf += part
        return buf

    def _run(self) -> None:
        assert self._sock is not None
        try:
            while True:
                (length,) = struct.unpack("!H", self._recv(2))
                msg = self._recv(length)
                if len(msg) == 1:
                    if msg[0] == 0x04:
                        out = self.card.atr
                    else:
                        if msg[0] in (0x01, 0x02):
                            self.card.power_up()
                        continue
                else:
                    if self.card.pull_after is not None:
                        if self.card.pull_after <= 0:
                            break  # pulled in the middle of a conversation
                        self.card.pull_after -= 1
                    out = self.card.process(msg)
                self._sock.sendall(struct.pack("!H", len(out)) + out)
        except (EOFError, OSError):
            pass
        finally:
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_RDWR)
            self._sock.close()
