"""The list of subscribers the CA's intake expects, as ``.xlsx`` (XlsxWriter) or ``.csv``.

One row per subscriber of the submitted requests, in Vietnamese (the CA's template): request and
device kinds are named by ``inventory.vocabulary``. Every cell is written as a string (formula,
URL and number conversion off), so a name such as ``=HYPERLINK(…)`` stays text and ID numbers
keep their leading zeros.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

import xlsxwriter

from inventory.desk.figures import IntakeRow
from inventory.register.errors import ValidationError
from inventory.register.files import GuardedFile, atomic_output, guarded_file
from inventory.register.text import csv_safe
from inventory.vocabulary import Vocabulary

INTAKE_COLUMNS: tuple[tuple[str, str, int], ...] = (
    # (field, Vietnamese header the CA's template uses, width)
    ("ref", "Mã hồ sơ", 12),
    ("full_name", "Họ và tên", 28),
    ("title", "Chức vụ", 22),
    ("agency", "Cơ quan, đơn vị", 40),
    ("national_id", "Số CCCD/CMND", 16),
    ("email", "Thư điện tử", 32),
    ("phone", "Số điện thoại", 14),
    ("request_kind", "Loại yêu cầu", 24),
    ("device_kind", "Loại thiết bị", 12),
    ("external_ref", "Số văn bản", 16),
)
SHEET_TITLE = "DANH SÁCH THUÊ BAO ĐỀ NGHỊ"
CA_LANGUAGE = "vi"
# columns that hold a code, and the vocabulary domain that names it
TERM_COLUMNS = {"request_kind": "request_kind", "device_kind": "device_kind"}


def _cells(row: IntakeRow, words: Vocabulary) -> list[str]:
    cells = []
    for name, _, _ in INTAKE_COLUMNS:
        value = getattr(row, name)
        if name in TERM_COLUMNS:
            value = words.term(TERM_COLUMNS[name], value or None)
        cells.append("" if value is None else str(value))
    return cells


def write_intake(rows: Iterable[IntakeRow], path: Path) -> int:
    """Write the intake list; the suffix of ``path`` picks .xlsx or .csv. Returns the rows."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise ValidationError(f"{path}: write the intake list as .xlsx or .csv")
    with atomic_output(path) as tmp:
        return _write_csv(rows, tmp) if suffix == ".csv" else _write_xlsx(rows, tmp)


def _write_xlsx(rows: Iterable[IntakeRow], path: Path) -> int:
    with guarded_file(path) as fh:
        return _write_book(rows, fh)


def _write_book(rows: Iterable[IntakeRow], fh: GuardedFile) -> int:
    book = xlsxwriter.Workbook(fh, {
        "constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
        "strings_to_numbers": False})
    try:
        ws = book.add_worksheet("Danh sach")
        bold = book.add_format({"bold": True, "font_size": 13})
        header = book.add_format({"bold": True, "bg_color": "#DCE6F1", "border": 1,
                                  "text_wrap": True, "valign": "vcenter"})
        cell = book.add_format({"border": 1, "num_format": "@"})
        ws.write_string(0, 0, SHEET_TITLE, bold)
        for col, (_, label, width) in enumerate(INTAKE_COLUMNS):
            ws.set_column(col, col, width)
            ws.write_string(2, col, label, header)
        ws.freeze_panes(3, 0)
        n = 0
        words = Vocabulary(CA_LANGUAGE)
        for n, row in enumerate(rows, start=1):
            for col, value in enumerate(_cells(row, words)):
                ws.write_string(2 + n, col, value, cell)
        ws.autofilter(2, 0, 2 + n, len(INTAKE_COLUMNS) - 1)
    finally:
        book.close()
    return n


def _write_csv(rows: Iterable[IntakeRow], path: Path) -> int:
    n = 0
    with path.open("w", newline="", encoding="utf-8-sig") as fh:
        writer = csv.writer(fh)
        writer.writerow([label for _, label, _ in INTAKE_COLUMNS])
        words = Vocabulary(CA_LANGUAGE)
        for row in rows:
            writer.writerow([csv_safe(v) for v in _cells(row, words)])
            n += 1
    return n
