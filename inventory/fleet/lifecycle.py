"""The one state machine of a device, and every change to the register's devices and holders.

``MOVES`` is the only table of allowed status moves and of what each move does to a device
(:func:`next_state`); the CLI, the TUI, imports and the poller all go through the functions
below, and each writes its audit event (:func:`device_event`, :func:`certificate_event`) in the
caller's transaction. A refused move raises ``MoveNotAllowedError`` before anything is changed.
Bulk writers (the demo city) apply the same :func:`next_state` to plain rows and append the same
events in batches.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from inventory.fleet import unlock_cases
from inventory.fleet.certificates import CertificateData, normalise_serial
from inventory.register import audit, checks
from inventory.register.errors import DuplicateError, MoveNotAllowedError, ValidationError
from inventory.register.models import (
    HANDOVER_METHODS,
    Agency,
    Certificate,
    Device,
    Handover,
    Holder,
    utcnow,
)
from inventory.register.text import fold


@dataclass(frozen=True)
class Move:
    name: str
    sources: frozenset[str]
    target: str
    verb: str  # for messages: "cannot <verb>"
    counts_lock: bool = False  # entering ``locked`` counts one more lock-out
    holder: Literal["keep", "assign", "clear"] = "keep"  # issue assigns, a return clears
    revokes_certificates: bool = False  # the device's active certificates are revoked too


MOVES: dict[str, Move] = {
    m.name: m
    for m in (
        Move("issue", frozenset({"in_stock"}), "issued", "issue it to a holder", holder="assign"),
        Move("lock", frozenset({"issued"}), "locked", "mark it locked", counts_lock=True),
        Move("unlock", frozenset({"locked"}), "issued", "unlock it"),
        Move("report_lost", frozenset({"issued", "locked"}), "lost", "report it lost"),
        Move("revoke", frozenset({"issued", "locked", "lost"}), "revoked", "revoke it",
             revokes_certificates=True),
        Move("return_to_stock", frozenset({"issued"}), "in_stock", "return it to stock",
             holder="clear"),
        Move("retire", frozenset({"in_stock", "revoked"}), "retired", "retire it"),
    )
}
# Certificates can be attached (renewal, or a poller seeing a new one) while the device is
# in one of these states; never on a lost, revoked or retired device.
CERTIFICATE_STATES = frozenset({"in_stock", "issued", "locked"})


# Renewal puts a new certificate on a device out with its holder.
RENEWABLE_STATES = frozenset({"issued"})


def allowed_moves(status: str) -> list[str]:
    """The moves a device in ``status`` may make (the TUI greys out the others)."""
    return [m.name for m in MOVES.values() if status in m.sources]


def action_sources(action: str) -> frozenset[str] | None:
    """The states a device must be in for ``action`` (a move of ``MOVES``, or ``renew``);
    None for an action any state allows. Front ends refuse a key with this before any form."""
    if action in MOVES:
        return MOVES[action].sources
    if action == "renew":
        return RENEWABLE_STATES
    return None


def check_move(device: Device | Mapping[str, Any], move: str) -> Move:
    """The move, if the device (or a device row) may make it; else ``MoveNotAllowedError``."""
    m = MOVES[move]
    serial, status = ((device["serial"], device["status"]) if isinstance(device, Mapping)
                      else (device.serial, device.status))
    if status not in m.sources:
        raise MoveNotAllowedError(serial, status, m.verb, sorted(m.sources), action=m.name)
    return m


STATE_FIELDS = ("serial", "kind", "status", "holder_id", "agency_id", "lock_count")
"""What a device event's before/after carries (point-in-time reports and the replay read it)."""


def device_state(device: Device | Mapping[str, Any]) -> dict[str, Any]:
    """The snapshot audit events carry in before/after, of a device or of a device row."""
    if isinstance(device, Mapping):
        return {f: device[f] for f in STATE_FIELDS}
    return {f: getattr(device, f) for f in STATE_FIELDS}


