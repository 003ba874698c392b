"""Plan an import: what the register holds for the file's keys, read in sets, and every change
each row asks for — made outside the write lock, so other desks keep working meanwhile.

The snapshot is read in one read transaction: every agency (a few thousand at most), and the
devices, active certificates and holders the file names, by ``IN`` look-ups of a few thousand
keys each. The plan gives every new row its id up front (PostgreSQL: reserved from the
sequences; SQLite: a gap above the largest id, checked again under the lock), builds the audit
events with their serialised bodies (``audit.event_body``), and remembers what it read and the
chain position it was made at, so the writer can tell whether other desks' work since touches it.
The row types of an import (``ImportRow``) and the state machine's paths live here too.
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ARRAY,
    Connection,
    Integer,
    String,
    any_,
    bindparam,
    func,
    literal_column,
    select,
)

from inventory.fleet import lifecycle, unlock_cases
from inventory.register import audit, checks
from inventory.register.db import Register
from inventory.register.errors import RowProblem, ValidationError
from inventory.register.models import (
    Agency,
    AuditHead,
    Certificate,
    Device,
    Handover,
    Holder,
    UnlockCase,
    utcnow,
)
from inventory.register.models.register import new_holder_key
from inventory.register.text import fold

HOLDER_STATUSES = {"issued", "locked", "lost"}
IMPORT_METHOD = "in_person"
HOLDER_KEY = re.compile(r"[A-Za-z0-9_-]{4,32}")
Progress = Callable[[str, int, int], None]
"""``progress(stage, done, total)``: stages are "reading", "checking", "resolving", "writing"."""


@dataclass
class ImportRow:
    """One checked row of the file: every value is what the register would store."""

    line: int  # 1-based row number in the file
    serial: str
    kind: str | None = None  # as the row says it
    kind_guess: str | None = None  # from an ICCID-shaped serial or the serial's header
    status: str | None = None
    holder: str | None = None
    holder_key: str | None = None
    national_id: str | None = None  # unmasked only
    national_id_tail: str | None = None  # the visible digits of a masked one (********4567)
    title: str | None = None
    email: str | None = None
    phone: str | None = None
    agency_code: str | None = None
    agency: str | None = None
    manufacturer: str | None = None
    model: str | None = None
    phone_number: str | None = None
    notes: str | None = None
    certificate_serial: str | None = None
    not_before: datetime | None = None
    not_after: datetime | None = None
    lock_count: int | None = None
    last_seen_at: datetime | None = None



@dataclass
class CheckedRows:
    """The file's good rows, column by column: ``values`` maps an ``ImportRow`` attribute to
    one value per row (None where the row gives none); only the file's columns are there.
    Checking and the "nothing changed" test work on whole columns; ``ImportRow`` objects are
    made only for the rows the planner needs."""

    lines: list[int] = field(default_factory=list)
    values: dict[str, list[Any]] = field(default_factory=dict)
    kind_guess: list[str | None] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.lines)

    def column(self, name: str) -> list[Any] | None:
        return self.values.get(name)

    def rows(self, skip: set[int] | frozenset[int] = frozenset()) -> list[ImportRow]:
        """The rows as ``ImportRow`` objects, but those at the positions in ``skip``."""
        names = list(self.values)
        columns = [self.values[n] for n in names]
        out = []
        for i, line in enumerate(self.lines):
            if i in skip:
                continue
            row = ImportRow(line, **{n: c[i] for n, c in zip(names, columns, strict=True)})
            row.kind_guess = self.kind_guess[i]
            out.append(row)
        return out


# --- the state machine's paths ---------------------------------------------------------------

def move_path(source: str, target: str) -> list[str] | None:
    """The shortest chain of allowed moves from one status to another (BFS over MOVES)."""
    queue: deque[tuple[str, list[str]]] = deque([(source, [])])
    seen = {source}
    while queue:
        status, path = queue.popleft()
        if status == target:
            return path
        for move in lifecycle.MOVES.values():
            if status in move.sources and move.target not in seen:
                seen.add(move.target)
                queue.append((move.target, [*path, move.name]))
    return None


BULK_MOVES = frozenset({"issue", "lock", "return_to_stock", "report_lost", "revoke", "retire"})
# "unlock" and every move out of "locked" close the device's unlock case (found, or rebuilt from
# its history): the lifecycle does those, after the bulk writes (imports rarely need them).
SAME_TIME = timedelta(seconds=1)  # dates read back from a workbook may differ by microseconds
DEFAULT_VALIDITY = timedelta(days=3 * 365)
TABLES: dict[str, Any] = {"agency": Agency, "holder": Holder, "device": Device,
                          "certificate": Certificate, "handover": Handover,
                          "unlock_case": UnlockCase}


@dataclass
class PlannedEvent:
    action: str
    entity_type: str
    entity_id: int | None
    device_id: int | None
    summary: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    body: str = ""


@dataclass
class Tail:
    """Moves of one row that go through the lifecycle functions, after the bulk writes."""

    line: int
    device_id: int
    moves: list[str]
    lock_count: int | None  # raise the lock count to this after the moves


@dataclass
class Plan:
    actor: str
    now: datetime
    head_seq: int
    head_hash: str
    max_ids: dict[str, int]  # SQLite: the largest id of each table when planned
    first_ids: dict[str, int] = field(default_factory=dict)  # the smallest id planned, each
    # what the plan read: another desk's change to one of these sends it back
    read_devices: set[int] = field(default_factory=set)
    read_holders: set[int] = field(default_factory=set)
    serials: set[str] = field(default_factory=set)
    holder_keys: set[str] = field(default_factory=set)
    national_ids: set[str] = field(default_factory=set)
    holder_names: set[str] = field(default_factory=set)
    new_agencies: list[dict[str, Any]] = field(default_factory=list)
    new_holders: dict[int, dict[str, Any]] = field(default_factory=dict)
    holder_changes: dict[int, tuple[dict[str, Any], dict[str, Any]]] = field(
        default_factory=dict)  # holder id → (before, after)
    new_devices: list[dict[str, Any]] = field(default_factory=list)
    device_updates: dict[int, dict[str, Any]] = field(default_factory=dict)  # id → new values
    superseded: list[int] = field(default_factory=list)  # device ids whose active cert goes
    new_certificates: list[dict[str, Any]] = field(default_factory=list)
    handovers: list[dict[str, Any]] = field(default_factory=list)
    unlock_cases: list[dict[str, Any]] = field(default_factory=list)
    revoked: list[int] = field(default_factory=list)  # device ids whose certificates go
    events: list[PlannedEvent] = field(default_factory=list)
    tails: list[Tail] = field(default_factory=list)
    outcomes: dict[int, str] = field(default_factory=dict)  # line → created/updated/unchanged
    problems: list[RowProblem] = field(default_factory=list)
    late_problems: list[RowProblem] = field(default_factory=list)

    @property
    def writes_nothing(self) -> bool:
        """Every row is as the register holds it (a re-import): nothing to write, no lock."""
        return not (self.events or self.tails or self.device_updates or self.new_devices
                    or self.new_holders or self.new_agencies or self.new_certificates
                    or self.superseded or self.revoked or self.handovers or self.unlock_cases
                    or any(before != after for before, after in self.holder_changes.values()))

    def holder_events(self) -> list[PlannedEvent]:
        """holder.add / holder.change, one per holder, in the final state of the plan."""
        out = []
        for hid, row in self.new_holders.items():
            out.append(PlannedEvent("holder.add", "holder", hid, None, None, None,
                                    {f: row[f] for f in lifecycle.HOLDER_FIELDS}))
        for hid, (before, after) in self.holder_changes.items():
            if before != after:
                out.append(PlannedEvent("holder.change", "holder", hid, None, None, before,
                                        after))
        return out


# --- the snapshot ------------------------------------------------------------------------------

@dataclass
class Snapshot:
    head_seq: int
    head_hash: str
    agencies: dict[int, dict[str, Any]]
    by_code: dict[str, int]
    by_name: dict[str, int]
    devices: dict[str, dict[str, Any]]  # serial → row
    certificates: dict[int, dict[str, Any]]  # device id → its active certificate
    holders: dict[int, dict[str, Any]]
    by_key: dict[str, int]
    by_national_id: dict[str, int]
    by_name_agency: dict[tuple[str, int], list[int]]
    max_ids: dict[str, int]
    names_read: set[str] = field(default_factory=set)  # folded names looked up
    folded: dict[str, str] = field(default_factory=dict)  # name → fold(name), as computed


def _rows(conn: Connection, stmt: Any) -> list[dict[str, Any]]:
    result = conn.execute(stmt)
    keys = list(result.keys())
    return [dict(zip(keys, r, strict=True)) for r in result.all()]


def key_in(dialect: str, column: Any, values: Iterable[Any]) -> Any:
    """``column IN (values)`` with every value in one parameter — a JSON array read by
    ``json_each`` on SQLite, an array on PostgreSQL — so one statement, compiled once, looks up
    any number of keys through the column's index (no chunks of a few thousand, no cost of
    binding each value as a parameter of its own)."""
    listed = sorted(values)
    if dialect == "postgresql":
        element = Integer() if column.type.python_type is int else String()
        return column == any_(bindparam(None, listed, type_=ARRAY(element)))
    return column.in_(select(literal_column("value")).select_from(
        func.json_each(bindparam(None, json.dumps(listed, ensure_ascii=False), type_=String))))


DEVICE_COLUMNS = (Device.id, Device.kind, Device.serial, Device.status, Device.holder_id,
                  Device.agency_id, Device.lock_count, Device.manufacturer, Device.model,
                  Device.phone_number, Device.notes, Device.last_seen_at, Device.version)
DEVICE_KEYS = tuple(c.key for c in DEVICE_COLUMNS)
CERTIFICATE_COLUMNS = (Certificate.id, Certificate.serial, Certificate.not_before,
                       Certificate.not_after)
HOLDER_COLUMNS = (Holder.id, Holder.key, Holder.full_name, Holder.name_folded, Holder.title,
                  Holder.agency_id, Holder.email, Holder.phone, Holder.national_id)
HOLDER_KEYS = tuple(c.key for c in HOLDER_COLUMNS)


def read_agencies(conn: Connection
                  ) -> tuple[dict[int, dict[str, Any]], dict[str, int], dict[str, int]]:
    """Every agency (a few thousand at most), by id, with its id by code and by folded name
    (an active agency before a merged one of the same name)."""
    agencies = {a["id"]: a for a in _rows(conn, select(
        Agency.id, Agency.code, Agency.name, Agency.name_folded, Agency.active,
        Agency.merged_into_id).order_by(Agency.id))}
    by_code = {a["code"]: a["id"] for a in agencies.values()}
    by_name: dict[str, int] = {}
    for a in sorted(agencies.values(), key=lambda a: (not a["active"], a["id"])):
        by_name.setdefault(a["name_folded"], a["id"])
    return agencies, by_code, by_name


def agency_named(agencies: dict[int, dict[str, Any]], by_code: dict[str, int],
                 by_name: dict[str, int], code: str | None, folded_name: str | None
                 ) -> int | None:
    """The agency a row names (by code, else by folded name; an agency since merged gives its
    successor), or None when the register has none of that code or name."""
    aid = by_code.get(code) if code else None
    if aid is None and folded_name and not code:
        aid = by_name.get(folded_name)
    if aid is None:
        return None
    seen = set()
    while (merged := agencies.get(aid, {}).get("merged_into_id")) and aid not in seen:
        seen.add(aid)
        aid = merged  # an old sheet names an agency since merged: its successor
    return aid


def read_snapshot(conn: Connection, rows: list[ImportRow]) -> Snapshot:
    """What the register holds for the file's keys, in a few set-based statements: the
    devices the file names with their active certificates (one statement), the holders those
    devices are with (one), the holders the file names by key or ID number that are not among
    them (one, often empty), and by name only those rows that must be matched by name (one,
    often empty). Only the columns the plan compares are read."""
    head = conn.execute(select(AuditHead.last_seq, AuditHead.last_hash)
                        .where(AuditHead.id == 1)).one()
    agencies, by_code, by_name = read_agencies(conn)
    dialect = conn.dialect.name
    devices: dict[str, dict[str, Any]] = {}
    certificates: dict[int, dict[str, Any]] = {}
    stmt = (select(*DEVICE_COLUMNS, *CERTIFICATE_COLUMNS)
            .outerjoin(Certificate, (Certificate.device_id == Device.id)
                       & (Certificate.status == "active"))
            .where(key_in(dialect, Device.serial, {r.serial for r in rows})))
    width = len(DEVICE_COLUMNS)
    for r in conn.execute(stmt):
        device = devices.get(r[2])
        if device is None:
            device = devices[r[2]] = dict(zip(DEVICE_KEYS, r[:width], strict=True))
        if r[width] is not None:  # the active certificate (the newest, should there be two)
            active = certificates.get(device["id"])
            if active is None or active["id"] < r[width]:
                certificates[device["id"]] = {
                    "id": r[width], "device_id": device["id"], "serial": r[width + 1],
                    "not_before": r[width + 2], "not_after": r[width + 3]}
    holders: dict[int, dict[str, Any]] = {}

    def read_holders(column: Any, values: set[Any]) -> None:
        if values:
            for h in conn.execute(select(*HOLDER_COLUMNS).where(
                    key_in(dialect, column, values))):
                holders.setdefault(h[0], dict(zip(HOLDER_KEYS, h, strict=True)))

    read_holders(Holder.id, {d["holder_id"] for d in devices.values() if d["holder_id"]})
    keys = {h["key"] for h in holders.values()}
    ids = {h["national_id"] for h in holders.values()}
    read_holders(Holder.key, {r.holder_key for r in rows if r.holder_key} - keys)
    read_holders(Holder.national_id, {r.national_id for r in rows if r.national_id} - ids)
    # matched by name: a row without a key whose ID number (if any) names nobody yet
    ids = {h["national_id"] for h in holders.values()}
    folded = {r.holder: fold(r.holder) for r in rows if r.holder and not r.holder_key
              and not (r.national_id and r.national_id in ids)}
    names = set(folded.values())
    read_holders(Holder.name_folded, names)
    by_name_agency: dict[tuple[str, int], list[int]] = {}
    for h in sorted(holders.values(), key=lambda h: h["id"]):
        by_name_agency.setdefault((h["name_folded"], h["agency_id"]), []).append(h["id"])
    max_ids = {name: conn.scalar(select(func.coalesce(func.max(model.id), 0))) or 0
               for name, model in TABLES.items()}
    return Snapshot(
        head_seq=head.last_seq, head_hash=head.last_hash, agencies=agencies, by_code=by_code,
        by_name=by_name, devices=devices,
        certificates=certificates, holders=holders,
        by_key={h["key"]: h["id"] for h in holders.values() if h["key"]},
        by_national_id={h["national_id"]: h["id"] for h in holders.values()
                        if h["national_id"]},
        by_name_agency=by_name_agency, max_ids=max_ids, names_read=names, folded=folded)


# --- ids -------------------------------------------------------------------------------------

SQLITE_ID_GAP = 10_000  # ids left free for other desks' rows while the plan is made


class Ids:
    """New rows' ids: reserved from PostgreSQL's sequences (never handed out twice), or on
    SQLite a gap above the largest id, so other desks adding rows meanwhile do not take them
    (the writer checks under the lock that none did)."""

    def __init__(self, conn: Connection | None, max_ids: dict[str, int], gap: int = 0):
        self.conn = conn
        self.next = {name: largest + gap for name, largest in max_ids.items()}
        self.first: dict[str, int] = {}
        self.reserved: dict[str, list[int]] = {name: [] for name in TABLES}

    def take(self, table: str) -> int:
        taken = self._take(table)
        self.first.setdefault(table, taken)
        return taken

    def _take(self, table: str) -> int:
        if self.conn is not None:
            if not self.reserved[table]:
                name = TABLES[table].__tablename__
                self.reserved[table] = list(self.conn.exec_driver_sql(
                    f"SELECT nextval(pg_get_serial_sequence('{name}', 'id')) "
                    "FROM generate_series(1, 1000)").scalars())[::-1]
            return self.reserved[table].pop()
        self.next[table] += 1
        return self.next[table]


# --- planning ----------------------------------------------------------------------------------

class _RowRefused(Exception):
    pass


class Planner:
    def __init__(self, snap: Snapshot, plan: Plan, ids: Ids):
        self.snap, self.plan, self.ids = snap, plan, ids
        self.codes = set(snap.by_code)
        self.holder_state: dict[int, dict[str, Any]] = {}  # holders as the plan leaves them
        self.folded: dict[str, str] = snap.folded

    # agencies
    def fold(self, text: str) -> str:
        """``fold``, once per distinct text (agency names repeat on every row)."""
        folded = self.folded.get(text)
        if folded is None:
            folded = self.folded[text] = fold(text)
        return folded

    def known_agency(self, row: ImportRow) -> int | None:
        """The agency the row names (by code, else by name; an agency since merged gives its
        successor), or None when the register has none of that code or name yet."""
        snap = self.snap
        return agency_named(snap.agencies, snap.by_code, snap.by_name, row.agency_code,
                            self.fold(row.agency) if row.agency else None)

    def agency_id(self, row: ImportRow, staged: list[dict[str, Any]]) -> int:
        aid = self.known_agency(row)
        if aid is not None:
            return aid
        if not row.agency:
            raise _RowRefused(f"agency code {row.agency_code} is not in the register and "
                              "the row gives no agency name to create it")
        code = row.agency_code or self._new_code(row.agency)
        aid = self.ids.take("agency")
        staged.append({"id": aid, "code": code, "name": row.agency,
                       "name_folded": self.fold(row.agency), "kind": "other",
                       "parent_id": None, "path": f"/{aid}/", "level": 0, "active": True,
                       "merged_into_id": None, "contact_email": None,
                       "created_at": self.plan.now})
        return aid

    def _new_code(self, name: str) -> str:
        code = "IMP-" + re.sub(r"[^A-Z0-9]", "", "".join(
            w[0] for w in fold(name).upper().split()))[:20]
        while code in self.codes:
            code += "X"
        return code

    # holders
    def _state(self, hid: int) -> dict[str, Any]:
        if hid not in self.holder_state:
            h = self.snap.holders[hid]
            self.holder_state[hid] = {f: h[f] for f in lifecycle.HOLDER_FIELDS} | {
                "key": h["key"]}
        return self.holder_state[hid]

    def known_holder(self, row: ImportRow, agency_id: int, device: dict[str, Any] | None
                     ) -> int | None:
        """The row's holder: by key, by national ID, else by name within the agency (the
        device's current holder first; a masked ID's last digits tell same-name holders
        apart); None when the register (and the plan so far) has nobody the row names."""
        assert row.holder is not None
        snap = self.snap
        hid = None
        if row.holder_key:
            hid = snap.by_key.get(row.holder_key)
        if hid is None and row.national_id:
            hid = snap.by_national_id.get(row.national_id)
        if hid is None and not row.holder_key:
            folded = self.fold(row.holder)
            candidates = [h for h in snap.by_name_agency.get((folded, agency_id), [])
                          if not (row.national_id and self._state(h)["national_id"])]
            if row.national_id_tail:
                tail = row.national_id_tail
                candidates = [h for h in candidates
                              if (self._state(h)["national_id"] or "").endswith(tail)]
            current = device["holder_id"] if device else None
            if current in candidates:
                hid = current
            elif len(candidates) == 1:
                hid = candidates[0]
            elif len(candidates) > 1:
                raise _RowRefused(
                    f"serial {row.serial}: {len(candidates)} holders are named {row.holder} in "
                    "this agency: add the holder_key (or national ID) column to tell them apart")
        return hid

    def holder_id(self, row: ImportRow, agency_id: int, device: dict[str, Any] | None,
                  staged: dict[str, Any]) -> int:
        """The row's holder (``known_holder``); a holder named nowhere yet is new."""
        assert row.holder is not None
        snap = self.snap
        hid = self.known_holder(row, agency_id, device)
        if hid is None:
            hid = self.ids.take("holder")
            staged["new"] = {"id": hid, "key": row.holder_key or new_holder_key(),
                             "full_name": row.holder, "name_folded": self.fold(row.holder),
                             "title": row.title, "agency_id": agency_id, "email": row.email,
                             "phone": row.phone, "national_id": row.national_id,
                             "created_at": self.plan.now}
            return hid
        state = dict(self._state(hid))
        for name, value in (("full_name", row.holder), ("title", row.title),
                            ("email", row.email), ("phone", row.phone)):
            if value is not None and not checks.same_text(state[name], value):
                state[name] = value
        if row.national_id and state["national_id"] != row.national_id:
            other = snap.by_national_id.get(row.national_id)
            if other is not None and other != hid:
                raise _RowRefused(f"serial {row.serial}: national ID "
                                  f"{lifecycle.mask_national_id(row.national_id)} belongs to "
                                  "another holder")
            state["national_id"] = row.national_id
        state["agency_id"] = agency_id
        staged["change"] = (hid, state)
        return hid

    # one row
    def row(self, row: ImportRow) -> None:
        device = self.snap.devices.get(row.serial)
        if device is not None and self._unchanged(row, device):
            self.plan.outcomes[row.line] = "unchanged"
            return
        try:
            self._row(row)
        except (_RowRefused, ValidationError) as err:
            self.plan.problems.append(RowProblem(row.line, str(err)))

    def _unchanged(self, row: ImportRow, device: dict[str, Any]) -> bool:
        """Whether the row asks for nothing its device, holder and certificate do not already
        hold (the register as the plan leaves it so far): most rows of a re-import, settled by
        comparing values, without building the changes. Only ever sure: anything else — a
        value that differs or differs only by normalising, a row to refuse — is False and
        ``_row`` decides."""
        if row.kind is not None and row.kind != device["kind"]:
            return False
        start = device["status"]
        holder_id = None
        if row.holder:
            agency_id = self.known_agency(row)
            if agency_id is None:
                return False
            try:
                holder_id = self.known_holder(row, agency_id, device)
            except _RowRefused:
                return False
            if holder_id is None or holder_id != device["holder_id"]:
                return False
            holder = self.holder_state.get(holder_id) or self.snap.holders[holder_id]
            if holder["agency_id"] != agency_id or holder["full_name"] != row.holder \
                    or (row.title is not None and holder["title"] != row.title) \
                    or (row.email is not None and holder["email"] != row.email) \
                    or (row.phone is not None and holder["phone"] != row.phone) \
                    or (row.national_id is not None
                        and holder["national_id"] != row.national_id):
                return False
        target = row.status or ("issued" if holder_id and start == "in_stock" else start)
        if target != start:
            return False
        if (row.manufacturer is not None and device["manufacturer"] != row.manufacturer) \
                or (row.model is not None and device["model"] != row.model) \
                or (row.phone_number is not None
                    and device["phone_number"] != row.phone_number) \
                or (row.notes is not None and device["notes"] != row.notes):
            return False
        if row.not_after is not None and start in lifecycle.CERTIFICATE_STATES and \
                not self._same_certificate(row, self.snap.certificates.get(device["id"])):
            return False
        if row.lock_count is not None and row.lock_count > device["lock_count"]:
            return False
        return not (row.last_seen_at is not None and (
            device["last_seen_at"] is None
            or row.last_seen_at > device["last_seen_at"] + SAME_TIME))

    def _row(self, row: ImportRow) -> None:
        plan, snap = self.plan, self.snap
        device = snap.devices.get(row.serial)
        if device and row.kind and row.kind != device["kind"]:
            raise _RowRefused(f"serial {row.serial} is a {device['kind']} in the register, the "
                              f"row says {row.kind} (a serial is unique across kinds)")
        staged_agencies: list[dict[str, Any]] = []
        staged_holder: dict[str, Any] = {}
        holder_id: int | None = None
        holder_agency: int | None = None
        if row.holder:
            agency_id = self.agency_id(row, staged_agencies)
            holder_id = self.holder_id(row, agency_id, device, staged_holder)
            holder_agency = agency_id
        # the device, as the plan leaves it
        events: list[PlannedEvent] = []
        new = device is None
        if device is None:
            did = self.ids.take("device")
            state: dict[str, Any] = {
                "serial": row.serial, "kind": row.kind or row.kind_guess or "usb_token",
                "status": "in_stock", "holder_id": None, "agency_id": None, "lock_count": 0}
            values = {"manufacturer": row.manufacturer, "model": row.model,
                      "phone_number": row.phone_number, "notes": row.notes}
            events.append(PlannedEvent("device.add", "device", did, did, None, None,
                                       dict(state)))
        else:
            did = device["id"]
            state = {k: device[k] for k in ("serial", "kind", "status", "holder_id",
                                            "agency_id", "lock_count")}
            values = {}
            before_edit = {}
            for name in ("manufacturer", "model", "phone_number", "notes"):
                incoming = getattr(row, name)
                if incoming is not None and not checks.same_text(
                        device[name], incoming, multiline=name == "notes"):
                    values[name], before_edit[name] = incoming, device[name]
            if values:
                events.append(PlannedEvent("device.edit", "device", did, did, "import",
                                           dict(state) | before_edit, dict(state) | values))
        start = state["status"]
        target = row.status or ("issued" if holder_id and start == "in_stock" else start)
        moves: list[str] = []
        if holder_id and state["holder_id"] not in (None, holder_id) \
                and target in HOLDER_STATUSES:
            if start != "issued":
                raise _RowRefused(f"serial {row.serial} is {start} for another holder: cannot "
                                  f"give it to {row.holder}")
            moves.append("return_to_stock")
            start = "in_stock"
        path = move_path(start, target)
        if path is None:
            raise _RowRefused(f"serial {row.serial} is {start}: the state machine allows no "
                              f"way to {target}")
        moves += path
        if "issue" in moves and holder_id is None:
            raise _RowRefused(f"serial {row.serial}: to issue it the row needs a holder")
        # Bulk moves stop at an unlock, or at any move out of "locked" (it closes the device's
        # unlock case): the lifecycle does those, after the bulk writes.
        statuses = [state["status"]]
        for m in moves:
            statuses.append(lifecycle.MOVES[m].target)
        split = next((i for i, m in enumerate(moves)
                      if m not in BULK_MOVES or statuses[i] == "locked"), len(moves))
        bulk, tail = moves[:split], moves[split:]
        # the certificate goes on where the device last is in a state that may take one
        cert_at = None
        status = state["status"]
        if status in lifecycle.CERTIFICATE_STATES:
            cert_at = 0
        for i, move in enumerate(bulk, start=1):
            status = lifecycle.MOVES[move].target
            if status in lifecycle.CERTIFICATE_STATES:
                cert_at = i
        cert_events, cert_row = self._certificate(row, did, device, state) \
            if row.not_after and cert_at is not None else ([], None)
        if staged_holder.get("change") and state["holder_id"] == holder_id:
            state["agency_id"] = holder_agency  # devices follow their holder to a new agency
        if cert_at == 0:
            events += cert_events
        handovers: list[dict[str, Any]] = []
        cases: list[dict[str, Any]] = []
        revoked = False
        for i, move in enumerate(bulk, start=1):
            before = dict(state)
            # what the move does to the device is the lifecycle's (status, lock-out count,
            # holder assigned or cleared); here only what comes with it is staged
            state.update(lifecycle.next_state(state, move, holder_id=holder_id,
                                              agency_id=holder_agency))
            extra: dict[str, Any] = {}
            summary = "import"
            if move == "lock":  # as lifecycle.lock: the case opens
                case = unlock_cases.opening_case(
                    device_id=did, agency_id=state["agency_id"], holder_id=state["holder_id"],
                    actor=plan.actor, reason=summary, at=plan.now)
                cases.append(case)
                events.append(PlannedEvent("unlock_case.open", "unlock_case", None, did,
                                           f"{row.serial} locked",
                                           None, unlock_cases.case_state(case)))
            elif lifecycle.MOVES[move].revokes_certificates:
                revoked = True  # its active certificates are revoked with it
            elif move == "issue":
                assert holder_id is not None
                extra = {"method": IMPORT_METHOD, "tracking_no": None}
                summary = f"to {row.holder} ({IMPORT_METHOD})"
                handovers.append({"id": None, "device_id": did, "holder_id": holder_id,
                                  "method": IMPORT_METHOD, "tracking_no": None,
                                  "handed_at": plan.now, "received_at": None,
                                  "request_id": None, "actor": plan.actor, "notes": None})
            elif move == "return_to_stock":
                summary = "import: new holder"
            events.append(PlannedEvent(f"device.{move}", "device", did, did, summary, before,
                                       dict(state) | extra))
            if i == cert_at:
                events += cert_events
        lock_target = None
        expected_locks = state["lock_count"] + tail.count("lock")
        if row.lock_count is not None and row.lock_count > expected_locks:
            if tail:
                lock_target = row.lock_count
            else:
                before = dict(state)
                state["lock_count"] = row.lock_count
                events.append(PlannedEvent("device.edit", "device", did, did,
                                           "import: lock count from before the register",
                                           before, dict(state)))
        last_seen = None
        if row.last_seen_at and (device is None or device["last_seen_at"] is None
                                 or row.last_seen_at > device["last_seen_at"] + SAME_TIME):
            last_seen = row.last_seen_at
        changed = bool(events or tail or last_seen or lock_target)
        holder_changed = False
        # --- nothing above refused the row: stage it into the plan
        plan.new_agencies += staged_agencies
        for a in staged_agencies:
            snap.agencies[a["id"]] = a
            snap.by_code[a["code"]] = a["id"]
            snap.by_name.setdefault(a["name_folded"], a["id"])
            self.codes.add(a["code"])
        if "new" in staged_holder:
            h = staged_holder["new"]
            plan.new_holders[h["id"]] = h
            snap.holders[h["id"]] = h
            self.holder_state[h["id"]] = {f: h[f] for f in lifecycle.HOLDER_FIELDS} | {
                "key": h["key"]}
            snap.by_key[h["key"]] = h["id"]
            if h["national_id"]:
                snap.by_national_id[h["national_id"]] = h["id"]
            snap.by_name_agency.setdefault((h["name_folded"], h["agency_id"]), []).append(
                h["id"])
            holder_changed = True
        elif "change" in staged_holder:
            hid, new_state = staged_holder["change"]
            holder_changed = self._stage_holder_change(hid, new_state)
        if new:
            plan.new_devices.append({"id": did, "kind": state["kind"], "serial": row.serial,
                                     "status": state["status"], "holder_id": state["holder_id"],
                                     "agency_id": state["agency_id"],
                                     "lock_count": state["lock_count"],
                                     "status_changed_at": plan.now, "created_at": plan.now,
                                     "last_seen_at": last_seen, "version": 1, **values})
        elif events or last_seen:
            assert device is not None
            plan.device_updates[did] = {
                "id": did, "version": device["version"], "status": state["status"],
                "holder_id": state["holder_id"], "agency_id": state["agency_id"],
                "lock_count": state["lock_count"],
                "status_changed_at": plan.now if state["status"] != device["status"]
                else None,
                "last_seen_at": last_seen or device["last_seen_at"],
                **{k: values.get(k, device[k]) for k in ("manufacturer", "model",
                                                         "phone_number", "notes")}}
        if cert_row is not None:
            if cert_row.pop("supersede"):
                plan.superseded.append(did)
            plan.new_certificates.append(cert_row)
        for h in handovers:
            h["id"] = self.ids.take("handover")
        plan.handovers += handovers
        for case in cases:
            case["id"] = self.ids.take("unlock_case")
            for e in events:
                if e.action == "unlock_case.open" and e.entity_id is None:
                    e.entity_id = case["id"]
                    break
        plan.unlock_cases += cases
        if revoked:
            plan.revoked.append(did)
        plan.events += events
        if tail:
            plan.tails.append(Tail(row.line, did, tail, lock_target))
        plan.outcomes[row.line] = "created" if new else (
            "updated" if changed or holder_changed else "unchanged")

    def _stage_holder_change(self, hid: int, new_state: dict[str, Any]) -> bool:
        plan = self.plan
        old = self.holder_state[hid]
        if new_state == old:
            return False
        if hid in plan.new_holders:
            plan.new_holders[hid].update({k: new_state[k] for k in lifecycle.HOLDER_FIELDS})
            plan.new_holders[hid]["name_folded"] = fold(new_state["full_name"])
        else:
            original = plan.holder_changes.get(hid, (dict(old), old))[0]
            plan.holder_changes[hid] = (
                {f: original[f] for f in lifecycle.HOLDER_FIELDS},
                {f: new_state[f] for f in lifecycle.HOLDER_FIELDS})
        if new_state["national_id"] and new_state["national_id"] != old["national_id"]:
            self.snap.by_national_id[new_state["national_id"]] = hid
        self.holder_state[hid] = new_state
        return True

    @staticmethod
    def _same_certificate(row: ImportRow, active: dict[str, Any] | None) -> bool:
        """Whether the row's certificate dates (and serial, if given) are the active one's."""
        assert row.not_after is not None
        return active is not None and abs(active["not_after"] - row.not_after) < SAME_TIME \
            and (row.certificate_serial is None
                 or row.certificate_serial == active["serial"]) \
            and (row.not_before is None
                 or abs(active["not_before"] - row.not_before) < SAME_TIME)

    def _certificate(self, row: ImportRow, did: int, device: dict[str, Any] | None,
                     state: dict[str, Any]) -> tuple[list[PlannedEvent], dict[str, Any] | None]:
        assert row.not_after is not None
        active = self.snap.certificates.get(did) if device else None
        if self._same_certificate(row, active):
            return [], None
        serial = row.certificate_serial or f"(imported {row.serial})"
        not_before = row.not_before or row.not_after - DEFAULT_VALIDITY
        lifecycle.check_certificate(lifecycle.CertificateData(serial, not_before, row.not_after))
        cid = self.ids.take("certificate")
        event = PlannedEvent(
            "certificate.import", "certificate", cid, did,
            f"certificate {serial} valid until {row.not_after:%Y-%m-%d}",
            {"superseded": [active["serial"]] if active else []},
            {"serial": serial, "not_before": not_before, "not_after": row.not_after,
             "fingerprint_sha256": None})
        return [event], {"id": cid, "device_id": did, "serial": serial, "subject": None,
                         "issuer": None, "not_before": not_before, "not_after": row.not_after,
                         "fingerprint_sha256": None, "status": "active",
                         "created_at": self.plan.now, "supersede": active is not None}


