"""What happened: the hash-chained audit trail, and what pollers observed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from inventory.register.dates import utcnow
from inventory.register.models.base import Base


class Event(Base):
    """One audit event. ``seq`` is the position in the chain; ``hash`` covers ``prev_hash``."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_device_id_seq", "device_id", "seq"),
        Index("ix_events_occurred_at", "occurred_at"),
        Index("ix_events_action_occurred_at", "action", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(60))
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int | None] = mapped_column(Integer)
    device_id: Mapped[int | None] = mapped_column(Integer)
    summary: Mapped[str | None] = mapped_column(Text)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The single row every append updates first: it serialises appends on both backends."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    last_hash: Mapped[str] = mapped_column(String(64))


class ObservationRecord(Base):
    """A raw poll observation, kept for ``observation_retention_days``."""

    __tablename__ = "observations"
    __table_args__ = (
        Index("ix_observations_seen_at", "seen_at"),
        Index("ix_observations_serial", "serial"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    source: Mapped[str] = mapped_column(String(10))  # pcsc | pkcs11
    host: Mapped[str] = mapped_column(String(120))
    reader: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str | None] = mapped_column(String(20))
    serial: Mapped[str | None] = mapped_column(String(64))
    atr: Mapped[str | None] = mapped_column(String(100))
    token_flags: Mapped[int | None] = mapped_column(Integer)
    pin_tries_left: Mapped[int | None] = mapped_column(Integer)
    pin_blocked: Mapped[bool] = mapped_column(default=False)
    fingerprints: Mapped[list[str]] = mapped_column(JSON, default=list)
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id", ondelete="SET NULL"))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class UnregisteredDevice(Base):
    """A device a poller saw that the register does not know: waits for a manager to claim it."""

    __tablename__ = "unregistered_devices"
    __table_args__ = (UniqueConstraint("kind", "serial"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    serial: Mapped[str] = mapped_column(String(64))
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    reader: Mapped[str | None] = mapped_column(String(300))
    host: Mapped[str | None] = mapped_column(String(120))
    atr: Mapped[str | None] = mapped_column(String(100))
    label: Mapped[str | None] = mapped_column(String(200))
    manufacturer: Mapped[str | None] = mapped_column(String(120))
    model: Mapped[str | None] = mapped_column(String(120))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    notes: Mapped[str | None] = mapped_column(Text)
