"""The tamper-evident audit trail.

Every event's ``hash`` is SHA-256 over its own fields and the previous event's hash, so editing
or deleting any past event breaks the chain at that point. Appends first update the single
``audit_head`` row: on PostgreSQL that row lock, on SQLite the write lock, makes concurrent
writers append one after the other, so the chain never forks.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy.orm import Session

from inventory.register import access, checks
from inventory.register.errors import AuditChainBrokenError, SealMismatchError
from inventory.register.models import AuditHead, Event, utcnow
from inventory.register.seal import GENESIS_HASH, Seal
from inventory.register.text import terminal_safe

ACTOR_MAX = checks.column_size(Event.actor) or 120


_PLAIN = (str, int, float, bool, type(None))


def _canonical(value: Any) -> Any:
    """Datetimes as ISO text, keys as text, tuples as lists: what JSON keeps of a value."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k if isinstance(k, str) else str(k):
                v if isinstance(v, _PLAIN) else _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [v if isinstance(v, _PLAIN) else _canonical(v) for v in value]
    return value


def _iso(value: Any) -> Any:
    """``json.dumps``'s fallback: what ``_canonical`` makes of a value JSON has no type for."""
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


# One encoder, made once (``json.dumps`` with options makes one per call: verify and bulk
# writers serialise millions of events).
_BODY = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                         default=_iso).encode


def event_body(
    *,
    occurred_at: datetime,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: int | None,
    device_id: int | None,
    summary: str | None,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> str:
    """The hashed fields but the chain position and link, serialised once. Bulk writers make
    these before they take the write lock; only ``chain_hash`` runs while they hold it."""
    return _BODY(  # the C encoder; datetimes through _iso, as _canonical writes them
        [occurred_at.isoformat(timespec="microseconds"), actor, action, entity_type, entity_id,
         device_id, summary, before, after])[1:-1]


def chain_hash(seq: int, body: str, prev_hash: str) -> str:
    """SHA-256 over ``[seq, <body>, prev_hash]``: the same JSON array ``event_hash`` hashes."""
    return hashlib.sha256(f'[{seq},{body},"{prev_hash}"]'.encode()).hexdigest()


def event_hash(
    *,
    seq: int,
    occurred_at: datetime,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: int | None,
    device_id: int | None,
    summary: str | None,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    prev_hash: str,
) -> str:
    body = event_body(occurred_at=occurred_at, actor=actor, action=action,
                      entity_type=entity_type, entity_id=entity_id, device_id=device_id,
                      summary=summary, before=before, after=after)
    return chain_hash(seq, body, prev_hash)


def jsonable(state: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if state is None else _canonical(state)


def _claim(session: Session, count: int) -> tuple[int, str]:
    """Reserve ``count`` chain positions; returns (last seq before them, last hash)."""
    row = session.execute(
        update(AuditHead).where(AuditHead.id == 1)
        .values(last_seq=AuditHead.last_seq + count)
        .returning(AuditHead.last_seq, AuditHead.last_hash)
    ).one_or_none()
    if row is None:  # first event ever: the migration seeds the row, but be robust
        session.add(AuditHead(id=1, last_seq=count, last_hash=GENESIS_HASH))
        session.flush()
        return 0, GENESIS_HASH
    return row.last_seq - count, row.last_hash


@dataclass(frozen=True)
class EventDraft:
    action: str
    entity_type: str
    entity_id: int | None
    actor: str
    device_id: int | None = None
    summary: str | None = None
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    occurred_at: datetime | None = None


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: int | None,
    device_id: int | None = None,
    summary: str | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    occurred_at: datetime | None = None,
) -> Event:
    """Append one event in the caller's transaction."""
    (event,) = record_many(session, [EventDraft(
        action=action, entity_type=entity_type, entity_id=entity_id, actor=actor,
        device_id=device_id, summary=summary, before=before, after=after,
        occurred_at=occurred_at)])
    return event


def record_many(session: Session, drafts: Iterable[EventDraft]) -> list[Event]:
    """Append several events at once with one head update (returns them as ORM objects)."""
    drafts = list(drafts)
    if not drafts:
        return []
    rows = _append(session, drafts)
    events = [Event(**row) for row in rows]
    session.add_all(events)
    session.flush()
    return events


def append_many(session: Session, drafts: Iterable[EventDraft]) -> int:
    """The bulk path (the demo city): the same chain and checks as :func:`record_many`, one
    head claim for the whole batch, written with one Core ``INSERT`` and no ORM objects.
    Returns how many events were appended."""
    drafts = list(drafts)
    if not drafts:
        return 0
    rows = _append(session, drafts)
    session.connection().execute(insert(cast(Table, Event.__table__)), rows)
    return len(rows)


def _append(session: Session, drafts: list[EventDraft]) -> list[dict[str, Any]]:
    """Check the actors and who may do what, claim the chain positions, hash: the rows to
    insert, in order."""
    for name in {d.actor for d in drafts}:
        if len(name) > ACTOR_MAX or not name.strip() or terminal_safe(name) != name:
            checks.actor(name)  # raises, naming what is wrong
    for actor, action in {(d.actor, d.action) for d in drafts}:
        access.require(session, actor, action)
    seq, prev = _claim(session, len(drafts))
    rows = []
    for d in drafts:
        seq += 1
        occurred_at = d.occurred_at or utcnow()
        before, after = jsonable(d.before), jsonable(d.after)
        digest = chain_hash(seq, event_body(
            occurred_at=occurred_at, actor=d.actor, action=d.action, entity_type=d.entity_type,
            entity_id=d.entity_id, device_id=d.device_id, summary=d.summary, before=before,
            after=after), prev)
        rows.append({"seq": seq, "occurred_at": occurred_at, "actor": d.actor,
                     "action": d.action, "entity_type": d.entity_type, "entity_id": d.entity_id,
                     "device_id": d.device_id, "summary": d.summary, "before": before,
                     "after": after, "prev_hash": prev, "hash": digest})
        prev = digest
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(last_hash=prev))
    return rows


