"""A past month's report is rebuilt from the audit trail: later changes do not alter it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import func, select

from inventory.fleet import lifecycle
from inventory.register.db import Register
from inventory.register.errors import ValidationError
from inventory.register.models import Agency, Device, Event, Holder
from reports.monthly import monthly_report
from reports.pointintime import Period, parse_month
from tests.conftest import FIXED_NOW

from .conftest import HEADER_ROW, MONTH, sheet_rows

AFTER_MONTH = datetime(2026, 11, 5, 10, 0, tzinfo=UTC)
IN_MONTH = datetime(2026, 10, 20, 10, 0, tzinfo=UTC)


def _workbook_values(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    book = openpyxl.load_workbook(path)
    return {ws.title: [tuple(c.value for c in row) for row in ws.iter_rows()] for ws in book}


def _quiet_devices(session: Any, status: str, since: datetime, n: int) -> list[Device]:
    """Devices in ``status`` with no event since ``since`` (safe to change at any later time)."""
    busy = select(Event.device_id).where(Event.occurred_at >= since,
                                         Event.device_id.is_not(None))
    return list(session.scalars(select(Device).where(
        Device.status == status, Device.id.not_in(busy)).order_by(Device.id).limit(n)).unique())


def _register_status(path: Path) -> dict[str, str]:
    return {r[0]: r[2] for r in sheet_rows(path, "Register")}


def test_changes_after_the_month_leave_its_report_unchanged(demo_register: Register,
                                                            tmp_path: Path) -> None:
    first, again = tmp_path / "first.xlsx", tmp_path / "again.xlsx"
    monthly_report(demo_register, period=MONTH, output=first, lang="en", now=FIXED_NOW)

    with demo_register.session() as s:
        to_lock, to_revoke, to_renew = _quiet_devices(s, "issued", MONTH.start, 3)
        (in_stock,) = _quiet_devices(s, "in_stock", MONTH.start, 1)
        lifecycle.lock(s, to_lock, actor="t", at=AFTER_MONTH)
        lifecycle.revoke(s, to_revoke, actor="t", at=AFTER_MONTH)
        lifecycle.renew(s, to_renew, lifecycle.CertificateData(
            serial="RENEWED-AFTER", not_before=AFTER_MONTH,
            not_after=AFTER_MONTH + timedelta(days=3 * 365)), actor="t", at=AFTER_MONTH)
        agency = s.scalars(select(Agency).where(Agency.level == 1).order_by(Agency.id)).first()
        assert agency is not None
        old_name = agency.name
        holder = lifecycle.add_holder(s, full_name="Người Mới", agency=agency, actor="t",
                                      at=AFTER_MONTH)
        lifecycle.issue(s, in_stock, holder, method="in_person", actor="t", at=AFTER_MONTH)
        lifecycle.rename_agency(s, agency, "Tên mới của đơn vị", actor="t", at=AFTER_MONTH)
        other = s.scalars(select(Agency).where(Agency.level == 1, Agency.id != agency.id)
                          .order_by(Agency.id)).first()
        mover = s.scalars(select(Holder).where(Holder.id == to_lock.holder_id)).one()
        lifecycle.change_holder_details(s, mover, actor="t", at=AFTER_MONTH,
                                        agency_id=other.id if other else agency.id)
        serials = (to_lock.serial, to_revoke.serial, to_renew.serial, in_stock.serial)

    monthly_report(demo_register, period=MONTH, output=again, lang="en", now=FIXED_NOW)
    assert _workbook_values(again) == _workbook_values(first)
    assert old_name in {r[10] for r in sheet_rows(again, "Register")}

    # and the report of the month that holds the changes shows them
    november = tmp_path / "november.xlsx"
    monthly_report(demo_register, period=Period(2026, 11), output=november, lang="en",
                   now=FIXED_NOW + timedelta(days=1))
    status = _register_status(november)
    assert [status[s] for s in serials] == ["Locked", "Revoked", "Issued", "Issued"]
    rows = {r[0]: r for r in sheet_rows(november, "Register")}
    assert rows[serials[2]][15] == "RENEWED-AFTER"
    assert rows[serials[3]][4] == "Người Mới"
    assert "Tên mới của đơn vị" in {r[10] for r in rows.values()}


def test_a_change_inside_the_month_shows_in_it_and_not_before(demo_register: Register,
                                                              tmp_path: Path) -> None:
    with demo_register.session() as s:
        (device,) = _quiet_devices(s, "issued", MONTH.start, 1)
        lifecycle.lock(s, device, actor="t", reason="PIN blocked", at=IN_MONTH)
        serial = device.serial
        devices_before_month = s.scalar(select(func.count()).select_from(Device).where(
            Device.created_at < MONTH.start))
    october, september = tmp_path / "oct.xlsx", tmp_path / "sep.xlsx"
    monthly_report(demo_register, period=MONTH, output=october, lang="en", now=FIXED_NOW)
    monthly_report(demo_register, period=MONTH.previous(), output=september, lang="en",
                   now=FIXED_NOW)
    assert _register_status(october)[serial] == "Locked"
    assert _register_status(september)[serial] == "Issued"
    assert len(sheet_rows(september, "Register")) == devices_before_month
    locked = {r[3]: r for r in sheet_rows(october, "Locked & lost")}
    assert locked[serial][2] == (MONTH.end - IN_MONTH).days  # age of the open case
    activity = [r for r in sheet_rows(october, "Activity") if r[2] == serial]
    assert [(r[1], r[7], r[8]) for r in activity] == [("Locked", "t", "PIN blocked")]
    assert activity[0][0] == IN_MONTH.replace(tzinfo=None)
    header = sheet_rows(october, "Activity", first=HEADER_ROW)[0]
    assert header[:3] == ("When", "Action", "Serial")


def test_a_month_reads_as_the_cli_writes_it_and_as_the_vietnamese_ui_shows_it() -> None:
    assert parse_month("2026-10") == parse_month("10/2026") == Period(2026, 10)
    for bad in ("10/26", "2026/10", "13/2026", "10-2026"):
        with pytest.raises(ValidationError):
            parse_month(bad)
