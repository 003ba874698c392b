"""Certification requests: draft → submitted → completed (or rejected / cancelled).

A request is one of the five kinds in ``REQUEST_KINDS``, filed by one agency for one or many of
its subscribers (a batch). Each kind has its dossier checklist (``DOSSIER``); a request cannot be
submitted while a required document is missing. Completing a request performs the matching
lifecycle moves through ``inventory.fleet.lifecycle`` in the caller's transaction, after every line
has
been checked, so a refused line leaves the register unchanged. Every step writes an audit event.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory.fleet import lifecycle
from inventory.register import audit
from inventory.register.errors import MoveNotAllowedError, NotFoundError, ValidationError
from inventory.register.models import (
    DEVICE_KINDS,
    REQUEST_KINDS,
    Agency,
    Device,
    Holder,
    ServiceRequest,
    ServiceRequestItem,
    utcnow,
)
from inventory.register.text import fold
from inventory.vocabulary import Vocabulary


@dataclass(frozen=True)
class Document:
    """One document of a dossier; its name is in ``inventory.vocabulary`` (``document``)."""

    key: str
    request_kind: str

    def label(self, lang: str) -> str:
        return Vocabulary(lang).document(self.request_kind, self.key)


_DOCUMENTS: dict[str, tuple[str, ...]] = {
    "new_issuance": ("don_de_nghi", "danh_sach_thue_bao", "ban_sao_cccd", "cong_van"),
    "renewal": ("don_de_nghi", "danh_sach_thue_bao", "cong_van"),
    "change_info": ("don_de_nghi", "giay_to_thay_doi", "ban_sao_cccd", "cong_van"),
    "revocation": ("don_de_nghi", "ly_do_thu_hoi", "bien_ban_ban_giao", "cong_van"),
    "recovery": ("don_de_nghi", "bien_ban_ban_giao", "cong_van"),
}
DOSSIER: dict[str, tuple[Document, ...]] = {
    kind: tuple(Document(key, kind) for key in keys) for kind, keys in _DOCUMENTS.items()}
"""The documents each kind of request needs, after the regulation's appendix forms (the request
form ``don_de_nghi``, the list of subscribers, ID copies, the agency's official letter …)."""

CHANGEABLE_FIELDS = ("full_name", "title", "email", "phone", "national_id")

# request state machine: action → (allowed from, to)
STEPS: dict[str, tuple[frozenset[str], str]] = {
    "submit": (frozenset({"draft"}), "submitted"),
    "complete": (frozenset({"submitted"}), "completed"),
    "reject": (frozenset({"draft", "submitted"}), "rejected"),
    "cancel": (frozenset({"draft", "submitted"}), "cancelled"),
}
DOSSIER_OPEN = frozenset({"draft", "submitted"})
"""The states in which documents may still be attached to (or detached from) the dossier."""
ANSWER_KINDS = frozenset({"new_issuance", "renewal"})
"""The kinds of request the CA answers with a certificate (and, for new issuance, a device)."""
# the device action each kind performs (a ``device_action`` code, and the words for the CLI),
# and the statuses it may start from
DEVICE_MOVE = {"renewal": ("renew", "renew its certificate", frozenset({"issued"})),
               "revocation": ("revoke", "revoke it", lifecycle.MOVES["revoke"].sources),
               "recovery": ("unlock", "unlock it", lifecycle.MOVES["unlock"].sources)}


@dataclass(frozen=True)
class Subscriber:
    """One line of a request as filed: an existing holder, or a new one (new issuance)."""

    holder_id: int | None = None
    full_name: str | None = None
    title: str | None = None
    email: str | None = None
    phone: str | None = None
    national_id: str | None = None
    device_serial: str | None = None  # the device concerned (renewal, revocation, recovery)
    device_kind: str = "usb_token"
    changes: dict[str, Any] = field(default_factory=dict)  # change of information
    reason: str | None = None  # revocation


