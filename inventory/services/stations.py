"""Poller stations for the front ends: the one reader pipeline, and what the readers screen reads.

``tokenfleet poll --once|--watch`` and the TUI's readers screen both get their
:class:`~inventory.readers.station.StationPoller` from :func:`station_poller` (the poller, the
sync, the buffer while the register is down, the heartbeat, the station's reader rows and the
observation retention, configured the same way); the screen reads every station's readers and
the devices its cards are with the read models below.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from inventory.readers.station import ReaderSource, StationPoller
from inventory.readers.sync import StationReaderRow, SyncReport
from inventory.readers.sync import station_readers as _station_readers
from inventory.register.db import Register
from inventory.register.models import Device

if TYPE_CHECKING:
    from inventory.readers.hardware import HardwareConfig


def station_poller(register: Register, *, station: str, retention_days: int,
                   config: HardwareConfig | None = None,
                   poller_factory: Callable[[], ReaderSource] | None = None,
                   on_report: Callable[[SyncReport], None] | None = None,
                   on_warning: Callable[[str], None] | None = None) -> StationPoller:
    """The station ``station``'s pipeline (``config``: which readers; the TUI reads PC/SC)."""
    return StationPoller(register, station=station, config=config, poller_factory=poller_factory,
                         retention=timedelta(days=retention_days), on_report=on_report,
                         on_warning=on_warning)


def station_readers(register: Register) -> list[StationReaderRow]:
    """Every station's readers as their pollers last reported them (alive or gone quiet)."""
    with register.read() as session:
        return _station_readers(session)


@dataclass(frozen=True)
class CardDevice:
    """The register's device for a card in a reader."""

    kind: str
    serial: str
    status: str
    holder: str | None


def devices_by_serial(register: Register, serials: Collection[str]
                      ) -> dict[tuple[str, str], CardDevice]:
    """The devices with these serials, by (kind, serial): a serial is unique per kind."""
    if not serials:
        return {}
    with register.read() as session:
        return {(d.kind, d.serial): CardDevice(d.kind, d.serial, d.status,
                                               d.holder.full_name if d.holder else None)
                for d in session.scalars(select(Device).where(Device.serial.in_(serials)))
                .unique()}
