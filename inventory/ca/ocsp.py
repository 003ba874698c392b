"""Ask the CA's OCSP responder about one device's certificate.

The responder is ``TOKENFLEET_OCSP_URL`` when set (an office that must go through its own
mirror), otherwise the one the certificate names (authorityInfoAccess). The request is built
from the certificate file, or — for a typed record — from its serial and its issuer, a trust
anchor. The answer must be signed by the issuer or by a responder certificate the issuer signed
for OCSP signing, and must be about this certificate; a nonce is sent and, if echoed, checked.
The request has a deadline (``TOKENFLEET_CA_TIMEOUT``): offline or slow gives one clear error.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID
from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory.ca import net
from inventory.ca.signatures import signature_valid
from inventory.fleet.queries import get_device
from inventory.register.errors import (
    CaFetchError,
    ConfigurationError,
    NotFoundError,
    ValidationError,
)
from inventory.register.models import Certificate, TrustAnchor, utcnow

CLOCK_SKEW = timedelta(minutes=5)
STATUS = {ocsp.OCSPCertStatus.GOOD: "good", ocsp.OCSPCertStatus.REVOKED: "revoked",
          ocsp.OCSPCertStatus.UNKNOWN: "unknown"}


@dataclass(frozen=True)
class OcspAnswer:
    device_serial: str
    certificate_serial: str
    url: str
    status: str  # good | revoked | unknown
    produced_at: datetime
    this_update: datetime
    next_update: datetime | None
    revocation_time: datetime | None = None
    revocation_reason: str | None = None
    warnings: tuple[str, ...] = field(default=())

    def as_record(self) -> dict[str, Any]:
        return {"serial": self.device_serial, "certificate_serial": self.certificate_serial,
                "responder": self.url, "status": self.status, "produced_at": self.produced_at,
                "this_update": self.this_update, "next_update": self.next_update,
                "revocation_time": self.revocation_time,
                "revocation_reason": self.revocation_reason, "warnings": list(self.warnings)}


@dataclass(frozen=True)
class Target:
    """What the request is about: the certificate (if its file is held), serial, issuer."""

    device_serial: str
    certificate_serial: str
    serial_number: int
    leaf: x509.Certificate | None
    issuer: x509.Certificate
    issuer_name_der: bytes


def _certificate(session: Session, device_serial: str, kind: str | None) -> Certificate:
    device = get_device(session, device_serial, kind)
    certs = list(session.scalars(
        select(Certificate).where(Certificate.device_id == device.id)
        .order_by((Certificate.status == "active").desc(), Certificate.not_after.desc())))
    if not certs:
        raise NotFoundError(f"device {device.serial} has no certificate to ask about")
    return certs[0]


def _issuer(session: Session, cert: Certificate, leaf: x509.Certificate | None) -> TrustAnchor:
    anchors = list(session.scalars(select(TrustAnchor).where(
        TrustAnchor.subject_key == cert.issuer_key))) if cert.issuer_key else []
    for anchor in anchors:
        if leaf is None:
            return anchor
        try:
            leaf.verify_directly_issued_by(x509.load_der_x509_certificate(anchor.der))
        except (ValueError, TypeError, InvalidSignature):  # not this key: try the next
            continue
        return anchor
    raise ValidationError(f"certificate {cert.serial}: its issuer {cert.issuer or '(unknown)'} "
                          "is not a trust anchor that issued it, and OCSP needs the issuer's "
                          "certificate (add it with `tokenfleet ca trust add`)")


def prepare(session: Session, device_serial: str, *, kind: str | None = None,
            override_url: str | None = None) -> tuple[Target, str]:
    """What to ask (read from the register) and where; no network yet."""
    cert = _certificate(session, device_serial, kind)
    leaf = x509.load_der_x509_certificate(cert.der) if cert.der else None
    anchor = _issuer(session, cert, leaf)
    issuer = x509.load_der_x509_certificate(anchor.der)
    try:
        number = leaf.serial_number if leaf is not None else int(cert.serial, 16)
    except ValueError as err:
        raise ValidationError(f"certificate serial {cert.serial!r} is not hexadecimal") from err
    name_der = cert.issuer_der or issuer.subject.public_bytes()
    device = cert.device.serial
    return (Target(device, cert.serial, number, leaf, issuer, name_der),
            responder_url(cert, override_url))


def responder_url(cert: Certificate, override: str | None) -> str:
    if override:
        return override
    if cert.der:
        leaf = x509.load_der_x509_certificate(cert.der)
        try:
            aia = leaf.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
        except x509.ExtensionNotFound:
            aia = None
        for desc in aia or ():
            if (desc.access_method == AuthorityInformationAccessOID.OCSP
                    and isinstance(desc.access_location, x509.UniformResourceIdentifier)):
                return desc.access_location.value
    raise ConfigurationError(f"certificate {cert.serial} names no OCSP responder"
                             + ("" if cert.der else " (the register holds no certificate file)")
                             + ": set TOKENFLEET_OCSP_URL to the CA's responder")


def build_request(t: Target, nonce: bytes) -> bytes:
    builder = ocsp.OCSPRequestBuilder()
    if t.leaf is not None:
        builder = builder.add_certificate(t.leaf, t.issuer, hashes.SHA1())
    else:
        name_hash = hashes.Hash(hashes.SHA1())
        name_hash.update(t.issuer_name_der)
        key_hash = x509.SubjectKeyIdentifier.from_public_key(t.issuer.public_key()).digest
        builder = builder.add_certificate_by_hash(name_hash.finalize(), key_hash,
                                                  t.serial_number, hashes.SHA1())
    builder = builder.add_extension(x509.OCSPNonce(nonce), critical=False)
    return builder.build().public_bytes(Encoding.DER)


def _responder_key(resp: ocsp.OCSPResponse, issuer: x509.Certificate, url: str) -> Any:
    """The key that must have signed the answer: the issuer's, or a delegated responder's."""
    issuer_hash = x509.SubjectKeyIdentifier.from_public_key(issuer.public_key()).digest

    def is_responder(cert: x509.Certificate) -> bool:
        if resp.responder_key_hash is not None:
            return x509.SubjectKeyIdentifier.from_public_key(
                cert.public_key()).digest == resp.responder_key_hash
        return cert.subject == resp.responder_name

    if is_responder(issuer) or resp.responder_key_hash == issuer_hash:
        return issuer.public_key()
    for cert in resp.certificates:
        if not is_responder(cert):
            continue
        try:
            cert.verify_directly_issued_by(issuer)
            eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        except Exception:
            continue
        if ExtendedKeyUsageOID.OCSP_SIGNING in eku:
            return cert.public_key()
    raise ValidationError(f"{url}: the OCSP answer is signed by a responder the CA did not "
                          "authorise")


def ask(target: Target, url: str, *, timeout: float, now: datetime | None = None
        ) -> OcspAnswer:
    """good / revoked / unknown for the certificate ``prepare`` chose (the device's active
    one, else its newest)."""
    nonce = os.urandom(16)
    body = net.fetch(url, timeout=timeout, data=build_request(target, nonce),
                     content_type="application/ocsp-request", accept="application/ocsp-response",
                     limit=1 << 20)
    try:
        resp = ocsp.load_der_ocsp_response(body)
    except ValueError as err:
        raise CaFetchError(url, "the answer is not an OCSP response") from err
    if resp.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
        raise CaFetchError(url, f"the responder refused: {resp.response_status.name.lower()}")
    key = _responder_key(resp, target.issuer, url)
    if not signature_valid(key, resp.signature, resp.tbs_response_bytes,
                           resp.signature_hash_algorithm, None, resp.signature_algorithm_oid):
        raise ValidationError(f"{url}: the OCSP answer's signature does not check out")
    try:
        echoed = resp.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce
    except x509.ExtensionNotFound:
        echoed = None
    if echoed is not None and echoed != nonce:
        raise ValidationError(f"{url}: the OCSP answer carries another request's nonce (a "
                              "replayed answer)")
    single = next((r for r in resp.responses if r.serial_number == target.serial_number), None)
    if single is None:
        raise ValidationError(f"{url}: the OCSP answer is not about certificate "
                              f"{target.certificate_serial}")
    now = now or utcnow()
    warnings = []
    if single.next_update_utc is not None and single.next_update_utc < now:
        warnings.append(f"the answer is out of date (next update was "
                        f"{single.next_update_utc:%Y-%m-%d %H:%M})")
    if single.this_update_utc > now + CLOCK_SKEW:
        warnings.append("the answer is dated in the future: check this computer's clock")
    reason = single.revocation_reason.name if single.revocation_reason else None
    return OcspAnswer(
        device_serial=target.device_serial, certificate_serial=target.certificate_serial,
        url=url, status=STATUS[single.certificate_status], produced_at=resp.produced_at_utc,
        this_update=single.this_update_utc, next_update=single.next_update_utc,
        revocation_time=single.revocation_time_utc, revocation_reason=reason,
        warnings=tuple(warnings))
