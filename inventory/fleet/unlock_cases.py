"""Unlock cases follow the lock state: a device entering ``locked`` opens one, leaving closes it.

``inventory.fleet.lifecycle.lock`` and ``unlock`` call :func:`case_on_lock` and
:func:`case_on_unlock` in the same transaction as the move, so a case exists for every lock-out
whoever reported it (an operator, an import, or the poller's sync). A locked device reported
lost or revoked leaves ``locked`` too: :func:`case_on_leaving_locked` closes its case as
"closed: lost" / "closed: revoked" in that move's transaction, so the open cases are exactly
the locked devices. The service desk's work on a
case (who brought it in, how it was unlocked, turnaround) lives in ``inventory.desk.unlock_desk``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory.register import audit
from inventory.register.models import Device, Event, UnlockCase, utcnow


def _source(actor: str, reason: str | None) -> str:
    """The poller's sync locks with a reason or actor naming the poll; everything else is a
    report."""
    return "poller" if "poll" in f"{actor} {reason or ''}".lower() else "reported"


CASE_FIELDS = ("device_id", "agency_id", "source", "opened_at", "brought_by", "brought_at",
               "unlock_method", "closed_at", "outcome")


def case_state(case: UnlockCase | dict[str, Any]) -> dict[str, Any]:
    if isinstance(case, dict):
        return {f: case.get(f) for f in CASE_FIELDS}
    return {f: getattr(case, f) for f in CASE_FIELDS}


def opening_case(*, device_id: int, agency_id: int | None, holder_id: int | None, actor: str,
                 reason: str | None, at: datetime) -> dict[str, Any]:
    """The case a lock opens, as column values (the lifecycle and bulk imports share it)."""
    return {"device_id": device_id, "agency_id": agency_id, "holder_id": holder_id,
            "opened_at": at, "opened_by": actor, "source": _source(actor, reason),
            "lock_reason": reason}


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
    case = UnlockCase(**opening_case(device_id=device.id, agency_id=device.agency_id,
                                     holder_id=device.holder_id, actor=actor, reason=reason,
                                     at=at or utcnow()))
    session.add(case)
    session.flush()
    audit.record(session, actor=actor, action="unlock_case.open", entity_type="unlock_case",
                 entity_id=case.id, device_id=device.id, summary=f"{device.serial} locked",
                 after=case_state(case), occurred_at=at)
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
    before = case_state(case)
    case.unlock_method = how[:120]
    case.closed_at = at or utcnow()
    case.closed_by = actor
    case.outcome = "unlocked"
    session.flush()
    audit.record(session, actor=actor, action="unlock_case.close", entity_type="unlock_case",
                 entity_id=case.id, device_id=device.id, summary=f"{device.serial}: {how}",
                 before=before, after=case_state(case), occurred_at=at)
    return case


def case_on_leaving_locked(session: Session, device: Device, outcome: str, *, actor: str,
                           at: datetime | None = None) -> UnlockCase | None:
    """Called by ``lifecycle.report_lost`` / ``revoke`` once the move is allowed: a locked
    device that leaves for ``lost`` or ``revoked`` will never be unlocked at the desk, so its
    open case closes with that ``outcome`` (nothing to do for a device that was not locked)."""
    case = open_case_of(session, device)
    if case is None:
        return None
    before = case_state(case)
    case.closed_at = at or utcnow()
    case.closed_by = actor
    case.outcome = outcome
    session.flush()
    audit.record(session, actor=actor, action="unlock_case.close", entity_type="unlock_case",
                 entity_id=case.id, device_id=device.id,
                 summary=f"{device.serial}: closed, device {outcome}",
                 before=before, after=case_state(case), occurred_at=at)
    return case
