"""Register benchmark (issue 2): a 1,000,000-device SQLite register against bare ``sqlite3``.

    .venv/bin/python -m tests.benchmarks.bench_register [--devices 1000000] [--db /tmp/x.sqlite3]

1. Bulk creation: the demo's device rows written through SQLAlchemy Core ``insert()`` (what
   ``tokenfleet demo`` does) vs bare ``sqlite3.executemany`` of the same values, each into a
   freshly migrated register (same schema and indexes), in the same run.
2. Queries on a full demo register: the first page (50 rows) and the full result of the
   ``devices`` queries by status, by agency subtree, expiring within 30 days and by
   diacritic-insensitive name, through ``inventory.fleet.queries`` vs the equivalent bare SQL.
Prints p50/p95 and the ratios. Not part of the test suite; no figure is asserted.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from inventory.demo import city as demo
from inventory.fleet.queries import DeviceFilter, device_page, iter_devices
from inventory.register.db import Register
from inventory.register.models import Device

NOW = datetime(2026, 11, 15, tzinfo=UTC)
COLUMNS = ["id", "kind", "serial", "status", "holder_id", "agency_id", "manufacturer", "model",
           "phone_number", "lock_count", "status_changed_at", "last_seen_at", "last_seen_reader",
           "last_seen_host", "pin_tries_left", "pin_blocked", "notes", "created_at", "version"]


def device_rows(start: int, n: int) -> list[dict[str, Any]]:
    t = NOW - timedelta(days=100)
    return [{"id": i + 1, "kind": "usb_token", "serial": f"54{i:014d}", "status": "in_stock",
             "holder_id": None, "agency_id": None, "manufacturer": "Feitian", "model": "ePass2003",
             "phone_number": None, "lock_count": 0, "status_changed_at": t, "last_seen_at": None,
             "last_seen_reader": None, "last_seen_host": None, "pin_tries_left": None,
             "pin_blocked": None, "notes": None, "created_at": t, "version": 1}
            for i in range(start, start + n)]


def bench_bulk(n: int, workdir: Path, chunk: int = 50_000) -> None:
    template = workdir / "empty.sqlite3"
    Register.open(f"sqlite:///{template}").dispose()
    core_db, bare_db = workdir / "core.sqlite3", workdir / "bare.sqlite3"
    shutil.copy(template, core_db)
    shutil.copy(template, bare_db)

    reg = Register.open(f"sqlite:///{core_db}")
    core_time = 0.0
    with reg.engine.begin() as conn:
        conn.exec_driver_sql("PRAGMA cache_size=-262144")  # as the demo's bulk load does
        for start in range(0, n, chunk):
            rows = device_rows(start, min(chunk, n - start))
            t0 = time.perf_counter()
            conn.execute(insert(Device), rows)
            core_time += time.perf_counter() - t0
    reg.dispose()

    con = sqlite3.connect(bare_db, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    con.execute("PRAGMA cache_size=-262144")  # the same page cache as the Core run
    sql = (f"INSERT INTO devices ({', '.join(COLUMNS)}) VALUES "
           f"({', '.join('?' for _ in COLUMNS)})")
    bare_time = 0.0
    con.execute("BEGIN")
    for start in range(0, n, chunk):
        rows = device_rows(start, min(chunk, n - start))
        tuples = [tuple(r[c].replace(tzinfo=None).isoformat(sep=" ")
                        if isinstance(r[c], datetime) else r[c] for c in COLUMNS) for r in rows]
        t0 = time.perf_counter()
        con.executemany(sql, tuples)
        bare_time += time.perf_counter() - t0
    con.execute("COMMIT")
    con.close()
    print(f"bulk creation of {n:,} devices (schema with indexes):")
    print(f"  SQLAlchemy Core insert  {n / core_time:10,.0f} rows/s")
    print(f"  bare sqlite3 executemany{n / bare_time:10,.0f} rows/s")
    print(f"  ratio (bare/core)       {core_time / bare_time:10.2f}×   target ≤ 2×")


def _count_all(session: Any, f: DeviceFilter, sort: str) -> int:
    return sum(1 for _ in iter_devices(session, f, sort=sort, page_size=10_000))


def _fetch_all(con: sqlite3.Connection, sql: str) -> list[Any]:
    return con.execute(sql).fetchall()


def timed(fn: Callable[[], Any], runs: int) -> tuple[float, float, Any]:
    times, result = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1], result


BARE_SELECT = """
SELECT d.id, d.serial, d.kind, d.status, d.lock_count, d.holder_id, h.full_name, a.code, a.name,
       c.not_after, c.serial, d.last_seen_at, d.last_seen_reader, d.pin_tries_left, d.version