def make_plan(register: Register, rows: list[ImportRow], *, actor: str, dry_run: bool,
              progress: Progress | None = None, conn: Connection | None = None) -> Plan:
    """The plan for ``rows`` against the register as it is now (read in one transaction, or
    on ``conn`` when the writer plans under its lock)."""
    if conn is not None:
        return _plan_on(conn, rows, actor=actor, dry_run=dry_run, progress=progress)
    with register.read() as session:
        return _plan_on(session.connection(), rows, actor=actor, dry_run=dry_run,
                        progress=progress)


def _plan_on(conn: Connection, rows: list[ImportRow], *, actor: str, dry_run: bool,
             progress: Progress | None) -> Plan:
    if progress:
        progress("resolving", 0, len(rows))
    snap = read_snapshot(conn, rows)
    plan = Plan(actor=actor, now=utcnow(), head_seq=snap.head_seq, head_hash=snap.head_hash,
                max_ids=snap.max_ids)
    reserve = conn if conn.dialect.name == "postgresql" and not dry_run else None
    ids = Ids(reserve, snap.max_ids, gap=SQLITE_ID_GAP if reserve is None and not dry_run
              else 0)
    planner = Planner(snap, plan, ids)
    for n, row in enumerate(rows):
        if progress and n % 5000 == 0:
            progress("resolving", n, len(rows))
        planner.row(row)
    plan.first_ids = ids.first
    plan.read_devices = {d["id"] for d in snap.devices.values()}
    plan.read_holders = set(snap.holders) - set(plan.new_holders)
    plan.serials = {r.serial for r in rows}
    plan.holder_keys = {r.holder_key for r in rows if r.holder_key}
    plan.national_ids = {r.national_id for r in rows if r.national_id}
    plan.holder_names = snap.names_read
    plan.events[:0] = [
        PlannedEvent("agency.add", "agency", a["id"], None, None, None,
                     {"code": a["code"], "name": a["name"], "parent_id": None})
        for a in plan.new_agencies] + plan.holder_events()
    if not dry_run:
        for e in plan.events:
            e.before, e.after = audit.jsonable(e.before), audit.jsonable(e.after)
            e.body = audit.event_body(occurred_at=plan.now, actor=actor, action=e.action,
                                      entity_type=e.entity_type, entity_id=e.entity_id,
                                      device_id=e.device_id, summary=e.summary,
                                      before=e.before, after=e.after)
    if progress:
        progress("resolving", len(rows), len(rows))
    return plan
