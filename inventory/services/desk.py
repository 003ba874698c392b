"""The service desk: certification requests, handovers and the unlock desk.

``tokenfleet request|handover|unlock …`` and the TUI's desk (its requests pane, request detail
and unlock pane) call these, so both front ends take the same steps with the same checks and
show the same figures. The workflows themselves are ``inventory.desk`` (requests and their
dossier, the CA exchange, handovers, the unlock desk, the figures); here each step gets its own
transaction and returns a typed read model, never an ORM row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory.desk import ca_exchange, figures, handovers, unlock_desk
from inventory.desk import requests as rq
from inventory.desk.ca_exchange import AnswerResult
from inventory.desk.figures import IntakeRow, RequestRow, Turnaround
from inventory.desk.handovers import HandoverRecord
from inventory.desk.requests import Answer, HandoverPlan, Subscriber
from inventory.desk.unlock_desk import CaseRow, UnlockTurnaround
from inventory.fleet import lifecycle
from inventory.fleet.lifecycle import CertificateData, mask_national_id
from inventory.fleet.queries import agency_by_code, get_device, get_holder
from inventory.fleet.sheets import header_key, read_table
from inventory.fleet.unlock_cases import open_case_of
from inventory.register import checks
from inventory.register.db import Register
from inventory.register.errors import ImportFileError, RowProblem, ValidationError
from inventory.register.models import REQUEST_STATES, Device, Handover, ServiceRequest, utcnow
from inventory.register.text import cell_text
from inventory.services.devices import DeviceRef
from inventory.vocabulary import Vocabulary

__all__ = [
    "ANSWER_KINDS",
    "CHANGEABLE_FIELDS",
    "REQUEST_STEPS",
    "UNLOCK_METHODS",
    "Answer",
    "AnswerResult",
    "CaseRow",
    "DossierLine",
    "HandoverPlan",
    "HandoverRecord",
    "HandoverRow",
    "IntakeRow",
    "LockOutcome",
    "RequestDetail",
    "RequestRow",
    "RequestSummary",
    "Subscriber",
    "SubscriberLine",
    "Turnaround",
    "UnlockTurnaround",
]

CHANGEABLE_FIELDS = rq.CHANGEABLE_FIELDS
UNLOCK_METHODS = unlock_desk.UNLOCK_METHODS
REQUEST_STEPS = tuple(rq.STEPS)
"""The steps a filed request takes: submit, complete, reject, cancel."""
ANSWER_KINDS = rq.ANSWER_KINDS


# --- requests: read models -----------------------------------------------------------------------

@dataclass(frozen=True)
class DossierLine:
    key: str
    request_kind: str
    attached: bool
    file: str | None = None  # the scan or file that holds it; None: on paper (or missing)

    def label(self, lang: str) -> str:
        """The document's name (the request form's depends on the kind of request)."""
        return Vocabulary(lang).document(self.request_kind, self.key)


@dataclass(frozen=True)
class SubscriberLine:
    line: int
    ref: str  # R<request>-<item>, as the CA's answer quotes it
    name: str
    national_id: str  # masked unless asked for in full
    device_kind: str | None
    device_serial: str | None
    details: str | None  # a change of information (field=value, …) or a revocation's reason


@dataclass(frozen=True)
class RequestDetail:
    """One request: its steps, dossier checklist and subscribers."""

    id: int
    kind: str
    state: str
    agency_code: str
    agency_name: str
    external_ref: str | None
    channel: str | None
    created_at: datetime
    created_by: str
    submitted_at: datetime | None
    submitted_by: str | None
    closed_at: datetime | None
    closed_by: str | None
    close_reason: str | None
    dossier: tuple[DossierLine, ...]
    subscribers: tuple[SubscriberLine, ...]

    @property
    def history(self) -> list[tuple[str, str | None, datetime]]:
        """The steps taken: (created | submitted | completed | rejected | cancelled, who,
        when)."""
        steps = [("created", self.created_by, self.created_at),
                 ("submitted", self.submitted_by, self.submitted_at),
                 (self.state if self.state in ("completed", "rejected", "cancelled")
                  else "closed", self.closed_by, self.closed_at)]
        return [(step, who, when) for step, who, when in steps if when is not None]

    def allowed_from(self, step: str) -> list[str]:
        """The states ``step`` (one of ``REQUEST_STEPS``, or ``attach``) may be taken from."""
        sources = rq.DOSSIER_OPEN if step == "attach" else rq.STEPS[step][0]
        return [s for s in REQUEST_STATES if s in sources]

    def allows(self, step: str) -> bool:
        """Whether the request's state lets it take ``step`` (``REQUEST_STEPS``, ``attach``)."""
        return self.state in self.allowed_from(step)

    @property
    def missing_documents(self) -> list[str]:
        return [line.key for line in self.dossier if not line.attached]

    @property
    def device_serial(self) -> str | None:
        """The device of a one-subscriber request, if it names one (what the CA's answer for it
        is about)."""
        return self.subscribers[0].device_serial if len(self.subscribers) == 1 else None


