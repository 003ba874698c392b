"""Handovers after the fact: marking a device received, and the data of the printable record.

The handover itself is made by ``lifecycle.issue``. The printable record (biên bản bàn giao) is
written by ``reports.handover_record``; this module gathers what it prints, per handover or per
batch (one record for all the devices a request handed over).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory.fleet.lifecycle import mask_national_id
from inventory.register import audit
from inventory.register.errors import NotFoundError, ValidationError
from inventory.register.models import Certificate, Handover, ServiceRequest, utcnow


def get_handover(session: Session, handover_id: int) -> Handover:
    handover = session.get(Handover, handover_id)
    if handover is None:
        raise NotFoundError(f"no handover #{handover_id}")
    return handover


def mark_received(session: Session, handover: Handover, *, actor: str,
                  at: datetime | None = None) -> Handover:
    """The holder (or the post) confirmed receipt."""
    when = at or utcnow()
    if when < handover.handed_at:
        raise ValidationError(f"handover #{handover.id}: received {when:%Y-%m-%d} is before it "
                              f"was handed over ({handover.handed_at:%Y-%m-%d})")
    before = {"received_at": handover.received_at}
    handover.received_at = when
    session.flush()
    audit.record(session, actor=actor, action="handover.received", entity_type="handover",
                 entity_id=handover.id, device_id=handover.device_id, before=before,
                 after={"received_at": when}, occurred_at=at)
    return handover


@dataclass(frozen=True)
class HandoverLine:
    holder_name: str
    title: str | None
    national_id: str
    device_kind: str
    device_serial: str
    certificate_serial: str | None
    certificate_not_after: datetime | None


@dataclass(frozen=True)
class HandoverRecord:
    """One printable record: who hands what to whom, how and when."""

    number: str
    handed_at: datetime
    received_at: datetime | None
    method: str  # a code: the record names it (``inventory.vocabulary``)
    tracking_no: str | None
    agency_name: str
    receiver_name: str
    request_id: int | None
    external_ref: str | None
    lines: tuple[HandoverLine, ...]


def _line(session: Session, h: Handover, show_id_numbers: bool) -> HandoverLine:
    cert = session.scalars(select(Certificate).where(Certificate.device_id == h.device_id)
                           .order_by(Certificate.status != "active",
                                     Certificate.not_after.desc())).first()
    nid = h.holder.national_id or ""
    return HandoverLine(holder_name=h.holder.full_name, title=h.holder.title,
                        national_id=nid if show_id_numbers else mask_national_id(nid),
                        device_kind=h.device.kind, device_serial=h.device.serial,
                        certificate_serial=cert.serial if cert else None,
                        certificate_not_after=cert.not_after if cert else None)


def handover_records(session: Session, *, request_id: int | None = None,
                     handover_ids: Sequence[int] = (), per: str = "handover",
                     show_id_numbers: bool = False) -> list[HandoverRecord]:
    """Records for a request's handovers or for given handovers; ``per`` = handover | batch."""
    if per not in ("handover", "batch"):
        raise ValidationError(f"per {per!r}: print one record per handover or per batch")
    stmt = select(Handover).order_by(Handover.id)
    if request_id is not None:
        if session.get(ServiceRequest, request_id) is None:
            raise NotFoundError(f"no request #{request_id}")
        stmt = stmt.where(Handover.request_id == request_id)
    elif handover_ids:
        stmt = stmt.where(Handover.id.in_(handover_ids))
    else:
        raise ValidationError("name a request or handover ids to print")
    handovers = list(session.scalars(stmt))
    missing = set(handover_ids) - {h.id for h in handovers}
    if missing:
        raise NotFoundError(f"no handover #{', #'.join(str(i) for i in sorted(missing))}")
    if not handovers:
        raise NotFoundError(f"request #{request_id} has handed over no device yet")
    groups = [[h] for h in handovers] if per == "handover" else [handovers]
    records = []
    for group in groups:
        first = group[0]
        req = session.get(ServiceRequest, first.request_id) if first.request_id else None
        agency = first.holder.agency
        number = (f"{first.id}/BBBG" if len(group) == 1 else
                  f"R{req.id}/BBBG" if req else f"{first.id}-{group[-1].id}/BBBG")
        records.append(HandoverRecord(
            number=number, handed_at=first.handed_at, received_at=first.received_at,
            method=first.method,
            tracking_no=first.tracking_no, agency_name=agency.name,
            receiver_name=first.holder.full_name if len(group) == 1 else agency.name,
            request_id=first.request_id, external_ref=req.external_ref if req else None,
            lines=tuple(_line(session, h, show_id_numbers) for h in group)))
    return records
