"""The workbook names things with the vocabulary and writes dates the reader's way, while
cells keep real dates and numbers (with a number format), never text."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import openpyxl

from inventory.register.db import Register
from reports.monthly import monthly_report
from tests.conftest import FIXED_NOW

from .conftest import HEADER_ROW, MONTH


def _book(register: Register, path: Path, lang: str) -> openpyxl.Workbook:
    monthly_report(register, period=MONTH, output=path, lang=lang, now=FIXED_NOW)
    return openpyxl.load_workbook(path)


def test_vietnamese_workbook_words_and_dates(demo_register: Register, tmp_path: Path) -> None:
    book = _book(demo_register, tmp_path / "vi.xlsx", "vi")
    summary = book["Tổng hợp"]
    assert summary.cell(2, 1).value == ("Kỳ báo cáo: tháng 10/2026 (tình trạng đến hết ngày "
                                        "31/10/2026)")
    assert summary.cell(HEADER_ROW, 2).value == "Tháng 10/2026"
    figures = [summary.cell(r, 1).value for r in range(HEADER_ROW + 1, HEADER_ROW + 4)]
    assert figures == ["Thiết bị đang sử dụng: USB Token", "Thiết bị đang sử dụng: SIM PKI",
                       "Thiết bị đang sử dụng: tổng"]
    register_sheet = book["Danh sách thiết bị"]
    cell = register_sheet.cell(HEADER_ROW + 1, 4)  # status since: a date, shown day first
    assert isinstance(cell.value, datetime) and cell.number_format == "dd/mm/yyyy hh:mm"
    activity = book["Hoạt động"]
    actions = {activity.cell(r, 2).value for r in range(HEADER_ROW + 1, activity.max_row + 1)}
    assert actions and not {a for a in actions if "." in a or "_" in a}  # names, not codes
    assert "Bàn giao" in actions
    trend = [c for row in summary.iter_rows() for c in row
             if isinstance(c.value, datetime) and c.number_format == "mm/yyyy"]
    assert len(trend) == 12  # the trend's months are dates, not text


def test_english_workbook_dates_are_iso(demo_register: Register, tmp_path: Path) -> None:
    book = _book(demo_register, tmp_path / "en.xlsx", "en")
    assert book["Summary"].cell(2, 1).value == "Period: 2026-10 (state at the end of 2026-10-31)"
    cell = book["Register"].cell(HEADER_ROW + 1, 4)
    assert isinstance(cell.value, datetime) and cell.number_format == "yyyy-mm-dd hh:mm"
    assert book["By agency"].cell(HEADER_ROW, 3).value == "USB token: in stock"
