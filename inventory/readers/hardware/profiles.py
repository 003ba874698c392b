"""Card edges: small classes that know how to read one kind of card, picked by ATR and answers.

A profile's :meth:`CardProfile.read` returns ``None`` (or lets a
:class:`~inventory.register.errors.CardStatusError` out) when the card does not speak its edge —
the next profile is tried — and a :class:`CardRead` when it does. Profiles speak through the
protocol layer (:mod:`inventory.readers.hardware.apdu`), never pyscard. No profile ever logs in:
PIN state is read with VERIFY *without data*, the ISO 7816-4 status query that never spends a try
(and the protocol layer refuses any VERIFY that carries a PIN).

Add a card edge: subclass :class:`CardProfile`, append it to :data:`PROFILES`, and give its ATRs
a ``profile_hint`` in :mod:`inventory.readers.hardware.atr`.
"""

from __future__ import annotations

import gzip
import logging
import zlib
from dataclasses import dataclass
from typing import ClassVar

from inventory.readers.hardware.apdu import (
    SW_OK,
    UNKNOWN_PIN,
    Connection,
    PinState,
    build_apdu,
    expect_ok,
    query_pin,
)
from inventory.readers.hardware.atr import PIV_AID, lookup_atr
from inventory.readers.hardware.observation import (
    CertificateInfo,
    DeviceKind,
    iccid_from_ef,
    normalise_serial,
    piv_serial_from_guid,
)
from inventory.readers.hardware.tlv import TlvError, parse_tlv
from inventory.register.errors import CardStatusError

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class CardRead:
    """What a profile learnt from a card; the poller wraps it into an Observation."""

    profile: str
    kind: DeviceKind
    serial: str | None
    certificates: tuple[CertificateInfo, ...] = ()
    pin: PinState = UNKNOWN_PIN
    label: str | None = None


class CardProfile:
    name: ClassVar[str] = "unknown"
    kind: ClassVar[DeviceKind] = "usb_token"

    def read(self, conn: Connection) -> CardRead | None:
        raise NotImplementedError


# ---------------------------------------------------------------------------------------- PIV
# NIST SP 800-73-4: key reference → data object of its X.509 certificate container
PIV_CONTAINERS: tuple[tuple[str, int], ...] = (
    ("9A", 0x5FC105),  # PIV authentication
    ("9C", 0x5FC10A),  # digital signature
    ("9D", 0x5FC10B),  # key management
    ("9E", 0x5FC101),  # card authentication
)
PIV_CHUID = 0x5FC102
PIV_PIN_REFERENCE = 0x80
# FASC-N whose agency code is 9999 (BCD with parity): OpenSC then takes the GUID as serial
_FASCN_9999 = bytes.fromhex("D4E739")


def piv_get_data(conn: Connection, tag: int) -> bytes | None:
    """GET DATA 00 CB 3F FF {5C 03 tag}: the object's value inside its 53 wrapper, or None."""
    data, sw = conn.send_and_receive(
        build_apdu(0x00, 0xCB, 0x3F, 0xFF, b"\x5C\x03" + tag.to_bytes(3, "big"), le=0)
    )
    if sw != SW_OK or not data:
        return None
    try:
        return parse_tlv(data).get(0x53)
    except TlvError:
        return None


def piv_serial_from_chuid(chuid: bytes) -> str | None:
    """The serial OpenSC derives from a CHUID (``piv_get_serial_nr_from_CHUI``), normalised.

    GUID when it is non-zero and the FASC-N agency code is 9999 (or there is no FASC-N), else the
    FASC-N; hex, lower-case, last 16 digits (see :func:`piv_serial_from_guid`).
    """
    try:
        objs = parse_tlv(chuid)
    except TlvError:
        return None
    fascn, guid = objs.get(0x30), objs.get(0x34)
    guid_usable = bool(guid) and any(guid or b"")
    if fascn and len(fascn) == 25:
        is_9999 = fascn[:3] == _FASCN_9999 and (fascn[3] | 0x7F) == 0xFF
        if not (guid_usable and is_9999):
            return piv_serial_from_guid(fascn)
    return piv_serial_from_guid(guid) if guid and guid_usable else None


