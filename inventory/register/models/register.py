"""The register's core tables: agencies, holders, devices, certificates, requests, handovers.

Enumerations are plain strings checked by the domain layer (``inventory.fleet.lifecycle``), so that
a
new status never needs a database enum migration on PostgreSQL.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from inventory.register.dates import utcnow
from inventory.register.models.base import Base


class Agency(Base):
    """A node of the agency tree; ``path`` (``/1/7/42/``) makes subtree queries one range scan."""

    __tablename__ = "agencies"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    name_folded: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(30), default="other")
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    path: Mapped[str] = mapped_column(String(400), index=True, default="/")
    level: Mapped[int] = mapped_column(Integer, default=0)
    contact_email: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    parent: Mapped[Agency | None] = relationship(
        remote_side=[id], foreign_keys=[parent_id], lazy="joined"
    )
    history: Mapped[list[AgencyHistory]] = relationship(
        back_populates="agency", order_by="AgencyHistory.id", foreign_keys="AgencyHistory.agency_id"
    )


class AgencyHistory(Base):
    """A rename or merge, so reports of past months still show the names of the time."""

    __tablename__ = "agency_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    change: Mapped[str] = mapped_column(String(20))  # rename | merge | move
    old_name: Mapped[str | None] = mapped_column(String(300))
    new_name: Mapped[str | None] = mapped_column(String(300))
    other_agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(120))

    agency: Mapped[Agency] = relationship(back_populates="history", foreign_keys=[agency_id])


def new_holder_key() -> str:
    """A holder's stable key: 16 random hex digits (64 bits: no clash in a national roll-up)."""
    return secrets.token_hex(8)


class Holder(Base):
    """The subscriber: an official who holds a device. ``national_id`` is personal data.

    ``key`` names the holder in exports and imports (never the name: two officials of one
    agency may share a name); it is random, so registers never hand out the same one."""

    __tablename__ = "holders"
    __table_args__ = (Index("ix_holders_key", "key", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str | None] = mapped_column(String(32), default=new_holder_key)
    full_name: Mapped[str] = mapped_column(String(200))
    name_folded: Mapped[str] = mapped_column(String(200), index=True)
    title: Mapped[str | None] = mapped_column(String(200))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    email: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    national_id: Mapped[str | None] = mapped_column(String(20), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    agency: Mapped[Agency] = relationship(lazy="joined")


class Device(Base):
    """A USB PKI token or PKI SIM. ``status`` changes only through ``inventory.fleet.lifecycle``."""

    __tablename__ = "devices"
    __table_args__ = (
        UniqueConstraint("kind", "serial"),
        Index("ix_devices_status_id", "status", "id"),
        Index("ix_devices_kind_status", "kind", "status"),  # counts by kind × status
        Index("ix_devices_agency_id_id", "agency_id", "id"),
        Index("ix_devices_holder_id", "holder_id"),
        Index("ix_devices_last_seen_at", "last_seen_at"),
        Index("ix_devices_serial", "serial"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    serial: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), default="in_stock")
    holder_id: Mapped[int | None] = mapped_column(ForeignKey("holders.id"))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    manufacturer: Mapped[str | None] = mapped_column(String(120))
    model: Mapped[str | None] = mapped_column(String(120))
    phone_number: Mapped[str | None] = mapped_column(String(40))
    lock_count: Mapped[int] = mapped_column(Integer, default=0)
    status_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime | None]
    last_seen_reader: Mapped[str | None] = mapped_column(String(200))
    last_seen_host: Mapped[str | None] = mapped_column(String(120))
    pin_tries_left: Mapped[int | None] = mapped_column(Integer)
    pin_blocked: Mapped[bool | None]
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    holder: Mapped[Holder | None] = relationship(lazy="joined")
    agency: Mapped[Agency | None] = relationship(lazy="joined")
    certificates: Mapped[list[Certificate]] = relationship(
        back_populates="device", order_by="Certificate.not_after.desc()"
    )

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012

    @property
    def active_certificate(self) -> Certificate | None:
        return next((c for c in self.certificates if c.status == "active"), None)


class Certificate(Base):
    """An X.509 certificate on a device; renewal adds one and supersedes the old.

    ``serial`` is the serial number as the integer's upper-case hex (no leading zeros);
    ``issuer_der`` is the issuer name exactly as the certificate encodes it, and ``issuer_key``
    its canonical form (RFC 5280 name comparison: case, spacing and string types ignored), by
    which certificates, trust anchors and CRLs are matched. ``der`` is the certificate itself
    when it came from a file or a reader; typed records have none.
    """

    __tablename__ = "certificates"
    __table_args__ = (
        Index("ix_certificates_status_not_after", "status", "not_after"),
        Index("ix_certificates_device_id_status", "device_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"))
    serial: Mapped[str] = mapped_column(String(80))
    subject: Mapped[str | None] = mapped_column(String(600))
    issuer: Mapped[str | None] = mapped_column(String(600))
    not_before: Mapped[datetime]
    not_after: Mapped[datetime]
    fingerprint_sha256: Mapped[str | None] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="active")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    issuer_der: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    issuer_key: Mapped[str | None] = mapped_column(String(64))
    der: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    revoked_at: Mapped[datetime | None]  # when the register revoked it
    chain: Mapped[str | None] = mapped_column(String(10))  # CHAIN_STATES, or None
    chain_note: Mapped[str | None] = mapped_column(String(300))  # why it is untrusted

    device: Mapped[Device] = relationship(back_populates="certificates")