@dataclass(frozen=True)
class Answer:
    """What the CA answered for one subscriber: the device and certificate (issuance, renewal)."""

    device_serial: str | None = None
    certificate: lifecycle.CertificateData | None = None


@dataclass(frozen=True)
class HandoverPlan:
    method: str = "in_person"
    tracking_no: str | None = None


def get_request(session: Session, request_id: int) -> ServiceRequest:
    req = session.get(ServiceRequest, request_id)
    if req is None:
        raise NotFoundError(f"no request #{request_id}")
    return req


def _step(session: Session, req: ServiceRequest, step: str, actor: str, at: datetime | None,
          summary: str | None = None) -> None:
    sources, target = STEPS[step]
    if req.state not in sources:
        raise ValidationError(f"request #{req.id} is {req.state}: cannot {step} it (allowed "
                              f"from: {', '.join(sorted(sources))})", key="request_step_refused",
                              id=req.id, state=req.state, step=step, allowed=sorted(sources))
    before = {"state": req.state}
    req.state = target
    when = at or utcnow()
    if step == "submit":
        req.submitted_at, req.submitted_by = when, actor
    else:
        req.closed_at, req.closed_by = when, actor
    session.flush()
    audit.record(session, actor=actor, action=f"request.{step}", entity_type="request",
                 entity_id=req.id, summary=summary, before=before,
                 after={"state": target, "external_ref": req.external_ref}, occurred_at=at)


def subscriber_label(item: ServiceRequestItem) -> str:
    """The subscriber's name as the request knows it (holder, or the new holder's details)."""
    if item.holder is not None:
        return item.holder.full_name
    return str((item.details.get("holder") or {}).get("full_name") or f"item {item.id}")


def subscriber_national_id(item: ServiceRequestItem) -> str | None:
    if item.holder is not None:
        return item.holder.national_id
    return (item.details.get("holder") or {}).get("national_id")


# --- filing ------------------------------------------------------------------------------------

def new_request(session: Session, *, kind: str, agency: Agency, subscribers: Sequence[Subscriber],
                actor: str, external_ref: str | None = None, channel: str | None = None,
                notes: str | None = None, at: datetime | None = None) -> ServiceRequest:
    """File a draft request for one or many subscribers of ``agency`` (or its sub-agencies)."""
    if kind not in REQUEST_KINDS:
        raise ValidationError(f"request kind {kind!r} is not one of {', '.join(REQUEST_KINDS)}")
    if not subscribers:
        raise ValidationError("a request needs at least one subscriber")
    req = ServiceRequest(kind=kind, state="draft", agency_id=agency.id, external_ref=external_ref,
                         channel=channel, notes=notes, dossier={}, created_at=at or utcnow(),
                         created_by=actor)
    seen: dict[tuple[str, Any], int] = {}
    for n, sub in enumerate(subscribers, start=1):
        item = _item(session, kind, agency, sub, n)
        key: tuple[str, Any] = ("holder", item.holder_id) if item.holder_id else \
            ("new", fold((item.details.get("holder") or {}).get("national_id")
                         or item.details["holder"]["full_name"]))
        if key in seen:
            name = (session.get(Holder, item.holder_id).full_name  # type: ignore[union-attr]
                    if item.holder_id else item.details["holder"]["full_name"])
            raise ValidationError(f"subscriber {n} ({name}) appears twice in the batch (first as "
                                  f"subscriber {seen[key]}): one line per holder")
        seen[key] = n
        req.items.append(item)
    session.add(req)
    session.flush()
    audit.record(session, actor=actor, action="request.new", entity_type="request",
                 entity_id=req.id, summary=f"{kind} for {len(req.items)} subscriber(s) of "
                 f"{agency.code}", after={"kind": kind, "state": "draft", "agency": agency.code,
                                          "subscribers": len(req.items),
                                          "external_ref": external_ref}, occurred_at=at)
    return req