@dataclass(frozen=True)
class RequestSummary:
    """A request after a step: what the front end reports back."""

    id: int
    kind: str
    state: str
    agency_code: str
    subscribers: int
    external_ref: str | None
    missing_documents: tuple[str, ...]  # dossier keys still missing


def _summary(req: ServiceRequest) -> RequestSummary:
    return RequestSummary(id=req.id, kind=req.kind, state=req.state, agency_code=req.agency.code,
                          subscribers=len(req.items), external_ref=req.external_ref,
                          missing_documents=tuple(d.key for d in rq.missing_documents(req)))


def request_detail(register: Register, request_id: int, *,
                   show_id_numbers: bool = False) -> RequestDetail:
    with register.read() as session:
        req = rq.get_request(session, request_id)
        lines = []
        for n, item in enumerate(req.items, start=1):
            nid = rq.subscriber_national_id(item)
            changes = (item.details or {}).get("changes") or {}
            lines.append(SubscriberLine(
                line=n, ref=figures.item_ref(item), name=rq.subscriber_label(item),
                national_id=(nid or "") if show_id_numbers else mask_national_id(nid),
                device_kind=item.device_kind,
                device_serial=item.device.serial if item.device else None,
                details=", ".join(f"{k}={v}" for k, v in changes.items())
                or (item.details or {}).get("reason")))
        return RequestDetail(
            id=req.id, kind=req.kind, state=req.state, agency_code=req.agency.code,
            agency_name=req.agency.name, external_ref=req.external_ref, channel=req.channel,
            created_at=req.created_at, created_by=req.created_by,
            submitted_at=req.submitted_at, submitted_by=req.submitted_by,
            closed_at=req.closed_at, closed_by=req.closed_by, close_reason=req.close_reason,
            dossier=tuple(DossierLine(d.key, d.request_kind, attached,
                                      ((req.dossier or {}).get(d.key) or {}).get("file"))
                          for d, attached in rq.dossier_checklist(req)),
            subscribers=tuple(lines))


def list_requests(register: Register, *, kind: str | None = None, state: str | None = None,
                  agency_code: str | None = None, pending_over_days: int | None = None,
                  now: datetime | None = None, limit: int = 10_000) -> list[RequestRow]:
    """Newest first; ``agency_code`` takes its sub-agencies too. With ``pending_over_days``,
    only drafts and submitted requests waiting longer than that, longest first."""
    with register.read() as session:
        if pending_over_days is None:
            return figures.list_requests(session, kind=kind, state=state,
                                         agency_code=agency_code, now=now, limit=limit)
        rows = figures.pending_requests(session, older_than=timedelta(days=pending_over_days),
                                        now=now, kind=kind, agency_code=agency_code)
        return [r for r in rows if not state or r.state == state][:limit]


@dataclass(frozen=True)
class RequestFigures:
    """Turnaround per kind and per agency, and the requests waiting too long."""

    turnaround: list[Turnaround]
    pending: list[RequestRow]


def request_figures(register: Register, *, since: datetime | None = None,
                    until: datetime | None = None, pending_over_days: int = 14,
                    now: datetime | None = None) -> RequestFigures:
    with register.read() as session:
        return RequestFigures(
            figures.request_turnaround(session, since=since, until=until),
            figures.pending_requests(session, older_than=timedelta(days=pending_over_days),
                                     now=now or utcnow()))


def intake(register: Register, *, since: datetime | None = None, until: datetime | None = None,
           show_id_numbers: bool = False) -> list[IntakeRow]:
    """The CA intake list: one row per subscriber of the submitted requests."""
    with register.read() as session:
        return list(figures.intake_rows(session, since=since, until=until,
                                        show_id_numbers=show_id_numbers))


# --- requests: filing and steps ----------------------------------------------------------------

