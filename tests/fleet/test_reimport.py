"""Issue 13, "speed": a re-import of an unchanged sheet is settled by one statement — no plan,
no write, no lock — and every value a row changes is still seen (the rows that change are
planned as before, and so are the rows sharing a holder with them)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import func, select

from inventory.fleet import importing
from inventory.fleet.queries import get_device
from inventory.register.db import Register
from inventory.register.models import Event, Holder
from tests.conftest import holder_name

HEADER = ["STT", "Họ và tên", "Chức vụ", "Đơn vị", "Số CCCD", "Loại thiết bị", "Số serial",
          "Ngày hiệu lực", "Ngày hết hạn", "Trạng thái", "Ghi chú"]


def rows() -> list[list[str]]:
    out = []
    for i in range(12):
        status = ["Đang sử dụng", "Bị mất", "Đã thu hồi", "Bị khóa"][i % 4]
        out.append([str(i + 1), f"Nguyễn Văn {i:03d}", "Chuyên viên", f"Sở {i % 3}",
                    f"0012030045{i:02d}", "SIM ký số" if i % 5 == 0 else "Token ký số",
                    f"TK{i:04d}", "01/02/2025", "01/02/2028", status, f"ghi chú {i}"])
    out.append(["13", "", "", "", "", "Token", "TK-STOCK", "", "", "Trong kho", ""])
    return out


def write(path: Path, data: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        csv.writer(f).writerows([HEADER, *data])
    return path


def events(register: Register) -> int:
    with register.read() as s:
        return s.scalar(select(func.count()).select_from(Event)) or 0


@pytest.fixture
def imported(register: Register, tmp_path: Path) -> Path:
    path = write(tmp_path / "ds.csv", rows())
    assert importing.import_file(register, path, actor="t").created == 13
    return path


def test_speed_reimport_of_an_unchanged_sheet_plans_nothing(register: Register,
                                                            imported: Path) -> None:
    before = events(register)
    result = importing.import_file(register, imported, actor="t")
    assert (result.created, result.updated, result.unchanged) == (0, 0, 13)
    assert result.attempts == 0  # no plan made, nothing written, no lock taken
    assert events(register) == before


@pytest.mark.parametrize(("column", "value"), [
    (1, "Nguyễn Văn Khác"),  # the holder's name (a new holder)
    (2, "Trưởng phòng"),  # title
    (3, "Sở 2"),  # another agency
    (4, "001203004599"),  # another ID number: another holder
    (8, "01/02/2029"),  # renewed
    (7, "02/02/2025"),  # another start date
    (9, "Bị mất"),  # lost
    (10, "ghi chú mới"),  # notes
])
def test_speed_reimport_sees_every_change(register: Register, imported: Path, tmp_path: Path,
                                          column: int, value: str) -> None:
    data = rows()
    data[0][column] = value
    before = events(register)
    result = importing.import_file(register, write(tmp_path / "changed.csv", data), actor="t")
    assert result.problems == []
    assert result.updated == 1 and result.unchanged == 12, (result.updated, result.unchanged)
    assert events(register) > before
    again = importing.import_file(register, tmp_path / "changed.csv", actor="t")
    assert (again.updated, again.unchanged, again.attempts) == (0, 13, 0)


def test_speed_reimport_kind_change_is_refused(register: Register, imported: Path,
                                               tmp_path: Path) -> None:
    data = rows()
    data[1][5] = "SIM ký số"  # TK0001 is a token in the register: a serial is unique
    with pytest.raises(importing.ImportFileError) as refused:
        importing.import_file(register, write(tmp_path / "kind.csv", data), actor="t")
    assert "TK0001 is a usb_token in the register" in str(refused.value.problems)


def test_speed_reimport_rows_sharing_a_holder_are_planned_in_order(
        register: Register, tmp_path: Path) -> None:
    """Row 1 changes its holder's title; a later row names the same holder as the register
    has them, and alone changes nothing. The file is planned as a whole would be: the later
    row is planned too, and wins, as it does in the planner."""
    data = rows()
    data.append(["14", data[0][1], "Chuyên viên", data[0][3], data[0][4], "Token ký số",
                 "TK-2ND", "01/02/2025", "01/02/2028", "Đang sử dụng", ""])
    assert importing.import_file(register, write(tmp_path / "a.csv", data),
                                 actor="t").created == 14
    data[0][2] = "Trưởng phòng"
    result = importing.import_file(register, write(tmp_path / "b.csv", data), actor="t")
    assert result.problems == [] and (result.updated, result.unchanged) == (2, 12)
    with register.read() as s:
        holder = s.scalars(select(Holder).where(Holder.full_name == data[0][1])).one()
        assert holder.title == "Chuyên viên"
        assert holder_name(get_device(s, "TK-2ND")) == data[0][1]


def test_speed_reimport_dry_run_of_an_unchanged_sheet(register: Register, imported: Path
                                                      ) -> None:
    result = importing.import_file(register, imported, actor="t", dry_run=True)
    assert (result.created, result.updated, result.unchanged) == (0, 0, 13)
