"""What a device list is asked for and what it answers: the filter, the row, the page and the
sort keys — plain values, no SQLAlchemy (``inventory.fleet.queries`` reads them; a front end
lays out its first frame with them before the register is open).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from inventory.register.domain import DEVICE_KINDS, DEVICE_STATUSES
from inventory.register.errors import ValidationError


@dataclass(frozen=True)
class DeviceFilter:
    statuses: tuple[str, ...] = ()
    kind: str | None = None
    agency_code: str | None = None  # the agency and its whole subtree
    expiring_within: timedelta | None = None  # active certificate ends within (not yet expired)
    expired: bool = False  # active certificate already ended
    search: str | None = None  # holder name (diacritics ignored) or serial prefix
    holder_id: int | None = None
    not_seen_for: timedelta | None = None
    now: datetime | None = None
    device_ids: frozenset[int] | None = None  # only these (a set another layer computed)

    def validate(self) -> DeviceFilter:
        for s in self.statuses:
            if s not in DEVICE_STATUSES:
                raise ValidationError(f"status {s!r} is not one of {', '.join(DEVICE_STATUSES)}")
        if self.kind and self.kind not in DEVICE_KINDS:
            raise ValidationError(f"kind {self.kind!r} is not one of {', '.join(DEVICE_KINDS)}")
        return self


class DeviceRow(NamedTuple):
    """One line of the device list (a tuple: lists of 10,000 rows are built cheaply)."""

    id: int
    serial: str
    kind: str
    status: str
    lock_count: int
    holder_id: int | None
    holder_name: str | None
    agency_code: str | None
    agency_name: str | None
    not_after: datetime | None
    certificate_serial: str | None
    last_seen_at: datetime | None
    last_seen_reader: str | None
    pin_tries_left: int | None
    version: int = 0

    def as_record(self) -> dict[str, Any]:
        return {
            "serial": self.serial, "kind": self.kind, "status": self.status,
            "holder": self.holder_name, "agency_code": self.agency_code,
            "agency": self.agency_name, "lock_count": self.lock_count,
            "certificate_serial": self.certificate_serial,
            "not_after": self.not_after, "last_seen_at": self.last_seen_at,
            "last_seen_reader": self.last_seen_reader, "pin_tries_left": self.pin_tries_left,
        }


SORT_KEYS = ("id", "serial", "expiry")


@dataclass(frozen=True)
class Page:
    rows: list[DeviceRow]
    next_key: tuple[Any, ...] | None  # pass as ``after`` for the next page; None at the end
    sort: str = "id"
    filter: DeviceFilter = field(default_factory=DeviceFilter)