def subscribers_from_file(path: Path) -> list[Subscriber]:
    """A batch's subscribers from .xlsx/.csv (headers as in device imports: 'Họ và tên', …);
    every bad row is named, and none is filed if one is bad."""
    table = read_table(path)
    header_at = next((i for i, r in enumerate(table) if any(cell_text(c) for c in r)), None)
    if header_at is None:
        raise ImportFileError(str(path), "the file is empty")
    columns = {i: key for i, c in enumerate(table[header_at]) if (key := header_key(c))}
    if not {"holder", "national_id", "serial"} & set(columns.values()):
        raise ImportFileError(str(path), f"row {header_at + 1}: no name ('Họ và tên'), ID number "
                              "or device serial column")
    subs, problems = [], []
    for index in range(header_at + 1, len(table)):
        v = {key: cell_text(table[index][i]) for i, key in columns.items()
             if i < len(table[index])}
        if not any(v.values()):
            continue
        try:
            kind = checks.kind(v["kind"]) if v.get("kind") else "usb_token"
        except ValidationError as err:
            problems.append(RowProblem(index + 1, str(err)))
            continue
        subs.append(Subscriber(full_name=v.get("holder"), title=v.get("title"),
                               email=v.get("email"), phone=v.get("phone"),
                               national_id=v.get("national_id"),
                               device_serial=v.get("serial"), device_kind=kind))
    if problems:
        raise ImportFileError(str(path), f"{len(problems)} bad row(s); no request was filed",
                              problems)
    return subs


def new_request(register: Register, *, kind: str, agency_code: str, actor: str,
                holders: Sequence[str] = (), devices: Sequence[str] = (),
                subscribers: Sequence[Subscriber] = (), device_kind: str = "usb_token",
                changes: dict[str, Any] | None = None, reason: str | None = None,
                external_ref: str | None = None, channel: str | None = None,
                documents: Sequence[str] = ()) -> RequestSummary:
    """File a draft request: existing ``holders`` (id, ID number or name), the ``devices`` it
    concerns (by serial) and new ``subscribers``, each with the same change or reason; tick
    the ``documents`` already in hand."""
    changes = dict(changes or {})
    with register.session() as session:
        subs = [Subscriber(holder_id=get_holder(session, ref).id, device_kind=device_kind,
                           changes=changes, reason=reason) for ref in holders]
        subs += [Subscriber(device_serial=serial, changes=changes, reason=reason)
                 for serial in devices]
        subs += subscribers
        req = rq.new_request(session, kind=kind, agency=agency_by_code(session, agency_code),
                             subscribers=subs, actor=actor, external_ref=external_ref,
                             channel=channel)
        if documents:
            rq.attach_documents(session, req, documents, actor=actor)
        return _summary(req)


def attach_documents(register: Register, request_id: int, documents: Sequence[str], *,
                     actor: str, detach: bool = False, note: str | None = None,
                     file: str | None = None) -> RequestSummary:
    """Tick (or untick) documents of the dossier checklist; ``file`` names the scan that holds
    them (kept as a reference; the file stays where it is)."""
    with register.session() as session:
        return _summary(rq.attach_documents(session, rq.get_request(session, request_id),
                                            documents, actor=actor, detach=detach, note=note,
                                            file=file))


def complete_request(register: Register, request_id: int, *, actor: str,
                     device_serial: str | None = None,
                     certificate: CertificateData | None = None,
                     handover: HandoverPlan | None = None) -> RequestSummary:
    """Perform the request's lifecycle moves and close it. The device and certificate of a
    one-subscriber request may be given here; a batch's come from the CA's answer
    (:func:`import_answer`)."""
    with register.session() as session:
        req = rq.get_request(session, request_id)
        answers = {}
        if device_serial or certificate:
            if len(req.items) != 1:
                raise ValidationError(f"request #{req.id} has {len(req.items)} subscribers: "
                                      "complete it with `request import-answer`")
            answers[req.items[0].id] = Answer(device_serial=device_serial,
                                              certificate=certificate)
        rq.complete(session, req, actor=actor, answers=answers, handover=handover)
        return _summary(req)


def request_step(register: Register, request_id: int, step: str, *, actor: str,
                 reason: str | None = None, external_ref: str | None = None) -> RequestSummary:
    """Take one of ``REQUEST_STEPS``: submit (the dossier must be complete; ``external_ref``
    is the CA's number), complete (a request whose answer needs no device or certificate),
    reject (``reason`` required) or cancel."""
    if step not in rq.STEPS:
        raise ValidationError(f"unknown request step {step!r}: use one of "
                              f"{', '.join(REQUEST_STEPS)}")
    if step == "complete":
        return complete_request(register, request_id, actor=actor)
    with register.session() as session:
        req = rq.get_request(session, request_id)
        if step == "submit":
            rq.submit(session, req, actor=actor, external_ref=external_ref)
        elif step == "reject":
            rq.reject(session, req, actor=actor, reason=reason or "")
        else:
            rq.cancel(session, req, actor=actor, reason=reason or None)
        return _summary(req)