def _item(session: Session, kind: str, agency: Agency, sub: Subscriber, n: int
          ) -> ServiceRequestItem:
    where = f"subscriber {n}"
    national_id = lifecycle.check_national_id(sub.national_id) if sub.national_id else None
    holder: Holder | None = None
    device: Device | None = None
    if sub.holder_id is not None:
        holder = session.get(Holder, sub.holder_id)
        if holder is None:
            raise NotFoundError(f"{where}: no holder with id {sub.holder_id}")
    elif national_id:
        holder = session.scalar(select(Holder).where(Holder.national_id == national_id))
    if sub.device_serial:
        found = session.scalars(select(Device).where(Device.serial == sub.device_serial.strip())
                                ).unique().all()
        if not found:
            raise NotFoundError(f"{where}: no device with serial {sub.device_serial!r}")
        device = found[0]
        if kind == "new_issuance":  # a token from stock, chosen when filing
            if device.status != "in_stock":
                raise MoveNotAllowedError(device.serial, device.status,
                                          f"issue it ({where})", ["in_stock"], action="issue")
        elif holder is None:
            holder = device.holder
        if kind != "new_issuance" and device.holder_id != (holder.id if holder else None):
            raise ValidationError(f"{where}: device {device.serial} is not held by "
                                  f"{holder.full_name if holder else 'anyone'}")
    details: dict[str, Any] = {}
    if holder is None:
        if kind != "new_issuance":
            raise ValidationError(f"{where}: a {kind} request needs an existing holder or device")
        if not (sub.full_name or "").strip():
            raise ValidationError(f"{where}: a new subscriber needs a full name")
        details["holder"] = {"full_name": sub.full_name.strip() if sub.full_name else "",
                             "title": sub.title, "email": sub.email, "phone": sub.phone,
                             "national_id": national_id}
    elif not holder.agency.path.startswith(agency.path):
        raise ValidationError(f"{where}: {holder.full_name} belongs to {holder.agency.code}, not "
                              f"to {agency.code}: a batch is one agency's subscribers")
    if kind in DEVICE_MOVE:
        if device is None and holder is not None:
            held = [d for d in session.scalars(select(Device).where(Device.holder_id == holder.id)
                                               ).unique() if d.status in DEVICE_MOVE[kind][2]]
            if len(held) != 1:
                raise ValidationError(f"{where}: {holder.full_name} holds {len(held)} device(s) "
                                      f"a {kind} applies to: name the device serial")
            device = held[0]
        assert device is not None
        action, verb, sources = DEVICE_MOVE[kind]
        if device.status not in sources:
            raise MoveNotAllowedError(device.serial, device.status, verb, sorted(sources),
                                      action=action)
    if kind == "change_info":
        changes = {k: v for k, v in sub.changes.items() if v not in (None, "")}
        unknown = set(changes) - set(CHANGEABLE_FIELDS)
        if not changes or unknown:
            raise ValidationError(f"{where}: a change of information names the fields to change "
                                  f"({', '.join(CHANGEABLE_FIELDS)})")
        if changes.get("national_id"):
            changes["national_id"] = lifecycle.check_national_id(changes["national_id"])
        details["changes"] = changes
    if kind == "revocation" and sub.reason:
        details["reason"] = sub.reason
    device_kind = device.kind if device else sub.device_kind
    if device_kind not in DEVICE_KINDS:
        raise ValidationError(f"{where}: device kind {device_kind!r} is not one of "
                              f"{', '.join(DEVICE_KINDS)}")
    return ServiceRequestItem(holder_id=holder.id if holder else None,
                              device_id=device.id if device else None, device_kind=device_kind,
                              details=details)


# --- dossier -----------------------------------------------------------------------------------

def dossier_checklist(req: ServiceRequest) -> list[tuple[Document, bool]]:
    """Each document the kind needs, and whether it is attached."""
    return [(doc, doc.key in (req.dossier or {})) for doc in DOSSIER[req.kind]]


def missing_documents(req: ServiceRequest) -> list[Document]:
    return [doc for doc, attached in dossier_checklist(req) if not attached]


