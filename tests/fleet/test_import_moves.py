"""An import moves devices by the lifecycle's own rules (issue 11: one state machine).

The bulk plan applies ``lifecycle.next_state`` to its rows, as the demo city does: every move it
writes starts where the device's previous event left it and ends where ``MOVES`` says, and the
chain replays to every device's row. On both backends.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import select

from inventory.fleet import importing, lifecycle, replay
from inventory.register.db import Register
from inventory.register.models import Device, Event

HEADER = "serial,kind,status,holder,agency_code,agency,lock_count\n"


def _csv(path: Path, *rows: str) -> Path:
    path.write_text(HEADER + "".join(f"{r}\n" for r in rows), encoding="utf-8")
    return path


def test_imported_moves_are_the_lifecycle_moves(register: Register, tmp_path: Path) -> None:
    importing.import_file(register, _csv(
        tmp_path / "a.csv",
        "T1,usb_token,issued,Lê Văn Nam,STC,Sở Tài chính,",
        "T2,usb_token,issued,Trần Thị Hoa,STC,Sở Tài chính,",
        "T3,usb_token,in_stock,,,,",
        "T4,usb_token,issued,Phạm Văn Đức,STC,Sở Tài chính,"), actor="t")
    importing.import_file(register, _csv(
        tmp_path / "b.csv",
        "T1,usb_token,locked,Lê Văn Nam,STC,Sở Tài chính,3",  # locked, and locked before
        "T2,usb_token,issued,Võ Thị Lan,STC,Sở Tài chính,",  # a new holder: return, issue
        "T3,usb_token,retired,,,,",
        "T4,usb_token,revoked,Phạm Văn Đức,STC,Sở Tài chính,"), actor="t")

    last: dict[int, dict[str, Any]] = {}
    moves: Counter[str] = Counter()
    with register.read() as s:
        for device_id, action, before, after in s.execute(
                select(Event.device_id, Event.action, Event.before, Event.after)
                .where(Event.entity_type == "device").order_by(Event.seq)):
            name = action.removeprefix("device.")
            if name in ("add", "edit"):  # not a move: the row as written
                last[device_id] = lifecycle.device_state(after)
                continue
            state = lifecycle.device_state(before)
            assert state == last[device_id], (device_id, action)
            expected = lifecycle.next_state(state, name, holder_id=after["holder_id"],
                                            agency_id=after["agency_id"])
            assert lifecycle.device_state(after) == expected, (device_id, action)
            last[device_id] = expected
            moves[name] += 1
        rows = {d.serial: (d.id, d.status, d.holder_id, d.lock_count)
                for d in s.scalars(select(Device))}
        assert replay.discrepancies(s) == []
    assert {"issue", "lock", "return_to_stock", "retire", "revoke"} <= set(moves)
    for serial, (device_id, status, holder_id, lock_count) in rows.items():
        assert (last[device_id]["status"], last[device_id]["holder_id"],
                last[device_id]["lock_count"]) == (status, holder_id, lock_count), serial
    assert rows["T1"][1:] == ("locked", rows["T1"][2], 3)
    assert rows["T3"][1] == "retired" and rows["T4"][1] == "revoked"
