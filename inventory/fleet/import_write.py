"""Write an import plan in one transaction, holding the write lock as briefly as possible.

Before the lock: the plan's rows are staged in temporary tables of the writer's own connection
(SQLite keeps them in a separate temporary database, PostgreSQL per session: other desks never
wait for them), with the audit events hash-chained from the head the plan saw. Under the lock:
check that what other desks appended meanwhile touches nothing the plan read, chain the events
again only if the head moved, and copy every staged table with one ``INSERT … SELECT`` each
(C speed, no Python per row); device updates carry their version (a device changed meanwhile
sends the plan back). The rows that unlock a device (closing its unlock case, found or rebuilt
from its history) go last, through the lifecycle functions.

If what other desks appended touches a device, holder or agency the plan read (or could have
matched by serial, key, ID number or name), a new plan is made, up to ``ATTEMPTS`` times, the
last one under the lock, so an import always ends.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Session

from inventory.fleet import lifecycle
from inventory.fleet.import_plan import TABLES, ImportRow, Plan, Progress, make_plan
from inventory.register import access, audit
from inventory.register.db import SQLITE_BULK_CACHE_KIB, SQLITE_CACHE_KIB, Register
from inventory.register.errors import RowProblem, TokenfleetError
from inventory.register.models import (
    Agency,
    AuditHead,
    Certificate,
    Device,
    Event,
    Handover,
    Holder,
    UnlockCase,
)
from inventory.register.text import fold

ATTEMPTS = 3
BATCH = 10_000
CONFLICT_CHECK_LIMIT = 50_000  # more appended meanwhile than this: plan again


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
        if (plan.problems and not skip_invalid) or plan.writes_nothing:
            return plan, attempt
        with register.engine.connect() as conn:
            try:
                _bulk_cache(conn, SQLITE_BULK_CACHE_KIB)
                with conn.begin():
                    _stage(conn, plan)  # temporary tables only: no lock on the register
                with register.session(conn) as session:
                    if _moved_on(conn, plan):
                        if attempt < ATTEMPTS:
                            raise Stale  # nothing written yet
                        plan = make_plan(register, rows, actor=actor, dry_run=False, conn=conn)
                        if plan.problems and not skip_invalid:
                            return plan, attempt
                        _stage(conn, plan)
                    _apply(session, conn, plan, skip_invalid=skip_invalid, progress=progress)
            except Stale:
                if attempt == ATTEMPTS:
                    raise AssertionError("a plan made under the write lock cannot be stale") \
                        from None
                continue
            finally:
                _drop_staging(conn)
                _bulk_cache(conn, SQLITE_CACHE_KIB)
        return plan, attempt
    raise AssertionError("unreachable: the last attempt writes or raises")  # pragma: no cover


def _bulk_cache(conn: Connection, kib: int) -> None:
    """SQLite: the page cache of the writer's connection (PERF: a big one halves the time
    inserts into indexed tables take, which is the time the write lock is held); the pooled
    connection goes back with the usual size."""
    if conn.dialect.name == "sqlite":
        if conn.in_transaction():
            conn.rollback()
        conn.exec_driver_sql(f"PRAGMA cache_size=-{kib}")
        conn.commit()


# --- staging -----------------------------------------------------------------------------------

STAGED = (("agencies", Agency), ("holders", Holder), ("devices", Device),
          ("certificates", Certificate), ("handovers", Handover),
          ("unlock_cases", UnlockCase))
EVENT_COLUMNS = ("occurred_at", "actor", "action", "entity_type", "entity_id", "device_id",
                 "summary", "before", "after")


def _staging_tables() -> dict[str, Table]:
    meta = MetaData()
    tables = {name: Table(f"import_{name}", meta,
                          *(Column(c.name, c.type) for c in model.__table__.columns),
                          prefixes=["TEMPORARY"])
              for name, model in STAGED}
    tables["events"] = Table("import_events", meta, Column("n", Integer),
                             *(Column(c.name, Event.__table__.c[c.name].type)
                               for c in Event.__table__.columns if c.name in EVENT_COLUMNS),
                             prefixes=["TEMPORARY"])
    tables["chain"] = Table("import_chain", meta, Column("n", Integer), Column("seq", Integer),
                            Column("prev_hash", String(64)), Column("hash", String(64)),
                            prefixes=["TEMPORARY"])
    return tables


STAGING = _staging_tables()


def _drop_staging(conn: Connection) -> None:
    """The pooled connection goes back clean (temporary tables live as long as it does)."""
    if conn.in_transaction():
        conn.rollback()
    with conn.begin():
        for table in STAGING.values():
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {table.name}")


def _stage(conn: Connection, plan: Plan) -> None:
    for table in STAGING.values():
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {table.name}")
        table.create(conn, checkfirst=False)
    staged = {"agencies": plan.new_agencies, "holders": list(plan.new_holders.values()),
              "devices": plan.new_devices, "certificates": plan.new_certificates,
              "handovers": plan.handovers, "unlock_cases": plan.unlock_cases}
    for name, rows in staged.items():
        _insert(conn, STAGING[name], rows)
    _insert(conn, STAGING["events"], [
        {"n": n, "occurred_at": plan.now, "actor": plan.actor, "action": e.action,
         "entity_type": e.entity_type, "entity_id": e.entity_id, "device_id": e.device_id,
         "summary": e.summary, "before": e.before, "after": e.after}
        for n, e in enumerate(plan.events)])
    _insert(conn, STAGING["chain"], _chain(plan, plan.head_seq, plan.head_hash))


def _chain(plan: Plan, seq: int, prev: str) -> list[dict[str, Any]]:
    """The events' positions and hashes after the head (``seq``, ``prev``)."""
    rows = []
    for n, e in enumerate(plan.events):
        seq += 1
        digest = audit.chain_hash(seq, e.body, prev)
        rows.append({"n": n, "seq": seq, "prev_hash": prev, "hash": digest})
        prev = digest
    return rows


