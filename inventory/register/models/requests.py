"""The unlock desk: one case per lock-out of a device, from lock to unlock.

A case opens when a device enters ``locked`` (reported, or seen by the poller) and closes when it
leaves it — unlocked, or reported lost or revoked while still locked (``outcome``); who brought
the device in and how it was unlocked are recorded on the way, so the turnaround (lock → unlock)
per agency and month can be read straight from this table.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from inventory.register.dates import utcnow
from inventory.register.models.base import Base
from inventory.register.models.register import Agency, Device, Holder

UNLOCK_SOURCES = ("poller", "reported")
# How a case ended: the device was unlocked, or it left ``locked`` for ``lost`` or ``revoked``
# (closed in the same transaction as that move; it never reached the desk).
UNLOCK_OUTCOMES = ("unlocked", "lost", "revoked")


class UnlockCase(Base):
    """A lock-out of one device; ``agency_id`` and ``holder_id`` are those at the time of lock."""

    __tablename__ = "unlock_cases"
    __table_args__ = (
        Index("ix_unlock_cases_device_id_closed_at", "device_id", "closed_at"),
        Index("ix_unlock_cases_closed_at", "closed_at"),
        Index("ix_unlock_cases_opened_at", "opened_at"),
        Index("ix_unlock_cases_agency_id", "agency_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    holder_id: Mapped[int | None] = mapped_column(ForeignKey("holders.id"))
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    opened_by: Mapped[str] = mapped_column(String(120))
    source: Mapped[str] = mapped_column(String(20), default="reported")
    lock_reason: Mapped[str | None] = mapped_column(Text)
    brought_by: Mapped[str | None] = mapped_column(String(200))
    brought_at: Mapped[datetime | None]
    unlock_method: Mapped[str | None] = mapped_column(String(120))
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[str | None] = mapped_column(String(120))
    outcome: Mapped[str | None] = mapped_column(String(20))  # UNLOCK_OUTCOMES; None while open
    notes: Mapped[str | None] = mapped_column(Text)

    device: Mapped[Device] = relationship(lazy="joined")
    agency: Mapped[Agency | None] = relationship(lazy="joined")
    holder: Mapped[Holder | None] = relationship()
