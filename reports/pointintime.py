"""The register as it stood at a past instant, rebuilt from the audit trail.

Rules (documented because leadership will ask why a number is what it is):

* **Device state at T** = the ``after`` snapshot of the device's latest ``entity_type='device'``
  event with ``occurred_at < T`` (latest by time, then by chain position). Devices with no event
  before T did not exist yet. Done in SQL with ``ROW_NUMBER()`` so nothing is loaded whole.
* **A device's certificate at T** = its newest certificate row created before T (newest by
  ``created_at``, then id): attaching or renewing makes the newest one active, so this is the
  certificate that was active at T. It counts as *live* when the device was issued or locked at
  T (revocation revokes a device's certificates; a device in stock serves nobody) and it had
  not ended (``not_after >= T``).
* **Agency at T** = the snapshot's agency, then moved along holder agency changes
  (``holder.change`` events) made after the snapshot but before T, then along merges done
  before T. Agency names are the names of the time (renames after T are undone).
  Holder names, titles and contact details are today's: the trail keeps who held a device,
  and the report shows that person as the register knows them now.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Subquery, func, or_, select, type_coerce
from sqlalchemy.orm import Session
from sqlalchemy.types import JSON

from inventory.register.errors import ValidationError
from inventory.register.models import Agency, AgencyHistory, Certificate, Device, Event, Holder

IN_USE = ("issued", "locked")
OPEN_CASES = ("locked", "lost")
LIFECYCLE_PREFIXES = ("device.", "certificate.")
STREAM_BATCH = 2000


@dataclass(frozen=True)
class Period:
    """A calendar month in UTC: ``start`` inclusive, ``end`` exclusive (the "as of" instant)."""

    year: int
    month: int

    @property
    def start(self) -> datetime:
        return datetime(self.year, self.month, 1, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        return self.next().start

    @property
    def last_day(self) -> date:
        return (self.end - timedelta(days=1)).date()

    def next(self) -> Period:
        return Period(self.year + self.month // 12, self.month % 12 + 1)

    def previous(self) -> Period:
        return Period(self.year - (self.month == 1), (self.month - 2) % 12 + 1)

    def label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def parse_month(text: str) -> Period:
    """``YYYY-MM`` (or ``MM/YYYY``, as a month is written in Vietnamese and shown by the TUI)
    → Period, or one clear error naming the bad value."""
    parts = text.strip().split("-")
    if "/" in text:
        parts = list(reversed(text.strip().split("/")))
    if len(parts) != 2 or not all(p.isdigit() for p in parts) or len(parts[0]) != 4:
        raise ValidationError(f"month {text!r} is not in the form YYYY-MM (e.g. 2026-10)")
    year, month = int(parts[0]), int(parts[1])
    if not 1 <= month <= 12:
        raise ValidationError(f"month {text!r}: {month} is not a month number (01–12)")
    if year < 2000:
        raise ValidationError(f"month {text!r}: the year is before the register could exist")
    return Period(year, month)


def last_complete_month(now: datetime) -> Period:
    return Period(now.year, now.month).previous()


def _json(column: Any) -> Any:
    return type_coerce(column, JSON)


def device_states(at: datetime) -> Subquery:
    """One row per device that existed before ``at``: its snapshot from the latest event."""
    ranked = (
        select(Event.id.label("event_id"), Event.device_id.label("device_id"),
               func.row_number().over(partition_by=Event.device_id,
                                      order_by=(Event.occurred_at.desc(), Event.seq.desc()))
               .label("rn"))
        .where(Event.entity_type == "device", Event.device_id.is_not(None),
               Event.occurred_at < at)
    ).subquery("ranked_events")
    latest = select(ranked.c.event_id, ranked.c.device_id).where(ranked.c.rn == 1).subquery(
        "latest_events")
    after = _json(Event.after)
    return (
        select(latest.c.device_id.label("device_id"),
               after["status"].as_string().label("status"),
               after["kind"].as_string().label("kind"),
               after["holder_id"].as_integer().label("holder_id"),
               after["agency_id"].as_integer().label("agency_id"),
               after["lock_count"].as_integer().label("lock_count"),
               Event.occurred_at.label("since"))
        .join(latest, latest.c.event_id == Event.id)
    ).subquery("state_at")


def certificates_at(at: datetime) -> Subquery:
    """Each device's newest certificate created before ``at`` (the one active at ``at``)."""
    ranked = (
        select(Certificate.device_id.label("device_id"), Certificate.serial.label("serial"),
               Certificate.not_before.label("not_before"),
               Certificate.not_after.label("not_after"),
               func.row_number().over(partition_by=Certificate.device_id,
                                      order_by=(Certificate.created_at.desc(),
                                                Certificate.id.desc())).label("rn"))
        .where(Certificate.created_at < at)
    ).subquery("ranked_certs")
    return (
        select(ranked.c.device_id, ranked.c.serial, ranked.c.not_before, ranked.c.not_after)
        .where(ranked.c.rn == 1)
    ).subquery("cert_at")


