"""The unlock desk: a locked device opens a case; the case closes when the device is unlocked.

``inventory.lifecycle.lock`` and ``unlock`` call :func:`case_on_lock` and :func:`case_on_unlock`
in the same transaction as the move, so a case exists for every lock-out whoever reported it (an
operator, an import, or the poller's sync). The desk adds who brought the device in and how it was
unlocked; :func:`unlock_turnaround` gives the lock → unlock figures per agency and month that the
monthly report and the dashboard show.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, insert, select
from sqlalchemy.orm import Session

from . import audit
from .errors import NotFoundError, ValidationError
from .models import Agency, Device, Event, UnlockCase, utcnow
from .stats import percentile

UNLOCK_METHODS = ("so_pin_reset", "vendor_tool", "ca_recovery", "reinitialised", "seen_healthy")
"""How a device gets unlocked: the security-officer PIN resets the user PIN; the vendor's tool;
the CA recovers it (a recovery request); it is re-initialised; or the poller saw it healthy."""


def _source(actor: str, reason: str | None) -> str:
    """The poller's sync locks with a reason or actor naming the poll; everything else is a
    report."""
    return "poller" if "poll" in f"{actor} {reason or ''}".lower() else "reported"


def _case_state(case: UnlockCase) -> dict[str, Any]:
    return {"device_id": case.device_id, "agency_id": case.agency_id, "source": case.source,
            "opened_at": case.opened_at, "brought_by": case.brought_by,
            "brought_at": case.brought_at, "unlock_method": case.unlock_method,
            "closed_at": case.closed_at}


def open_case_of(session: Session, device: Device) -> UnlockCase | None:
    return session.scalars(select(UnlockCase).where(UnlockCase.device_id == device.id,
                                                    UnlockCase.closed_at.is_(None))
                           .order_by(UnlockCase.id.desc())).first()


def case_on_lock(session: Session, device: Device, *, actor: str, reason: str | None,
                 at: datetime | None = None) -> UnlockCase:
    """Called by ``lifecycle.lock`` once the move is allowed: open the device's unlock case."""
    existing = open_case_of(session, device)
    if existing is not None:  # cannot happen through MOVES, but never open two
        return existing
    case = UnlockCase(device_id=device.id, agency_id=device.agency_id, holder_id=device.holder_id,
                      opened_at=at or utcnow(), opened_by=actor, source=_source(actor, reason),
                      lock_reason=reason)
    session.add(case)
    session.flush()
    audit.record(session, actor=actor, action="unlock_case.open", entity_type="unlock_case",
                 entity_id=case.id, device_id=device.id, summary=f"{device.serial} locked",
                 after=_case_state(case), occurred_at=at)
    return case


def case_on_unlock(session: Session, device: Device, *, actor: str, how: str,
                   at: datetime | None = None) -> UnlockCase | None:
    """Called by ``lifecycle.unlock`` once the move is allowed: close the case, recording how.

    A device locked before the desk existed has no case; its lock time is read from the audit
    trail so the turnaround still counts.
    """
    case = open_case_of(session, device)
    if case is None:
        locked_at = session.scalar(select(Event.occurred_at).where(
            Event.device_id == device.id, Event.action == "device.lock")
            .order_by(Event.seq.desc()).limit(1))
        if locked_at is None:
            return None
        case = UnlockCase(device_id=device.id, agency_id=device.agency_id,
                          holder_id=device.holder_id, opened_at=locked_at, opened_by=actor,
                          source="reported", lock_reason="(opened when it was unlocked)")
        session.add(case)
        session.flush()
    before = _case_state(case)
    case.unlock_method = how[:120]
    case.closed_at = at or utcnow()
    case.closed_by = actor
    session.flush()
    audit.record(session, actor=actor, action="unlock_case.close", entity_type="unlock_case",
                 entity_id=case.id, device_id=device.id, summary=f"{device.serial}: {how}",
                 before=before, after=_case_state(case), occurred_at=at)
    return case


