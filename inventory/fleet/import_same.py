"""Rows of an import that change nothing, found by one statement: most of a re-import.

The file's checked rows go to the database as one JSON parameter (a relation of rows: SQLite's
``json_each``, PostgreSQL's ``jsonb_array_elements``) and are joined to the devices they name,
each device's current holder and active certificate; the database compares every value the
file gives with what the register holds and returns the positions of the rows that ask for
nothing new. No row is planned, nothing is fetched but positions, and no lock is taken: a
re-import of an unchanged sheet costs little more than reading it.

Only ever sure: a value that differs in any way (even one that normalising would remove) leaves
its row to the planner (``inventory.fleet.import_plan``), and so do the rows whose holder a
planned row may name, so the plan of the other rows is the plan of the whole file.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, text

from inventory.fleet import lifecycle
from inventory.fleet.import_plan import CheckedRows, agency_named, key_in, read_agencies
from inventory.register.models import Device, Holder
from inventory.register.text import fold

# file attribute → (the stored column it is compared with, how)
DEVICE_TEXT = {"kind": "d.kind", "manufacturer": "d.manufacturer", "model": "d.model",
               "phone_number": "d.phone_number", "notes": "d.notes"}
HOLDER_TEXT = {"title": "h.title", "email": "h.email", "phone": "h.phone"}
INTEGERS = ("agency_id", "lock_count")
DATES = ("not_before", "not_after", "last_seen_at")


class _Dialect:
    """The few expressions SQLite and PostgreSQL write differently."""

    def __init__(self, name: str):
        self.pg = name == "postgresql"

    def near(self, a: str, b: str) -> str:
        """``a`` and ``b`` (dates) less than a second apart."""
        if self.pg:
            return f"abs(extract(epoch FROM ({a} - {b}))) < 1"
        return f"({a} = {b} OR abs(julianday({a}) - julianday({b})) < 1.0 / 86400)"

    def not_later(self, a: str, b: str) -> str:
        """``a`` no later than a second after ``b``."""
        if self.pg:
            return f"{a} <= {b} + interval '1 second'"
        return f"julianday({a}) <= julianday({b}) + 1.0 / 86400"

    def date(self, value: datetime) -> str:
        if self.pg:
            return value.isoformat()
        return value.isoformat(" ", "microseconds")[:26]  # as SQLite keeps it (UTC)


def _sql_type(name: str) -> str:
    return "bigint" if name in INTEGERS or name == "pos" else (
        "timestamptz" if name in DATES else "text")


@contextmanager
def _file_rows(conn: Connection, names: list[str], columns: list[list[Any]]
               ) -> Iterator[tuple[str, str | None]]:
    """The file's rows as a relation the statement can join (its SQL, as ``f``): on SQLite a
    temporary table filled by one ``executemany`` (its own temporary database: no lock on the
    register), on PostgreSQL one JSON parameter read by ``jsonb_array_elements``."""
    rows = list(zip(*columns, strict=True))
    if conn.dialect.name == "postgresql":
        fields = ", ".join(f"(j.v->>{i})::{_sql_type(n)} AS {n}" for i, n in enumerate(names))
        payload = json.dumps(rows, ensure_ascii=False)
        yield (f"(SELECT {fields} FROM jsonb_array_elements(CAST(:rows AS jsonb)) AS j(v))",
               payload)
        return
    conn.exec_driver_sql("DROP TABLE IF EXISTS temp.import_file_rows")
    conn.exec_driver_sql("CREATE TEMPORARY TABLE import_file_rows ("
                         + ", ".join(f"{n} {'INTEGER' if _sql_type(n) == 'bigint' else 'TEXT'}"
                                     for n in names) + ")")
    try:
        cursor = conn.connection.cursor()
        try:
            cursor.executemany(f"INSERT INTO temp.import_file_rows VALUES "
                               f"({', '.join('?' * len(names))})", rows)
        finally:
            cursor.close()
        yield "temp.import_file_rows", None
    finally:
        conn.exec_driver_sql("DROP TABLE IF EXISTS temp.import_file_rows")


def unchanged_rows(conn: Connection, rows: CheckedRows) -> set[int]:
    """The positions of the rows that ask for nothing the register does not already hold."""
    values = rows.values
    serials: list[str] = values["serial"]
    if not serials:
        return set()
    sql = _Dialect(conn.dialect.name)
    names = ["pos", "serial"]
    columns: list[list[Any]] = [list(range(len(serials))), serials]
    holder = values.get("holder")
    if holder is not None:  # the agency the row names, as the planner resolves it
        agencies, by_code, by_name = read_agencies(conn)
        empty: list[Any] = [None] * len(serials)
        places = list(zip(values.get("agency_code", empty), values.get("agency", empty),
                          strict=True))
        agency_of = {place: agency_named(agencies, by_code, by_name, place[0],
                                         fold(place[1]) if place[1] else None)
                     for place in set(places)}
        names.append("agency_id")
        columns.append([agency_of[p] for p in places])
    for name in ("holder", "holder_key", "national_id", "national_id_tail", "status",
                 *DEVICE_TEXT, *HOLDER_TEXT, "lock_count", "certificate_serial", *DATES):
        if name in values:
            column = values[name]
            if name in DATES:
                shown = {d: sql.date(d) for d in set(column) if d is not None}
                column = [None if d is None else shown[d] for d in column]
            names.append(name)
            columns.append(column)
    given = set(names)
    where = ["TRUE"]

    def test(condition: str, *needs: str) -> None:
        if all(n in given for n in needs):
            where.append(f"({condition})")

    test("f.holder IS NULL OR (d.holder_id IS NOT NULL AND h.agency_id = f.agency_id "
         "AND h.full_name = f.holder)", "holder")
    test("f.holder_key IS NULL OR f.holder_key = h.key", "holder_key")
    test("f.national_id IS NULL OR f.national_id = h.national_id", "national_id")
    test("f.holder IS NULL OR f.national_id_tail IS NULL"
         + (" OR f.holder_key IS NOT NULL" if "holder_key" in given else "")
         + (" OR f.national_id IS NOT NULL" if "national_id" in given else "")
         + " OR substr(coalesce(h.national_id, ''), length(coalesce(h.national_id, '')) "
           "- length(f.national_id_tail) + 1) = f.national_id_tail",
         "holder", "national_id_tail")
    # the status the row asks for (none: as it is, or issued when a holder is named)
    if "status" in given:
        test("f.status = d.status OR (f.status IS NULL AND NOT "
             + ("(f.holder IS NOT NULL AND d.status = 'in_stock'))" if "holder" in given
                else "FALSE)"))
    elif "holder" in given:
        test("f.holder IS NULL OR d.status <> 'in_stock'")
    for name, stored in (*DEVICE_TEXT.items(), *HOLDER_TEXT.items()):
        test(f"f.{name} IS NULL OR f.{name} = {stored}", name)
    test("f.lock_count IS NULL OR f.lock_count <= d.lock_count", "lock_count")
    test("f.last_seen_at IS NULL OR (d.last_seen_at IS NOT NULL AND "
         + sql.not_later("f.last_seen_at", "d.last_seen_at") + ")", "last_seen_at")
    states = ", ".join(f"'{s}'" for s in sorted(lifecycle.CERTIFICATE_STATES))
    if "not_after" in given:
        test(f"f.not_after IS NULL OR d.status NOT IN ({states}) OR (c.id IS NOT NULL AND "
             + sql.near("c.not_after", "f.not_after")
             + (" AND (f.certificate_serial IS NULL OR f.certificate_serial = c.serial)"
                if "certificate_serial" in given else "")
             + (" AND (f.not_before IS NULL OR (c.not_before IS NOT NULL AND "
                + sql.near("c.not_before", "f.not_before") + "))"
                if "not_before" in given else "") + ")")
    with _file_rows(conn, names, columns) as (source, payload):
        # the rows that change something (few in a re-import): nothing else is fetched; a test
        # on a missing value is NULL, and a row whose tests are not all true changes something
        result = conn.execute(text(
            f"SELECT f.pos FROM {source} f "
            "LEFT JOIN devices d ON d.serial = f.serial "
            "LEFT JOIN holders h ON h.id = d.holder_id "
            "LEFT JOIN certificates c ON c.device_id = d.id AND c.status = 'active' "
            "WHERE d.id IS NULL OR NOT coalesce(" + " AND ".join(where) + ", FALSE)"),
            {"rows": payload} if payload else {})
        planned = {pos for (pos,) in result.cursor.fetchall()}
        result.close()
    same = set(range(len(serials))) - planned
    return _without_shared_holders(conn, rows, same, planned)


def _without_shared_holders(conn: Connection, rows: CheckedRows, same: set[int],
                            planned: set[int]) -> set[int]:
    """``same`` but the rows whose holder a planned row may name (by key, ID number or name):
    those are planned too, until no planned row names another's holder."""
    values = rows.values
    serials = values["serial"]
    empty: list[Any] = [None] * len(rows)
    key, national_id = values.get("holder_key", empty), values.get("national_id", empty)
    holder = values.get("holder", empty)
    dialect = conn.dialect.name
    position: dict[str, int] | None = None
    while planned:
        named: set[int] = set()
        for column, keys in ((Holder.key, {key[p] for p in planned if key[p]}),
                             (Holder.national_id, {national_id[p] for p in planned
                                                   if national_id[p]}),
                             (Holder.name_folded, {fold(holder[p]) for p in planned
                                                   if holder[p]})):
            if keys:
                named.update(conn.scalars(select(Holder.id).where(
                    key_in(dialect, column, keys))))
        if not named:
            break
        if position is None:
            position = {serial: pos for pos, serial in enumerate(serials)}
        held = conn.scalars(select(Device.serial).where(
            key_in(dialect, Device.holder_id, named)))
        planned = {p for p in (position.get(serial) for serial in held)
                   if p is not None and p in same}
        same -= planned
    return same
