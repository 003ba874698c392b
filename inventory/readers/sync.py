"""Observations → register changes, in the caller's transaction.

Status moves and certificates go through :mod:`inventory.fleet.lifecycle` (which writes their audit
events); the last-seen facts and PIN state are written with Core ``UPDATE`` statements that do
not bump ``Device.version``, so a poll never makes an operator's concurrent edit fail. The actor
of every change is the station's database login on PostgreSQL, ``poller@STATION`` on the
embedded register (:func:`inventory.register.access.station_actor`).

Each device is synced in its own savepoint. Two pollers seeing the same blocked token at once:
the second one's lock fails its version check (``StaleDataError``) or an insert its unique key;
the savepoint is rolled back, the device re-read, and the retry sees ``locked`` and does nothing.

A device the register does not know (by kind and serial, or by a known certificate fingerprint)
is kept as an :class:`UnregisteredDevice` for a manager to claim; it is never assigned to anyone.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import CursorResult, Table, bindparam, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from inventory.fleet import lifecycle
from inventory.readers import stocktake as stocktakes
from inventory.register import access, audit
from inventory.register.errors import ConcurrentChangeError, TokenfleetError
from inventory.register.models import (
    Certificate,
    Device,
    ObservationRecord,
    StationReader,
    UnregisteredDevice,
    utcnow,
)

if TYPE_CHECKING:  # importing inventory.readers.hardware loads pyscard: only the poller needs that
    from inventory.readers.hardware.observation import CertificateInfo, Observation, ReaderState

NO_READERS = "(no readers)"
"""The placeholder row of a station whose poller has no PC/SC reader: it still shows its
heartbeat."""


def _rowcount(result: Any) -> int:
    assert isinstance(result, CursorResult)
    return int(result.rowcount or 0)


@dataclass(frozen=True)
class Change:
    kind: str
    serial: str
    action: str  # device.lock, device.pin_state, certificate.seen, unregistered.seen, stocktake
    text: str


@dataclass
class SyncReport:
    """What one batch of observations did: for the console and for ``--format json``."""

    host: str
    seen: list[dict[str, Any]] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    unregistered: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [c.text for c in self.changes] + [f"warning: {w}" for w in self.warnings]

    def as_dict(self) -> dict[str, Any]:
        return {"host": self.host, "seen": self.seen,
                "changes": [asdict(c) for c in self.changes],
                "unregistered": self.unregistered, "warnings": self.warnings}


@dataclass(frozen=True)
class _Seen:
    """One device's observations of one batch, merged (PC/SC and PKCS#11 views of it)."""

    kind: str
    serial: str
    observations: tuple[Observation, ...]

    @property
    def first(self) -> Observation:  # the PC/SC view names the physical reader
        return sorted(self.observations, key=lambda o: o.source != "pcsc")[0]

    @property
    def seen_at(self) -> datetime:
        return max(o.seen_at for o in self.observations)

    @property
    def blocked(self) -> bool:
        return any(o.pin_blocked for o in self.observations)

    @property
    def tries(self) -> int | None:
        if self.blocked:
            return 0
        known = [o.pin_tries_left for o in self.observations if o.pin_tries_left is not None]
        return min(known) if known else None

    @property
    def certificates(self) -> list[CertificateInfo]:
        unique = {c.fingerprint_sha256: c for o in self.observations for c in o.certificates}
        return sorted(unique.values(), key=lambda c: (c.not_before, c.fingerprint_sha256))

    def pick(self, name: str) -> Any:
        return next((getattr(o, name) for o in self.observations if getattr(o, name)), None)


def _pin_text(tries: int | None, blocked: bool | None) -> str:
    if blocked:
        return "blocked"
    if blocked is None and tries is None:
        return "unknown"
    return f"{tries} tries left" if tries is not None else "not blocked"