def bring_in(session: Session, device: Device, *, brought_by: str, actor: str,
             at: datetime | None = None, note: str | None = None) -> UnlockCase:
    """Someone brought the locked device to the desk: record who and when."""
    if not brought_by.strip():
        raise ValidationError(f"device {device.serial}: say who brought it in")
    case = open_case_of(session, device)
    if case is None:
        raise NotFoundError(f"device {device.serial} is {device.status} and has no open unlock "
                            "case: only a locked device is brought to the desk")
    before = _case_state(case)
    case.brought_by, case.brought_at = brought_by.strip(), at or utcnow()
    if note:
        case.notes = note
    session.flush()
    audit.record(session, actor=actor, action="unlock_case.brought", entity_type="unlock_case",
                 entity_id=case.id, device_id=device.id,
                 summary=f"{device.serial} brought by {case.brought_by}", before=before,
                 after=_case_state(case), occurred_at=at)
    return case


def mark_unlocked(session: Session, device: Device, *, method: str, actor: str,
                  at: datetime | None = None) -> UnlockCase:
    """The desk unlocked the device: the lifecycle move, which closes the case."""
    from . import lifecycle

    if method not in UNLOCK_METHODS:
        raise ValidationError(f"unlock method {method!r} is not one of {', '.join(UNLOCK_METHODS)}")
    lifecycle.unlock(session, device, actor=actor, how=method, at=at)
    case = session.scalars(select(UnlockCase).where(UnlockCase.device_id == device.id)
                           .order_by(UnlockCase.id.desc())).first()
    assert case is not None and case.closed_at is not None
    return case


# --- reading -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class CaseRow:
    id: int
    serial: str
    device_kind: str
    agency_code: str | None
    holder: str | None
    source: str
    opened_at: datetime
    brought_by: str | None
    brought_at: datetime | None
    unlock_method: str | None
    closed_at: datetime | None
    days: float | None

    def as_record(self) -> dict[str, Any]:
        return dict(self.__dict__)


def list_cases(session: Session, *, open_only: bool = False, agency_code: str | None = None,
               limit: int = 1000) -> list[CaseRow]:
    """Open cases first (oldest first), then closed ones (newest first)."""
    stmt = select(UnlockCase)
    if open_only:  # a locked device later reported lost leaves its case open: not at the desk
        stmt = stmt.join(Device, Device.id == UnlockCase.device_id).where(
            UnlockCase.closed_at.is_(None), Device.status == "locked")
    if agency_code:
        sub = select(Agency.path).where(Agency.code == agency_code).scalar_subquery()
        stmt = stmt.join(Agency, Agency.id == UnlockCase.agency_id).where(
            Agency.path.startswith(sub))
    stmt = stmt.order_by(UnlockCase.closed_at.is_not(None), UnlockCase.closed_at.desc(),
                         UnlockCase.opened_at).limit(limit)
    rows = []
    for c in session.scalars(stmt).unique():
        rows.append(CaseRow(
            id=c.id, serial=c.device.serial, device_kind=c.device.kind,
            agency_code=c.agency.code if c.agency else None,
            holder=c.holder.full_name if c.holder else None, source=c.source,
            opened_at=c.opened_at, brought_by=c.brought_by, brought_at=c.brought_at,
            unlock_method=c.unlock_method, closed_at=c.closed_at,
            days=round((c.closed_at - c.opened_at).total_seconds() / 86400, 2)
            if c.closed_at else None))
    return rows


@dataclass(frozen=True)
class UnlockTurnaround:
    """Lock → unlock of the cases closed in one month, for one agency (``None`` = all)."""

    month: str  # YYYY-MM, of the unlock
    agency_code: str | None
    agency_name: str | None
    unlocked: int
    median_days: float
    p90_days: float
    max_days: float

    def as_record(self) -> dict[str, Any]:
        return dict(self.__dict__)


