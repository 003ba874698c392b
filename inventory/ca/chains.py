"""Does a certificate chain to a trust anchor? Path building and validation by ``cryptography``.

``cryptography.x509.verification`` (PyCA, maintained with the library the project already uses)
builds and validates the path. Its default policies are the Web PKI's; since cryptography 45
they can be replaced, and these fit signing certificates:

- end entity: any extensions (signing certificates carry no TLS extended key usage and often no
  subject alternative name, which the client-certificate defaults would require);
- CA certificates: basicConstraints must be present with cA asserted (any criticality, so a
  national CA that marks it non-critical still chains); a keyUsage, when present, must allow
  keyCertSign. Signatures, names, validity, path length and name constraints are the library's.

A verdict is kept on the certificate (``chain``: trusted / untrusted, ``chain_note``: why), so
reconciling a million certificates reads one column instead of validating a million paths.
Certificates arrive ``pending``; the CA layer settles them (``settle``), and validates every
certificate file again whenever the trust anchors change (``revalidate_all``).

The path is validated at the end entity's own lifetime (now, or its last valid moment if it has
expired): ``unknown_issuer`` asks who issued it, not whether it is still valid.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.x509.verification import (
    Criticality,
    ExtensionPolicy,
    PolicyBuilder,
    Store,
    VerificationError,
)
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from inventory.register.models import Certificate, TrustAnchor, utcnow

CHUNK = 500
MAX_DEPTH = 8


def _key_usage_allows_cert_sign(_policy: Any, _cert: x509.Certificate,
                                ku: x509.KeyUsage | None) -> None:
    if ku is not None and not ku.key_cert_sign:
        raise ValueError("keyUsage of the CA certificate does not allow keyCertSign")


def _ca_policy() -> ExtensionPolicy:
    return (ExtensionPolicy.permit_all()
            .require_present(x509.BasicConstraints, Criticality.AGNOSTIC, None)
            .may_be_present(x509.KeyUsage, Criticality.AGNOSTIC, _key_usage_allows_cert_sign))


@dataclass(frozen=True)
class Verdict:
    certificate_id: int
    chain: str  # trusted | untrusted
    note: str | None


NO_PATH = "no issuer among the trust anchors"


def _short(err: Exception) -> str:
    """The verifier's reason, in a line a fleet manager can read."""
    text = str(err).split(" (encountered processing", 1)[0].strip()
    text = text.removeprefix("validation failed: ")
    if text.startswith("candidates exhausted: all candidates exhausted with no interior"):
        return NO_PATH  # the library's words for "nothing in the store issued it"
    return (text or type(err).__name__)[:300]


class ChainValidator:
    """Validates certificates against one set of trust anchors."""

    def __init__(self, anchors: Sequence[x509.Certificate]):
        self.anchors = list(anchors)
        self.store = Store(self.anchors) if self.anchors else None
        self._ca = _ca_policy()
        self._ee = ExtensionPolicy.permit_all()

    @classmethod
    def from_register(cls, session: Session) -> ChainValidator:
        ders = session.scalars(select(TrustAnchor.der).order_by(TrustAnchor.id)).all()
        return cls([x509.load_der_x509_certificate(d) for d in ders])

    def check(self, der: bytes, now: datetime | None = None) -> tuple[str, str | None]:
        """("trusted", None) or ("untrusted", why)."""
        if self.store is None:
            return "untrusted", "no trust anchors"
        try:
            cert = x509.load_der_x509_certificate(der)
        except ValueError as err:
            return "untrusted", f"not a certificate: {err}"[:300]
        now = now or utcnow()
        moment = min(max(now, cert.not_valid_before_utc),
                     cert.not_valid_after_utc - timedelta(seconds=1))
        verifier = (PolicyBuilder().store(self.store).time(moment).max_chain_depth(MAX_DEPTH)
                    .extension_policies(ca_policy=self._ca, ee_policy=self._ee)
                    .build_client_verifier())
        try:
            verifier.verify(cert, self.anchors)
        except VerificationError as err:
            return "untrusted", _short(err)
        return "trusted", None

    def verdicts(self, rows: Iterable[tuple[int, bytes | None]],
                 now: datetime | None = None) -> list[Verdict]:
        if self.store is None:
            return []  # nothing to validate against: certificates stay pending
        out = []
        for cert_id, der in rows:
            chain, note = self.check(der, now) if der else ("untrusted", "no certificate file")
            out.append(Verdict(cert_id, chain, note))
        return out


def store_verdicts(session: Session, verdicts: Sequence[Verdict]) -> None:
    """Write verdicts (a cache of what validation says; not an audited change)."""
    if not verdicts:
        return
    table: Any = Certificate.__table__
    stmt = (update(table).where(table.c.id == bindparam("b_id"))
            .values(chain=bindparam("b_chain"), chain_note=bindparam("b_note")))
    session.connection().execute(stmt, [{"b_id": v.certificate_id, "b_chain": v.chain,
                                         "b_note": v.note} for v in verdicts])


def _files(session: Session, where: Any) -> Iterable[tuple[int, bytes | None]]:
    ids = list(session.scalars(select(Certificate.id).where(where).order_by(Certificate.id)))
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        yield from session.execute(select(Certificate.id, Certificate.der)
                                   .where(Certificate.id.in_(chunk)))


def revalidate_all(session: Session, now: datetime | None = None) -> int:
    """Validate every certificate file again (the trust anchors changed); returns how many."""
    validator = ChainValidator.from_register(session)
    verdicts = validator.verdicts(_files(session, Certificate.chain.is_not(None)), now)
    store_verdicts(session, verdicts)
    return len(verdicts)


def settle_in_memory(session: Session, certificate_ids: Sequence[int],
                     now: datetime | None = None) -> list[Verdict]:
    """Verdicts for these pending certificates, not written (a read-only caller)."""
    ids = sorted(certificate_ids)
    rows: list[tuple[int, bytes | None]] = []
    for start in range(0, len(ids), CHUNK):
        rows += session.execute(select(Certificate.id, Certificate.der)
                                .where(Certificate.id.in_(ids[start:start + CHUNK])))
    return ChainValidator.from_register(session).verdicts(rows, now)


def settle(session: Session, certificate_ids: Sequence[int] | None = None,
           now: datetime | None = None) -> list[Verdict]:
    """Validate pending certificates (all, or these) and keep the verdicts."""
    where = Certificate.chain == "pending"
    if certificate_ids is not None:
        where = where & Certificate.id.in_(list(certificate_ids))
    verdicts = ChainValidator.from_register(session).verdicts(_files(session, where), now)
    store_verdicts(session, verdicts)
    return verdicts
