"""Issue 13, "CSV output writes formulas": every CSV writer neutralises cells a spreadsheet would
run (``= + - @`` and tab/CR first) with one function, as the xlsx writers keep them text."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from inventory.register.db import Register
from inventory.register.text import csv_safe, csv_unescape
from tests.conftest import Tokenfleet

from .test_output import HOSTILE, IN_MONTH, _add_hostile_holders

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cells(path: Path) -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return [cell for row in csv.reader(fh) for cell in row]


def _number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _assert_safe(cells: list[str], expected: list[str]) -> None:
    # A number (a month-on-month change of -4) is a number to a spreadsheet, not a formula.
    formulas = [c for c in cells if c.startswith(FORMULA_START) and not _number(c)]
    assert not formulas, formulas
    for value in expected:
        assert "'" + value in cells, value


def test_csv_output_writes_no_formulas_export(demo_register: Register, db_url: str,
                                              tmp_path: Path,
                                              tokenfleet: Tokenfleet) -> None:
    serials = _add_hostile_holders(demo_register)
    out = tmp_path / "e.csv"
    assert tokenfleet("--db", db_url, "export", str(out))[0] == 0
    _assert_safe(_cells(out), [*HOSTILE, *serials, "-chief"])


def test_csv_output_writes_no_formulas_report_monthly(demo_register: Register, db_url: str,
                                                      tmp_path: Path,
                                                      tokenfleet: Tokenfleet
                                                      ) -> None:
    serials = _add_hostile_holders(demo_register)
    folder = tmp_path / "csv"
    month = f"{IN_MONTH:%Y-%m}"
    assert tokenfleet("--db", db_url, "report", "monthly", "--month", month, "--format", "csv",
               "--output", str(folder))[0] == 0
    cells = [c for f in sorted(folder.glob("*.csv")) for c in _cells(f)]
    _assert_safe(cells, [*HOSTILE, *serials])


def test_csv_output_writes_no_formulas_devices_list(demo_register: Register, db_url: str,
                                                    tokenfleet: Tokenfleet) -> None:
    serials = _add_hostile_holders(demo_register)
    code, out, _ = tokenfleet("--db", db_url, "devices", "--search", "=EVIL", "--format", "csv")
    cells = [c for row in csv.reader(io.StringIO(out)) for c in row]
    assert code == 0
    _assert_safe(cells, [*HOSTILE, *serials])


@pytest.mark.parametrize("value", ["=1+1", "+1234", "-2", "@SUM(1)", '=HYPERLINK("x")',
                                   "\tx", "\rx", "'=x", "''+y"])
def test_csv_output_writes_no_formulas_one_function_round_trips(value: str) -> None:
    safe = csv_safe(value)
    assert isinstance(safe, str) and safe.startswith("'")
    assert csv_unescape(safe) == value


@pytest.mark.parametrize("value", ["Nguyễn Văn An", "0012345678", "'quoted", "a=b", ""])
def test_csv_output_plain_text_is_untouched(value: str) -> None:
    assert csv_safe(value) == value and csv_unescape(value) == value


def test_csv_output_numbers_stay_numbers() -> None:
    assert csv_safe(-3) == -3 and csv_safe(2.5) == 2.5