@dataclass(frozen=True)
class VerifyResult:
    events: int
    last_hash: str
    seals: int = 0  # how many seals the chain was checked against


_COLUMNS = (Event.id, Event.seq, Event.occurred_at, Event.actor, Event.action, Event.entity_type,
            Event.entity_id, Event.device_id, Event.summary, Event.before, Event.after,
            Event.prev_hash, Event.hash)


def verify(session: Session, *, seals: Sequence[Seal] = (), batch: int = 5000) -> VerifyResult:
    """Walk the whole chain; raise ``AuditChainBrokenError`` at the first broken event, and
    ``SealMismatchError`` when the chain no longer matches one of ``seals`` (the earliest)."""
    access.require_whole_register(session, "verifying the audit trail")
    sealed: dict[int, list[Seal]] = {}
    for s in seals:
        sealed.setdefault(s.position, []).append(s)
    matched: list[Seal] = []
    prev, expected_seq, last_id = GENESIS_HASH, 1, 0
    with session.connection().execute(
            select(*_COLUMNS).order_by(Event.seq).execution_options(yield_per=batch)) as rows:
        for (id_, seq, occurred_at, actor, action, entity_type, entity_id, device_id, summary,
             before, after, prev_hash, digest) in rows:
            if seq != expected_seq:
                raise AuditChainBrokenError(
                    last_id if seq > expected_seq else id_,
                    f"chain position {expected_seq} is missing (an event was deleted after "
                    f"event {last_id})")
            if prev_hash != prev:
                raise AuditChainBrokenError(id_, "does not link to the event before it")
            # Stored before/after are already canonical JSON values: hashed as read.
            body = _BODY([occurred_at.isoformat(timespec="microseconds"), actor, action,
                          entity_type, entity_id, device_id, summary, before, after])[1:-1]
            if chain_hash(seq, body, prev_hash) != digest:
                raise AuditChainBrokenError(id_, "its content was changed after it was written")
            if seq in sealed:
                _check_seals(sealed.pop(seq), digest, matched)
            prev, expected_seq, last_id = digest, expected_seq + 1, id_
    count = expected_seq - 1
    head = session.get(AuditHead, 1)
    if head is not None and (head.last_seq != count or head.last_hash != prev):
        raise AuditChainBrokenError(
            last_id, f"the chain ends at position {count} but the head records "
                     f"{head.last_seq}: events after it were deleted")
    if 0 in sealed:
        _check_seals(sealed.pop(0), GENESIS_HASH, matched)
    if sealed:  # sealed positions the chain no longer reaches: it was cut short
        first = sealed[min(sealed)][0]
        raise SealMismatchError(count + 1, f"the audit trail ends at position {count}, but "
                                f"{_name(first)} sealed position {first.position}: events "
                                f"{count + 1}–{first.position} were removed")
    return VerifyResult(events=count, last_hash=prev, seals=len(seals))


def _name(s: Seal) -> str:
    return f"{s.source or 'the seal'} (taken {s.time:%Y-%m-%d %H:%M} UTC)"


def _check_seals(at_position: list[Seal], digest: str, matched: list[Seal]) -> None:
    for s in at_position:
        if s.hash != digest:
            since = max((m.position for m in matched), default=0)
            raise SealMismatchError(s.position, (
                f"the audit trail no longer matches {_name(s)}: its history up to this "
                "position was rewritten") + (
                f" (the change lies in positions {since + 1}–{s.position}: it still matches "
                f"the seal at {since})" if since else ""))
        matched.append(s)
