"""Revocation lists: import a CA's CRL (file or URL), keep the newest per issuer.

A CRL is accepted only when its issuer is a trust anchor whose key signed it; one that is older
than the CRL held for that issuer is refused (by CRL number when both carry one, else by
``thisUpdate``). A refusal raises ``ValidationError`` (exit 65) before anything is written.
Importing the CRL already held changes nothing. An expired CRL (past ``nextUpdate``) is still
the newest word of its CA and is kept: ``ca check`` then reports it as ``crl_stale``.
Delta CRLs are refused (import the full CRL).

Speed (a national CA's CRL has hundreds of thousands of entries): the signature is checked over
the TBS bytes exactly as signed (cut out by asn1crypto; cryptography's ``is_signature_valid``
re-encodes them, half a second per 100,000 entries), and the revoked serials are kept as one
text value in the CRL's order, which reconciliation reads at once. A revocation time is read
from the CRL itself by that position, only for the serials a check finds.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from asn1crypto import crl as asn1_crl
from cryptography import x509
from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory.ca import net
from inventory.ca.signatures import signature_valid
from inventory.fleet.certificates import fingerprint, name_key, serial_hex
from inventory.register import access, audit
from inventory.register.errors import ValidationError
from inventory.register.files import read_small_file
from inventory.register.models import RevocationList, TrustAnchor, utcnow

PEM_CRL = re.compile(rb"-----BEGIN X509 CRL-----.+?-----END X509 CRL-----", re.DOTALL)
MAX_FILE_BYTES = net.MAX_BYTES


@dataclass(frozen=True)
class CrlImport:
    issuer: str
    source: str
    crl_number: str | None
    this_update: datetime
    next_update: datetime | None
    entries: int
    outcome: str  # new | replaced | unchanged
    expired: bool

    def as_record(self) -> dict[str, Any]:
        return {"issuer": self.issuer, "source": self.source, "crl_number": self.crl_number,
                "this_update": self.this_update, "next_update": self.next_update,
                "entries": self.entries, "outcome": self.outcome, "expired": self.expired}


def read_source(source: str, *, timeout: float) -> bytes:
    """The bytes of a CRL file, or of a CRL downloaded from an http(s) URL."""
    if source.startswith(("http://", "https://")):
        return net.fetch(source, timeout=timeout, accept="application/pkix-crl")
    return read_small_file(Path(source), MAX_FILE_BYTES, name=source, what="the CRL",
                           too_large=f"larger than {MAX_FILE_BYTES >> 20} MiB: not a CRL")


def parse_crl(data: bytes, source: str) -> tuple[x509.CertificateRevocationList, bytes]:
    """The CRL and its DER, from PEM or DER bytes."""
    pems = PEM_CRL.findall(data)
    try:
        crl = x509.load_pem_x509_crl(pems[0]) if pems else x509.load_der_x509_crl(data)
    except ValueError as err:
        raise ValidationError(f"{source}: not a CRL (PEM or DER): {err}") from err
    if pems:
        from cryptography.hazmat.primitives.serialization import Encoding

        return crl, crl.public_bytes(Encoding.DER)
    return crl, data


def signed_by(crl: x509.CertificateRevocationList, tbs: bytes, key: Any) -> bool:
    """Whether ``key`` signed these TBS bytes with the CRL's signature algorithm."""
    return signature_valid(key, crl.signature, tbs, crl.signature_hash_algorithm,
                           crl.signature_algorithm_parameters, crl.signature_algorithm_oid)


def _crl_number(crl: x509.CertificateRevocationList) -> int | None:
    try:
        return int(crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number)
    except x509.ExtensionNotFound:
        return None


def _may_sign_crls(anchor: x509.Certificate) -> bool:
    try:
        return anchor.extensions.get_extension_for_class(x509.KeyUsage).value.crl_sign
    except x509.ExtensionNotFound:
        return True


def entries_text(crl: x509.CertificateRevocationList) -> tuple[str, int]:
    """The revoked serials in the register's form (``serial_hex``), one per line in the CRL's
    order, and how many."""
    serials = [r.serial_number for r in crl]
    return "\n".join(map(serial_hex, serials)), len(serials)


def parse_entries(text: str) -> dict[str, int]:
    """Serial (register form) → its position in the CRL."""
    if not text:
        return {}
    return {serial: i for i, serial in enumerate(text.split("\n"))}