def piv_certificate(container: bytes, slot: str) -> CertificateInfo | None:
    """53-content {70 cert, 71 certinfo, FE}: CertInfo bit 0 means the cert is gzip'ed."""
    try:
        objs = parse_tlv(container)
    except TlvError:
        return None
    der = objs.get(0x70)
    if not der:
        return None
    info = objs.get(0x71, b"\x00")
    if info and info[0] & 0x01:
        try:
            der = gzip.decompress(der)
        except (OSError, EOFError, zlib.error):
            return None
    try:
        return CertificateInfo.from_der(der, slot=slot)
    except ValueError:
        log.info("PIV container %s holds bytes that are not a certificate", slot)
        return None


def piv_select(conn: Connection) -> bool:
    _, sw = conn.send_and_receive(build_apdu(0x00, 0xA4, 0x04, 0x00, PIV_AID, le=0))
    return sw == SW_OK


def piv_certificates(conn: Connection) -> tuple[CertificateInfo, ...]:
    certs = []
    for slot, tag in PIV_CONTAINERS:
        container = piv_get_data(conn, tag)
        if container:
            cert = piv_certificate(container, slot)
            if cert is not None:
                certs.append(cert)
    return tuple(certs)


class PivProfile(CardProfile):
    """PIV card application (NIST SP 800-73-4): what most PKI tokens' card edge speaks."""

    name = "piv"
    kind = "usb_token"

    def read(self, conn: Connection) -> CardRead | None:
        if not piv_select(conn):
            return None
        chuid = piv_get_data(conn, PIV_CHUID)
        serial = piv_serial_from_chuid(chuid) if chuid else None
        certs = piv_certificates(conn)
        pin = query_pin(conn, PIV_PIN_REFERENCE)
        return CardRead(self.name, self.kind, serial, certs, pin)


# ----------------------------------------------------------------------------------- PKI SIM
EF_ICCID = 0x2FE2
SIM_PIN1 = 0x01


class PkiSimProfile(CardProfile):
    """A PKI SIM: identified by its ICCID (EF 2FE2 under the MF, ETSI TS 102 221).

    PIN state is PIN1's retry counter (VERIFY 00 20 00 01 without data); certificates are read
    when the SIM also carries a PIV-compatible PKI applet.
    """

    name = "pki_sim"
    kind = "pki_sim"

    def read(self, conn: Connection) -> CardRead | None:
        ef = EF_ICCID.to_bytes(2, "big")
        try:
            expect_ok(conn.send_and_receive(build_apdu(0x00, 0xA4, 0x00, 0x0C, b"\x3F\x00")),
                      "SELECT MF")
            expect_ok(conn.send_and_receive(build_apdu(0x00, 0xA4, 0x00, 0x0C, ef)),
                      "SELECT EF.ICCID")
            content = expect_ok(conn.send_and_receive(build_apdu(0x00, 0xB0, 0x00, 0x00, le=10)),
                                "READ BINARY EF.ICCID")
        except CardStatusError:  # no ICCID file: not a SIM
            return None
        iccid = iccid_from_ef(content)
        if iccid is None:
            return None
        pin = query_pin(conn, SIM_PIN1)
        certs = piv_certificates(conn) if piv_select(conn) else ()
        return CardRead(self.name, self.kind, normalise_serial(iccid), certs, pin)


PROFILES: tuple[CardProfile, ...] = (PivProfile(), PkiSimProfile())


def profiles_for(atr: bytes) -> list[CardProfile]:
    """All profiles, the one the ATR table hints at first."""
    entry = lookup_atr(atr)
    hint = entry.profile_hint if entry else None
    return sorted(PROFILES, key=lambda p: p.name != hint)


def read_card(conn: Connection, atr: bytes) -> CardRead:
    """Try each profile; a card no profile understands is reported as ``unknown``."""
    for profile in profiles_for(atr):
        try:
            result = profile.read(conn)
        except CardStatusError as err:  # the card does not speak this edge after all
            log.info("profile %s: %s", profile.name, err)
            continue
        if result is not None:
            return result
    return CardRead("unknown", "usb_token", None)