class ServiceRequest(Base):
    """A certification request of one of the five kinds, possibly for many holders (a batch)."""

    __tablename__ = "service_requests"
    __table_args__ = (Index("ix_service_requests_state_kind", "state", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(20), default="draft")
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    external_ref: Mapped[str | None] = mapped_column(String(80))
    channel: Mapped[str | None] = mapped_column(String(40))
    dossier: Mapped[dict[str, Any]] = mapped_column(default=dict)
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(120))
    submitted_at: Mapped[datetime | None]
    submitted_by: Mapped[str | None] = mapped_column(String(120))
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[str | None] = mapped_column(String(120))
    close_reason: Mapped[str | None] = mapped_column(Text)

    agency: Mapped[Agency] = relationship(lazy="joined")
    items: Mapped[list[ServiceRequestItem]] = relationship(
        back_populates="request", order_by="ServiceRequestItem.id", cascade="all, delete-orphan"
    )


class ServiceRequestItem(Base):
    """One subscriber line of a request: the holder, and the device/certificate it concerns."""

    __tablename__ = "service_request_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("service_requests.id"), index=True)
    holder_id: Mapped[int | None] = mapped_column(ForeignKey("holders.id"), index=True)
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id"), index=True)
    certificate_id: Mapped[int | None] = mapped_column(ForeignKey("certificates.id"))
    device_kind: Mapped[str | None] = mapped_column(String(20))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)

    request: Mapped[ServiceRequest] = relationship(back_populates="items")
    holder: Mapped[Holder | None] = relationship()
    device: Mapped[Device | None] = relationship()


class Handover(Base):
    """A device handed to a holder: in person, through a cipher organisation, or by post."""

    __tablename__ = "handovers"

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"), index=True)
    holder_id: Mapped[int] = mapped_column(ForeignKey("holders.id"), index=True)
    method: Mapped[str] = mapped_column(String(20))
    tracking_no: Mapped[str | None] = mapped_column(String(60))
    handed_at: Mapped[datetime] = mapped_column(default=utcnow)
    received_at: Mapped[datetime | None]
    request_id: Mapped[int | None] = mapped_column(ForeignKey("service_requests.id"))
    actor: Mapped[str] = mapped_column(String(120))
    notes: Mapped[str | None] = mapped_column(Text)

    device: Mapped[Device] = relationship()
    holder: Mapped[Holder] = relationship()