def unlock_turnaround(session: Session, *, since: datetime | None = None,
                      until: datetime | None = None, by_agency: bool = True
                      ) -> list[UnlockTurnaround]:
    """Per month of unlock (and per agency at the time of lock, unless ``by_agency=False``)."""
    conds: list[ColumnElement[bool]] = [UnlockCase.closed_at.is_not(None)]
    if since:
        conds.append(UnlockCase.closed_at >= since)
    if until:
        conds.append(UnlockCase.closed_at < until)
    rows = session.execute(
        select(UnlockCase.opened_at, UnlockCase.closed_at, Agency.code, Agency.name)
        .outerjoin(Agency, Agency.id == UnlockCase.agency_id).where(and_(*conds))).all()
    groups: dict[tuple[str, str | None, str | None], list[float]] = {}
    for opened, closed, code, name in rows:
        assert closed is not None
        key = (f"{closed:%Y-%m}", code, name) if by_agency else (f"{closed:%Y-%m}", None, None)
        groups.setdefault(key, []).append((closed - opened).total_seconds() / 86400)
    return [UnlockTurnaround(month=m, agency_code=code, agency_name=name, unlocked=len(days),
                             median_days=round(percentile(days, 50), 2),
                             p90_days=round(percentile(days, 90), 2),
                             max_days=round(max(days), 2))
            for (m, code, name), days in sorted(groups.items(),
                                                key=lambda kv: (kv[0][0], kv[0][1] or ""))]


# --- demo --------------------------------------------------------------------------------------

DEMO_BRINGERS = ("Văn thư", "Chuyên viên CNTT", "Người sử dụng", "Bưu điện")


def demo_cases(conn: Connection, *, now: datetime, seed: int = 1, chunk: int = 20_000) -> int:
    """Unlock cases for the demo fleet, derived from the lock/unlock events it already wrote.

    Every ``device.lock`` event opens a case; the next ``device.unlock`` of that device closes it.
    Cases of devices still locked stay open. The demo's events already tell the story, so no
    audit events are added here.
    """
    rng = random.Random(seed * 7919 + 7)
    rows: list[dict[str, Any]] = []
    open_by_device: dict[int, dict[str, Any]] = {}
    written = 0
    stmt = (select(Event.device_id, Event.action, Event.occurred_at, Event.after)
            .where(Event.action.in_(("device.lock", "device.unlock")))
            .order_by(Event.device_id, Event.seq))
    for device_id, action, at, after in conn.execute(stmt):
        if action == "device.lock":
            source = "poller" if rng.random() < 0.4 else "reported"
            open_by_device[device_id] = {
                "device_id": device_id, "agency_id": (after or {}).get("agency_id"),
                "holder_id": (after or {}).get("holder_id"), "opened_at": at,
                "opened_by": "poller" if source == "poller" else "demo", "source": source,
                "lock_reason": "poll: PIN blocked" if source == "poller" else "reported by holder",
                "brought_by": None, "brought_at": None, "unlock_method": None,
                "closed_at": None, "closed_by": None, "notes": None}
            continue
        case = open_by_device.pop(device_id, None)
        if case is None:
            continue
        span = max((at - case["opened_at"]).total_seconds(), 0)
        if rng.random() < 0.8:
            case["brought_by"] = rng.choice(DEMO_BRINGERS)
            case["brought_at"] = case["opened_at"] + timedelta(seconds=rng.uniform(0, span))
        case["unlock_method"] = rng.choices(UNLOCK_METHODS, weights=[50, 20, 10, 5, 15])[0]
        case["closed_at"], case["closed_by"] = at, "demo"
        rows.append(case)
        if len(rows) >= chunk:
            conn.execute(insert(UnlockCase), rows)
            written, rows = written + len(rows), []
    still_locked = set(conn.scalars(select(Device.id).where(Device.status == "locked")))
    for case in open_by_device.values():  # lost or revoked while locked: never reached the desk
        if case["device_id"] not in still_locked:
            continue
        if rng.random() < 0.5:
            case["brought_by"] = rng.choice(DEMO_BRINGERS)
            case["brought_at"] = min(case["opened_at"] + timedelta(days=rng.randint(0, 5)), now)
        rows.append(case)
    if rows:
        conn.execute(insert(UnlockCase), rows)
    return written + len(rows)

