"""Pure logic of the hardware adapters (no reader, no pcscd): TLV, ATR, serial rules, and the
card profiles driven by the lab's emulated cards through an in-memory connection."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

import pytest

from inventory.readers.hardware.apdu import (
    build_apdu,
    exchange,
    expect_ok,
    pin_state_from_sw,
    query_pin,
    sw_text,
)
from inventory.readers.hardware.atr import historical_bytes, lookup_atr
from inventory.readers.hardware.observation import (
    CertificateInfo,
    iccid_from_ef,
    normalise_serial,
    piv_serial_from_guid,
)
from inventory.readers.hardware.profiles import (
    PivProfile,
    PkiSimProfile,
    piv_serial_from_chuid,
    read_card,
)
from inventory.readers.hardware.tlv import TlvError, encode_tlv, iter_tlv, parse_tlv
from inventory.register.errors import CardStatusError, PinTryRefusedError
from tests.lab.softhsm import TestCa
from tests.lab.vcard import FASCN_9999, EmulatedCard, PivCard, PkiSimCard, iccid_to_ef, tlv


class MemoryConnection:
    """What pcsc.CardConnection does — the protocol layer's ``exchange`` over one raw
    ``transmit`` — straight onto an emulated card."""

    def __init__(self, card: EmulatedCard) -> None:
        self.card = card
        self.sent: list[bytes] = []
        card.power_up()

    def transmit(self, apdu: bytes) -> tuple[bytes, int]:
        self.sent.append(apdu)
        resp = self.card.process(apdu)
        return resp[:-2], int.from_bytes(resp[-2:], "big")

    def send_and_receive(self, apdu: bytes) -> tuple[bytes, int]:
        return exchange(self.transmit, apdu)


@pytest.fixture(scope="module")
def ca() -> TestCa:
    return TestCa()


def test_tlv_round_trip_and_long_lengths() -> None:
    value = bytes(300)
    blob = encode_tlv(0x53, encode_tlv(0x70, value) + encode_tlv(0x71, b"\x00"))
    assert blob[:4] == b"\x53\x82\x01\x33"
    inner = parse_tlv(parse_tlv(blob)[0x53])
    assert inner[0x70] == value and inner[0x71] == b"\x00"
    assert list(iter_tlv(b"\x5f\xc1\x02\x01\xaa")) == [(0x5FC102, b"\xaa")]


def test_tlv_truncated_is_an_error() -> None:
    with pytest.raises(TlvError):
        parse_tlv(b"\x53\x05\x01\x02")


def test_atr_table_and_historical_bytes() -> None:
    assert historical_bytes(PivCard.atr) == bytes.fromhex("80F9A00000030800001000")
    assert lookup_atr(PivCard.atr).model == "emulated PIV token"  # type: ignore[union-attr]
    assert lookup_atr(PkiSimCard.atr).profile_hint == "pki_sim"  # type: ignore[union-attr]
    yk = "3BFD1300008131FE158073C021C057597562694B657940"
    assert lookup_atr(yk).manufacturer == "Yubico"  # type: ignore[union-attr]
    assert lookup_atr(bytes.fromhex("3B02AABB")) is None
    # an unknown ATR naming the PIV AID is still hinted as PIV
    generic = bytes.fromhex("3B8B0180F9A0000003080000100099")
    assert lookup_atr(generic).profile_hint == "piv"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"0000000000005601", "0000000000005601"),
        ("  ABCDEF0123456789 ", "abcdef0123456789"),
        ("VT-0001\x00\x00", "VT-0001"),
        ("   ", None),
        (None, None),
    ],
)
def test_normalise_serial(raw: str | bytes | None, expected: str | None) -> None:
    assert normalise_serial(raw) == expected


def test_piv_serial_rule_matches_opensc() -> None:
    guid = bytes.fromhex("0123456789ABCDEF00112233445566FF")
    chuid = tlv(0x30, FASCN_9999) + tlv(0x34, guid)
    assert piv_serial_from_chuid(chuid) == "00112233445566ff" == piv_serial_from_guid(guid)
    # a FASC-N of another agency: OpenSC uses the FASC-N, we do the same
    other = bytes([0xD0]) + FASCN_9999[1:]
    assert piv_serial_from_chuid(tlv(0x30, other) + tlv(0x34, guid)) == FASCN_9999.hex()[-16:]
    assert piv_serial_from_chuid(tlv(0x34, bytes(16))) is None


def test_iccid_nibble_swapped_bcd() -> None:
    assert iccid_from_ef(iccid_to_ef("8984048000123456789")) == "8984048000123456789"
    assert iccid_from_ef(bytes.fromhex("98480408001032547698")) == "89844080000123456789"
    assert iccid_from_ef(b"\xaa") is None


@pytest.mark.parametrize(
    ("sw", "tries", "blocked"),
    [(0x63C3, 3, False), (0x63C1, 1, False), (0x63C0, 0, True), (0x6983, 0, True),
     (0x9000, None, False), (0x6A88, None, False)],
)
def test_pin_state_from_status_word(sw: int, tries: int | None, blocked: bool) -> None:
    state = pin_state_from_sw(sw)
    assert (state.tries_left, state.blocked) == (tries, blocked)


def test_piv_profile_reads_serial_certs_and_tries_without_spending(ca: TestCa) -> None:
    valid, expired = ca.quick_cert(1), ca.quick_cert(2, expired=True)
    card = PivCard("8400000000000101", {"9A": valid, "9C": expired}, compress=False, tries_left=2)
    read = PivProfile().read(MemoryConnection(card))
    assert read is not None
    assert read.serial == "8400000000000101" and read.kind == "usb_token"
    assert [c.slot for c in read.certificates] == ["9A", "9C"]
    assert read.certificates[0].subject_cn == "Nguyễn Văn An"
    assert read.certificates[1].expired() and not read.certificates[0].expired()
    assert read.pin.tries_left == 2 and card.tries == 2
    assert card.verify_commands() and not card.verify_commands_with_data()


def test_piv_profile_gzip_container(ca: TestCa) -> None:
    der = ca.quick_cert(3)
    read = PivProfile().read(MemoryConnection(PivCard("1", {"9C": der}, compress=True)))
    assert read is not None and read.certificates[0].der == der
    fingerprint = CertificateInfo.from_der(der).fingerprint_sha256
    assert read.certificates[0].fingerprint_sha256 == fingerprint


def test_sim_profile_and_profile_choice() -> None:
    card = PkiSimCard("8984048000123456789", tries_left=0)
    assert PivProfile().read(MemoryConnection(card)) is None
    read = read_card(MemoryConnection(card), card.atr)
    assert (read.profile, read.kind, read.serial) == ("pki_sim", "pki_sim", "8984048000123456789")
    assert read.pin.blocked
    assert PkiSimProfile().read(MemoryConnection(PivCard("1"))) is None


def test_unknown_card() -> None:
    read = read_card(MemoryConnection(EmulatedCard()), b"\x3b\x00")
    assert (read.profile, read.serial) == ("unknown", None)


def test_certificate_info_is_utc() -> None:
    der = TestCa().quick_cert(1)
    info = CertificateInfo.from_der(der)
    assert info.not_after.tzinfo is not None and info.not_before < datetime.now(UTC)
    assert info.serial == info.serial.upper()


# --- the protocol layer (apdu.py) -------------------------------------------------------------

def test_a_pin_attempt_never_reaches_the_card() -> None:
    """VERIFY with data spends a try when the PIN is wrong: the protocol layer refuses to send
    it at all; the empty VERIFY (the status query) goes through."""
    card = PivCard("8400000000000102", tries_left=3)
    conn = MemoryConnection(card)
    assert PivProfile().read(conn) is not None
    conn.sent.clear()
    with pytest.raises(PinTryRefusedError, match="VERIFY with data"):
        conn.send_and_receive(build_apdu(0x00, 0x20, 0x00, 0x80, b"123456\xff\xff"))
    assert conn.sent == [] and card.tries == 3
    assert query_pin(conn, 0x80).tries_left == 3
    assert conn.sent == [bytes.fromhex("00200080")] and not card.verify_commands_with_data()


def test_exchange_follows_get_response_and_wrong_le() -> None:
    answers = {bytes.fromhex("00CA000000"): (b"", 0x6C04),  # wrong Le: use 04
               bytes.fromhex("00CA000004"): (b"\x01\x02", 0x6102),  # two more bytes to get
               bytes.fromhex("00C0000002"): (b"\x03\x04", 0x9000)}
    sent: list[bytes] = []

    def transmit(apdu: bytes) -> tuple[bytes, int]:
        sent.append(apdu)
        return answers[apdu]

    assert exchange(transmit, build_apdu(0x00, 0xCA, 0x00, 0x00, le=0)) == (
        b"\x01\x02\x03\x04", 0x9000)
    assert [a.hex() for a in sent] == ["00ca000000", "00ca000004", "00c0000002"]


def test_status_words_become_typed_errors() -> None:
    assert expect_ok((b"ok", 0x9000), "SELECT") == b"ok"
    with pytest.raises(CardStatusError) as err:
        expect_ok((b"", 0x6A82), "SELECT EF.ICCID")
    assert err.value.sw == 0x6A82
    assert str(err.value) == ("card answered SELECT EF.ICCID with 6A82 (file or application not "
                              "found)")
    assert sw_text(0x63C2) == "63C2 (2 tries left)" and sw_text(0x6F00) == "6F00"


def test_the_protocol_layer_and_card_edges_need_no_reader_library() -> None:
    """As yubikit keeps its protocol layer free of pyscard: apdu, profiles and the observation
    dataclasses import without loading pyscard or python-pkcs11."""
    code = ("import sys; import inventory.readers.hardware.apdu, "
            "inventory.readers.hardware.profiles, inventory.readers.station; "
            "from inventory.readers.hardware import Observation, ReaderState; "
            "loaded = sorted(m for m in sys.modules "
            "                if m.split('.')[0] in ('smartcard', 'pkcs11')); "
            "print(loaded); sys.exit(1 if loaded else 0)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