def next_state(state: Mapping[str, Any], move: str, *, holder_id: int | None = None,
               agency_id: int | None = None) -> dict[str, Any]:
    """The state (:func:`device_state`) after ``move``: what ``MOVES`` says the move does.

    Raises ``MoveNotAllowedError`` when the state's status is not one the move starts from.
    ``holder_id``/``agency_id`` are the new holder's for a move that assigns one (issue).
    """
    m = check_move(state, move)
    after = dict(state)
    after["status"] = m.target
    if m.counts_lock:
        after["lock_count"] = (after["lock_count"] or 0) + 1
    if m.holder == "assign":
        after["holder_id"], after["agency_id"] = holder_id, agency_id
    elif m.holder == "clear":
        after["holder_id"] = after["agency_id"] = None
    return after


def device_event(device_id: int, action: str, before: dict[str, Any] | None,
                 after: dict[str, Any], *, actor: str, summary: str | None = None,
                 at: datetime | None = None) -> audit.EventDraft:
    """The audit event of ``device.add`` or a move (``action`` is ``add`` or the move's name)."""
    return audit.EventDraft(f"device.{action}", "device", device_id, actor, device_id=device_id,
                            summary=summary, before=before, after=after, occurred_at=at)


def _apply(session: Session, device: Device, move: str, actor: str, *, at: datetime | None,
           summary: str | None, extra: dict[str, Any] | None = None,
           holder: Holder | None = None) -> Device:
    before = device_state(device)
    after = next_state(before, move, holder_id=holder.id if holder else None,
                       agency_id=holder.agency_id if holder else None)
    summary = checks.text(summary, "note", multiline=True)
    for key in ("status", "holder_id", "agency_id", "lock_count"):
        setattr(device, key, after[key])
    device.status_changed_at = at or utcnow()
    session.flush()  # the version check happens here: a concurrent change raises before audit
    audit.record_many(session, [device_event(device.id, move, before,
                                             device_state(device) | (extra or {}), actor=actor,
                                             summary=summary, at=at)])
    return device


# --- devices ---------------------------------------------------------------------------------

def add_device(
    session: Session,
    *,
    kind: str,
    serial: str,
    actor: str,
    manufacturer: str | None = None,
    model: str | None = None,
    phone_number: str | None = None,
    notes: str | None = None,
    at: datetime | None = None,
) -> Device:
    """A new device enters the register in stock. A serial is unique across kinds: a token and
    a SIM never share one (a SIM's serial is its ICCID)."""
    kind = checks.kind(kind)
    if not (serial or "").strip():
        raise ValidationError("a device needs a serial (token serial, or ICCID for a SIM)",
                              key="serial_needed")
    serial = checks.serial(serial)
    values = {name: checks.field(name, value) for name, value in (
        ("manufacturer", manufacturer), ("model", model), ("phone_number", phone_number),
        ("notes", notes))}
    existing = session.scalar(select(Device.kind).where(Device.serial == serial).limit(1))
    if existing is not None:
        raise DuplicateError(f"serial {serial} is already in the register"
                             + (f" (as a {existing})" if existing != kind else ""),
                             key="device_exists", kind=existing, serial=serial)
    device = Device(kind=kind, serial=serial, status="in_stock", **values,
                    created_at=at or utcnow(), status_changed_at=at or utcnow())
    session.add(device)
    session.flush()
    audit.record_many(session, [device_event(device.id, "add", None, device_state(device),
                                             actor=actor, at=at)])
    return device


