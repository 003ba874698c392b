"""One unlock turnaround: the monthly report shows the unlock desk's figure (issue 11).

The report used to count lock → unlock from the events and round to one decimal, the desk from
its cases to two: a month whose median is 2.25 days read 2.2 in the workbook and 2.25 at the
desk. Both backends.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import openpyxl

from inventory.desk import unlock_desk
from inventory.fleet import lifecycle
from inventory.register.db import Register
from reports.figures import FIGURE_KEYS, month_figures
from reports.monthly import monthly_report
from reports.pointintime import Period
from tests.conftest import Tokenfleet

from .conftest import HEADER_ROW

MARCH = Period(2026, 3)
T0 = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)


def test_report_and_desk_give_the_same_unlock_turnaround(register: Register, db_url: str,
                                                         tmp_path: Path,
                                                         tokenfleet: Tokenfleet) -> None:
    with register.session() as s:
        agency = lifecycle.add_agency(s, code="HN", name="Hà Nội", actor="t",
                                      at=T0 - timedelta(days=30))
        holder = lifecycle.add_holder(s, full_name="Phạm Thị Dung", agency=agency, actor="t",
                                      at=T0 - timedelta(days=30))
        for n, (locked, days) in enumerate(((T0, 2.0), (T0 + timedelta(days=1), 2.5))):
            d = lifecycle.add_device(s, kind="usb_token", serial=f"T{n}", actor="t",
                                     at=T0 - timedelta(days=20))
            lifecycle.issue(s, d, holder, method="in_person", actor="t",
                            at=T0 - timedelta(days=19))
            lifecycle.lock(s, d, actor="t", at=locked)
            unlock_desk.bring_in(s, d, brought_by="Văn thư", actor="t",
                                 at=locked + timedelta(hours=3))
            unlock_desk.mark_unlocked(s, d, method="so_pin_reset", actor="t",
                                      at=locked + timedelta(days=days))
    with register.read() as s:
        (desk,) = unlock_desk.unlock_turnaround(s, since=MARCH.start, until=MARCH.end,
                                                by_agency=False)
        report = month_figures(s, MARCH)["median_unlock_days"]
    assert (desk.unlocked, desk.median_days) == (2, 2.25)
    assert report == desk.median_days

    out = tmp_path / "march.xlsx"
    monthly_report(register, period=MARCH, output=out, lang="en",
                   now=datetime(2026, 4, 2, tzinfo=UTC))
    ws = openpyxl.load_workbook(out)["Summary"]
    row = HEADER_ROW + 1 + FIGURE_KEYS.index("median_unlock_days")
    assert ws.cell(row, 2).value == 2.25

    code, stats, err = tokenfleet("--db", db_url, "unlock", "stats", "--all-agencies",
                                  "--format", "json")
    assert code == 0, err
    assert '"median_days": 2.25' in stats
