"""Issue 13, "speed": an import resolves and writes by sets (its statements do not grow with its
rows), keeps the chain one chain, and holds no write lock while it reads, checks and plans —
another desk writing meanwhile is not kept waiting (the import plans again instead)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select

from inventory.fleet import importing, lifecycle
from inventory.fleet.queries import get_device
from inventory.register import audit
from inventory.register.db import Register
from inventory.register.models import Device, Event, Handover, UnlockCase

STATUSES = ["Đang sử dụng", "Trong kho", "Bị khóa", "Bị mất", "Đã thu hồi", "Thanh lý"]


def sheet(path: Path, n: int, start: int = 0, statuses: list[str] = STATUSES) -> Path:
    lines = ["STT,Họ và tên,Chức vụ,Đơn vị,Số serial,Loại thiết bị,Ngày hết hạn,Trạng thái"]
    for i in range(start, start + n):
        status = statuses[i % len(statuses)]
        lines.append(f"{i},Nguyễn Văn {i:05d},Chuyên viên,Sở {i % 7},TK{i:06d},Token,"
                     f"{1 + i % 28:02d}/05/2028,{status}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@contextmanager
def statements(register: Register) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(register.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(register.engine, "before_cursor_execute", count)


def test_speed_statements_do_not_grow_with_rows(register: Register, tmp_path: Path) -> None:
    """Rows that are added, issued, lost or retired are resolved and written by sets: four
    times the rows, (nearly) the same statements. (Locks and revocations go through the
    lifecycle one by one: they open unlock cases and revoke certificates.)"""
    simple = ["Đang sử dụng", "Trong kho", "Bị mất", "Thanh lý"]
    with statements(register) as small:
        importing.import_file(register, sheet(tmp_path / "a.csv", 60, statuses=simple),
                              actor="t")
    with statements(register) as large:
        importing.import_file(register, sheet(tmp_path / "b.csv", 240, start=60,
                                              statuses=simple), actor="t")
    assert len(large) - len(small) <= 10, (len(small), len(large))
    assert len(large) < 80


def test_speed_one_chain_all_rows(register: Register, tmp_path: Path) -> None:
    result = importing.import_file(register, sheet(tmp_path / "a.csv", 120), actor="t")
    assert result.created == 120
    with register.read() as s:
        verified = audit.verify(s)
        assert verified.events == s.scalar(select(func.count()).select_from(Event))
        # every lock opened its unlock case; every issue has its handover
        locked = s.scalar(select(func.count()).select_from(Device)
                          .where(Device.status == "locked"))
        assert locked == s.scalar(select(func.count()).select_from(UnlockCase)) == 20
        assert s.scalar(select(func.count()).select_from(Handover)) == 80  # 4 statuses of 6
        assert get_device(s, "TK000004").status == "revoked"
        assert get_device(s, "TK000003").active_certificate is not None  # lost keeps its cert


@pytest.mark.parametrize(("serial", "attempts"), [("OTHER-DESK", 1), ("TK000007", 2)])
def test_speed_no_write_lock_while_planning(register: Register, db_url: str, tmp_path: Path,
                                            serial: str, attempts: int) -> None:
    """Another desk writes while the import plans: it is not kept waiting. A write that
    touches nothing the plan read leaves the plan standing; one that adds a serial of the file
    sends the import back to plan again, and the row then updates that device."""
    other = Register.open(db_url)  # another desk: its own engine, like another process
    written: list[str] = []

    def progress(stage: str, done: int, total: int) -> None:
        if stage == "resolving" and done == total and not written:
            with other.session() as s:  # would wait (and time out) if the import held the lock
                lifecycle.add_device(s, kind="usb_token", serial=serial, actor="desk2")
            written.append("yes")

    try:
        result = importing.import_file(register, sheet(tmp_path / "a.csv", 30), actor="t",
                                       progress=progress)
    finally:
        other.dispose()
    assert written and result.attempts == attempts
    assert (result.created, result.updated) == ((30, 0) if attempts == 1 else (29, 1))
    with register.read() as s:
        assert s.scalar(select(func.count()).select_from(Device)) == 31 - (attempts - 1)
        assert get_device(s, serial).serial == serial  # one device, not two
        audit.verify(s)


def test_speed_all_or_nothing_when_a_late_row_fails(register: Register, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Unlocks go through the lifecycle after the bulk writes; one it refuses undoes all."""
    from inventory.fleet import unlock_cases

    locked = ["Bị khóa"]
    importing.import_file(register, sheet(tmp_path / "a.csv", 6, statuses=locked), actor="t")
    with register.read() as s:
        chain = s.scalar(select(func.count()).select_from(Event))

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise lifecycle.ValidationError("the desk refuses this unlock")

    monkeypatch.setattr(unlock_cases, "case_on_unlock", refuse)
    unlocked = sheet(tmp_path / "b.csv", 8, statuses=["Đang sử dụng"])  # 6 unlocks, 2 new
    with pytest.raises(importing.ImportFileError, match="the desk refuses this unlock"):
        importing.import_file(register, unlocked, actor="t")
    with register.read() as s:
        assert s.scalar(select(func.count()).select_from(Device)) == 6
        assert s.scalar(select(func.count()).select_from(Event)) == chain
    result = importing.import_file(register, unlocked, actor="t", skip_invalid=True)
    assert result.created == 2 and [p.row for p in result.problems] == [2, 3, 4, 5, 6, 7]