def issue(
    session: Session,
    device: Device,
    holder: Holder,
    *,
    method: str,
    actor: str,
    tracking_no: str | None = None,
    at: datetime | None = None,
    request_id: int | None = None,
) -> Handover:
    """Hand a device to a holder: it becomes theirs and their agency's."""
    check_move(device, "issue")  # the device's state first: no point asking for a tracking no.
    if method not in HANDOVER_METHODS:
        raise ValidationError(f"handover method {method!r} is not one of "
                              f"{', '.join(HANDOVER_METHODS)}")
    tracking_no = checks.text(tracking_no, "tracking number", max_len=60)
    if method == "postal" and not tracking_no:
        raise ValidationError(f"device {device.serial}: a postal handover needs a tracking number",
                              key="tracking_needed", serial=device.serial)
    _apply(session, device, "issue", actor, at=at, summary=f"to {holder.full_name} ({method})",
           extra={"method": method, "tracking_no": tracking_no}, holder=holder)
    handover = Handover(device_id=device.id, holder_id=holder.id, method=method,
                        tracking_no=tracking_no, handed_at=at or utcnow(), actor=actor,
                        request_id=request_id)
    session.add(handover)
    session.flush()
    return handover


def lock(session: Session, device: Device, *, actor: str, reason: str = "reported",
         at: datetime | None = None) -> Device:
    """Entering ``locked`` counts one more lock-out on the device and opens an unlock case."""
    check_move(device, "lock")  # refused before the case is opened: nothing half-done
    unlock_cases.case_on_lock(session, device, actor=actor, reason=reason, at=at)
    return _apply(session, device, "lock", actor, at=at, summary=reason)


def unlock(session: Session, device: Device, *, actor: str, how: str = "unlocked",
           at: datetime | None = None) -> Device:
    """Leaving ``locked`` closes the device's unlock case, recording how."""
    check_move(device, "unlock")
    unlock_cases.case_on_unlock(session, device, actor=actor, how=how, at=at)
    return _apply(session, device, "unlock", actor, at=at, summary=how)


def report_lost(session: Session, device: Device, *, actor: str, note: str | None = None,
                at: datetime | None = None) -> Device:
    """A locked device reported lost closes its unlock case ("closed: lost")."""
    check_move(device, "report_lost")
    unlock_cases.case_on_leaving_locked(session, device, "lost", actor=actor, at=at)
    return _apply(session, device, "report_lost", actor, at=at, summary=note)


def revoke(session: Session, device: Device, *, actor: str, reason: str | None = None,
           at: datetime | None = None) -> Device:
    """Revoking a device revokes its active certificates too (``revoked_at`` starts the CA's
    grace period for carrying the revocation out, see ``inventory.ca.reconcile``), and closes
    the unlock case of a locked one ("closed: revoked")."""
    move = check_move(device, "revoke")
    unlock_cases.case_on_leaving_locked(session, device, "revoked", actor=actor, at=at)
    if move.revokes_certificates:
        session.execute(update(Certificate)
                        .where(Certificate.device_id == device.id, Certificate.status == "active")
                        .values(status="revoked", revoked_at=at or utcnow()))
    return _apply(session, device, "revoke", actor, at=at, summary=reason)


def return_to_stock(session: Session, device: Device, *, actor: str, note: str | None = None,
                    at: datetime | None = None) -> Device:
    return _apply(session, device, "return_to_stock", actor, at=at, summary=note)


def retire(session: Session, device: Device, *, actor: str, note: str | None = None,
           at: datetime | None = None) -> Device:
    return _apply(session, device, "retire", actor, at=at, summary=note)


def apply_move(session: Session, device: Device, move: str, *, actor: str,
               note: str | None = None, at: datetime | None = None) -> Device:
    """The moves that need nothing but a note, by name (CLI, TUI and imports use this)."""
    if move == "lock":
        return lock(session, device, actor=actor, reason=note or "reported", at=at)
    if move == "unlock":
        return unlock(session, device, actor=actor, how=note or "unlocked", at=at)
    simple = {"report_lost": report_lost, "return_to_stock": return_to_stock, "retire": retire}
    if move == "revoke":
        return revoke(session, device, actor=actor, reason=note, at=at)
    if move not in simple:
        raise ValidationError(f"unknown move {move!r}")
    return simple[move](session, device, actor=actor, note=note, at=at)