def sync_observations(session: Session, observations: Iterable[Observation], *, host: str,
                      stocktake: bool = True) -> SyncReport:
    """Apply one batch of observations (one poll pass, or one watch event)."""
    report = SyncReport(host=host)
    groups: dict[tuple[str, str], list[Observation]] = {}
    for obs in observations:
        if obs.serial is None:
            report.warnings.append(f"reader {obs.reader!r}: a card that could not be "
                                   "identified (no serial read)")
            continue
        groups.setdefault((obs.kind, obs.serial), []).append(obs)
    if not groups:
        return report
    take = stocktakes.open_stocktake(session) if stocktake else None
    take_id = take.id if take is not None else None
    by_serial = {(d.kind, d.serial): d for d in session.scalars(
        select(Device).where(Device.serial.in_({s for _k, s in groups}))).unique()}
    fps = {c.fingerprint_sha256 for g in groups.values() for o in g for c in o.certificates}
    owners: dict[str, int] = dict(session.execute(
        select(Certificate.fingerprint_sha256, Certificate.device_id)
        .where(Certificate.fingerprint_sha256.in_(fps))).all()) if fps else {}  # type: ignore[arg-type]
    records: list[dict[str, Any]] = []
    quiet: list[dict[str, Any]] = []
    for (kind, serial), group in groups.items():
        seen = _Seen(kind, serial, tuple(group))
        device = by_serial.get((kind, serial))
        if device is None and any(c.fingerprint_sha256 in owners for c in seen.certificates):
            device = _by_fingerprint(session, seen)
        if device is not None and take_id is None and _nothing_to_change(seen, device, owners):
            # the steady state of a poll: only last-seen, written for all at once below
            quiet.append({"b_id": device.id, "b_seen": seen.seen_at,
                          "b_reader": seen.first.reader[:200], "b_host": host[:120]})
            report.seen.append(_seen_record(seen, device))
            device_id: int | None = device.id
        else:
            device_id = _sync_one(session, report, seen, device, host, take_id)
        records += [_record(o, host, device_id) for o in group]
    conn = session.connection()
    if quiet:
        table = cast(Table, Device.__table__)
        conn.execute(update(table).where(
            table.c.id == bindparam("b_id"),
            or_(table.c.last_seen_at.is_(None), table.c.last_seen_at <= bindparam("b_seen")))
            .values(last_seen_at=bindparam("b_seen"), last_seen_reader=bindparam("b_reader"),
                    last_seen_host=bindparam("b_host")), quiet)
    conn.execute(insert(cast(Table, ObservationRecord.__table__)), records)
    return report


def _pin_state(seen: _Seen, device: Device) -> tuple[int | None, bool]:
    """The PIN state to record: a source that says "not blocked" without a count (PKCS#11 flags)
    keeps the count another source read, unless that count said blocked."""
    tries = seen.tries
    if tries is None and not seen.blocked:
        tries = None if device.pin_tries_left == 0 else device.pin_tries_left
    return tries, seen.blocked


def _nothing_to_change(seen: _Seen, device: Device, owners: dict[str, int]) -> bool:
    return (_pin_state(seen, device) == (device.pin_tries_left, device.pin_blocked)
            and not (seen.blocked and device.status == "issued")
            and all(owners.get(c.fingerprint_sha256) == device.id for c in seen.certificates))


def _by_fingerprint(session: Session, seen: _Seen) -> Device | None:
    """An unknown serial whose certificate the register knows (read differently by a module)."""
    fps = [c.fingerprint_sha256 for c in seen.certificates]
    if not fps:
        return None
    return session.scalars(select(Device).join(Certificate, Certificate.device_id == Device.id)
                           .where(Certificate.fingerprint_sha256.in_(fps),
                                  Device.kind == seen.kind)).first()


def _record(obs: Observation, host: str, device_id: int | None) -> dict[str, Any]:
    return {"seen_at": obs.seen_at, "source": obs.source, "host": host, "reader": obs.reader,
            "kind": obs.kind, "serial": obs.serial, "atr": obs.atr,
            "token_flags": obs.token_flags, "pin_tries_left": obs.pin_tries_left,
            "pin_blocked": obs.pin_blocked, "fingerprints": list(obs.fingerprints),
            "device_id": device_id,
            "details": {k: v for k, v in (("label", obs.label), ("profile", obs.profile),
                                          ("module", obs.module)) if v}}


def _sync_one(session: Session, report: SyncReport, seen: _Seen, device: Device | None,
              host: str, take_id: int | None) -> int | None:
    """One device in a savepoint, retried once after a concurrent change by another writer."""
    for attempt in (1, 2):
        changes: list[Change] = []
        warnings: list[str] = []
        try:
            with session.begin_nested():
                if device is None:
                    _unregistered(session, seen, host, changes)
                else:
                    _registered(session, seen, device, host, changes, warnings)
                if take_id is not None:
                    note = stocktakes.tick(
                        session, take_id, kind=seen.kind, serial=seen.serial,
                        device_id=device.id if device else None, seen_at=seen.seen_at,
                        host=host, reader=seen.first.reader)
                    if note:
                        changes.append(Change(seen.kind, seen.serial, "stocktake", note))
        except (StaleDataError, ConcurrentChangeError, IntegrityError):
            if attempt == 2:
                raise
            session.expire_all()
            device = session.scalars(select(Device).where(
                Device.kind == seen.kind, Device.serial == seen.serial)).first() \
                or (_by_fingerprint(session, seen) if device is not None else None)
            continue
        report.changes += changes
        report.warnings += warnings
        report.seen.append(_seen_record(seen, device))
        if device is None:
            report.unregistered.append(seen.serial)
        return device.id if device is not None else None
    return None  # pragma: no cover - the loop returns or raises