@dataclass(frozen=True)
class AgencyInfo:
    id: int
    code: str
    name: str  # the name at the report's instant
    path_ids: tuple[int, ...]


class AgencyResolver:
    """Agencies as they were at ``at``: names, merges and holders' moves (all small tables)."""

    def __init__(self, session: Session, at: datetime):
        self.at = at
        later_renames: dict[int, str] = {}
        for h in session.scalars(select(AgencyHistory).where(
                AgencyHistory.change == "rename", AgencyHistory.changed_at >= at)
                .order_by(AgencyHistory.changed_at.desc(), AgencyHistory.id.desc())):
            if h.old_name:
                later_renames[h.agency_id] = h.old_name  # ends as the earliest rename after
        self.agencies: dict[int, AgencyInfo] = {}
        for a_id, code, name, path in session.execute(
                select(Agency.id, Agency.code, Agency.name, Agency.path)):
            ids = tuple(int(p) for p in path.strip("/").split("/") if p) or (a_id,)
            self.agencies[a_id] = AgencyInfo(a_id, code, later_renames.get(a_id, name), ids)
        self.merged_into = dict(session.execute(
            select(AgencyHistory.agency_id, AgencyHistory.other_agency_id).where(
                AgencyHistory.change == "merge", AgencyHistory.changed_at < at,
                AgencyHistory.other_agency_id.is_not(None))).all())
        self.holder_moves: dict[int, list[tuple[datetime, int]]] = {}
        for ev in session.execute(select(Event.entity_id, Event.occurred_at, Event.before,
                                         Event.after).where(
                Event.action == "holder.change", Event.occurred_at < at)
                .order_by(Event.occurred_at, Event.seq)):
            before, after = ev.before or {}, ev.after or {}
            if ev.entity_id is not None and after.get("agency_id") != before.get("agency_id"):
                self.holder_moves.setdefault(ev.entity_id, []).append(
                    (ev.occurred_at, after["agency_id"]))

    def resolve(self, agency_id: int | None, holder_id: int | None = None,
                since: datetime | None = None) -> int | None:
        """The agency at ``at`` of a device whose snapshot (taken at ``since``) names these."""
        if holder_id is not None and since is not None and holder_id in self.holder_moves:
            moves = self.holder_moves[holder_id]
            i = bisect.bisect_right([t for t, _ in moves], since)
            if i < len(moves):
                agency_id = moves[-1][1]
        seen: set[int] = set()
        while agency_id in self.merged_into and agency_id not in seen:
            seen.add(agency_id)
            agency_id = self.merged_into[agency_id]
        return agency_id

    def info(self, agency_id: int | None) -> AgencyInfo | None:
        return self.agencies.get(agency_id) if agency_id is not None else None

    def rollup(self, agency_id: int | None, level: int) -> int | None:
        """The agency's ancestor at tree ``level`` (itself when it sits higher up)."""
        info = self.info(agency_id)
        if info is None:
            return None
        return info.path_ids[level] if len(info.path_ids) > level else info.id


