"""Certificates read from the certificate itself: a file (PEM or DER) or the bytes a reader got.

One place for how the register writes a certificate's identity, so that the poller, ``device
renew --cert``, the CA's answer and the CA layer (CRLs, OCSP, trust anchors) all agree:

- the serial number is the integer's upper-case hex without leading zeros (``f"{n:X}"``);
- the issuer is kept DER-exact (the bytes of the certificate's issuer field) and compared by its
  canonical form (RFC 5280 §7.1: case, inner spacing and string types do not matter), kept as
  ``name_key`` — a SHA-256 over asn1crypto's normalised name.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from inventory.register.errors import ValidationError
from inventory.register.files import read_small_file

if TYPE_CHECKING:
    from cryptography import x509

# cryptography and asn1crypto are imported by the functions that parse a certificate, not with
# this module: every move imports it (through lifecycle), and the TUI's first screen waits for
# what it imports (60 ms of the start-up).

PEM_CERTIFICATE = re.compile(rb"-----BEGIN (?:X509 |TRUSTED )?CERTIFICATE-----.+?"
                             rb"-----END (?:X509 |TRUSTED )?CERTIFICATE-----", re.DOTALL)
_SERIAL_SEPARATORS = str.maketrans("", "", ": ")
MAX_FILE_BYTES = 1 << 20  # a certificate file is a few kilobytes


@dataclass(frozen=True)
class CertificateData:
    """A certificate to put on a device. From a file or reader: ``from_der`` fills every field
    from the certificate itself; a typed record has only what the operator typed."""

    serial: str
    not_before: datetime
    not_after: datetime
    subject: str | None = None
    issuer: str | None = None
    fingerprint_sha256: str | None = None
    der: bytes | None = None
    issuer_der: bytes | None = None

    @classmethod
    def from_der(cls, der: bytes, where: str = "certificate") -> CertificateData:
        cert = load(der, where)
        return cls(serial=serial_hex(cert.serial_number), not_before=cert.not_valid_before_utc,
                   not_after=cert.not_valid_after_utc, subject=cert.subject.rfc4514_string(),
                   issuer=cert.issuer.rfc4514_string(), fingerprint_sha256=fingerprint(der),
                   der=der, issuer_der=issuer_der_of(der))

    @classmethod
    def from_file(cls, path: Path) -> CertificateData:
        return cls.from_der(read_certificate_file(path), str(path))

    @property
    def issuer_key(self) -> str | None:
        if self.issuer_der is not None:
            return name_key(self.issuer_der)
        return name_key_of_text(self.issuer)

    @property
    def subject_cn(self) -> str | None:
        if self.der is None:
            return None
        from cryptography.x509.oid import NameOID

        names = load(self.der).subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        value = names[0].value if names else None
        return value if isinstance(value, str) else None


serial_hex = "{:X}".format
"""The register's form of a certificate serial number: the integer's upper-case hex, no leading
zeros (a bound method: CRL imports map it over hundreds of thousands of serials)."""


def normalise_serial(text: str) -> str:
    """A typed serial in the register's form: ``0a:1b:2c`` → ``A1B2C``.

    Hex with separators (colons, spaces) and leading zeros is rewritten; anything that
    is not hex is kept as typed (trimmed), so that it can still be found."""
    raw = text.strip()
    compact = raw.translate(_SERIAL_SEPARATORS)
    if compact and all(c in "0123456789abcdefABCDEF" for c in compact):
        return serial_hex(int(compact, 16))
    return raw


def name_key(name_der: bytes) -> str:
    """The canonical key of a DER-encoded X.501 name (RFC 5280 name comparison)."""
    from asn1crypto import x509 as asn1_x509

    prepared = asn1_x509.Name.load(name_der).hashable
    return hashlib.sha256(prepared.encode("utf-8")).hexdigest()


def name_key_of_text(rfc4514: str | None) -> str | None:
    """The canonical key of a name the register only holds as RFC 4514 text (a typed record);
    None when the text is not a name."""
    if not rfc4514 or not rfc4514.strip():
        return None
    from cryptography import x509

    try:
        return name_key(x509.Name.from_rfc4514_string(rfc4514.strip()).public_bytes())
    except ValueError:
        return None


def issuer_der_of(der: bytes) -> bytes:
    """The issuer field exactly as the certificate encodes it (not re-encoded)."""
    from asn1crypto import x509 as asn1_x509

    return asn1_x509.Certificate.load(der)["tbs_certificate"]["issuer"].dump()


def read_certificate_file(path: Path) -> bytes:
    """The DER bytes of the one certificate in a PEM or DER file; one clear error otherwise."""
    data = read_small_file(path, MAX_FILE_BYTES, name=str(path), what="the certificate file",
                           too_large="too large for a certificate file")
    return certificate_der(data, str(path))


def certificate_der(data: bytes, where: str) -> bytes:
    """DER of the single certificate in ``data`` (PEM or DER); ``where`` names it in errors."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    pems = PEM_CERTIFICATE.findall(data)
    if len(pems) > 1:
        raise ValidationError(f"{where}: holds {len(pems)} certificates; give one per file")
    try:
        cert = (x509.load_pem_x509_certificate(pems[0]) if pems
                else x509.load_der_x509_certificate(data))
        der = cert.public_bytes(Encoding.DER)
    except ValueError as err:
        raise ValidationError(f"{where}: not an X.509 certificate (PEM or DER): {err}") from err
    return der


def load(der: bytes, where: str = "certificate") -> x509.Certificate:
    from cryptography import x509

    try:
        return x509.load_der_x509_certificate(der)
    except ValueError as err:
        raise ValidationError(f"{where}: not an X.509 certificate: {err}") from err


def subject_key_id(cert: x509.Certificate) -> str | None:
    from cryptography import x509

    try:
        return cert.extensions.get_extension_for_class(
            x509.SubjectKeyIdentifier).value.digest.hex()
    except x509.ExtensionNotFound:
        return None


def authority_key_id(cert: x509.Certificate) -> str | None:
    from cryptography import x509

    try:
        ident = cert.extensions.get_extension_for_class(
            x509.AuthorityKeyIdentifier).value.key_identifier
    except x509.ExtensionNotFound:
        return None
    return ident.hex() if ident else None


def validity(cert: x509.Certificate) -> tuple[datetime, datetime]:
    return cert.not_valid_before_utc, cert.not_valid_after_utc


def fingerprint(der: bytes) -> str:
    return hashlib.sha256(der).hexdigest()
