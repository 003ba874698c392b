"""One date parser for the CLI, the TUI forms, the importer and the CA answer reader."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from inventory.register.dates import cell_date, parse_date
from inventory.register.errors import ValidationError

DAY = datetime(2026, 11, 28, tzinfo=UTC)


@pytest.mark.parametrize("text", ["28/11/2026", "2026-11-28", "28-11-2026", "28.11.2026",
                                  " 28/11/2026 ", "2026-11-28T00:00:00", "2026-11-28 00:00:00",
                                  "2026-11-28T07:00:00+07:00"])
def test_what_people_and_files_write(text: str) -> None:
    assert parse_date(text) == DAY


def test_cells_and_time_zones() -> None:
    assert parse_date(date(2026, 11, 28)) == DAY
    assert parse_date(datetime(2026, 11, 28)) == DAY
    hanoi = datetime(2026, 11, 28, 9, tzinfo=timezone(timedelta(hours=7)))
    assert parse_date(hanoi) is hanoi
    assert cell_date(None) is None and cell_date("") is None and cell_date("  ") is None
    assert cell_date("28/11/2026") == DAY


@pytest.mark.parametrize("text", ["hôm qua", "31/02/2026", "2026/11/28", "11/28/2026x", ""])
def test_anything_else_is_a_validation_error_naming_the_value(text: str) -> None:
    with pytest.raises(ValidationError, match=r"expiry date .* is not a date \(dd/mm/yyyy"):
        parse_date(text, "expiry date")