def _seen_record(seen: _Seen, device: Device | None) -> dict[str, Any]:
    return {
        "kind": seen.kind, "serial": seen.serial, "reader": seen.first.reader,
        "sources": sorted({o.source for o in seen.observations}),
        "registered": device is not None,
        "status": device.status if device else None,
        "holder": device.holder.full_name if device and device.holder else None,
        "lock_count": device.lock_count if device else None,
        "pin_tries_left": seen.tries, "pin_blocked": seen.blocked,
        "certificates": [{"serial": c.serial, "subject_cn": c.subject_cn,
                          "not_after": c.not_after, "expired": c.expired(seen.seen_at),
                          "fingerprint_sha256": c.fingerprint_sha256}
                         for c in seen.certificates],
    }


def _registered(session: Session, seen: _Seen, device: Device, host: str,
                changes: list[Change], warnings: list[str]) -> None:
    actor, reader = access.station_actor(session, host), seen.first.reader
    old = (device.pin_tries_left, device.pin_blocked)
    new = tries, _blocked = _pin_state(seen, device)
    not_older = or_(Device.last_seen_at.is_(None), Device.last_seen_at <= seen.seen_at)
    if new != old:
        # Conditional on the old state: of two pollers seeing the same change, one records it.
        changed = _rowcount(session.execute(
            update(Device).where(Device.id == device.id, not_older,
                                 or_(Device.pin_tries_left.is_distinct_from(tries),
                                     Device.pin_blocked.is_distinct_from(seen.blocked)))
            .values(pin_tries_left=tries, pin_blocked=seen.blocked)
            .execution_options(synchronize_session=False)))
        set_committed_value(device, "pin_tries_left", tries)
        set_committed_value(device, "pin_blocked", seen.blocked)
        if changed:
            text = f"PIN {_pin_text(*old)} → {_pin_text(*new)}, seen at {reader}"
            if device.status == "locked" and not seen.blocked and (tries is None or tries > 0):
                text += ": ready for unlock"
            audit.record(session, actor=actor, action="device.pin_state", entity_type="device",
                         entity_id=device.id, device_id=device.id, summary=text,
                         before={"pin_tries_left": old[0], "pin_blocked": old[1]},
                         after={"pin_tries_left": tries, "pin_blocked": seen.blocked,
                                "reader": reader, "host": host})
            changes.append(Change(device.kind, device.serial, "device.pin_state",
                                  f"{device.serial}: {text}"))
    session.execute(
        update(Device).where(Device.id == device.id, not_older)
        .values(last_seen_at=seen.seen_at, last_seen_reader=reader[:200],
                last_seen_host=host[:120])
        .execution_options(synchronize_session=False))
    set_committed_value(device, "last_seen_at", seen.seen_at)
    set_committed_value(device, "last_seen_reader", reader[:200])
    set_committed_value(device, "last_seen_host", host[:120])
    if seen.blocked and device.status == "issued":
        lifecycle.lock(session, device, actor=actor, at=seen.seen_at,
                       reason=f"PIN blocked, seen by poller@{host} at {reader}")
        changes.append(Change(device.kind, device.serial, "device.lock",
                              f"{device.serial}: locked (PIN blocked, seen at {reader}); "
                              f"lock count {device.lock_count}"))
    _certificates(session, seen, device, actor, changes, warnings)