# --- certificates ----------------------------------------------------------------------------

def check_certificate(cert: CertificateData) -> CertificateData:
    """The certificate's texts checked (serial, subject, issuer; fingerprint 64 hex digits)."""
    serial = checks.field("certificate_serial", cert.serial, required=True)
    assert serial is not None
    return replace(cert, serial=serial, subject=checks.field("subject", cert.subject),
                   issuer=checks.field("issuer", cert.issuer),
                   fingerprint_sha256=checks.fingerprint(cert.fingerprint_sha256))


def attach_certificate(
    session: Session,
    device: Device,
    cert: CertificateData,
    *,
    actor: str,
    action: str = "certificate.attach",
    at: datetime | None = None,
) -> Certificate:
    """Put a certificate on a device; the newest active one supersedes the others.

    A certificate given with its DER (a file, a reader) waits for the CA layer to validate its
    path (``chain = "pending"``); a typed one has no file to validate (``chain`` None)."""
    if device.status not in CERTIFICATE_STATES:
        raise MoveNotAllowedError(device.serial, device.status, "put a certificate on it",
                                  sorted(CERTIFICATE_STATES), action="attach_certificate")
    cert = check_certificate(cert)
    serial = normalise_serial(cert.serial)
    if cert.not_after <= cert.not_before:
        raise ValidationError(f"device {device.serial}: certificate {serial} ends before it "
                              "starts", key="certificate_ends_before_start",
                              serial=device.serial, certificate=serial)
    fp = cert.fingerprint_sha256
    if fp and session.scalar(select(Certificate.id).where(Certificate.fingerprint_sha256 == fp)):
        raise DuplicateError(f"certificate {cert.serial} (SHA-256 {fp[:16]}…) is already in the "
                             "register", key="certificate_exists", certificate=cert.serial)
    superseded = session.scalars(
        select(Certificate).where(Certificate.device_id == device.id,
                                  Certificate.status == "active")).all()
    for old in superseded:
        old.status = "superseded"
    new = Certificate(device_id=device.id, serial=serial, subject=cert.subject,
                      issuer=cert.issuer, not_before=cert.not_before, not_after=cert.not_after,
                      fingerprint_sha256=fp, status="active", created_at=at or utcnow(),
                      issuer_der=cert.issuer_der, issuer_key=cert.issuer_key, der=cert.der,
                      chain="pending" if cert.der is not None else None)
    session.add(new)
    session.flush()
    audit.record_many(session, [certificate_event(
        device.id, new.id, replace(cert, serial=serial), [c.serial for c in superseded],
        actor=actor, action=action, at=at)])
    return new


def certificate_event(device_id: int, certificate_id: int, cert: CertificateData,
                      superseded: list[str], *, actor: str, action: str = "certificate.attach",
                      at: datetime | None = None) -> audit.EventDraft:
    """The audit event of a certificate put on a device (the replay's active certificate)."""
    fp = cert.fingerprint_sha256.lower() if cert.fingerprint_sha256 else None
    return audit.EventDraft(
        action, "certificate", certificate_id, actor, device_id=device_id,
        summary=f"certificate {cert.serial} valid until {cert.not_after:%Y-%m-%d}",
        before={"superseded": superseded},
        after={"serial": cert.serial, "not_before": cert.not_before,
               "not_after": cert.not_after, "fingerprint_sha256": fp, "issuer": cert.issuer,
               "from_file": cert.der is not None}, occurred_at=at)


def renew(session: Session, device: Device, cert: CertificateData, *, actor: str,
          at: datetime | None = None) -> Certificate:
    """Renewal: a new certificate on an issued device, superseding the current one."""
    if device.status not in RENEWABLE_STATES:
        raise MoveNotAllowedError(device.serial, device.status, "renew its certificate",
                                  sorted(RENEWABLE_STATES), action="renew")
    return attach_certificate(session, device, cert, actor=actor, action="certificate.renew",
                              at=at)


