"""The list tables of the monthly report: their columns, and how a device or event becomes a row.

Rows carry raw values (``usb_token``, ``issued``, datetimes); the workbook writer names codes
by their vocabulary domain (a column's type) and formats dates, the CSV writer keeps them as
data. Both share these specs, so the two outputs always have the same columns.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from inventory.ca.reconcile import Mismatch
from inventory.fleet.lifecycle import mask_national_id

from .pointintime import ActivityRow, AgencyResolver, DeviceAt


@dataclass(frozen=True)
class Column:
    key: str  # also the label key ``col.<key>`` and the CSV header
    type: str  # text | int | float | date | datetime | note (the row's event's note), or a
    # vocabulary domain (device_kind …)
    width: float = 14


REGISTER_COLUMNS = (
    Column("serial", "text", 22), Column("kind", "device_kind", 11),
    Column("status", "device_status", 13),
    Column("status_since", "datetime", 16), Column("holder", "text", 26),
    Column("title", "text", 18), Column("national_id", "text", 15),
    Column("email", "text", 30), Column("phone", "text", 13),
    Column("agency_code", "text", 12), Column("agency", "text", 40),
    Column("manufacturer", "text", 13), Column("model", "text", 16),
    Column("phone_number", "text", 13), Column("lock_count", "int", 8),
    Column("certificate_serial", "text", 36), Column("not_before", "date", 12),
    Column("not_after", "date", 12),
)
EXPIRING_COLUMNS = (
    Column("not_after", "date", 12), Column("days_left", "int", 9),
    Column("holder", "text", 26), Column("title", "text", 18),
    Column("agency_code", "text", 12), Column("agency", "text", 40),
    Column("serial", "text", 22), Column("kind", "device_kind", 11),
    Column("certificate_serial", "text", 36),
)
ACTIVITY_COLUMNS = (
    Column("occurred_at", "datetime", 16), Column("action", "event", 18),
    Column("serial", "text", 22), Column("kind", "device_kind", 11),
    Column("holder", "text", 26),
    Column("agency_code", "text", 12), Column("agency", "text", 40),
    Column("actor", "text", 14), Column("summary", "note", 40),
)
CA_COLUMNS = (
    Column("ca_kind", "ca_mismatch", 30), Column("serial", "text", 22),
    Column("holder", "text", 26), Column("agency_code", "text", 12),
    Column("agency", "text", 40), Column("certificate_serial", "text", 36),
    Column("since", "date", 12), Column("detail", "text", 70),
)
LOCKED_LOST_COLUMNS = (
    Column("status", "device_status", 11), Column("since", "datetime", 16),
    Column("age_days", "int", 9), Column("serial", "text", 22),
    Column("kind", "device_kind", 11),
    Column("holder", "text", 26), Column("title", "text", 18),
    Column("agency_code", "text", 12), Column("agency", "text", 40),
    Column("lock_count", "int", 8),
)


class RowMaker:
    """Turns point-in-time devices and events into table rows for one report."""

    def __init__(self, agencies: AgencyResolver, at: datetime, include_personal_data: bool,
                 lang: str = "vi"):
        self.agencies, self.at, self.personal = agencies, at, include_personal_data
        self.lang = lang

    def _agency(self, agency_id: int | None) -> tuple[str | None, str | None]:
        info = self.agencies.info(agency_id)
        return (info.code, info.name) if info else (None, None)

    def national_id(self, value: str | None) -> str | None:
        if not value:
            return None
        return value if self.personal else mask_national_id(value)

    def register(self, d: DeviceAt) -> tuple[Any, ...]:
        code, name = self._agency(d.agency_id)
        return (d.serial, d.kind, d.status, d.since, d.holder, d.title,
                self.national_id(d.national_id), d.email, d.phone, code, name,
                d.manufacturer, d.model, d.phone_number, d.lock_count, d.certificate_serial,
                d.not_before, d.not_after)

    def expiring(self, d: DeviceAt) -> tuple[Any, ...]:
        assert d.not_after is not None
        code, name = self._agency(d.agency_id)
        return (d.not_after, (d.not_after - self.at).days, d.holder, d.title, code, name,
                d.serial, d.kind, d.certificate_serial)

    def locked_lost(self, d: DeviceAt) -> tuple[Any, ...]:
        code, name = self._agency(d.agency_id)
        return (d.status, d.since, (self.at - d.since).days, d.serial, d.kind, d.holder,
                d.title, code, name, d.lock_count)

    def ca(self, m: Mismatch) -> tuple[Any, ...]:
        return (m.kind, m.serial, m.holder, m.agency_code, m.agency, m.certificate_serial,
                m.since, m.describe(self.lang))

    def activity(self, e: ActivityRow) -> tuple[Any, ...]:
        code, name = self._agency(self.agencies.resolve(e.agency_id))
        return (e.occurred_at, e.action, e.serial, e.kind, e.holder, code, name, e.actor,
                e.summary)

    def rows(self, items: Iterable[Any], kind: str) -> Iterator[tuple[Any, ...]]:
        make = getattr(self, kind)
        for item in items:
            yield make(item)