@dataclass(frozen=True)
class DeviceAt:
    """One device as it stood at the report's instant (a row of the Register sheet)."""

    device_id: int
    serial: str
    kind: str
    status: str
    since: datetime
    lock_count: int
    holder_id: int | None
    agency_id: int | None  # resolved to the report's instant
    holder: str | None
    title: str | None
    national_id: str | None
    email: str | None
    phone: str | None
    manufacturer: str | None
    model: str | None
    phone_number: str | None
    certificate_serial: str | None
    not_before: datetime | None
    not_after: datetime | None

    def expires_within(self, at: datetime, days: int) -> bool:
        """A live certificate (device in use at ``at``) ending in ``[at, at + days)``."""
        return (self.status in IN_USE and self.not_after is not None
                and at <= self.not_after < at + timedelta(days=days))


def _stream(session: Session, stmt: Any) -> Iterator[Any]:
    yield from session.execute(stmt.execution_options(yield_per=STREAM_BATCH))


def devices_at(session: Session, at: datetime, agencies: AgencyResolver,
               *, order_by_expiry: bool = False, statuses: tuple[str, ...] = (),
               expiring_before: datetime | None = None) -> Iterator[DeviceAt]:
    """Every device at ``at`` (by id), streamed; or a filtered slice for the shorter lists."""
    state, cert = device_states(at), certificates_at(at)
    stmt = (
        select(state.c.device_id, Device.serial, state.c.kind, state.c.status, state.c.since,
               state.c.lock_count, state.c.holder_id, state.c.agency_id, Holder.full_name,
               Holder.title, Holder.national_id, Holder.email, Holder.phone,
               Device.manufacturer, Device.model, Device.phone_number, cert.c.serial,
               cert.c.not_before, cert.c.not_after)
        .join(Device, Device.id == state.c.device_id)
        .outerjoin(Holder, Holder.id == state.c.holder_id)
        .outerjoin(cert, cert.c.device_id == state.c.device_id)
    )
    if statuses:
        stmt = stmt.where(state.c.status.in_(statuses))
    if expiring_before is not None:
        stmt = stmt.where(state.c.status.in_(IN_USE), cert.c.not_after >= at,
                          cert.c.not_after < expiring_before)
    if order_by_expiry:
        stmt = stmt.order_by(cert.c.not_after, state.c.device_id)
    elif statuses:
        stmt = stmt.order_by(state.c.since, state.c.device_id)
    else:
        stmt = stmt.order_by(state.c.device_id)
    for r in _stream(session, stmt):
        yield DeviceAt(
            device_id=r[0], serial=r[1], kind=r[2], status=r[3], since=r[4],
            lock_count=r[5] or 0, holder_id=r[6],
            agency_id=agencies.resolve(r[7], r[6], r[4]), holder=r[8], title=r[9],
            national_id=r[10], email=r[11], phone=r[12], manufacturer=r[13], model=r[14],
            phone_number=r[15], certificate_serial=r[16], not_before=r[17],
            not_after=r[18])


@dataclass(frozen=True)
class ActivityRow:
    occurred_at: datetime
    action: str
    serial: str | None
    kind: str | None
    holder: str | None
    agency_id: int | None
    actor: str
    summary: str | None


def lifecycle_events(session: Session, start: datetime, end: datetime) -> Iterator[ActivityRow]:
    """Every device and certificate event in ``[start, end)``, by type then time."""
    after, before = _json(Event.after), _json(Event.before)
    holder_id = func.coalesce(after["holder_id"].as_integer(),
                              before["holder_id"].as_integer(), Device.holder_id)
    agency_id = func.coalesce(after["agency_id"].as_integer(),
                              before["agency_id"].as_integer(), Device.agency_id)
    holder = select(Holder.full_name).where(Holder.id == holder_id).scalar_subquery()
    stmt = (
        select(Event.occurred_at, Event.action, Device.serial, Device.kind, holder,
               agency_id, Event.actor, Event.summary)
        .outerjoin(Device, Device.id == Event.device_id)
        .where(Event.occurred_at >= start, Event.occurred_at < end,
               or_(*(Event.action.startswith(p) for p in LIFECYCLE_PREFIXES)))
        .order_by(Event.action, Event.occurred_at, Event.seq)
    )
    for r in _stream(session, stmt):
        yield ActivityRow(*r)