# --- holders and agencies ----------------------------------------------------------------------

HOLDER_FIELDS = ("full_name", "title", "email", "phone", "national_id", "agency_id")


def holder_state(holder: Holder) -> dict[str, Any]:
    return {f: getattr(holder, f) for f in HOLDER_FIELDS}


check_national_id = checks.national_id


def check_holder_fields(values: dict[str, Any]) -> dict[str, Any]:
    """A holder's texts checked (name, title, e-mail, phone, national ID)."""
    checked: dict[str, Any] = {}
    for key, value in values.items():
        if key == "full_name":
            checked[key] = checks.field("holder", value, required=True)
        elif key == "national_id":
            checked[key] = checks.national_id(value) if value not in (None, "") else None
        elif key in ("title", "email", "phone"):
            checked[key] = checks.field(key, value)
        else:
            checked[key] = value
    return checked


def add_holder(session: Session, *, full_name: str, agency: Agency, actor: str,
               title: str | None = None, email: str | None = None, phone: str | None = None,
               national_id: str | None = None, at: datetime | None = None) -> Holder:
    if not (full_name or "").strip():
        raise ValidationError("a holder needs a full name", key="full_name_needed")
    fields = check_holder_fields({"full_name": full_name, "title": title, "email": email,
                                  "phone": phone, "national_id": national_id})
    full_name, title, email, phone, national_id = (
        fields["full_name"], fields["title"], fields["email"], fields["phone"],
        fields["national_id"])
    if national_id and session.scalar(select(Holder.id).where(Holder.national_id == national_id)):
        raise DuplicateError(f"a holder with national ID {mask_national_id(national_id)} "
                             "already exists", key="holder_exists",
                             national_id=mask_national_id(national_id))
    holder = Holder(full_name=full_name, name_folded=fold(full_name), title=title,
                    agency_id=agency.id, email=email, phone=phone, national_id=national_id,
                    created_at=at or utcnow())
    session.add(holder)
    session.flush()
    audit.record(session, actor=actor, action="holder.add", entity_type="holder",
                 entity_id=holder.id, after=holder_state(holder), occurred_at=at)
    return holder


def change_holder_details(session: Session, holder: Holder, *, actor: str,
                          at: datetime | None = None, **changes: Any) -> Holder:
    """Change of holder information (one of the five request kinds)."""
    unknown = set(changes) - set(HOLDER_FIELDS)
    if unknown:
        raise ValidationError(f"unknown holder field(s): {', '.join(sorted(unknown))}")
    if "full_name" in changes and not (changes["full_name"] or "").strip():
        raise ValidationError("a holder needs a full name", key="full_name_needed")
    changes = check_holder_fields(changes)
    if changes.get("national_id") and changes["national_id"] != holder.national_id and \
            session.scalar(select(Holder.id).where(Holder.national_id == changes["national_id"],
                                                   Holder.id != holder.id)):
        raise DuplicateError(f"a holder with national ID "
                             f"{mask_national_id(changes['national_id'])} already exists",
                             key="holder_exists",
                             national_id=mask_national_id(changes["national_id"]))
    before = holder_state(holder)
    for key, value in changes.items():
        setattr(holder, key, value)
    if "full_name" in changes:
        holder.name_folded = fold(holder.full_name)
    if "agency_id" in changes:  # devices follow their holder to the new agency
        session.execute(update(Device).where(Device.holder_id == holder.id)
                        .values(agency_id=holder.agency_id, version=Device.version + 1))
    session.flush()
    after = holder_state(holder)
    if after != before:
        audit.record(session, actor=actor, action="holder.change", entity_type="holder",
                     entity_id=holder.id, before=before, after=after, occurred_at=at)
    return holder


