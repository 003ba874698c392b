"""What the register holds of the CA: the trust anchors the office trusts, and the newest
revocation list (CRL) of each issuer."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from inventory.register.dates import utcnow
from inventory.register.models.base import Base


class TrustAnchor(Base):
    """A root or intermediate CA certificate the office trusts (``tokenfleet ca trust add``).

    ``subject_key`` is the canonical form of the subject name (see ``Certificate.issuer_key``).
    """

    __tablename__ = "ca_trust_anchors"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(String(600))
    subject_key: Mapped[str] = mapped_column(String(64), index=True)
    fingerprint_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    key_id: Mapped[str | None] = mapped_column(String(128))  # subject key identifier, hex
    not_before: Mapped[datetime]
    not_after: Mapped[datetime]
    self_signed: Mapped[bool] = mapped_column(default=False)
    der: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    added_by: Mapped[str] = mapped_column(String(120))


class RevocationList(Base):
    """The newest CRL held for one issuer (an older one is refused, a newer one replaces it).

    ``entries`` caches the revoked serials, one per line in the CRL's order (hex as in
    ``Certificate.serial``), so reconciliation reads one text value instead of parsing the CRL
    again; ``der`` is the CRL as the CA signed it (revocation times are read from it).
    """

    __tablename__ = "ca_crls"

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer: Mapped[str] = mapped_column(String(600))
    issuer_key: Mapped[str] = mapped_column(String(64), unique=True)
    anchor_id: Mapped[int] = mapped_column(ForeignKey("ca_trust_anchors.id", ondelete="CASCADE"),
                                           index=True)
    crl_number: Mapped[str | None] = mapped_column(String(60))  # decimal; up to 20 octets
    this_update: Mapped[datetime]
    next_update: Mapped[datetime | None]
    entry_count: Mapped[int] = mapped_column(Integer)
    entries: Mapped[str] = mapped_column(Text, deferred=True)
    der: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    fingerprint_sha256: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(500))
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)
    imported_by: Mapped[str] = mapped_column(String(120))
