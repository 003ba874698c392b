"""Imports: agencies' own sheets (Vietnamese or English headers, Excel or text dates, serials as
text), all-or-nothing by default, per-row with --skip-invalid, re-import updates."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select

from inventory.cli import exit_codes, main
from inventory.fleet import importing
from inventory.fleet.queries import get_device
from inventory.register.errors import ImportFileError
from inventory.register.models import Device, Event
from tests.conftest import agency_code, cert_not_after, holder_name

VI_HEADER = ["STT", "Họ và tên", "Chức vụ", "Đơn vị", "Số CCCD", "Loại thiết bị", "Số serial",
             "Ngày hiệu lực", "Ngày hết hạn", "Trạng thái"]


def xlsx(path: Path, rows: list[list[object]], header=VI_HEADER) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["DANH SÁCH THIẾT BỊ CHỮ KÝ SỐ"])  # agencies put a title above the table
    sheet.append([])
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    for cell in sheet["G"][3:]:
        cell.number_format = "@"
    book.save(path)
    return path


def csv_file(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


GOOD = [
    [1, "Nguyễn Văn An", "Chuyên viên", "Sở Tài chính", "001203004567", "Token", "0012345678",
     datetime(2025, 1, 10), datetime(2028, 1, 10), "Đang sử dụng"],
    [2, "Đặng Thị Bình", "Trưởng phòng", "Sở Tài chính", "", "SIM PKI", "8984040000000000017",
     "15/03/2024", "15/03/2027", "Đang sử dụng"],
    [3, "", "", "", "", "Token", "0099", None, None, "Trong kho"],
]


def count(register, model=Device) -> int:
    with register.read() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def test_vietnamese_sheet_imports(register, tmp_path):
    path = xlsx(tmp_path / "ds.xlsx", GOOD)
    result = importing.import_file(register, path, actor="t")
    assert (result.created, result.updated, result.problems) == (3, 0, [])
    with register.read() as s:
        token = get_device(s, "0012345678")  # leading zeros survive
        assert token.kind == "usb_token" and token.status == "issued"
        assert holder_name(token) == "Nguyễn Văn An"
        assert cert_not_after(token) == datetime(2028, 1, 10, tzinfo=UTC)
        sim = get_device(s, "8984040000000000017")
        assert sim.kind == "pki_sim"
        assert cert_not_after(sim) == datetime(2027, 3, 15, tzinfo=UTC)
        assert get_device(s, "0099").status == "in_stock"


def test_reimport_updates_instead_of_skipping(register, tmp_path):
    importing.import_file(register, xlsx(tmp_path / "a.xlsx", GOOD), actor="t")
    changed = [list(r) for r in GOOD]
    changed[0][8] = datetime(2029, 6, 30)  # renewed
    changed[0][9] = "Bị khóa"  # and locked
    result = importing.import_file(register, xlsx(tmp_path / "b.xlsx", changed), actor="t")
    assert (result.created, result.updated, result.unchanged) == (0, 1, 2)
    with register.read() as s:
        token = get_device(s, "0012345678")
        assert token.status == "locked" and token.lock_count == 1
        assert cert_not_after(token) == datetime(2029, 6, 30, tzinfo=UTC)
        assert len(token.certificates) == 2


def test_english_csv(register, tmp_path):
    path = csv_file(tmp_path / "d.csv",
                    "serial,kind,status,holder,agency_code,agency,not_after\n"
                    "00777,usb_token,issued,Lê Văn Nam,STC,Sở Tài chính,2027-05-01\n")
    assert importing.import_file(register, path, actor="t").created == 1
    with register.read() as s:
        assert agency_code(get_device(s, "00777")) == "STC"


@pytest.mark.parametrize("row, reason", [
    (["x", "Nguyễn Văn Cường", "", "Sở Tài chính", "", "Token", "0012345678", "", "31/02/2027",
      ""], "not a date"),
    (["x", "Nguyễn Văn Cường", "", "Sở Tài chính", "", "Token", "", "", "", ""],
     "serial is empty"),
    (["x", "Nguyễn Văn Cường", "", "Sở Tài chính", "12AB", "Token", "T9", "", "", ""],
     "12 digits"),
    (["x", "Nguyễn Văn Cường", "", "Sở Tài chính", "", "Máy fax", "T9", "", "", ""],
     "neither a USB token"),
    (["x", "Nguyễn Văn Cường", "", "Sở Tài chính", "", "Token", "T9", "", "", "Bay mất"],
     "status"),
    (["x", "", "", "", "", "Token", "T9", "", "", "Bị khóa"], "needs the holder"),
])
def test_bad_row_refuses_whole_file(register, tmp_path, row, reason):
    path = xlsx(tmp_path / "bad.xlsx", [GOOD[0], row])
    events = count(register, Event)
    with pytest.raises(ImportFileError) as err:
        importing.import_file(register, path, actor="t")
    assert "row 5" in str(err.value) and reason in str(err.value)
    assert count(register) == 0 and count(register, Event) == events


def test_duplicate_serial_in_file_names_both_rows(register, tmp_path):
    path = xlsx(tmp_path / "dup.xlsx", [GOOD[0], GOOD[1], GOOD[0]])
    with pytest.raises(ImportFileError, match=r"row 6: serial 0012345678 appears again \(first "
                                              r"on row 4\)"):
        importing.import_file(register, path, actor="t")
    assert count(register) == 0


def test_illegal_move_in_file_refuses_it(register, tmp_path):
    importing.import_file(register, xlsx(tmp_path / "a.xlsx", GOOD[2:]), actor="t")
    retire = [[3, "", "", "", "", "Token", "0099", None, None, "Thanh lý"]]
    importing.import_file(register, xlsx(tmp_path / "b.xlsx", retire), actor="t")
    back = [[3, "Lê Văn Nam", "", "Sở Tài chính", "", "Token", "0099", None, None, "Đang sử dụng"]]
    with pytest.raises(ImportFileError, match="0099 is retired"):
        importing.import_file(register, xlsx(tmp_path / "c.xlsx", back), actor="t")
    with register.read() as s:
        assert get_device(s, "0099").status == "retired"


def test_skip_invalid_imports_good_rows_and_reports_others(register, tmp_path):
    bad = [9, "Nguyễn Văn Cường", "", "Sở Tài chính", "", "Token", "T9", "", "31/02/2027", ""]
    path = xlsx(tmp_path / "mixed.xlsx", [GOOD[0], bad, GOOD[2]])
    result = importing.import_file(register, path, actor="t", skip_invalid=True)
    assert result.created == 2 and [p.row for p in result.problems] == [5]
    assert count(register) == 2


def test_dry_run_writes_nothing(register, tmp_path):
    events = count(register, Event)
    result = importing.import_file(register, xlsx(tmp_path / "a.xlsx", GOOD), actor="t",
                                   dry_run=True)
    assert result.created == 3
    assert count(register) == 0 and count(register, Event) == events


def test_xlsx_that_is_something_else(register, tmp_path, capsys):
    path = tmp_path / "fake.xlsx"
    path.write_text("serial\n123\n")
    with pytest.raises(SystemExit) as exit_:
        main(["--db", str(register.engine.url.render_as_string(hide_password=False)), "import",
              str(path)])
    assert exit_.value.code == exit_codes.for_error(ImportFileError)
    err = capsys.readouterr().err
    assert "fake.xlsx" in err and "not an Excel workbook" in err


def test_cli_reports_rows(register, tmp_path, capsys):
    url = register.engine.url.render_as_string(hide_password=False)
    path = xlsx(tmp_path / "bad.xlsx", [GOOD[0], ["x", "", "", "", "", "Token", "", "", "", ""]])
    with pytest.raises(SystemExit) as exit_:
        main(["--db", url, "import", str(path)])
    assert exit_.value.code == exit_codes.for_error(ImportFileError)
    assert "bad.xlsx: row 5: the serial is empty" in capsys.readouterr().err
    main(["--db", url, "import", str(xlsx(tmp_path / "ok.xlsx", GOOD)), "--dry-run"])
    assert "would import 3 rows: 3 new devices" in capsys.readouterr().out