def mask_national_id(value: str | None) -> str:
    """``001234567890`` → ``********7890``: reports and messages show only the last four."""
    if not value:
        return ""
    return "*" * max(len(value) - 4, 0) + value[-4:]


def add_agency(session: Session, *, code: str, name: str, actor: str, kind: str = "other",
               parent: Agency | None = None, contact_email: str | None = None,
               at: datetime | None = None) -> Agency:
    if not (code or "").strip() or not (name or "").strip():
        raise ValidationError("an agency needs a code and a name")
    code = checks.field("agency_code", code, required=True)  # type: ignore[assignment]
    name = checks.field("agency", name, required=True)  # type: ignore[assignment]
    if session.scalar(select(Agency.id).where(Agency.code == code)):
        raise DuplicateError(f"agency code {code} already exists")
    agency = Agency(code=code, name=name, name_folded=fold(name), kind=kind,
                    parent_id=parent.id if parent else None,
                    level=(parent.level + 1) if parent else 0, contact_email=contact_email,
                    created_at=at or utcnow())
    session.add(agency)
    session.flush()
    agency.path = f"{parent.path if parent else '/'}{agency.id}/"
    session.flush()
    audit.record(session, actor=actor, action="agency.add", entity_type="agency",
                 entity_id=agency.id, after={"code": code, "name": agency.name,
                                             "parent_id": agency.parent_id}, occurred_at=at)
    return agency


def rename_agency(session: Session, agency: Agency, new_name: str, *, actor: str,
                  at: datetime | None = None) -> Agency:
    from inventory.register.models import AgencyHistory

    new_name = checks.field("agency", new_name, required=True)  # type: ignore[assignment]
    old = agency.name
    agency.name, agency.name_folded = new_name, fold(new_name)
    session.add(AgencyHistory(agency_id=agency.id, change="rename", old_name=old,
                              new_name=agency.name, changed_at=at or utcnow(), actor=actor))
    session.flush()
    audit.record(session, actor=actor, action="agency.rename", entity_type="agency",
                 entity_id=agency.id, before={"name": old}, after={"name": agency.name},
                 occurred_at=at)
    return agency


def merge_agency(session: Session, source: Agency, into: Agency, *, actor: str,
                 at: datetime | None = None) -> Agency:
    """Fold ``source`` into ``into``: its holders and devices move; its history stays."""
    from inventory.register.models import AgencyHistory

    if source.id == into.id:
        raise ValidationError(f"cannot merge agency {source.code} into itself")
    if into.path.startswith(source.path):
        raise ValidationError(f"cannot merge agency {source.code} into its own sub-agency "
                              f"{into.code}")
    session.execute(update(Holder).where(Holder.agency_id == source.id)
                    .values(agency_id=into.id))
    session.execute(update(Device).where(Device.agency_id == source.id)
                    .values(agency_id=into.id, version=Device.version + 1))
    children = session.scalars(select(Agency).where(Agency.parent_id == source.id)).all()
    for child in children:
        child.parent_id = into.id
    source.active, source.merged_into_id = False, into.id
    session.add(AgencyHistory(agency_id=source.id, change="merge", old_name=source.name,
                              new_name=into.name, other_agency_id=into.id,
                              changed_at=at or utcnow(), actor=actor))
    session.flush()
    for child in children:
        _repath(session, child, into)
    audit.record(session, actor=actor, action="agency.merge", entity_type="agency",
                 entity_id=source.id, before={"code": source.code, "name": source.name},
                 after={"merged_into": into.code}, occurred_at=at)
    return into


def _repath(session: Session, agency: Agency, parent: Agency) -> None:
    old_path = agency.path
    agency.path, agency.level = f"{parent.path}{agency.id}/", parent.level + 1
    for sub in session.scalars(select(Agency).where(Agency.path.startswith(old_path),
                                                    Agency.id != agency.id)).all():
        sub.path = agency.path + sub.path[len(old_path):]
        sub.level = sub.path.count("/") - 2
    session.flush()
