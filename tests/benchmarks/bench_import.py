"""Import benchmark (issue 13): a 100,000-row agency sheet, against its floor.

    .venv/bin/python -m tests.benchmarks.bench_import [--rows 100000] [--pg URL] [--keep DIR]

1. An agency's sheet as offices keep one (.xlsx: STT, Họ và tên, Chức vụ, Đơn vị, Số CCCD,
   Loại thiết bị, Số serial as text, dates, Trạng thái; most devices issued, some in stock,
   locked, lost, revoked) is written once.
2. The floor: python-calamine reading the file, plus SQLAlchemy Core ``insert()`` of exactly
   the rows the import wrote (agencies, holders, devices, certificates, handovers, unlock
   cases and every audit event, read back from the imported register) into an empty register.
3. ``import`` into an empty register (target: within 3× the floor), with the time the write
   lock was held; meanwhile another desk adds a device every half second through its own
   engine, and its longest wait is reported (SQLite's busy timeout is 30 s).
4. ``import`` of the same file again, which changes nothing (target: within 2× the read).
Prints seconds and ratios; not part of the test suite, no figure is asserted.
"""

from __future__ import annotations

import argparse
import random
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, select, text, update

from inventory.fleet import importing
from inventory.register.db import Register, make_engine
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

HEADER = ["STT", "Họ và tên", "Chức vụ", "Đơn vị", "Số CCCD", "Loại thiết bị", "Số serial",
          "Ngày hiệu lực", "Ngày hết hạn", "Trạng thái"]
SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng"]
MIDDLE = ["Văn", "Thị", "Hữu", "Đức", "Minh", "Thanh", "Quốc", "Ngọc"]
GIVEN = ["An", "Bình", "Châu", "Dũng", "Đạt", "Giang", "Hà", "Hải", "Hạnh", "Hiếu", "Hoa"]
TITLES = ["Giám đốc", "Phó Giám đốc", "Trưởng phòng", "Chuyên viên", "Kế toán trưởng"]
STATUSES = [("Đang sử dụng", 90), ("Trong kho", 5), ("Bị khóa", 2), ("Bị mất", 1),
            ("Đã thu hồi", 1), ("Thanh lý", 1)]
TABLES = (Agency, Holder, Device, Certificate, Handover, UnlockCase, Event)


def write_sheet(path: Path, rows: int, seed: int = 13) -> None:
    import xlsxwriter

    rng = random.Random(seed)
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = book.add_worksheet()
    text_format = book.add_format({"num_format": "@"})
    date_format = book.add_format({"num_format": "dd/mm/yyyy"})
    ws.write_row(0, 0, ["DANH SÁCH THIẾT BỊ LƯU KHÓA BÍ MẬT"])
    ws.write_row(2, 0, HEADER)
    statuses = [s for s, weight in STATUSES for _ in range(weight)]
    start = datetime(2024, 1, 1)
    for i in range(rows):
        status = rng.choice(statuses)
        issued = start + timedelta(days=rng.randint(0, 700))
        name = f"{rng.choice(SURNAMES)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)} {i:06d}"
        holder = status != "Trong kho" and status != "Thanh lý"
        r = 3 + i
        ws.write_number(r, 0, i + 1)
        if holder:
            ws.write_string(r, 1, name)
            ws.write_string(r, 2, rng.choice(TITLES))
            ws.write_string(r, 3, f"Phòng {i % 400:03d} - Sở {i % 40:02d}")
            ws.write_string(r, 4, f"{rng.randint(0, 99999999999):012d}", text_format)
        ws.write_string(r, 5, "SIM ký số" if i % 9 == 0 else "Token ký số")
        ws.write_string(r, 6, f"89840{i:014d}" if i % 9 == 0 else f"TK{i:08d}", text_format)
        if holder:
            ws.write_datetime(r, 7, issued, date_format)
            ws.write_datetime(r, 8, issued + timedelta(days=3 * 365), date_format)
        ws.write_string(r, 9, status)
    book.close()


@contextmanager
def timed(into: list[float]) -> Iterator[None]:
    t0 = time.perf_counter()
    yield
    into.append(time.perf_counter() - t0)


def read_with_calamine(path: Path) -> float:
    from python_calamine import CalamineWorkbook

    t0 = time.perf_counter()
    CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python(skip_empty_area=False)
    return time.perf_counter() - t0