def _certificates(session: Session, seen: _Seen, device: Device, actor: str,
                  changes: list[Change], warnings: list[str]) -> None:
    certs = seen.certificates
    if not certs:
        return
    owners = dict(session.execute(
        select(Certificate.fingerprint_sha256, Certificate.device_id)
        .where(Certificate.fingerprint_sha256.in_([c.fingerprint_sha256 for c in certs]))).all())
    for cert in certs:  # oldest first: the newest ends active, superseding the others
        owner = owners.get(cert.fingerprint_sha256)
        if owner == device.id:
            continue
        if owner is not None:
            other = session.get(Device, owner)
            warnings.append(f"{device.serial}: certificate {cert.serial} ({cert.subject_cn}) "
                            f"is registered on device {other.serial if other else owner}: "
                            "not attached")
            continue
        if device.status not in lifecycle.CERTIFICATE_STATES:
            warnings.append(f"{device.serial}: is {device.status}: certificate {cert.serial} "
                            f"({cert.subject_cn}) not attached")
            continue
        try:
            lifecycle.attach_certificate(  # the whole certificate: DER, issuer DER-exact
                session, device, lifecycle.CertificateData.from_der(cert.der),
                actor=actor, action="certificate.seen")
        except (ConcurrentChangeError, StaleDataError, IntegrityError):
            raise
        except TokenfleetError as err:  # a malformed certificate: say so, keep going
            warnings.append(str(err))
            continue
        owners[cert.fingerprint_sha256] = device.id
        changes.append(Change(device.kind, device.serial, "certificate.seen",
                              f"{device.serial}: certificate {cert.serial} ({cert.subject_cn}) "
                              f"valid until {cert.not_after:%Y-%m-%d} attached"))


def _unregistered(session: Session, seen: _Seen, host: str, changes: list[Change]) -> None:
    row = session.scalar(select(UnregisteredDevice).where(
        UnregisteredDevice.kind == seen.kind, UnregisteredDevice.serial == seen.serial))
    details = {"certificates": [{"serial": c.serial, "subject": c.subject, "issuer": c.issuer,
                                 "not_before": c.not_before.isoformat(),
                                 "not_after": c.not_after.isoformat(),
                                 "fingerprint_sha256": c.fingerprint_sha256}
                                for c in seen.certificates],
               "pin_tries_left": seen.tries, "pin_blocked": seen.blocked,
               "sources": sorted({o.source for o in seen.observations})}
    facts = {"last_seen_at": seen.seen_at, "reader": seen.first.reader[:300], "host": host,
             "atr": seen.pick("atr"), "label": seen.pick("label"),
             "manufacturer": seen.pick("manufacturer"), "model": seen.pick("model"),
             "details": details}
    if row is not None:
        if seen.seen_at >= row.last_seen_at:
            for key, value in facts.items():
                setattr(row, key, value)
        session.flush()
        return
    row = UnregisteredDevice(kind=seen.kind, serial=seen.serial, first_seen_at=seen.seen_at,
                             **facts)
    session.add(row)
    session.flush()
    audit.record(session, actor=access.station_actor(session, host), action="unregistered.seen",
                 entity_type="unregistered_device", entity_id=row.id,
                 summary=f"{seen.kind} {seen.serial} seen at {seen.first.reader}, not in the "
                         "register",
                 after={"kind": seen.kind, "serial": seen.serial, "reader": seen.first.reader,
                        "host": host})
    changes.append(Change(seen.kind, seen.serial, "unregistered.seen",
                          f"{seen.serial}: {seen.kind} not in the register: recorded as "
                          "unregistered (claim it with `tokenfleet unregistered claim`)"))


# --- upkeep and queries ------------------------------------------------------------------------

def prune_observations(session: Session, older_than: timedelta,
                       now: datetime | None = None) -> int:
    """Drop raw observations older than the retention (``observation_retention_days``)."""
    cutoff = (now or utcnow()) - older_than
    return _rowcount(session.execute(delete(ObservationRecord)
                                     .where(ObservationRecord.seen_at < cutoff)))


def ready_for_unlock(session: Session) -> list[Device]:
    """Locked devices seen healthy since they were locked: the desk can unlock them."""
    return list(session.scalars(
        select(Device).where(Device.status == "locked", Device.pin_blocked.is_(False),
                             or_(Device.pin_tries_left.is_(None), Device.pin_tries_left > 0),
                             Device.last_seen_at >= Device.status_changed_at)
        .order_by(Device.last_seen_at.desc())).unique())


# --- poller stations ---------------------------------------------------------------------------

@dataclass(frozen=True)
class StationReaderRow:
    station: str
    reader: str
    card_present: bool
    atr: str | None
    serial: str | None
    profile: str | None
    error: str | None
    updated_at: datetime
    heartbeat_at: datetime
    alive: bool  # the station's poller gave a heartbeat recently

    def as_record(self) -> dict[str, Any]:
        return asdict(self)


