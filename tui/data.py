"""The reads the screens need beyond ``inventory.fleet.queries``: dashboard figures, agency counts.

Every function takes a session from ``register.read()`` and returns plain data, so the workers
that call them never hand ORM rows to the UI thread. All are index-backed aggregates: nothing
here loads the register.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from inventory.fleet.queries import DeviceFilter, count_devices
from inventory.register.models import Agency, Device, Event, Holder

EXPIRY_WINDOWS = (7, 30, 60, 90)
NOT_SEEN_STATUSES = ("issued", "locked")  # only devices out with holders can be "unseen"
MONTH_ACTIONS = ("device.issue", "certificate.renew", "device.revoke", "device.unlock")


@dataclass(frozen=True)
class DashboardFigures:
    by_status: dict[str, int]
    by_kind: dict[str, int]
    expiring: dict[int, int]
    locked: int
    locked_oldest_days: int | None
    lost: int
    not_seen: int
    not_seen_days: int
    month_start: datetime
    month: dict[str, int]
    extras: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # optional figures

    @property
    def total(self) -> int:
        return sum(self.by_status.values())


def month_start(now: datetime) -> datetime:
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def status_and_kind_counts(session: Session) -> tuple[dict[str, int], dict[str, int]]:
    """Two GROUP BYs, each over a covering index (status, id) / (kind, serial): ~0.14 s at 1M
    devices on SQLite, where the (kind, status) cross-tab of ``count_by_status`` scans the
    table (1.4 s). The dashboard shows the two separately, so it needs no cross-tab."""
    by_status = dict(session.execute(select(Device.status, func.count())
                                     .group_by(Device.status)).all())
    by_kind = dict(session.execute(select(Device.kind, func.count())
                                   .group_by(Device.kind)).all())
    return by_status, by_kind


def dashboard_figures(session: Session, now: datetime, *, not_seen_days: int = 30
                      ) -> DashboardFigures:
    by_status, by_kind = status_and_kind_counts(session)
    expiring = {d: count_devices(session, DeviceFilter(expiring_within=timedelta(days=d), now=now))
                for d in EXPIRY_WINDOWS}
    oldest = session.scalar(select(func.min(Device.status_changed_at))
                            .where(Device.status == "locked"))
    not_seen = count_devices(session, DeviceFilter(
        statuses=NOT_SEEN_STATUSES, not_seen_for=timedelta(days=not_seen_days), now=now))
    start = month_start(now)
    month = dict.fromkeys(MONTH_ACTIONS, 0)
    for action, n in session.execute(
            select(Event.action, func.count()).where(Event.action.in_(MONTH_ACTIONS),
                                                     Event.occurred_at >= start,
                                                     Event.occurred_at <= now)
            .group_by(Event.action)).all():
        month[action] = n
    return DashboardFigures(
        by_status=by_status, by_kind=by_kind, expiring=expiring,
        locked=by_status.get("locked", 0),
        locked_oldest_days=(now - oldest).days if oldest is not None else None,
        lost=by_status.get("lost", 0), not_seen=not_seen, not_seen_days=not_seen_days,
        month_start=start, month=month, extras=optional_figures(session, now))


def optional_figures(session: Session, now: datetime) -> list[tuple[str, dict[str, Any]]]:
    """(label key, values) from features that may not be installed: the alert job's heartbeat
    (``inventory.alerts.last_run``) and this month's unlock turnaround
    (``inventory.desk.unlock_desk``)."""
    lines: list[tuple[str, dict[str, Any]]] = []
    if importlib.util.find_spec("inventory.alerts") is not None:
        import inventory.alerts as alerts

        last_run = getattr(alerts, "last_run", None)
        if callable(last_run):
            run = last_run(session)
            lines.append(("dash.alerts_last_run",
                          {"when": f"{run.started_at:%Y-%m-%d %H:%M} ({run.outcome})"})
                         if run is not None else ("dash.alerts_never", {}))
    if importlib.util.find_spec("inventory.desk.unlock_desk") is not None:
        import inventory.desk.unlock_desk as unlock

        turnaround = getattr(unlock, "unlock_turnaround", None)
        if callable(turnaround):
            rows = turnaround(session, since=month_start(now), until=now, by_agency=False)
            if rows:
                lines.append(("dash.unlock_turnaround", {"days": rows[-1].median_days}))
    return lines


def agency_device_counts(session: Session) -> dict[int, int]:
    """Devices per agency including sub-agencies (one GROUP BY, summed up the ``path``)."""
    direct = dict(session.execute(select(Device.agency_id, func.count())
                                  .where(Device.agency_id.is_not(None))
                                  .group_by(Device.agency_id)).all())
    totals: dict[int, int] = {}
    for agency_id, path in session.execute(select(Agency.id, Agency.path)).all():
        n = direct.get(agency_id, 0)
        if not n:
            continue
        for part in path.strip("/").split("/"):
            if part:
                totals[int(part)] = totals.get(int(part), 0) + n
    return totals


@dataclass(frozen=True)
class AgencyNode:
    id: int
    code: str
    name: str
    has_children: bool


def agency_children(session: Session, parent_id: int | None) -> list[AgencyNode]:
    parent = Agency.parent_id.is_(None) if parent_id is None else Agency.parent_id == parent_id
    rows = session.execute(select(Agency.id, Agency.code, Agency.name)
                           .where(parent, Agency.active.is_(True)).order_by(Agency.name)).all()
    with_children = set(session.scalars(select(Agency.parent_id).where(
        Agency.parent_id.in_([r.id for r in rows])).distinct()).all())
    return [AgencyNode(r.id, r.code, r.name, r.id in with_children) for r in rows]


@dataclass(frozen=True)
class HolderRow:
    id: int
    full_name: str
    title: str | None
    agency_code: str


def holders_of_agency(session: Session, agency_id: int, limit: int = 200) -> list[HolderRow]:
    rows = session.execute(select(Holder.id, Holder.full_name, Holder.title, Agency.code)
                           .join(Agency, Agency.id == Holder.agency_id)
                           .where(Holder.agency_id == agency_id)
                           .order_by(Holder.name_folded).limit(limit)).all()
    return [HolderRow(*r) for r in rows]


def holder_rows(holders: list[Any]) -> list[HolderRow]:
    return [HolderRow(h.id, h.full_name, h.title, h.agency.code) for h in holders]


@dataclass(frozen=True)
class EventRow:
    seq: int
    occurred_at: datetime
    actor: str
    action: str
    serial: str | None
    summary: str | None


def events_since(session: Session, action: str, since: datetime, until: datetime,
                 limit: int = 500) -> list[EventRow]:
    rows = session.execute(
        select(Event.seq, Event.occurred_at, Event.actor, Event.action, Device.serial,
               Event.summary)
        .outerjoin(Device, Device.id == Event.device_id)
        .where(Event.action == action, Event.occurred_at >= since, Event.occurred_at <= until)
        .order_by(Event.occurred_at.desc()).limit(limit)).all()
    return [EventRow(*r) for r in rows]