def core_insert_floor(source_url: str, target_url: str) -> float:
    """Core insert of the rows the import wrote, into an empty register (the floor)."""
    source = make_engine(source_url)
    tables: dict[Any, list[dict[str, Any]]] = {}
    with source.connect() as conn:
        for model in TABLES:
            tables[model] = [dict(r._mapping) for r in conn.execute(select(model.__table__))]
        head = dict(conn.execute(select(AuditHead.__table__)).one()._mapping)
    source.dispose()
    target = Register.open(target_url)
    t0 = time.perf_counter()
    with target.session() as session:
        conn = session.connection()
        for model in TABLES:
            rows = tables[model]
            for i in range(0, len(rows), 10_000):
                conn.execute(insert(model), rows[i:i + 10_000])
        conn.execute(update(AuditHead).values(last_seq=head["last_seq"],
                                              last_hash=head["last_hash"]))
    elapsed = time.perf_counter() - t0
    target.dispose()
    return elapsed


class OtherDesk(threading.Thread):
    """Adds a device every half second through its own engine; records how long each waited."""

    def __init__(self, url: str):
        super().__init__(daemon=True)
        self.url, self.stop = url, threading.Event()
        self.waits: list[float] = []
        self.errors: list[str] = []

    def run(self) -> None:
        from inventory.fleet import lifecycle

        register = Register.open(self.url)
        n = 0
        while not self.stop.is_set():
            n += 1
            t0 = time.perf_counter()
            try:
                with register.session() as s:
                    lifecycle.add_device(s, kind="usb_token", serial=f"DESK2-{n}",
                                         actor="desk2")
            except Exception as err:  # a busy timeout is what this measures
                self.errors.append(f"{type(err).__name__}: {err}")
            self.waits.append(time.perf_counter() - t0)
            self.stop.wait(0.5)
        register.dispose()


def timed_sessions(register: Register) -> list[float]:
    """Wrap the register's write sessions to record how long each held the lock."""
    held: list[float] = []
    original = register.session

    @contextmanager
    def session(connection: Any = None) -> Iterator[Any]:
        t0 = time.perf_counter()
        with original(connection) as s:
            yield s
        held.append(time.perf_counter() - t0)

    register.session = session  # type: ignore[method-assign]
    return held


def fresh(url: str | None, workdir: Path, name: str, template: Path) -> str:
    if url is None:
        path = workdir / f"{name}.sqlite3"
        for stale in (Path(f"{path}-wal"), Path(f"{path}-shm")):
            stale.unlink(missing_ok=True)
        shutil.copy(template, path)
        return f"sqlite:///{path}"
    admin = create_engine(make_engine(url).url, isolation_level="AUTOCOMMIT")
    db = f"tf_bench_{name}"
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {db}"))
    admin.dispose()
    target = make_engine(url).url.set(database=db).render_as_string(hide_password=False)
    Register.open(target, auto_upgrade=True).dispose()
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--pg", metavar="URL", help="PostgreSQL server (default: SQLite)")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    args = parser.parse_args()
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="bench-import-"))
    workdir.mkdir(parents=True, exist_ok=True)
    template = workdir / "template.sqlite3"
    if args.pg is None and not template.exists():
        Register.open(f"sqlite:///{template}").dispose()
    sheet = workdir / f"agency-{args.rows}.xlsx"
    if not sheet.exists():
        write_sheet(sheet, args.rows)
    backend = "PostgreSQL" if args.pg else "SQLite"
    print(f"{args.rows} rows, {backend}, sheet {sheet.stat().st_size / 1e6:.1f} MB")

    read = min(read_with_calamine(sheet) for _ in range(3))
    url = fresh(args.pg, workdir, "import", template)
    register = Register.open(url)
    held = timed_sessions(register)
    desk = OtherDesk(url)
    desk.start()
    first: list[float] = []
    with timed(first):
        result = importing.import_file(register, sheet, actor="bench")
    desk.stop.set()
    desk.join()
    again: list[float] = []
    with timed(again):
        second = importing.import_file(register, sheet, actor="bench")
    register.dispose()
    floor_insert = core_insert_floor(url, fresh(args.pg, workdir, "floor", template))
    floor = read + floor_insert
    print(f"read (python-calamine)           {read:8.2f} s")
    print(f"Core insert of the same rows     {floor_insert:8.2f} s   floor = {floor:.2f} s")
    print(f"import into an empty register    {first[0]:8.2f} s   {first[0] / floor:.2f}× the "
          f"floor (target ≤ 3×); {result.created} devices, {result.holders_created} holders, "
          f"{result.attempts} plan(s)")
    print(f"  write lock held                {max(held):8.2f} s   (busy timeout 30 s)")
    print(f"  other desk's longest wait      {max(desk.waits):8.2f} s   over "
          f"{len(desk.waits)} adds, {len(desk.errors)} failed")
    print(f"re-import of the same file       {again[0]:8.2f} s   {again[0] / read:.2f}× the "
          f"read (target ≤ 2×); {second.created} created, {second.updated} updated")
    for err in desk.errors[:3]:
        print(f"  other desk: {err}")
    if args.keep is None:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
