"""Write an import plan in one transaction, holding the write lock as briefly as possible.

Under the lock: check that the register is where the plan left it (the audit chain's head, and
on SQLite the ids the plan chose), then insert and update rows in batches with Core statements
(device updates carry their version: a device changed meanwhile sends the plan back), chain the
events whose bodies the plan serialised (one SHA-256 each), append them at once and move the
head. The few rows whose moves open or close unlock cases or revoke certificates go last,
through the lifecycle functions. Another desk's write meanwhile means a new plan, up to
``ATTEMPTS`` times; the last attempt plans under the lock, so an import always ends.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from inventory.fleet import lifecycle
from inventory.fleet.import_plan import TABLES, Plan, make_plan
from inventory.fleet.importing import ImportRow, Progress
from inventory.register import access, audit
from inventory.register.db import Register
from inventory.register.errors import RowProblem, TokenfleetError
from inventory.register.models import (
    Agency,
    AuditHead,
    Certificate,
    Device,
    Event,
    Handover,
    Holder,
)
from inventory.register.text import fold

ATTEMPTS = 3
BATCH = 10_000


class Stale(Exception):
    """The register changed since the plan was made: plan again."""


class LateProblems(Exception):
    """Rows the lifecycle refused while writing (all or nothing: everything was undone)."""

    def __init__(self, problems: list[RowProblem]):
        self.problems = problems
        super().__init__(f"{len(problems)} row(s) refused")


def write(register: Register, rows: list[ImportRow], *, actor: str, skip_invalid: bool,
          progress: Progress | None = None) -> tuple[Plan, int]:
    """Plan and write ``rows``; returns the plan written and how many plans were made. A plan
    with problems (and not ``skip_invalid``) is returned unwritten."""
    for attempt in range(1, ATTEMPTS + 1):
        plan = make_plan(register, rows, actor=actor, dry_run=False, progress=progress)
        if plan.problems and not skip_invalid:
            return plan, attempt
        try:
            with register.session() as session:
                conn = session.connection()
                if _moved_on(conn, plan):
                    if attempt < ATTEMPTS:
                        raise Stale  # nothing written yet
                    plan = make_plan(register, rows, actor=actor, dry_run=False, conn=conn)
                    if plan.problems and not skip_invalid:
                        return plan, attempt
                _apply(session, conn, plan, skip_invalid=skip_invalid, progress=progress)
        except Stale:
            if attempt == ATTEMPTS:
                raise AssertionError("a plan made under the write lock cannot be stale") \
                    from None
            continue
        return plan, attempt
    raise AssertionError("unreachable: the last attempt writes or raises")  # pragma: no cover


def _moved_on(conn: Connection, plan: Plan) -> bool:
    head = conn.scalar(select(AuditHead.last_seq).where(AuditHead.id == 1)) or 0
    if head != plan.head_seq:
        return True
    if conn.dialect.name == "sqlite":  # the plan chose ids after the largest ones
        for name, model in TABLES.items():
            if (conn.scalar(select(func.coalesce(func.max(model.id), 0))) or 0) \
                    != plan.max_ids[name]:
                return True
    return False


def _batches(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for i in range(0, len(rows), BATCH):
        yield rows[i:i + BATCH]


def _insert(conn: Connection, model: Any, rows: list[dict[str, Any]]) -> None:
    for batch in _batches(rows):
        conn.execute(insert(model), batch)


def _apply(session: Session, conn: Connection, plan: Plan, *, skip_invalid: bool,
           progress: Progress | None) -> None:
    actions = {e.action for e in plan.events} | {f"device.{m}" for t in plan.tails
                                                  for m in t.moves}
    for action in sorted(actions):
        access.require(session, plan.actor, action)
    total = len(plan.events) + len(plan.new_devices) + len(plan.tails)
    done = 0

    def step(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress("writing", done, total)

    _insert(conn, Agency, plan.new_agencies)
    _insert(conn, Holder, list(plan.new_holders.values()))
    _insert(conn, Device, plan.new_devices)
    step(len(plan.new_devices))
    _update_devices(conn, plan)
    _update_holders(conn, plan)
    if plan.superseded:
        for i in range(0, len(plan.superseded), BATCH):
            conn.execute(update(Certificate).where(
                Certificate.device_id.in_(plan.superseded[i:i + BATCH]),
                Certificate.status == "active").values(status="superseded"))
    _insert(conn, Certificate, plan.new_certificates)
    _insert(conn, Handover, plan.handovers)
    _append_events(conn, plan, step)
    session.expire_all()
    if plan.tails:
        _tails(session, plan, skip_invalid=skip_invalid)
        step(len(plan.tails))


def _update_devices(conn: Connection, plan: Plan) -> None:
    if not plan.device_updates:
        return
    table: Any = Device.__table__
    stmt = update(table).where(table.c.id == bindparam("b_id"),
                               table.c.version == bindparam("b_version")).values(
        status=bindparam("b_status"), holder_id=bindparam("b_holder_id"),
        agency_id=bindparam("b_agency_id"), lock_count=bindparam("b_lock_count"),
        status_changed_at=func.coalesce(bindparam("b_status_changed_at",
                                                  type_=table.c.status_changed_at.type),
                                        table.c.status_changed_at),
        last_seen_at=bindparam("b_last_seen_at"), manufacturer=bindparam("b_manufacturer"),
        model=bindparam("b_model"), phone_number=bindparam("b_phone_number"),
        notes=bindparam("b_notes"), version=table.c.version + 1)
    rows = [{f"b_{k}": v for k, v in u.items()} for u in plan.device_updates.values()]
    changed = 0
    for batch in _batches(rows):
        changed += conn.execute(stmt, batch).rowcount
    if changed != len(rows):
        raise Stale  # a device changed since the plan read it


def _update_holders(conn: Connection, plan: Plan) -> None:
    for hid, (before, after) in plan.holder_changes.items():
        if before == after:
            continue
        conn.execute(update(Holder).where(Holder.id == hid).values(
            **after, name_folded=fold(after["full_name"])))
        if before["agency_id"] != after["agency_id"]:  # devices follow their holder
            conn.execute(update(Device).where(Device.holder_id == hid).values(
                agency_id=after["agency_id"], version=Device.version + 1))


def _append_events(conn: Connection, plan: Plan, step: Any) -> None:
    if not plan.events:
        return
    head = conn.execute(select(AuditHead.last_seq, AuditHead.last_hash)
                        .where(AuditHead.id == 1)).one()
    seq, prev = head.last_seq, head.last_hash
    rows = []
    for e in plan.events:
        seq += 1
        digest = audit.chain_hash(seq, e.body, prev)
        rows.append({"seq": seq, "occurred_at": plan.now, "actor": plan.actor,
                     "action": e.action, "entity_type": e.entity_type,
                     "entity_id": e.entity_id, "device_id": e.device_id, "summary": e.summary,
                     "before": e.before, "after": e.after, "prev_hash": prev, "hash": digest})
        prev = digest
    for batch in _batches(rows):
        conn.execute(insert(Event), batch)
        step(len(batch))
    conn.execute(update(AuditHead).where(AuditHead.id == 1)
                 .values(last_seq=seq, last_hash=prev))


def _tails(session: Session, plan: Plan, *, skip_invalid: bool) -> None:
    """Moves that open or close unlock cases or revoke certificates: through the lifecycle."""
    problems: list[RowProblem] = []
    for tail in plan.tails:
        try:
            with session.begin_nested():
                device = session.get(Device, tail.device_id)
                assert device is not None
                for move in tail.moves:
                    lifecycle.apply_move(session, device, move, actor=plan.actor, note="import")
                if tail.lock_count is not None and tail.lock_count > device.lock_count:
                    before = lifecycle.device_state(device)
                    device.lock_count = tail.lock_count
                    session.flush()
                    audit.record(session, actor=plan.actor, action="device.edit",
                                 entity_type="device", entity_id=device.id, device_id=device.id,
                                 summary="import: lock count from before the register",
                                 before=before, after=lifecycle.device_state(device))
        except TokenfleetError as err:
            problems.append(RowProblem(tail.line, str(err)))
            plan.outcomes.pop(tail.line, None)
    if problems and not skip_invalid:
        raise LateProblems(problems)
    plan.late_problems = problems