def attach_documents(session: Session, req: ServiceRequest, keys: Sequence[str], *, actor: str,
                     detach: bool = False, note: str | None = None, file: str | None = None,
                     at: datetime | None = None) -> ServiceRequest:
    """Tick (or untick) documents of the dossier checklist; ``file`` names the scan or file
    that holds the document (kept as a reference, the file stays where it is)."""
    if req.state not in DOSSIER_OPEN:
        raise ValidationError(f"request #{req.id} is {req.state}: its dossier is closed",
                              key="dossier_closed", id=req.id, state=req.state)
    known = {d.key for d in DOSSIER[req.kind]}
    unknown = [k for k in keys if k not in known]
    if unknown:
        raise ValidationError(f"request #{req.id} ({req.kind}): unknown document(s) "
                              f"{', '.join(unknown)}; the dossier has {', '.join(sorted(known))}")
    before = dict(req.dossier or {})
    dossier = dict(before)
    for key in keys:
        if detach:
            dossier.pop(key, None)
        else:
            dossier[key] = {"at": (at or utcnow()).isoformat(), "by": actor, "note": note}
            if file:
                dossier[key]["file"] = file
    req.dossier = dossier  # a new dict, so the JSON column is seen as changed
    session.flush()
    audit.record(session, actor=actor, action="request.dossier", entity_type="request",
                 entity_id=req.id, before={"documents": sorted(before)},
                 after={"documents": sorted(dossier)}, occurred_at=at)
    return req


# --- steps -------------------------------------------------------------------------------------

def submit(session: Session, req: ServiceRequest, *, actor: str, external_ref: str | None = None,
           at: datetime | None = None) -> ServiceRequest:
    """Send the request to the CA: the dossier must be complete."""
    missing = missing_documents(req)
    if missing and req.state == "draft":
        raise ValidationError(f"request #{req.id} ({req.kind}): the dossier is missing "
                              + "; ".join(f"{d.label('en')} ({d.key})" for d in missing),
                              key="dossier_incomplete", id=req.id, kind=req.kind,
                              missing=[d.key for d in missing])
    if external_ref:
        req.external_ref = external_ref.strip()
    _step(session, req, "submit", actor, at)
    return req


def reject(session: Session, req: ServiceRequest, *, actor: str, reason: str,
           at: datetime | None = None) -> ServiceRequest:
    if not reason.strip():
        raise ValidationError(f"request #{req.id}: say why it is rejected",
                              key="reject_reason_needed", id=req.id)
    _step(session, req, "reject", actor, at, summary=reason)
    req.close_reason = reason.strip()
    return req


def cancel(session: Session, req: ServiceRequest, *, actor: str, reason: str | None = None,
           at: datetime | None = None) -> ServiceRequest:
    _step(session, req, "cancel", actor, at, summary=reason)
    req.close_reason = reason
    return req


def complete(session: Session, req: ServiceRequest, *, actor: str,
             answers: Mapping[int, Answer] | None = None, handover: HandoverPlan | None = None,
             at: datetime | None = None) -> ServiceRequest:
    """Perform the request's lifecycle moves (all lines checked first), then close it.

    ``answers`` maps item id → the CA's answer; issuance and renewal need one per subscriber.
    """
    answers = answers or {}
    handover = handover or HandoverPlan()
    if req.state != "submitted":
        raise ValidationError(f"request #{req.id} is {req.state}: cannot complete it (allowed "
                              "from: submitted)", key="request_step_refused", id=req.id,
                              state=req.state, step="complete", allowed=["submitted"])
    for n, item in enumerate(req.items, start=1):
        _check_line(session, req, item, n, answers.get(item.id), handover)
    for item in req.items:
        _perform(session, req, item, answers.get(item.id), handover, actor, at)
    _step(session, req, "complete", actor, at,
          summary=f"{len(req.items)} subscriber(s) done")
    return req


