"""One device: everything about it, and every change a person makes to it.

A device is named by a ``DeviceRef``: its serial (and kind, when a token and a SIM share one),
and for a screen the ``expected_version`` it showed. If the device changed since, the change is
refused with ``ConcurrentChangeError`` ("changed by someone else — reload") instead of acting on
a state the operator never saw. Every change goes through ``inventory.fleet.lifecycle`` (the one
state machine) and writes its audit events in the service's transaction.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory.fleet import lifecycle, queries
from inventory.fleet.lifecycle import CertificateData
from inventory.fleet.queries import DeviceFilter, DeviceRow, Page, get_device
from inventory.register.db import Register
from inventory.register.errors import NotFoundError, ValidationError
from inventory.register.models import (
    Certificate,
    Device,
    Event,
    Handover,
    ServiceRequest,
    ServiceRequestItem,
)
from inventory.services.holders import HOLDER_FIELDS, HolderSummary, resolve_holder

SIMPLE_MOVES = ("lock", "unlock", "report_lost", "revoke", "return_to_stock", "retire")
"""The moves that need nothing but a note (``issue`` needs a holder and a handover)."""


@dataclass(frozen=True)
class DeviceRef:
    """Which device: by serial (``kind`` only if a token and a SIM share it), and for a screen
    the version it showed (the stale-screen guard)."""

    serial: str
    kind: str | None = None
    expected_version: int | None = None


def _device(session: Session, ref: DeviceRef) -> Device:
    return get_device(session, ref.serial, ref.kind, expected_version=ref.expected_version)


# --- the list ----------------------------------------------------------------------------------

def device_page(register: Register, f: DeviceFilter, *, sort: str = "id",
                after: Sequence[Any] | None = None, limit: int = 50,
                descending: bool = False) -> Page:
    """One page of the device list by keyset (``inventory.fleet.queries.device_page``): the
    TUI's table reads the rows on screen, at the same cost on any page of a million devices."""
    with register.read() as session:
        return queries.device_page(session, f, sort=sort, after=after, limit=limit,
                                   descending=descending)


def count_devices(register: Register, f: DeviceFilter) -> int:
    with register.read() as session:
        return queries.count_devices(session, f)


def list_devices(register: Register, f: DeviceFilter, *, sort: str = "id",
                 limit: int | None = None) -> Iterator[DeviceRow]:
    """Every matching device (or the first ``limit``), streamed page by page in one read
    transaction: memory stays flat for a whole-register listing. Consume it whole (or close
    it) to end the transaction."""
    with register.read() as session:
        for n, row in enumerate(queries.iter_devices(session, f, sort=sort)):
            if limit is not None and n >= limit:
                return
            yield row


# --- the detail --------------------------------------------------------------------------------

@dataclass(frozen=True)
class HolderInfo:
    id: int
    full_name: str
    title: str | None
    email: str | None
    national_id: str  # masked


@dataclass(frozen=True)
class AgencyInfo:
    code: str
    name: str


@dataclass(frozen=True)
class CertificateInfo:
    serial: str
    status: str
    subject: str | None
    not_before: datetime
    not_after: datetime
    fingerprint_sha256: str | None


@dataclass(frozen=True)
class HandoverInfo:
    method: str
    tracking_no: str | None
    holder: str
    handed_at: datetime
    received_at: datetime | None


@dataclass(frozen=True)
class RequestInfo:
    id: int
    kind: str
    state: str
    external_ref: str | None
    created_at: datetime


@dataclass(frozen=True)
class EventInfo:
    seq: int
    when: datetime
    actor: str
    action: str
    summary: str | None


@dataclass(frozen=True)
class DeviceDetail:
    """Everything about one device (``device show`` and the TUI's detail screen)."""

    id: int
    version: int  # what a screen hands back as ``DeviceRef.expected_version``
    serial: str
    kind: str
    status: str
    manufacturer: str | None
    model: str | None
    phone_number: str | None
    lock_count: int
    pin_tries_left: int | None
    holder: HolderInfo | None
    agency: AgencyInfo | None
    not_after: datetime | None  # of the active certificate
    last_seen_at: datetime | None
    last_seen_reader: str | None
    allowed_moves: tuple[str, ...]
    certificates: tuple[CertificateInfo, ...]
    handovers: tuple[HandoverInfo, ...]
    requests: tuple[RequestInfo, ...]
    history: tuple[EventInfo, ...]

    @property
    def ref(self) -> DeviceRef:
        return DeviceRef(self.serial, self.kind, self.version)

    def as_record(self) -> dict[str, Any]:
        """The JSON of ``device show --format json`` (keys and ISO dates as they always were)."""
        record = asdict(self)
        del record["id"], record["version"]
        record["allowed_moves"] = list(self.allowed_moves)
        return _iso(record)