def _moved_on(conn: Connection, plan: Plan) -> bool:
    """Whether what other desks appended since the plan was made touches what it read."""
    head = conn.scalar(select(AuditHead.last_seq).where(AuditHead.id == 1)) or 0
    if head != plan.head_seq:
        since = conn.execute(select(Event.action, Event.entity_type, Event.entity_id,
                                    Event.device_id).where(Event.seq > plan.head_seq)).all()
        if len(since) > CONFLICT_CHECK_LIMIT:
            return True
        new_devices, new_holders = set(), set()
        for action, entity_type, entity_id, device_id in since:
            if device_id is not None and device_id in plan.read_devices:
                return True
            if entity_type == "agency":
                return True
            if entity_type == "holder" and entity_id is not None:
                if entity_id in plan.read_holders:
                    return True
                new_holders.add(entity_id)
            if action == "device.add" and device_id is not None:
                new_devices.add(device_id)
        if new_devices and any(serial in plan.serials for serial in conn.scalars(
                select(Device.serial).where(Device.id.in_(new_devices)))):
            return True  # another desk added a serial of the file
        if new_holders:
            for key, name, nid in conn.execute(select(
                    Holder.key, Holder.name_folded, Holder.national_id)
                    .where(Holder.id.in_(new_holders))):
                if key in plan.holder_keys or nid in plan.national_ids or \
                        name in plan.holder_names:
                    return True
    if conn.dialect.name == "sqlite":  # the plan chose ids above the largest ones
        for name, model in TABLES.items():
            largest = conn.scalar(select(func.coalesce(func.max(model.id), 0))) or 0
            if largest >= plan.first_ids.get(name, largest + 1):
                return True
    return False


def _batches(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for i in range(0, len(rows), BATCH):
        yield rows[i:i + BATCH]


def _insert(conn: Connection, table: Any, rows: list[dict[str, Any]]) -> None:
    for batch in _batches(rows):
        conn.execute(insert(table), batch)


def _copy(conn: Connection, name: str, model: Any) -> None:
    """One staged table into the register, in id order."""
    columns = ", ".join(c.name for c in model.__table__.columns)
    conn.exec_driver_sql(f"INSERT INTO {model.__tablename__} ({columns}) "
                         f"SELECT {columns} FROM import_{name} ORDER BY id")


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

    for name, model in STAGED[:3]:  # agencies, holders, devices
        _copy(conn, name, model)
    step(len(plan.new_devices))
    _update_devices(conn, plan)
    _update_holders(conn, plan)
    if plan.superseded:
        for i in range(0, len(plan.superseded), BATCH):
            conn.execute(update(Certificate).where(
                Certificate.device_id.in_(plan.superseded[i:i + BATCH]),
                Certificate.status == "active").values(status="superseded"))
    _copy(conn, "certificates", Certificate)
    for i in range(0, len(plan.revoked), BATCH):  # after the certificates the rows put on
        conn.execute(update(Certificate).where(
            Certificate.device_id.in_(plan.revoked[i:i + BATCH]),
            Certificate.status == "active").values(status="revoked"))
    _copy(conn, "handovers", Handover)
    _copy(conn, "unlock_cases", UnlockCase)
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
    if (head.last_seq, head.last_hash) != (plan.head_seq, plan.head_hash):
        # other desks appended meanwhile (nothing the plan read): chain after them
        conn.exec_driver_sql("DELETE FROM import_chain")
        _insert(conn, STAGING["chain"], _chain(plan, head.last_seq, head.last_hash))
    columns = ", ".join(EVENT_COLUMNS)
    conn.exec_driver_sql(
        f"INSERT INTO events ({columns}, seq, prev_hash, hash) "
        f"SELECT {', '.join('e.' + c for c in EVENT_COLUMNS)}, c.seq, c.prev_hash, c.hash "
        "FROM import_events e JOIN import_chain c ON c.n = e.n ORDER BY e.n")
    step(len(plan.events))
    last = conn.execute(select(STAGING["chain"].c.seq, STAGING["chain"].c.hash)
                        .order_by(STAGING["chain"].c.n.desc()).limit(1)).one()
    conn.execute(update(AuditHead).where(AuditHead.id == 1)
                 .values(last_seq=last.seq, last_hash=last.hash))


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
