"""Stocktakes (which devices an agency subtree should have, ticked as pollers see them) and the
readers each poller station reports, so every screen can show every station's readers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from inventory.register.dates import utcnow
from inventory.register.models.base import Base
from inventory.register.models.register import Agency

STOCKTAKE_STATES = ("open", "finished")


class Stocktake(Base):
    """One count of an agency subtree's devices; at most one is open at a time."""

    __tablename__ = "stocktakes"
    __table_args__ = (Index("ix_stocktakes_state", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    state: Mapped[str] = mapped_column(String(20), default="open")
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_by: Mapped[str] = mapped_column(String(120))
    finished_at: Mapped[datetime | None]
    finished_by: Mapped[str | None] = mapped_column(String(120))

    agency: Mapped[Agency] = relationship(lazy="joined")


class StocktakeItem(Base):
    """An expected device (``expected``) or one seen that was not expected; ``scans`` counts the
    separate sightings (more than one is a duplicate scan, counted once)."""

    __tablename__ = "stocktake_items"
    __table_args__ = (
        UniqueConstraint("stocktake_id", "kind", "serial"),
        Index("ix_stocktake_items_device_id", "device_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    stocktake_id: Mapped[int] = mapped_column(ForeignKey("stocktakes.id", ondelete="CASCADE"))
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(20))
    serial: Mapped[str] = mapped_column(String(64))
    expected: Mapped[bool] = mapped_column(Boolean, default=True)
    status_at_start: Mapped[str | None] = mapped_column(String(20))
    scans: Mapped[int] = mapped_column(Integer, default=0)
    first_seen_at: Mapped[datetime | None]
    last_seen_at: Mapped[datetime | None]
    last_seen_host: Mapped[str | None] = mapped_column(String(120))
    last_seen_reader: Mapped[str | None] = mapped_column(String(300))


class StationReader(Base):
    """A reader at a poller station (a PC with readers) as its poller last reported it;
    ``heartbeat_at`` is the poller's last sign of life (a station without readers keeps one
    placeholder row)."""

    __tablename__ = "station_readers"
    __table_args__ = (UniqueConstraint("station", "reader"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    station: Mapped[str] = mapped_column(String(120))
    reader: Mapped[str] = mapped_column(String(300))
    card_present: Mapped[bool] = mapped_column(Boolean, default=False)
    atr: Mapped[str | None] = mapped_column(String(100))
    serial: Mapped[str | None] = mapped_column(String(64))
    profile: Mapped[str | None] = mapped_column(String(40))
    error: Mapped[str | None] = mapped_column(String(300))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(default=utcnow)
