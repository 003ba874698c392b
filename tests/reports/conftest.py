"""Helpers for report tests: the reference month of the demo fleet, workbook reading."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
import pytest

from reports.pointintime import Period

MONTH = Period(2026, 10)  # the last complete month at the demo clock (FIXED_NOW, 2026-11-15)
HEADER_ROW = 5  # 1-based row of the column headers on every list sheet


def sheet_rows(path: Path, sheet: str, first: int = HEADER_ROW + 1) -> list[tuple[Any, ...]]:
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        return [tuple(r) for r in book[sheet].iter_rows(min_row=first, values_only=True)]
    finally:
        book.close()


@pytest.fixture
def month() -> Period:
    return MONTH
