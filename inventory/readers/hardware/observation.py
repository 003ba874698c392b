"""What a poll saw, as plain frozen dataclasses (never ORM rows).

The sync step (``inventory.readers.sync``) turns these into lifecycle moves; tests can build them
by hand.

Serial rule (one device, one string, whichever path read it): see :func:`normalise_serial`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from cryptography import x509
from cryptography.x509.oid import NameOID

Source = Literal["pcsc", "pkcs11"]
DeviceKind = Literal["usb_token", "pki_sim"]


@dataclass(frozen=True)
class CertificateInfo:
    """One X.509 certificate found on a device (read without logging in)."""

    serial: str  # hex, upper-case: f"{n:X}"
    subject: str  # RFC 4514
    issuer: str
    subject_cn: str | None
    not_before: datetime  # tz-aware UTC
    not_after: datetime  # tz-aware UTC
    fingerprint_sha256: str  # lower-case hex
    der: bytes = field(repr=False)
    slot: str | None = None  # where on the device: PIV "9A" …, or the PKCS#11 CKA_ID in hex

    @classmethod
    def from_der(cls, der: bytes, slot: str | None = None) -> CertificateInfo:
        """Parse DER; raises ``ValueError`` on bytes that are not a certificate."""
        cert = x509.load_der_x509_certificate(der)
        cns = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        cn = cns[0].value if cns else None
        return cls(
            serial=f"{cert.serial_number:X}",
            subject=cert.subject.rfc4514_string(),
            issuer=cert.issuer.rfc4514_string(),
            subject_cn=cn if isinstance(cn, str) else None,
            not_before=cert.not_valid_before_utc,
            not_after=cert.not_valid_after_utc,
            fingerprint_sha256=hashlib.sha256(der).hexdigest(),
            der=der,
            slot=slot,
        )

    def expired(self, at: datetime | None = None) -> bool:
        return self.not_after <= (at or datetime.now(UTC))


@dataclass(frozen=True)
class Observation:
    """One device as one poll saw it."""

    source: Source
    reader: str  # PC/SC reader name, or "pkcs11:<module path>#slot <id>"
    kind: DeviceKind
    serial: str | None  # normalise_serial(); None when the card could not be identified
    seen_at: datetime  # tz-aware UTC
    atr: str | None = None  # hex, upper-case, no spaces
    label: str | None = None
    manufacturer: str | None = None
    model: str | None = None
    pin_tries_left: int | None = None
    pin_blocked: bool = False
    pin_final_try: bool = False
    pin_count_low: bool = False
    so_pin_locked: bool = False
    token_flags: int | None = None
    certificates: tuple[CertificateInfo, ...] = ()
    profile: str | None = None  # "piv", "pki_sim", "unknown"; "pkcs11" for module reads
    module: str | None = None  # PKCS#11 module path (pkcs11 source only)

    @property
    def fingerprints(self) -> tuple[str, ...]:
        return tuple(c.fingerprint_sha256 for c in self.certificates)


@dataclass(frozen=True)
class ReaderState:
    """A PC/SC reader for the readers panel: name, whether a card is in, its ATR."""

    name: str
    card_present: bool
    atr: str | None = None
    profile: str | None = None  # set once the card was read
    serial: str | None = None
    error: str | None = None  # why the last read failed (e.g. mute card), for display


@dataclass(frozen=True)
class ScanResult:
    """One pass over every source."""

    observations: tuple[Observation, ...]
    readers: tuple[ReaderState, ...]
    warnings: tuple[str, ...] = ()
    started_at: datetime | None = None
    finished_at: datetime | None = None


def normalise_serial(raw: str | bytes | None) -> str | None:
    """The one serial rule, so PC/SC (PIV CHUID) and OpenSC's PKCS#11 view give one string.

    - surrounding blanks and NUL padding are dropped (PKCS#11 pads ``serialNumber`` with spaces);
    - a serial made only of hex digits is lower-cased (OpenSC prints the PIV GUID as lower-case
      hex; numeric serials are unchanged by this);
    - anything else (e.g. ``VT-0001``) is kept as written.
    The PIV side (:func:`piv_serial_from_guid`) applies OpenSC's truncation to 16 hex digits.
    """
    if raw is None:
        return None
    text = raw.decode("ascii", "replace") if isinstance(raw, bytes) else raw
    text = text.strip().strip("\x00").strip()
    if not text:
        return None
    if all(c in "0123456789abcdefABCDEF" for c in text):
        return text.lower()
    return text


def piv_serial_from_guid(guid: bytes) -> str | None:
    """PIV serial as OpenSC's PKCS#11 shows it: GUID in lower-case hex, last 16 digits.

    OpenSC uses the CHUID GUID as the card serial (when the FASC-N agency code is 9999) and
    ``framework-pkcs15`` keeps the last 16 characters for the 16-byte token serial field.
    """
    if not guid or not any(guid):
        return None
    return normalise_serial(guid.hex()[-16:])


def iccid_from_ef(content: bytes) -> str | None:
    """EF.ICCID (2FE2) is BCD with swapped nibbles, padded with F: 98 48 … → "8984…"."""
    digits = []
    for b in content:
        for nibble in (b & 0x0F, b >> 4):
            if nibble == 0x0F:
                break
            if nibble > 9:
                return None
            digits.append(str(nibble))
        else:
            continue
        break
    return "".join(digits) or None


def format_atr(atr: bytes | list[int] | None) -> str | None:
    return bytes(atr).hex().upper() if atr else None


def utcnow() -> datetime:
    return datetime.now(UTC)
