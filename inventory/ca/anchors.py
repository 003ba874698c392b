"""Trust anchors: the root and intermediate CA certificates the office trusts.

``ca trust add`` takes a PEM file (one certificate or a bundle) or a DER file. Only CA
certificates are accepted. Adding or removing an anchor validates every certificate file in the
register again, in the same transaction, so ``unknown_issuer`` is never computed against an
anchor set that no longer exists. Removing an anchor drops the CRLs it signed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from inventory.ca import chains
from inventory.fleet.certificates import (
    MAX_FILE_BYTES,
    PEM_CERTIFICATE,
    fingerprint,
    name_key,
    subject_key_id,
)
from inventory.register import access, audit
from inventory.register.errors import DuplicateError, NotFoundError, ValidationError
from inventory.register.files import read_small_file
from inventory.register.models import RevocationList, TrustAnchor, utcnow


@dataclass(frozen=True)
class AnchorInfo:
    id: int
    subject: str
    fingerprint_sha256: str
    not_before: datetime
    not_after: datetime
    self_signed: bool
    crl_number: str | None
    crl_this_update: datetime | None
    crl_next_update: datetime | None

    def as_record(self) -> dict[str, object]:
        return {"id": self.id, "subject": self.subject,
                "fingerprint_sha256": self.fingerprint_sha256,
                "not_before": self.not_before, "not_after": self.not_after,
                "root": self.self_signed, "crl_number": self.crl_number,
                "crl_this_update": self.crl_this_update,
                "crl_next_update": self.crl_next_update}


@dataclass(frozen=True)
class TrustChange:
    added: tuple[AnchorInfo, ...] = ()
    already_held: tuple[str, ...] = ()  # subjects
    removed: tuple[str, ...] = ()
    crls_dropped: int = 0
    revalidated: int = 0


def read_anchor_file(path: Path) -> list[x509.Certificate]:
    """Every certificate in a PEM file (a bundle is fine) or the one in a DER file."""
    data = read_small_file(path, MAX_FILE_BYTES, name=str(path), what="it",
                           too_large="too large for a certificate file")
    try:
        pems = PEM_CERTIFICATE.findall(data)
        if pems:
            return [x509.load_pem_x509_certificate(p) for p in pems]
        return [x509.load_der_x509_certificate(data)]
    except ValueError as err:
        raise ValidationError(f"{path}: not an X.509 certificate (PEM or DER): {err}") from err


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def _self_signed(cert: x509.Certificate) -> bool:
    if cert.issuer != cert.subject:
        return False
    try:
        cert.verify_directly_issued_by(cert)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def add_anchors(session: Session, certs: list[x509.Certificate], *, actor: str, source: str,
                at: datetime | None = None) -> TrustChange:
    """Trust these CA certificates (all or nothing: one that is not a CA refuses the file)."""
    at = at or utcnow()
    access.require(session, actor, "ca.trust_add")  # before anything is read or written
    for cert in certs:
        if not _is_ca(cert):
            raise ValidationError(f"{source}: {cert.subject.rfc4514_string()} is not a CA "
                                  "certificate (no basicConstraints cA=TRUE): only root and "
                                  "intermediate CA certificates can be trust anchors")
    added: list[TrustAnchor] = []
    held: list[str] = []
    for cert in certs:
        der = cert.public_bytes(Encoding.DER)
        fp = fingerprint(der)
        if fp in {a.fingerprint_sha256 for a in added} or session.scalar(
                select(TrustAnchor.id).where(TrustAnchor.fingerprint_sha256 == fp)):
            held.append(cert.subject.rfc4514_string())
            continue
        anchor = TrustAnchor(subject=cert.subject.rfc4514_string()[:600],
                             subject_key=name_key(cert.subject.public_bytes()),
                             fingerprint_sha256=fp, key_id=subject_key_id(cert),
                             not_before=cert.not_valid_before_utc,
                             not_after=cert.not_valid_after_utc,
                             self_signed=_self_signed(cert), der=der, added_at=at,
                             added_by=actor)
        session.add(anchor)
        session.flush()
        audit.record(session, actor=actor, action="ca.trust_add", entity_type="trust_anchor",
                     entity_id=anchor.id, summary=f"trust anchor {anchor.subject} added",
                     after={"subject": anchor.subject, "fingerprint_sha256": fp,
                            "not_after": anchor.not_after, "source": source},
                     occurred_at=at)
        added.append(anchor)
    if not added:
        if len(held) == 1:
            raise DuplicateError(f"{source}: {held[0]} is already a trust anchor")
        raise DuplicateError(f"{source}: every certificate in it is already a trust anchor")
    revalidated = chains.revalidate_all(session, at)
    infos = {a.id: a for a in anchor_infos(session)}
    return TrustChange(added=tuple(infos[a.id] for a in added), already_held=tuple(held),
                       revalidated=revalidated)


def anchor_infos(session: Session) -> list[AnchorInfo]:
    rows = session.execute(
        select(TrustAnchor.id, TrustAnchor.subject, TrustAnchor.fingerprint_sha256,
               TrustAnchor.not_before, TrustAnchor.not_after, TrustAnchor.self_signed,
               RevocationList.crl_number, RevocationList.this_update,
               RevocationList.next_update)
        .outerjoin(RevocationList, RevocationList.anchor_id == TrustAnchor.id)
        .order_by(TrustAnchor.id)).all()
    return [AnchorInfo(*row) for row in rows]


def find_anchor(session: Session, ref: str) -> TrustAnchor:
    """An anchor by id, or by a fingerprint prefix of at least 8 hex digits."""
    ref = ref.strip().lower().replace(":", "")
    if ref.isdigit() and len(ref) < 8:
        anchor = session.get(TrustAnchor, int(ref))
        if anchor is None:
            raise NotFoundError(f"no trust anchor with id {ref} (see `tokenfleet ca trust list`)")
        return anchor
    if len(ref) < 8 or any(c not in "0123456789abcdef" for c in ref):
        raise ValidationError(f"{ref!r}: give a trust anchor's id or at least 8 hex digits of its "
                              "SHA-256 fingerprint")
    found = list(session.scalars(select(TrustAnchor).where(
        TrustAnchor.fingerprint_sha256.startswith(ref))))
    if not found:
        raise NotFoundError(f"no trust anchor with fingerprint {ref}… "
                            "(see `tokenfleet ca trust list`)")
    if len(found) > 1:
        raise ValidationError(f"fingerprint {ref}… matches {len(found)} trust anchors: give more "
                              "digits")
    return found[0]


def remove_anchor(session: Session, ref: str, *, actor: str,
                  at: datetime | None = None) -> TrustChange:
    at = at or utcnow()
    access.require(session, actor, "ca.trust_remove")
    anchor = find_anchor(session, ref)
    subject, fp = anchor.subject, anchor.fingerprint_sha256
    crls = session.scalar(select(func.count()).select_from(RevocationList)
                          .where(RevocationList.anchor_id == anchor.id)) or 0
    session.execute(delete(RevocationList).where(RevocationList.anchor_id == anchor.id))
    audit.record(session, actor=actor, action="ca.trust_remove", entity_type="trust_anchor",
                 entity_id=anchor.id, summary=f"trust anchor {subject} removed"
                 + (" with its CRL" if crls else ""),
                 before={"subject": subject, "fingerprint_sha256": fp}, after=None,
                 occurred_at=at)
    session.delete(anchor)
    session.flush()
    revalidated = chains.revalidate_all(session, at)
    return TrustChange(removed=(subject,), crls_dropped=crls, revalidated=revalidated)


def anchors_named(session: Session, key: str) -> list[TrustAnchor]:
    """Anchors whose subject is this canonical name (a CA may have several keys over time)."""
    return list(session.scalars(select(TrustAnchor).where(TrustAnchor.subject_key == key)
                                .order_by(TrustAnchor.not_after.desc())))


def anchor_keys(session: Session) -> set[str]:
    return set(session.scalars(select(TrustAnchor.subject_key)))


__all__ = ["AnchorInfo", "TrustChange", "add_anchors", "anchor_infos", "anchor_keys",
           "anchors_named", "find_anchor", "read_anchor_file", "remove_anchor"]