def _check_line(session: Session, req: ServiceRequest, item: ServiceRequestItem, n: int,
                answer: Answer | None, handover: HandoverPlan) -> None:
    name = subscriber_label(item)
    where = f"request #{req.id}, subscriber {n} ({name})"
    if req.kind in ANSWER_KINDS and (answer is None or answer.certificate is None):
        raise ValidationError(f"{where}: the CA's certificate is missing",
                              key="ca_certificate_missing", id=req.id, n=n, name=name)
    if req.kind == "new_issuance":
        serial = _issued_serial(item, answer)
        if not serial:
            raise ValidationError(f"{where}: the device serial is missing",
                                  key="line_serial_missing", id=req.id, n=n, name=name)
        device = session.scalar(select(Device).where(Device.kind == item.device_kind,
                                                     Device.serial == serial))
        if device is not None and device.status != "in_stock":
            raise MoveNotAllowedError(device.serial, device.status,
                                      f"issue it ({where})", ["in_stock"], action="issue")
        if handover.method == "postal" and not (handover.tracking_no or "").strip():
            raise ValidationError(f"{where}: a postal handover needs a tracking number",
                                  key="tracking_needed", serial=serial)
    if req.kind in DEVICE_MOVE:
        device = item.device
        if device is None:
            raise ValidationError(f"{where}: names no device")
        action, verb, sources = DEVICE_MOVE[req.kind]
        if device.status not in sources:
            raise MoveNotAllowedError(device.serial, device.status, f"{verb} ({where})",
                                      sorted(sources), action=action)


def _perform(session: Session, req: ServiceRequest, item: ServiceRequestItem,
             answer: Answer | None, handover: HandoverPlan, actor: str,
             at: datetime | None) -> None:
    kind = req.kind
    if kind == "new_issuance":
        serial = _issued_serial(item, answer)
        assert answer is not None and answer.certificate is not None and serial
        holder = item.holder or _new_holder(session, req, item, actor, at)
        device = session.scalar(select(Device).where(Device.kind == item.device_kind,
                                                     Device.serial == serial))
        if device is None:
            device = lifecycle.add_device(session, kind=item.device_kind or "usb_token",
                                          serial=serial, actor=actor, at=at)
        cert = lifecycle.attach_certificate(session, device, answer.certificate, actor=actor,
                                            at=at)
        lifecycle.issue(session, device, holder, method=handover.method, actor=actor,
                        tracking_no=handover.tracking_no, at=at, request_id=req.id)
        item.holder_id, item.device_id, item.certificate_id = holder.id, device.id, cert.id
    elif kind == "renewal":
        assert answer is not None and answer.certificate is not None and item.device
        cert = lifecycle.renew(session, item.device, answer.certificate, actor=actor, at=at)
        item.certificate_id = cert.id
    elif kind == "revocation":
        assert item.device is not None
        lifecycle.revoke(session, item.device, actor=actor, at=at,
                         reason=item.details.get("reason") or f"request #{req.id}")
    elif kind == "recovery":
        assert item.device is not None
        lifecycle.unlock(session, item.device, actor=actor, how="ca_recovery", at=at)
    elif kind == "change_info":
        assert item.holder is not None
        lifecycle.change_holder_details(session, item.holder, actor=actor, at=at,
                                        **item.details.get("changes", {}))
    session.flush()


def _issued_serial(item: ServiceRequestItem, answer: Answer | None) -> str | None:
    """The CA's answer names the device; else the stock token chosen when the request was filed."""
    serial = (answer.device_serial if answer else None) or (item.device.serial if item.device
                                                            else None)
    return serial.strip() if serial else None


def _new_holder(session: Session, req: ServiceRequest, item: ServiceRequestItem, actor: str,
                at: datetime | None) -> Holder:
    data = item.details["holder"]
    if data.get("national_id"):
        existing = session.scalar(select(Holder).where(Holder.national_id == data["national_id"]))
        if existing is not None:
            return existing
    holder = lifecycle.add_holder(session, full_name=data["full_name"], agency=req.agency,
                                  actor=actor, title=data.get("title"), email=data.get("email"),
                                  phone=data.get("phone"), national_id=data.get("national_id"),
                                  at=at)
    item.holder = holder
    return holder