FROM devices d {cert_join} certificates c ON c.device_id = d.id AND c.status = 'active'
LEFT JOIN holders h ON h.id = d.holder_id LEFT JOIN agencies a ON a.id = d.agency_id
WHERE {where} ORDER BY {order} {limit}"""


def bench_queries(db: Path, runs: int) -> None:
    reg = Register.open(f"sqlite:///{db}")
    con = sqlite3.connect(db)
    con.execute("PRAGMA query_only=1")
    district = con.execute("SELECT code, path FROM agencies WHERE kind='district' "
                           "ORDER BY id LIMIT 1").fetchone()
    now_s = NOW.replace(tzinfo=None).isoformat(sep=" ")
    soon_s = (NOW + timedelta(days=30)).replace(tzinfo=None).isoformat(sep=" ")
    cases = [
        ("status=locked", DeviceFilter(statuses=("locked",), now=NOW), "id",
         "LEFT JOIN", "d.status = 'locked'", "d.id"),
        (f"agency={district[0]} subtree", DeviceFilter(agency_code=district[0], now=NOW), "id",
         "LEFT JOIN", f"d.agency_id IN (SELECT id FROM agencies WHERE path LIKE "
         f"'{district[1]}%')", "d.id"),
        ("expiring within 30 days", DeviceFilter(expiring_within=timedelta(days=30), now=NOW),
         "expiry", "JOIN", f"c.not_after >= '{now_s}' AND c.not_after < '{soon_s}'",
         "c.not_after, d.id"),
        ("name 'nguyen van an'", DeviceFilter(search="nguyen van an", now=NOW), "id",
         "LEFT JOIN", "(d.holder_id IN (SELECT rowid FROM holder_search WHERE holder_search "
         "MATCH '\"nguyen van an\"') OR (d.serial >= 'nguyen van an' AND d.serial < "
         "'nguyen van an\uffff'))", "d.id"),
    ]
    print(f"\nqueries on {db} ({runs} runs each; ms)")
    print(f"  {'query':28} {'page p50':>9} {'page p95':>9} {'bare p50':>9} │ {'rows':>7} "
          f"{'full p50':>9} {'bare p50':>9} {'ratio':>6}")
    for name, f, sort, cert_join, where, order in cases:
        with reg.read() as s:
            p50, p95, _ = timed(partial(device_page, s, f, sort=sort, limit=50), runs)
            full50, _, rows = timed(partial(_count_all, s, f, sort), max(3, runs // 5))
        page_sql = BARE_SELECT.format(cert_join=cert_join, where=where, order=order,
                                      limit="LIMIT 50")
        full_sql = BARE_SELECT.format(cert_join=cert_join, where=where, order=order, limit="")
        b50, _, _ = timed(partial(_fetch_all, con, page_sql), runs)
        bfull, _, bare_rows = timed(partial(_fetch_all, con, full_sql), max(3, runs // 5))
        print(f"  {name:28} {p50:9.2f} {p95:9.2f} {b50:9.2f} │ {rows:7,} {full50:9.1f} "
              f"{bfull:9.1f} {full50 / bfull:5.2f}×" + ("" if rows == len(bare_rows)
                                                       else f"  (bare: {len(bare_rows)} rows!)"))
    print("  targets: first page p95 < 20 ms; full result within 1.5× of the bare SQL")
    con.close()
    reg.dispose()


def build_demo(db: Path, n: int) -> None:
    if db.exists():
        print(f"reusing {db}")
        return
    reg = Register.open(f"sqlite:///{db}")
    t0 = time.perf_counter()
    with reg.session() as s:
        demo.generate(s.connection(), devices=n, seed=1, now=NOW, chunk=50_000)
    print(f"demo register of {n:,} devices built in {time.perf_counter() - t0:.0f} s")
    reg.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--devices", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path, default=Path("/tmp/tokenfleet-bench-1m.sqlite3"))
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--skip-bulk", action="store_true")
    parser.add_argument("--bulk-only", action="store_true")
    args = parser.parse_args()
    if not args.skip_bulk:
        with tempfile.TemporaryDirectory() as tmp:
            bench_bulk(args.devices, Path(tmp))
    if args.bulk_only:
        return
    build_demo(args.db, args.devices)
    bench_queries(args.db, args.runs)


if __name__ == "__main__":
    main()
