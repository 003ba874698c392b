"""The audit chain replayed to each device's state, and compared with the register's rows.

The chain is the evidence: every move writes a device event whose ``after`` carries the device's
state (:func:`inventory.fleet.lifecycle.device_state`), and every certificate put on a device
writes a certificate event. So the latest of those events per device says what its row must hold:

* **status, holder, lock count** — the ``after`` of the device's latest *state event*
  (``device.add``, ``device.edit`` or one of the moves of
  :data:`inventory.fleet.lifecycle.MOVES`); so is the
  **agency**, as of that event (a holder's move to another agency and an agency merge move
  devices with a holder or agency event, not a device event, so ``discrepancies`` does not
  compare the agency);
* **active certificate** — the certificate serial of its latest *certificate event*, unless a
  later ``device.revoke`` revoked it; none when the device never had a certificate event.

A device whose row differs from that (an ``UPDATE devices`` straight in the database, a row
without any event, an event for a device that is gone) is a :class:`Discrepancy`.

Set-based: one grouped pass over ``events`` finds each device's latest state and certificate
events (their chain positions), two look-ups by position fetch their ``after``, and one join
with ``devices`` compares — nothing is loaded per device into Python, and only the differing
rows come back.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, Subquery, and_, case, func, literal, or_, select, type_coerce
from sqlalchemy.orm import Session, aliased
from sqlalchemy.types import JSON

from inventory.fleet.lifecycle import MOVES
from inventory.register import audit
from inventory.register.audit import VerifyResult
from inventory.register.errors import RegisterDiffersError
from inventory.register.models import Certificate, Device, Event
from inventory.register.seal import Seal

STATE_ACTIONS: tuple[str, ...] = ("device.add", "device.edit", *(f"device.{m}" for m in MOVES))
"""Events whose ``after`` is the device's whole state (``lifecycle.device_state``): an import's
``device.edit`` (details, or a lock count from before the register) carries it too, as the
point-in-time reports read it."""
CERTIFICATE_ACTIONS = ("certificate.attach", "certificate.renew", "certificate.seen",
                       "certificate.import")
"""Events that put a certificate on a device (``lifecycle.attach_certificate``): the newest is
the active one."""
REVOKING_ACTIONS = tuple(f"device.{m.name}" for m in MOVES.values() if m.revokes_certificates)
"""Events after which a device has no active certificate (revoking revokes its certificates)."""

COMPARED = ("status", "holder", "lock count", "active certificate")


@dataclass(frozen=True)
class ReplayedState:
    """What the chain says a device's row holds; ``seq`` is its latest state event's position."""

    device_id: int
    status: str | None
    holder_id: int | None
    agency_id: int | None
    lock_count: int | None
    certificate_serial: str | None
    seq: int | None


@dataclass(frozen=True)
class Discrepancy:
    """A device whose row is not what its events say (``what`` is one of ``COMPARED``,
    ``"no event"`` or ``"missing"``)."""

    device_id: int
    serial: str | None
    what: str
    register: Any
    chain: Any
    seq: int | None  # the chain position the chain's value comes from

    def __str__(self) -> str:
        name = f"device {self.serial}" if self.serial else f"device id {self.device_id}"
        if self.what == "no event":
            return f"{name} is in the register but the audit trail never recorded it"
        if self.what == "missing":
            return (f"{name} is gone from the register but the audit trail has it "
                    f"(last at chain position {self.seq})")
        return (f"{name}: {self.what} is {_show(self.register)} in the register, but "
                f"{_show(self.chain)} by the audit trail (chain position {self.seq}): "
                "changed without an event")


def _show(value: Any) -> str:
    return "none" if value is None else str(value)


def _json(column: Any) -> Any:
    return type_coerce(column, JSON)


def _latest_positions(upto_seq: int | None = None) -> Subquery:
    """Per device: the positions of its latest state, certificate and revoking events."""
    def latest(actions: tuple[str, ...]) -> Any:
        return func.max(case((Event.action.in_(actions), Event.seq)))

    stmt = (select(Event.device_id.label("device_id"),
                   latest(STATE_ACTIONS).label("state_seq"),
                   latest(CERTIFICATE_ACTIONS).label("cert_seq"),
                   latest(REVOKING_ACTIONS).label("revoke_seq"))
            .where(Event.device_id.is_not(None),
                   Event.action.in_(STATE_ACTIONS + CERTIFICATE_ACTIONS))
            .group_by(Event.device_id))
    if upto_seq is not None:
        stmt = stmt.where(Event.seq <= upto_seq)
    return stmt.subquery("latest_positions")


def replayed_states(upto_seq: int | None = None) -> Subquery:
    """One row per device the chain knows (up to position ``upto_seq``): device_id, status,
    holder_id, agency_id, lock_count, certificate_serial and seq (see the module docstring)."""
    last = _latest_positions(upto_seq)
    state_ev, cert_ev = aliased(Event, name="state_event"), aliased(Event, name="cert_event")
    after, cert_after = _json(state_ev.after), _json(cert_ev.after)
    revoked_since = and_(last.c.revoke_seq.is_not(None), last.c.revoke_seq > last.c.cert_seq)
    return (
        select(last.c.device_id.label("device_id"),
               after["status"].as_string().label("status"),
               after["holder_id"].as_integer().label("holder_id"),
               after["agency_id"].as_integer().label("agency_id"),
               after["lock_count"].as_integer().label("lock_count"),
               case((revoked_since, literal(None)),
                    else_=cert_after["serial"].as_string()).label("certificate_serial"),
               last.c.state_seq.label("seq"),
               last.c.cert_seq.label("cert_seq"))
        .select_from(last)
        .outerjoin(state_ev, state_ev.seq == last.c.state_seq)
        .outerjoin(cert_ev, cert_ev.seq == last.c.cert_seq)
    ).subquery("replayed")


def replay(session: Session, device_ids: list[int] | None = None) -> Iterator[ReplayedState]:
    """The replayed state of every device the chain knows (or of ``device_ids``)."""
    r = replayed_states()
    stmt = select(r.c.device_id, r.c.status, r.c.holder_id, r.c.agency_id, r.c.lock_count,
                  r.c.certificate_serial, r.c.seq).order_by(r.c.device_id)
    if device_ids is not None:
        stmt = stmt.where(r.c.device_id.in_(device_ids))
    for row in session.connection().execute(stmt):
        yield ReplayedState(*row)


def _active_certificates() -> Subquery:
    return (select(Certificate.device_id.label("device_id"),
                   func.max(Certificate.serial).label("serial"))
            .where(Certificate.status == "active").group_by(Certificate.device_id)
            ).subquery("active_certificates")


def discrepancies(session: Session, *, limit: int = 20) -> list[Discrepancy]:
    """Devices whose row differs from the replayed chain, in device order (at most ``limit``
    devices; each may differ in several ways)."""
    r, ac = replayed_states(), _active_certificates()
    differs: list[tuple[str, Any, Any]] = [
        ("status", Device.status, r.c.status),
        ("holder", Device.holder_id, r.c.holder_id),
        ("lock count", Device.lock_count, r.c.lock_count),
        ("active certificate", ac.c.serial, r.c.certificate_serial),
    ]
    stmt = (select(Device.id, Device.serial, r.c.device_id, r.c.seq, r.c.cert_seq,
                   *(reg for _, reg, _ in differs), *(chain for _, _, chain in differs))
            .select_from(Device)
            .outerjoin(r, r.c.device_id == Device.id)
            .outerjoin(ac, ac.c.device_id == Device.id)
            .where(or_(r.c.device_id.is_(None),
                       *(reg.is_distinct_from(chain) for _, reg, chain in differs)))
            .order_by(Device.id).limit(limit))
    found: list[Discrepancy] = []
    n = len(differs)
    for row in session.connection().execute(stmt):
        device_id, serial, known, seq, cert_seq = row[:5]
        if known is None:
            found.append(Discrepancy(device_id, serial, "no event", None, None, None))
            continue
        registered, replayed = row[5:5 + n], row[5 + n:]
        for (what, _, _), reg_value, chain_value in zip(differs, registered, replayed,
                                                         strict=True):
            if reg_value != chain_value:
                at = cert_seq if what == "active certificate" else seq
                found.append(Discrepancy(device_id, serial, what, reg_value, chain_value, at))
    if len(found) < limit:
        gone = (select(r.c.device_id, r.c.seq).where(
                    ~select(Device.id).where(Device.id == r.c.device_id).exists())
                .order_by(r.c.device_id).limit(limit - len(found)))
        found += [Discrepancy(device_id, None, "missing", None, None, seq)
                  for device_id, seq in session.connection().execute(gone)]
    return found


def check_register(session: Session, *, seals: Sequence[Seal] = (),
                   shown: int = 20) -> VerifyResult:
    """``audit verify``: the chain links and hashes (and matches ``seals``), and every device's
    row is what its events say. Run it first thing in a fresh read session: on PostgreSQL it
    reads one snapshot (REPEATABLE READ), so writers meanwhile cannot look like tampering.

    On PostgreSQL the replay runs meanwhile on a second connection that imports the same
    snapshot: it is the server's work (a grouped scan and joins), so it overlaps the chain's
    hashing here instead of following it."""
    if session.get_bind().dialect.name != "postgresql":
        result = audit.verify(session, seals=seals)
        found = discrepancies(session, limit=shown + 1)
    else:
        conn = session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        snapshot = str(conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar())
        with ThreadPoolExecutor(1, thread_name_prefix="replay") as pool:
            replaying = pool.submit(_discrepancies_in, conn.engine, snapshot, shown + 1)
            try:
                result = audit.verify(session, seals=seals)
            finally:
                found = replaying.result()
    if found:
        raise RegisterDiffersError([str(d) for d in found[:shown]], more=len(found) > shown)
    return result


def _discrepancies_in(engine: Engine, snapshot: str, limit: int) -> list[Discrepancy]:
    """:func:`discrepancies` in an exported snapshot (another connection, the same instant)."""
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
        conn.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
        # One grouped scan of every event: at a million devices it may outlast the register's
        # 60 s guard for interactive statements (measured under load), as a backup would.
        conn.exec_driver_sql("SET LOCAL statement_timeout = 0")
        with Session(bind=conn) as session:
            return discrepancies(session, limit=limit)