def record_station_readers(session: Session, station: str, readers: Sequence[ReaderState],
                           at: datetime | None = None) -> None:
    """Replace what the register shows of this station's readers (and beat its heart)."""
    at = at or utcnow()
    rows = {r.reader: r for r in session.scalars(
        select(StationReader).where(StationReader.station == station))}
    wanted: dict[str, dict[str, Any]] = {
        r.name: {"card_present": r.card_present, "atr": r.atr, "serial": r.serial,
                 "profile": r.profile, "error": r.error[:300] if r.error else None}
        for r in readers} or {NO_READERS: {"card_present": False}}
    for name, facts in wanted.items():
        row = rows.pop(name, None)
        if row is None:
            row = StationReader(station=station, reader=name[:300])
            session.add(row)
        for key in ("card_present", "atr", "serial", "profile", "error"):
            setattr(row, key, facts.get(key))
        row.updated_at, row.heartbeat_at = at, at
    for gone in rows.values():
        session.delete(gone)
    session.flush()


def station_heartbeat(session: Session, station: str, at: datetime | None = None) -> None:
    at = at or utcnow()
    done = _rowcount(session.execute(update(StationReader)
                                     .where(StationReader.station == station)
                                     .values(heartbeat_at=at)))
    if not done:
        record_station_readers(session, station, (), at)


def station_readers(session: Session, station: str | None = None, *,
                    alive_within: timedelta = timedelta(seconds=90),
                    now: datetime | None = None) -> list[StationReaderRow]:
    """Every station's readers as their pollers last reported them (the TUI's readers screen)."""
    stmt = select(StationReader).order_by(StationReader.station, StationReader.reader)
    if station is not None:
        stmt = stmt.where(StationReader.station == station)
    cutoff = (now or utcnow()) - alive_within
    return [StationReaderRow(r.station, r.reader, r.card_present, r.atr, r.serial, r.profile,
                             r.error, r.updated_at, r.heartbeat_at, r.heartbeat_at >= cutoff)
            for r in session.scalars(stmt)]


# --- claiming an unregistered device -----------------------------------------------------------

def unregistered_devices(session: Session) -> list[UnregisteredDevice]:
    return list(session.scalars(select(UnregisteredDevice)
                                .order_by(UnregisteredDevice.last_seen_at.desc())))


def claim(session: Session, serial: str, *, actor: str, kind: str | None = None
          ) -> tuple[Device, list[str]]:
    """Enter a seen-but-unknown device in the register (in stock) with what the poller read:
    manufacturer, model and its certificates. Returns the device and any warnings."""
    from inventory.register.errors import NotFoundError, ValidationError

    stmt = select(UnregisteredDevice).where(UnregisteredDevice.serial == serial.strip())
    if kind:
        stmt = stmt.where(UnregisteredDevice.kind == kind)
    found = list(session.scalars(stmt))
    if not found:
        raise NotFoundError(f"no unregistered device with serial {serial!r}"
                            + (f" of kind {kind}" if kind else "")
                            + " (see `tokenfleet unregistered list`)")
    if len(found) > 1:
        raise ValidationError(f"serial {serial!r} was seen as a usb_token and a pki_sim: "
                              "give --kind")
    row = found[0]
    device = lifecycle.add_device(session, kind=row.kind, serial=row.serial, actor=actor,
                                  manufacturer=row.manufacturer, model=row.model,
                                  notes=f"claimed from a poller sighting at {row.reader}")
    warnings: list[str] = []
    certs = sorted((row.details or {}).get("certificates", []), key=lambda c: c["not_before"])
    for c in certs:
        fp = c.get("fingerprint_sha256")
        if fp and session.scalar(select(Certificate.id)
                                 .where(Certificate.fingerprint_sha256 == fp)):
            warnings.append(f"{row.serial}: certificate {c['serial']} is already registered on "
                            "another device: not attached")
            continue
        lifecycle.attach_certificate(
            session, device, lifecycle.CertificateData(
                serial=c["serial"], not_before=datetime.fromisoformat(c["not_before"]),
                not_after=datetime.fromisoformat(c["not_after"]), subject=c.get("subject"),
                issuer=c.get("issuer"), fingerprint_sha256=fp),
            actor=actor, action="certificate.seen")
    audit.record(session, actor=actor, action="unregistered.claim",
                 entity_type="unregistered_device", entity_id=row.id, device_id=device.id,
                 summary=f"{row.kind} {row.serial} claimed into the register",
                 before={"kind": row.kind, "serial": row.serial, "first_seen_at":
                         row.first_seen_at, "reader": row.reader, "host": row.host},
                 after={"device_id": device.id})
    session.execute(update(ObservationRecord)
                    .where(ObservationRecord.kind == row.kind, ObservationRecord.serial ==
                           row.serial, ObservationRecord.device_id.is_(None))
                    .values(device_id=device.id))
    session.delete(row)
    session.flush()
    return device, warnings
