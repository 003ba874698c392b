"""The unlock desk: who brought a locked device in, how it was unlocked, and the turnaround.

Cases open and close with the lock state (``inventory.fleet.unlock_cases``, called by the
lifecycle moves); the desk adds who brought the device in and how it was unlocked;
:func:`unlock_turnaround` gives the lock → unlock figures per agency and month that the monthly
report and the dashboard show.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from inventory.fleet import lifecycle
from inventory.fleet.unlock_cases import case_state, open_case_of
from inventory.register import audit
from inventory.register.errors import NotFoundError, ValidationError
from inventory.register.models import Agency, Device, UnlockCase, utcnow
from inventory.register.stats import percentile

UNLOCK_METHODS = ("so_pin_reset", "vendor_tool", "ca_recovery", "reinitialised", "seen_healthy")
"""How a device gets unlocked: the security-officer PIN resets the user PIN; the vendor's tool;
the CA recovers it (a recovery request); it is re-initialised; or the poller saw it healthy."""


def bring_in(session: Session, device: Device, *, brought_by: str, actor: str,
             at: datetime | None = None, note: str | None = None) -> UnlockCase:
    """Someone brought the locked device to the desk: record who and when."""
    if not brought_by.strip():
        raise ValidationError(f"device {device.serial}: say who brought it in",
                              key="brought_by_needed", serial=device.serial)
    case = open_case_of(session, device)
    if case is None:
        raise NotFoundError(f"device {device.serial} is {device.status} and has no open unlock "
                            "case: only a locked device is brought to the desk",
                            key="no_open_unlock_case", serial=device.serial,
                            status=device.status)
    before = case_state(case)
    case.brought_by, case.brought_at = brought_by.strip(), at or utcnow()
    if note:
        case.notes = note
    session.flush()
    audit.record(session, actor=actor, action="unlock_case.brought", entity_type="unlock_case",
                 entity_id=case.id, device_id=device.id,
                 summary=f"{device.serial} brought by {case.brought_by}", before=before,
                 after=case_state(case), occurred_at=at)
    return case


def mark_unlocked(session: Session, device: Device, *, method: str, actor: str,
                  at: datetime | None = None) -> UnlockCase:
    """The desk unlocked the device: the lifecycle move, which closes the case."""
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
    outcome: str | None = None  # UNLOCK_OUTCOMES once closed: unlocked, or closed lost/revoked

    def as_record(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _in_agency(stmt: Any, agency_code: str | None) -> Any:
    if not agency_code:
        return stmt
    sub = select(Agency.path).where(Agency.code == agency_code).scalar_subquery()
    return stmt.join(Agency, Agency.id == UnlockCase.agency_id).where(Agency.path.startswith(sub))


def count_open_cases(session: Session, *, agency_code: str | None = None) -> int:
    """Cases still open: exactly the locked devices (a case closes with every move out of
    ``locked``), so the desk's figure, ``unlock list --open`` and the dashboard agree."""
    stmt = select(func.count()).select_from(UnlockCase).where(UnlockCase.closed_at.is_(None))
    return session.scalar(_in_agency(stmt, agency_code)) or 0


def list_cases(session: Session, *, open_only: bool = False, agency_code: str | None = None,
               case_id: int | None = None, limit: int = 1000) -> list[CaseRow]:
    """Open cases first (oldest first), then closed ones (newest first); or the one case
    ``case_id``."""
    stmt = select(UnlockCase)
    if case_id is not None:
        stmt = stmt.where(UnlockCase.id == case_id)
    if open_only:
        stmt = stmt.where(UnlockCase.closed_at.is_(None))
    stmt = _in_agency(stmt, agency_code)
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
            if c.closed_at else None, outcome=c.outcome))
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
    # only cases the desk unlocked: a case closed because the device was lost is no turnaround
    conds: list[ColumnElement[bool]] = [UnlockCase.closed_at.is_not(None),
                                        UnlockCase.outcome == "unlocked"]
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