def _iso(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _iso(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_iso(v) for v in value]
    return value


def _detail(session: Session, device: Device) -> DeviceDetail:
    holder, agency = device.holder, device.agency
    handovers = session.scalars(select(Handover).where(Handover.device_id == device.id)
                                .order_by(Handover.handed_at)).all()
    events = session.scalars(select(Event).where(Event.device_id == device.id)
                             .order_by(Event.seq)).all()
    requests = session.execute(
        select(ServiceRequest.id, ServiceRequest.kind, ServiceRequest.state,
               ServiceRequest.external_ref, ServiceRequest.created_at)
        .join(ServiceRequestItem, ServiceRequestItem.request_id == ServiceRequest.id)
        .where(ServiceRequestItem.device_id == device.id)
        .order_by(ServiceRequest.created_at, ServiceRequest.id)).all()
    active = device.active_certificate
    return DeviceDetail(
        id=device.id, version=device.version, serial=device.serial, kind=device.kind,
        status=device.status, manufacturer=device.manufacturer, model=device.model,
        phone_number=device.phone_number, lock_count=device.lock_count,
        pin_tries_left=device.pin_tries_left,
        holder=HolderInfo(holder.id, holder.full_name, holder.title, holder.email,
                          lifecycle.mask_national_id(holder.national_id)) if holder else None,
        agency=AgencyInfo(agency.code, agency.name) if agency else None,
        not_after=active.not_after if active else None,
        last_seen_at=device.last_seen_at, last_seen_reader=device.last_seen_reader,
        allowed_moves=tuple(lifecycle.allowed_moves(device.status)),
        certificates=tuple(CertificateInfo(c.serial, c.status, c.subject, c.not_before,
                                           c.not_after, c.fingerprint_sha256)
                           for c in device.certificates),
        handovers=tuple(HandoverInfo(h.method, h.tracking_no, h.holder.full_name, h.handed_at,
                                     h.received_at) for h in handovers),
        requests=tuple(RequestInfo(r.id, r.kind, r.state, r.external_ref, r.created_at)
                       for r in requests),
        history=tuple(EventInfo(e.seq, e.occurred_at, e.actor, e.action, e.summary)
                      for e in events))


def device_detail(register: Register, ref: DeviceRef | int) -> DeviceDetail:
    """By reference (serial), or by the id a screen's list carries."""
    with register.read() as session:
        if isinstance(ref, int):
            device = session.get(Device, ref)
            if device is None:
                raise NotFoundError(f"device id {ref} is not in the register",
                                    key="device_gone", id=ref)
        else:
            device = _device(session, ref)
        return _detail(session, device)


# --- changes -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class DeviceSummary:
    """A device after a change, for the result line."""

    serial: str
    kind: str
    status: str
    lock_count: int
    version: int


@dataclass(frozen=True)
class MoveResult:
    """A lifecycle move: where the device was, and where it is now."""

    before: str
    device: DeviceSummary

    @property
    def after(self) -> str:
        return self.device.status


@dataclass(frozen=True)
class RenewResult:
    device: DeviceSummary
    certificate_serial: str
    not_after: datetime
    untrusted: str | None = None  # why a certificate file does not chain to a trust anchor


def device_summary(device: Device) -> DeviceSummary:
    """For services that changed a device in their own transaction."""
    return DeviceSummary(device.serial, device.kind, device.status, device.lock_count,
                         device.version)


def device_state(register: Register, device_id: int) -> DeviceSummary:
    """The device's state now (status, version): a form checks it before asking for more, so a
    device another desk moved meanwhile is refused at once rather than after the form."""
    with register.read() as session:
        device = session.get(Device, device_id)
        if device is None:
            raise NotFoundError(f"device id {device_id} is not in the register")
        return device_summary(device)


def add_device(register: Register, *, actor: str, kind: str, serial: str,
               manufacturer: str | None = None, model: str | None = None,
               phone_number: str | None = None, notes: str | None = None) -> DeviceSummary:
    """A new device enters the register in stock."""
    with register.session() as session:
        device = lifecycle.add_device(session, kind=kind, serial=serial, actor=actor,
                                      manufacturer=manufacturer, model=model,
                                      phone_number=phone_number, notes=notes)
        return device_summary(device)


def add_device_with_certificate(register: Register, certificate: CertificateData, *,
                                actor: str, kind: str, serial: str,
                                manufacturer: str | None = None, model: str | None = None,
                                phone_number: str | None = None,
                                notes: str | None = None) -> RenewResult:
    """A new device enters the register in stock already carrying its certificate (a token the
    CA delivered personalised), both in one transaction; a certificate file is validated
    against the trust anchors at once, as on renewal."""
    with register.session() as session:
        device = lifecycle.add_device(session, kind=kind, serial=serial, actor=actor,
                                      manufacturer=manufacturer, model=model,
                                      phone_number=phone_number, notes=notes)
        cert = lifecycle.attach_certificate(session, device, certificate, actor=actor)
        return _with_verdict(session, device, cert, certificate)


def move_device(register: Register, ref: DeviceRef, move: str, *, actor: str,
                note: str | None = None) -> MoveResult:
    """One of ``SIMPLE_MOVES`` (lock, unlock, report lost, revoke, return, retire)."""
    if move not in SIMPLE_MOVES:
        raise ValidationError(f"unknown move {move!r}: use one of {', '.join(SIMPLE_MOVES)}")
    with register.session() as session:
        device = _device(session, ref)
        before = device.status
        lifecycle.apply_move(session, device, move, actor=actor, note=note)
        return MoveResult(before, device_summary(device))


def issue_device(register: Register, ref: DeviceRef, holder: int | str, *, actor: str,
                 method: str, tracking_no: str | None = None) -> MoveResult:
    """Hand a device in stock to a holder (an id a screen picked, or what a person typed: id,
    ID number or name), recording how (in person, cipher organisation, post + tracking)."""
    with register.session() as session:
        device = _device(session, ref)
        before = device.status
        lifecycle.issue(session, device, resolve_holder(session, holder), method=method,
                        tracking_no=tracking_no, actor=actor)
        return MoveResult(before, device_summary(device))


def renew_device(register: Register, ref: DeviceRef, certificate: CertificateData, *,
                 actor: str) -> RenewResult:
    """A new certificate on an issued device, superseding the current one. A certificate file
    is validated against the trust anchors at once (``untrusted`` says why it does not chain)."""
    with register.session() as session:
        device = _device(session, ref)
        cert = lifecycle.renew(session, device, certificate, actor=actor)
        return _with_verdict(session, device, cert, certificate)


def _with_verdict(session: Session, device: Device, cert: Certificate,
                  certificate: CertificateData) -> RenewResult:
    """The certificate just put on ``device``, its path validated now when it came as a file."""
    from inventory.ca import chains  # cryptography's path validation: only for a file

    verdicts = chains.settle(session, [cert.id]) if certificate.der is not None else []
    untrusted = next((v.note for v in verdicts if v.chain == "untrusted"), None)
    return RenewResult(device_summary(device), cert.serial, cert.not_after, untrusted)


def edit_device_holder(register: Register, ref: DeviceRef, *, actor: str,
                       changes: Mapping[str, str | None]) -> HolderSummary:
    """Change of holder information, from a screen showing the device (its version guards)."""
    unknown = set(changes) - set(HOLDER_FIELDS)
    if unknown:
        raise ValidationError(f"unknown holder field(s): {', '.join(sorted(unknown))}")
    with register.session() as session:
        device = _device(session, ref)
        if device.holder_id is None:
            raise ValidationError(f"device {device.serial} has no holder")
        holder = resolve_holder(session, device.holder_id)
        values: dict[str, Any] = dict(changes)
        lifecycle.change_holder_details(session, holder, actor=actor, **values)
        return HolderSummary(holder.id, holder.full_name)
