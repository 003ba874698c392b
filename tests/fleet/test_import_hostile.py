"""Issue 13 as a hostile tester tries it: files an import must refuse in one line naming the
file, with a documented exit code and the register unchanged — never a traceback."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import func, select

from inventory.fleet import sheets
from inventory.register.db import Register
from inventory.register.errors import StorageIOError
from inventory.register.models import Device, Event
from tests.conftest import Tokenfleet


def counts(register: Register) -> tuple[int, int]:
    with register.read() as s:
        return (s.scalar(select(func.count()).select_from(Device)) or 0,
                s.scalar(select(func.count()).select_from(Event)) or 0)


@pytest.mark.parametrize("encoding", ["cp1258", "cp1252"])
def test_sheets_a_windows_code_page_csv_is_refused_not_mangled(
        register: Register, db_url: str, tmp_path: Path, tokenfleet: Tokenfleet,
        encoding: str) -> None:
    """Excel's plain "CSV (Comma delimited)" on Windows writes the ANSI code page; such bytes
    cannot be told from one another (or from the old TCVN3/VNI fonts): refused, not guessed."""
    path = tmp_path / "ansi.csv"
    text = "Số serial;Họ và tên;Đơn vị\r\nT-1;Nguyễn Văn An;Sở Tài chính\r\n"
    path.write_bytes(text.encode(encoding, errors="replace"))
    before = counts(register)
    code, _, err = tokenfleet("--db", db_url, "import", str(path))
    assert code == 65 and err.count("\n") == 1, err
    assert "ansi.csv: is not UTF-8 text" in err and "CSV UTF-8" in err
    assert counts(register) == before


def test_sheets_a_folder_is_refused_in_one_line(register: Register, tmp_path: Path) -> None:
    folder = tmp_path / "sheet.xlsx"
    folder.mkdir()
    with pytest.raises(sheets.ImportFileError, match=r"sheet\.xlsx: is a folder"):
        sheets.read_sheet(folder)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs to drop to another user")
def test_sheets_permission_denied_is_an_io_error_not_a_bad_workbook(tmp_path: Path) -> None:
    """An unreadable workbook was "not an Excel workbook" (is_zipfile swallows the error)."""
    path = tmp_path / "locked.xlsx"
    path.write_bytes(b"PK\x03\x04")
    path.chmod(0)
    tmp_path.chmod(0o755)
    pid = os.fork()
    if pid == 0:  # the child drops to nobody and reports by its exit status
        code = 1
        try:
            os.setgid(65534)
            os.setuid(65534)
            sheets.read_sheet(path)
        except StorageIOError as err:
            code = 0 if str(err) == f"{path}: cannot be read: permission denied" else 2
        except BaseException:
            code = 3
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be", "utf-16", "utf-8-sig", "utf-8"])
def test_sheets_unicode_csv_with_or_without_byte_order_mark(
        register: Register, tmp_path: Path, codec: str) -> None:
    from inventory.fleet import importing

    path = tmp_path / "u.csv"
    path.write_bytes("Số serial;Họ và tên;Đơn vị\r\nU-1;Lê Văn An;Sở Y tế\r\n".encode(codec))
    result = importing.import_file(register, path, actor="t")
    assert (result.created, result.problems) == (1, [])
    with register.read() as s:
        assert s.scalar(select(Device.serial)) == "U-1"


def test_sheets_a_truncated_utf16_csv_is_refused(register: Register, tmp_path: Path) -> None:
    path = tmp_path / "cut.csv"
    path.write_bytes("serial\r\nU-1\r\n".encode("utf-16")[:-1])
    with pytest.raises(sheets.ImportFileError, match="not readable as UTF-16"):
        sheets.read_sheet(path)