def import_answer(register: Register, path: Path, *, actor: str,
                  handover: HandoverPlan | None = None) -> AnswerResult:
    """Complete every request the CA's answer covers, all or nothing."""
    return ca_exchange.import_answer(register, path, actor=actor, handover=handover)


# --- handovers ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class HandoverRow:
    id: int
    serial: str
    holder: str
    method: str
    tracking_no: str | None
    handed_at: datetime
    received_at: datetime | None
    request_id: int | None


def _handover_row(h: Handover) -> HandoverRow:
    return HandoverRow(id=h.id, serial=h.device.serial, holder=h.holder.full_name,
                       method=h.method, tracking_no=h.tracking_no, handed_at=h.handed_at,
                       received_at=h.received_at, request_id=h.request_id)


def list_handovers(register: Register, *, request_id: int | None = None,
                   limit: int = 200) -> list[HandoverRow]:
    """Handovers, newest first (of one request, if asked)."""
    stmt = select(Handover).order_by(Handover.handed_at.desc(), Handover.id.desc())
    if request_id is not None:
        stmt = stmt.where(Handover.request_id == request_id)
    with register.read() as session:
        return [_handover_row(h) for h in session.scalars(stmt.limit(limit))]


def mark_received(register: Register, handover_id: int, *, actor: str,
                  at: datetime | None = None) -> HandoverRow:
    """The holder (or the post) confirmed receipt."""
    with register.session() as session:
        return _handover_row(handovers.mark_received(
            session, handovers.get_handover(session, handover_id), actor=actor, at=at))


def handover_records(register: Register, *, request_id: int | None = None,
                     handover_ids: Sequence[int] = (), per: str = "handover",
                     show_id_numbers: bool = False) -> list[HandoverRecord]:
    """What the printable handover records show (``reports.handover_record`` writes them)."""
    with register.read() as session:
        return handovers.handover_records(session, request_id=request_id,
                                          handover_ids=handover_ids, per=per,
                                          show_id_numbers=show_id_numbers)


# --- the unlock desk ---------------------------------------------------------------------------

@dataclass(frozen=True)
class LockOutcome:
    """A device marked locked, and the unlock case that opened."""

    serial: str
    lock_count: int
    case_id: int | None


def unlock_cases(register: Register, *, open_only: bool = False,
                 agency_code: str | None = None) -> list[CaseRow]:
    """Open cases first (oldest first), then closed ones (newest first)."""
    with register.read() as session:
        return unlock_desk.list_cases(session, open_only=open_only, agency_code=agency_code)


def unlock_turnaround(register: Register, *, since: datetime | None = None,
                      until: datetime | None = None,
                      by_agency: bool = True) -> list[UnlockTurnaround]:
    """Lock → unlock per month (and agency): the one figure the desk and the report show."""
    with register.read() as session:
        return unlock_desk.unlock_turnaround(session, since=since, until=until,
                                             by_agency=by_agency)


def _device(session: Session, ref: DeviceRef) -> Device:
    return get_device(session, ref.serial, ref.kind, expected_version=ref.expected_version)


def _case(session: Session, case_id: int) -> CaseRow:
    (row,) = unlock_desk.list_cases(session, case_id=case_id)
    return row


def report_locked(register: Register, ref: DeviceRef, *, actor: str,
                  reason: str = "reported") -> LockOutcome:
    """A device is reported locked: the lifecycle's lock, which opens its unlock case."""
    with register.session() as session:
        device = lifecycle.lock(session, _device(session, ref), actor=actor, reason=reason)
        case = open_case_of(session, device)
        return LockOutcome(device.serial, device.lock_count, case.id if case else None)


def bring_in(register: Register, ref: DeviceRef, *, brought_by: str, actor: str,
             at: datetime | None = None, note: str | None = None) -> CaseRow:
    """A locked device was brought to the desk: who brought it, and when."""
    with register.session() as session:
        case = unlock_desk.bring_in(session, _device(session, ref), brought_by=brought_by,
                                    actor=actor, at=at, note=note)
        return _case(session, case.id)


def mark_unlocked(register: Register, ref: DeviceRef, *, method: str, actor: str,
                  at: datetime | None = None) -> CaseRow:
    """The desk unlocked the device (one of ``UNLOCK_METHODS``): it goes back to its holder
    and the case closes."""
    with register.session() as session:
        case = unlock_desk.mark_unlocked(session, _device(session, ref), method=method,
                                         actor=actor, at=at)
        return _case(session, case.id)