def revocation_times(der: bytes, positions: Iterable[int]) -> dict[int, datetime]:
    """The revocation times of the CRL entries at these positions (indexed, not iterated)."""
    crl = x509.load_der_x509_crl(der)
    return {i: crl[i].revocation_date_utc for i in set(positions)}


def _refuse(source: str, message: str) -> ValidationError:
    return ValidationError(f"{source}: CRL refused, nothing stored: {message}")


def import_crl(session: Session, data: bytes, *, source: str, actor: str,
               now: datetime | None = None) -> CrlImport:
    """Check and keep a CRL (the caller's transaction; a refusal raises before any write)."""
    now = now or utcnow()
    access.require(session, actor, "ca.crl_import")  # who may, before what the CRL says
    crl, der = parse_crl(data, source)
    issuer = crl.issuer.rfc4514_string()
    try:
        crl.extensions.get_extension_for_class(x509.DeltaCRLIndicator)
    except x509.ExtensionNotFound:
        pass
    else:
        raise _refuse(source, f"a delta CRL of {issuer}: import the full CRL")
    tbs_der = asn1_crl.CertificateList.load(der)["tbs_cert_list"].dump()
    issuer_key = name_key(crl.issuer.public_bytes())
    anchors = list(session.scalars(select(TrustAnchor).where(
        TrustAnchor.subject_key == issuer_key).order_by(TrustAnchor.id)))
    if not anchors:
        raise _refuse(source, f"wrong issuer: {issuer} is not a trust anchor (add its CA "
                      "certificate with `tokenfleet ca trust add`)")
    signer = None
    for anchor in anchors:
        cert = x509.load_der_x509_certificate(anchor.der)
        if signed_by(crl, tbs_der, cert.public_key()):
            if not _may_sign_crls(cert):
                raise _refuse(source, f"the key usage of trust anchor {anchor.subject} does not "
                              "allow signing CRLs")
            signer = anchor
            break
    if signer is None:
        raise _refuse(source, f"bad signature: not signed by the trust anchor {issuer}")
    number = _crl_number(crl)
    this_update = crl.last_update_utc
    next_update = crl.next_update_utc
    fp = fingerprint(der)
    held = session.scalar(select(RevocationList).where(RevocationList.issuer_key == issuer_key))
    outcome = "new"
    if held is not None:
        held_number = int(held.crl_number) if held.crl_number is not None else None
        if held.fingerprint_sha256 == fp:
            return CrlImport(issuer, source, held.crl_number, held.this_update,
                             held.next_update, held.entry_count, "unchanged",
                             _expired(held.next_update, now))
        if number is not None and held_number is not None:
            newer = number > held_number
            what = f"CRL number {number}, the register holds number {held_number}"
        else:
            newer = this_update > held.this_update
            what = (f"issued {this_update:%Y-%m-%d %H:%M}, the register holds one issued "
                    f"{held.this_update:%Y-%m-%d %H:%M}")
        if not newer:
            raise _refuse(source, f"not newer than the CRL held for {issuer} ({what})")
        outcome = "replaced"
    text, count = entries_text(crl)
    values: dict[str, Any] = {
        "issuer": issuer[:600], "issuer_key": issuer_key, "anchor_id": signer.id,
        "crl_number": str(number) if number is not None else None,
        "this_update": this_update, "next_update": next_update, "entry_count": count,
        "entries": text, "der": der, "fingerprint_sha256": fp, "source": source[:500],
        "imported_at": now, "imported_by": actor}
    if held is None:
        held = RevocationList(**values)
        session.add(held)
    else:
        for key, value in values.items():
            setattr(held, key, value)
    session.flush()
    audit.record(session, actor=actor, action="ca.crl_import", entity_type="crl",
                 entity_id=held.id,
                 summary=f"CRL of {issuer} ({count} revoked) from {source}",
                 after={"issuer": issuer, "crl_number": values["crl_number"],
                        "this_update": this_update, "next_update": next_update,
                        "entries": count, "fingerprint_sha256": fp, "source": source},
                 occurred_at=now)
    return CrlImport(issuer, source, values["crl_number"], this_update, next_update, count,
                     outcome, _expired(next_update, now))


def _expired(next_update: datetime | None, now: datetime) -> bool:
    return next_update is not None and next_update < now
