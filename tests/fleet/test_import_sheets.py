"""Issue 13, "lost or mangled values" and "sheets as offices really save them": values arrive
exactly or are refused naming row and column; headers are matched by their words; CSV files
from any desk are read whole (never split on line breaks)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select

from inventory.fleet import importing
from inventory.fleet.queries import get_device
from inventory.fleet.sheets import field_of
from inventory.register.db import Register
from inventory.register.errors import ImportFileError
from inventory.register.models import Device, Event, Holder
from tests.conftest import Tokenfleet


def xlsx(path: Path, header: list[str], rows: list[list[object]], text_columns: str = ""
         ) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["DANH SÁCH THIẾT BỊ LƯU KHÓA BÍ MẬT"])
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    for column in text_columns:
        for cell in sheet[column][2:]:
            cell.number_format = "@"
    book.save(path)
    return path


def counts(register: Register) -> tuple[int, int, int]:
    with register.read() as s:
        return (s.scalar(select(func.count()).select_from(Device)) or 0,
                s.scalar(select(func.count()).select_from(Holder)) or 0,
                s.scalar(select(func.count()).select_from(Event)) or 0)


def test_lost_or_mangled_values_long_number_in_an_xlsx_cell_is_refused(
        register: Register, tmp_path: Path) -> None:
    path = xlsx(tmp_path / "sim.xlsx", ["Họ và tên", "Đơn vị", "Loại", "ICCID"], [
        ["Lê Văn An", "Sở Y tế", "SIM ký số", "8984049999000000017"],  # text: exact
        ["Lê Văn Bình", "Sở Y tế", "SIM ký số", 8984049999000000123],  # a number: rounded
    ])
    with pytest.raises(ImportFileError) as err:
        importing.import_file(register, path, actor="t")
    message = str(err.value)
    assert "row 4, column D (ICCID)" in message or "row 4: column D (ICCID)" in message
    assert "more digits than a spreadsheet keeps exactly" in message
    assert counts(register)[0] == 0


def test_lost_or_mangled_values_iccid_shaped_serial_is_a_pki_sim_with_a_warning(
        register: Register, tmp_path: Path) -> None:
    path = xlsx(tmp_path / "s.xlsx", ["Họ và tên", "Đơn vị", "Số serial"], [
        ["Lê Văn An", "Sở Y tế", "8984049999000000017"], ["Lê Văn Bình", "Sở Y tế", "T-0042"]],
        text_columns="C")
    result = importing.import_file(register, path, actor="t")
    assert [w.row for w in result.warnings] == [3]
    assert "looks like a SIM's ICCID" in str(result.warnings[0])
    with register.read() as s:
        assert get_device(s, "8984049999000000017").kind == "pki_sim"
        assert get_device(s, "T-0042").kind == "usb_token"


@pytest.mark.parametrize(("cell", "message"), [
    ("T\x00001", "U+0000"),
    ("T" * 65, "at most 64 fit"),
    ("T\u202e1", "RIGHT-TO-LEFT OVERRIDE"),
])
def test_lost_or_mangled_values_bad_serial_names_row_and_column(
        register: Register, tmp_path: Path, cell: str, message: str) -> None:
    path = tmp_path / "d.csv"
    path.write_text(f"serial,kind\nOK-1,usb_token\n\"{cell}\",usb_token\n", encoding="utf-8")
    with pytest.raises(ImportFileError) as err:
        importing.import_file(register, path, actor="t")
    assert "row 3: column A (serial)" in str(err.value) and message in str(err.value)
    assert counts(register)[0] == 0


def test_lost_or_mangled_values_nfd_name_in_a_file_is_the_same_holder(
        register: Register, tmp_path: Path) -> None:
    import unicodedata

    nfd = unicodedata.normalize("NFD", "Nguyễn Thị Ánh")
    path = tmp_path / "d.csv"
    path.write_text("serial,holder,agency\nA-1,Nguyễn Thị Ánh,Sở Y tế\n"
                    f"A-2,{nfd},Sở Y tế\n", encoding="utf-8")
    result = importing.import_file(register, path, actor="t")
    assert result.created == 2 and result.holders_created == 1


@pytest.mark.parametrize("header", ["Số serial", "Serial thiết bị", "Số serial token",
                                    "Số seri USB Token", "serial", "Mã thiết bị", "ICCID",
                                    "Số hiệu thiết bị"])
def test_sheets_header_by_its_words_serial(header: str) -> None:
    assert field_of(header)[0] == "serial"


@pytest.mark.parametrize(("header", "field"), [
    ("Số serial CTS", "certificate_serial"), ("Serial chứng thư số", "certificate_serial"),
    ("Số hiệu chứng thư", "certificate_serial"), ("Ngày hết hạn CTS", "not_after"),
    ("Ngày hiệu lực của chứng thư số", "not_before"), ("Thời hạn sử dụng", "not_after"),
    ("Họ và tên người sử dụng", "holder"), ("Tên thuê bao", "holder"),
    ("Số thuê bao", "phone_number"), ("Số điện thoại", "phone"), ("Số CMND/CCCD", "national_id"),
    ("Mã đơn vị", "agency_code"), ("Đơn vị công tác", "agency"), ("Chức vụ", "title"),
    ("Loại thiết bị", "kind"), ("Tình trạng", "status"), ("Hãng sản xuất", "manufacturer"),
    ("Ghi chú", "notes"), ("Số lần khóa", "lock_count"), ("STT", None),
    ("Loại yêu cầu", None), ("holder_key", "holder_key"), ("phone_number", "phone_number"),
])
def test_sheets_header_by_its_words_fields(header: str, field: str | None) -> None:
    assert field_of(header)[0] == field


def test_sheets_kind_in_the_serial_header(register: Register, tmp_path: Path) -> None:
    path = xlsx(tmp_path / "k.xlsx", ["Họ và tên", "Đơn vị", "Số serial SIM", "Số serial CTS",
                                     "Ngày hết hạn CTS"],
                [["Lê Văn An", "Sở Y tế", "0042", "54A1", datetime(2028, 1, 10)]],
                text_columns="C")
    importing.import_file(register, path, actor="t")
    with register.read() as s:
        device = get_device(s, "0042")
        assert device.kind == "pki_sim"
        assert device.active_certificate is not None
        assert device.active_certificate.serial == "54A1"
        assert device.active_certificate.not_after == datetime(2028, 1, 10, tzinfo=UTC)


def test_sheets_semicolon_csv_from_a_vietnamese_excel(register: Register, tmp_path: Path
                                                      ) -> None:
    """Excel on a Vietnamese-locale Windows: ';', a byte-order mark, CRLF, quoted cells."""
    text = ("STT;Họ và tên;Đơn vị;Số serial;Ghi chú\r\n"
            '1;"Trần Văn Tư, Phó phòng";Sở Tư pháp;0007;"dòng 1\r\ndòng 2; còn nữa"\r\n'
            '2;Lê "Bé" Ba;Sở Tư pháp;0008;""\r\n')
    path = tmp_path / "vn.csv"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    result = importing.import_file(register, path, actor="t")
    assert (result.created, result.problems) == (2, [])
    with register.read() as s:
        first = get_device(s, "0007")
        assert first.holder is not None and first.holder.full_name == "Trần Văn Tư, Phó phòng"
        assert first.notes == "dòng 1\ndòng 2; còn nữa"
        second = get_device(s, "0008")
        assert second.holder is not None and second.holder.full_name == 'Lê "Bé" Ba'


def test_lost_or_mangled_values_line_break_in_a_csv_cell_is_no_new_holder(
        register: Register, tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text('serial,holder,agency,notes\nB-1,"Phạm Văn\nCường",Sở Y tế,"a\nb"\n',
                    encoding="utf-8")
    result = importing.import_file(register, path, actor="t")
    assert (result.created, result.holders_created) == (1, 1)
    with register.read() as s:
        device = get_device(s, "B-1")
        assert device.holder is not None and device.holder.full_name == "Phạm Văn Cường"
        assert device.notes == "a\nb"


def test_sheets_utf16_tab_separated(register: Register, tmp_path: Path) -> None:
    path = tmp_path / "u.txt"
    path.write_bytes("Số serial\tHọ tên\tĐơn vị\r\nU-1\tLê An\tSở Y tế\r\n".encode("utf-16"))
    assert importing.import_file(register, path, actor="t").created == 1


def test_sheets_dry_run_prints_which_column_fed_which_field(
        register: Register, db_url: str, tmp_path: Path, tokenfleet: Tokenfleet) -> None:
    path = xlsx(tmp_path / "m.xlsx", ["STT", "Họ và tên", "Đơn vị", "Số serial token",
                                      "Ngày hết hạn CTS", "Số điện thoại", "Điện thoại di động"],
                [[1, "Lê An", "Sở Y tế", "T-1", datetime(2028, 1, 1), "0905", "0906"]],
                text_columns="DFG")
    before = counts(register)
    code, out, _ = tokenfleet("--db", db_url, "import", str(path), "--dry-run")
    assert code == 0
    assert "column A 'STT' (not read)" in out
    assert "column B 'Họ và tên' → holder" in out
    assert "column D 'Số serial token' → serial (kind usb_token unless a row says)" in out
    assert "column E 'Ngày hết hạn CTS' → not_after" in out
    assert "column G 'Điện thoại di động' (not read) (column F already gives phone)" in out
    assert "would import 1 rows: 1 new devices" in out
    assert counts(register) == before


def test_lost_or_mangled_values_kind_words_in_a_file(register: Register, tmp_path: Path
                                                     ) -> None:
    path = tmp_path / "k.csv"
    path.write_text("serial,loại thiết bị\nK-1,Sim ký số\nK-2,sim ky so\nK-3,Token ký số\n"
                    "K-4,USB ky so\nK-5,Mobile PKI\n", encoding="utf-8")
    importing.import_file(register, path, actor="t")
    with register.read() as s:
        kinds = [get_device(s, f"K-{i}").kind for i in range(1, 6)]
    assert kinds == ["pki_sim", "pki_sim", "usb_token", "usb_token", "pki_sim"]


def test_lost_or_mangled_values_serial_of_another_kind_in_a_file(
        register: Register, tmp_path: Path) -> None:
    first = tmp_path / "a.csv"
    first.write_text("serial,kind\nS-1,usb_token\n", encoding="utf-8")
    importing.import_file(register, first, actor="t")
    second = tmp_path / "b.csv"
    second.write_text("serial,kind\nS-1,pki_sim\n", encoding="utf-8")
    with pytest.raises(ImportFileError, match="S-1 is a usb_token in the register"):
        importing.import_file(register, second, actor="t")
    assert counts(register)[0] == 1
