"""Reading requests: the list, turnaround figures, what is stuck, and the CA intake rows.

Requests number in the thousands, not millions, so figures are computed in Python over one
narrow query; the list is filtered in SQL on the ``(state, kind)`` index.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from inventory.desk.requests import (
    missing_documents,
    subscriber_label,
    subscriber_national_id,
)
from inventory.fleet.lifecycle import mask_national_id
from inventory.register.errors import ValidationError
from inventory.register.models import (
    REQUEST_KINDS,
    REQUEST_STATES,
    Agency,
    ServiceRequest,
    ServiceRequestItem,
    utcnow,
)
from inventory.register.stats import percentile


@dataclass(frozen=True)
class RequestRow:
    id: int
    kind: str
    state: str
    agency_code: str
    subscribers: int
    external_ref: str | None
    created_at: datetime
    submitted_at: datetime | None
    closed_at: datetime | None
    days_open: float
    missing_documents: str

    def as_record(self) -> dict[str, Any]:
        return asdict(self)


def _days(start: datetime, end: datetime) -> float:
    return round((end - start).total_seconds() / 86400, 1)


def _row(req: ServiceRequest, now: datetime) -> RequestRow:
    return RequestRow(id=req.id, kind=req.kind, state=req.state, agency_code=req.agency.code,
                      subscribers=len(req.items), external_ref=req.external_ref,
                      created_at=req.created_at, submitted_at=req.submitted_at,
                      closed_at=req.closed_at,
                      days_open=_days(req.submitted_at or req.created_at, req.closed_at or now),
                      missing_documents=", ".join(d.key for d in missing_documents(req))
                      if req.state == "draft" else "")


def list_requests(session: Session, *, kind: str | None = None, state: str | None = None,
                  agency_code: str | None = None, since: datetime | None = None,
                  now: datetime | None = None, limit: int = 10_000) -> list[RequestRow]:
    """Newest first; ``agency_code`` takes the agency and its sub-agencies."""
    if kind and kind not in REQUEST_KINDS:
        raise ValidationError(f"request kind {kind!r} is not one of {', '.join(REQUEST_KINDS)}")
    if state and state not in REQUEST_STATES:
        raise ValidationError(f"request state {state!r} is not one of "
                              f"{', '.join(REQUEST_STATES)}")
    stmt = select(ServiceRequest).options(selectinload(ServiceRequest.items))
    if kind:
        stmt = stmt.where(ServiceRequest.kind == kind)
    if state:
        stmt = stmt.where(ServiceRequest.state == state)
    if since:
        stmt = stmt.where(ServiceRequest.created_at >= since)
    if agency_code:
        path = session.scalar(select(Agency.path).where(Agency.code == agency_code))
        if path is None:
            raise ValidationError(f"no agency with code {agency_code!r}")
        stmt = stmt.join(Agency, Agency.id == ServiceRequest.agency_id).where(
            Agency.path.startswith(path))
    stmt = stmt.order_by(ServiceRequest.created_at.desc(), ServiceRequest.id.desc()).limit(limit)
    now = now or utcnow()
    return [_row(r, now) for r in session.scalars(stmt).unique()]


def pending_requests(session: Session, *, older_than: timedelta, now: datetime | None = None,
                     kind: str | None = None, agency_code: str | None = None
                     ) -> list[RequestRow]:
    """Drafts and submitted requests waiting longer than ``older_than`` (since filed/submitted)."""
    now = now or utcnow()
    rows = [r for state in ("draft", "submitted")
            for r in list_requests(session, state=state, kind=kind, agency_code=agency_code,
                                   now=now)]
    stuck = [r for r in rows if now - (r.submitted_at or r.created_at) > older_than]
    return sorted(stuck, key=lambda r: -r.days_open)


@dataclass(frozen=True)
class Turnaround:
    """Completed requests of one kind or one agency: days from submission to completion."""

    by: str  # "kind" | "agency"
    key: str
    completed: int
    median_days: float
    p90_days: float

    def as_record(self) -> dict[str, Any]:
        return asdict(self)


def request_turnaround(session: Session, *, since: datetime | None = None,
                       until: datetime | None = None) -> list[Turnaround]:
    """Median and 90th percentile per request kind, then per agency (completed in the period).

    Measured from submission (the CA's time) or, for a request completed without being marked
    submitted, from filing.
    """
    stmt = (select(ServiceRequest.kind, Agency.code, ServiceRequest.created_at,
                   ServiceRequest.submitted_at, ServiceRequest.closed_at)
            .join(Agency, Agency.id == ServiceRequest.agency_id)
            .where(ServiceRequest.state == "completed", ServiceRequest.closed_at.is_not(None)))
    if since:
        stmt = stmt.where(ServiceRequest.closed_at >= since)
    if until:
        stmt = stmt.where(ServiceRequest.closed_at < until)
    by_kind: dict[str, list[float]] = {}
    by_agency: dict[str, list[float]] = {}
    for kind, code, created, submitted, closed in session.execute(stmt):
        assert closed is not None
        days = (closed - (submitted or created)).total_seconds() / 86400
        by_kind.setdefault(kind, []).append(days)
        by_agency.setdefault(code, []).append(days)
    out = []
    for by, groups in (("kind", by_kind), ("agency", by_agency)):
        for key in sorted(groups, key=lambda k: REQUEST_KINDS.index(k) if by == "kind" else k):
            spans = groups[key]
            out.append(Turnaround(by=by, key=key, completed=len(spans),
                                  median_days=round(percentile(spans, 50), 1),
                                  p90_days=round(percentile(spans, 90), 1)))
    return out


@dataclass(frozen=True)
class IntakeRow:
    """One subscriber line of the spreadsheet the CA's intake expects."""

    ref: str  # R<request>-<item>: the CA's answer quotes it back
    request_id: int
    external_ref: str | None
    full_name: str
    title: str | None
    agency: str
    national_id: str
    email: str | None
    phone: str | None
    request_kind: str  # codes: the intake writer names them in the CA's language
    device_kind: str

    def as_record(self) -> dict[str, Any]:
        return asdict(self)


def item_ref(item: ServiceRequestItem) -> str:
    return f"R{item.request_id}-{item.id}"


def intake_rows(session: Session, *, since: datetime | None = None,
                until: datetime | None = None, show_id_numbers: bool = False
                ) -> Iterator[IntakeRow]:
    """Subscribers of the requests submitted in ``[since, until)`` and still waiting for the CA.

    National ID numbers are masked unless ``show_id_numbers`` (the copy sent to the CA needs them).
    """
    stmt = (select(ServiceRequest).where(ServiceRequest.state == "submitted")
            .options(selectinload(ServiceRequest.items).selectinload(ServiceRequestItem.holder))
            .order_by(ServiceRequest.submitted_at, ServiceRequest.id))
    if since:
        stmt = stmt.where(ServiceRequest.submitted_at >= since)
    if until:
        stmt = stmt.where(ServiceRequest.submitted_at < until)
    for req in session.scalars(stmt).unique():
        for item in req.items:
            holder = item.holder
            data = item.details.get("holder") or {}
            nid = subscriber_national_id(item) or ""
            yield IntakeRow(
                ref=item_ref(item), request_id=req.id, external_ref=req.external_ref,
                full_name=subscriber_label(item),
                title=holder.title if holder else data.get("title"),
                agency=holder.agency.name if holder else req.agency.name,
                national_id=nid if show_id_numbers else mask_national_id(nid),
                email=holder.email if holder else data.get("email"),
                phone=holder.phone if holder else data.get("phone"),
                request_kind=req.kind, device_kind=item.device_kind or "")
