"""A small agency with holders and devices, and helpers to build requests, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from inventory.fleet import lifecycle
from inventory.register.models import Event

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def cert(serial: str, start: datetime = T0) -> lifecycle.CertificateData:
    return lifecycle.CertificateData(serial=serial, not_before=start,
                                     not_after=start + timedelta(days=3 * 365),
                                     subject=f"CN={serial}")


def event_count(session: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(Event)))


@pytest.fixture
def office(register: Any) -> dict[str, Any]:
    """Agency SYT (with a sub-unit), two holders each with an issued token, one in stock."""
    with register.session() as s:
        city = lifecycle.add_agency(s, code="DN", name="UBND thành phố", actor="setup",
                                    kind="city", at=T0 - timedelta(days=400))
        syt = lifecycle.add_agency(s, code="SYT", name="Sở Y tế", actor="setup", parent=city,
                                   at=T0 - timedelta(days=400))
        unit = lifecycle.add_agency(s, code="SYT-TT", name="Trung tâm Kiểm soát bệnh tật",
                                    actor="setup", parent=syt, at=T0 - timedelta(days=400))
        other = lifecycle.add_agency(s, code="STC", name="Sở Tài chính", actor="setup",
                                     parent=city, at=T0 - timedelta(days=400))
        holders = {}
        for n, (name, agency) in enumerate([("Nguyễn Văn An", syt), ("Trần Thị Bình", unit),
                                            ("Lê Văn Cường", other)], start=1):
            h = lifecycle.add_holder(s, full_name=name, agency=agency, actor="setup",
                                     title="Chuyên viên", email=f"h{n}@danang.gov.vn",
                                     phone=f"090000000{n}", national_id=f"04820000000{n}",
                                     at=T0 - timedelta(days=300))
            d = lifecycle.add_device(s, kind="usb_token", serial=f"TOK{n:03d}", actor="setup",
                                     at=T0 - timedelta(days=300))
            lifecycle.attach_certificate(s, d, cert(f"OLD{n}", T0 - timedelta(days=300)),
                                         actor="setup", at=T0 - timedelta(days=300))
            lifecycle.issue(s, d, h, method="in_person", actor="setup",
                            at=T0 - timedelta(days=299))
            holders[name] = h.id
        lifecycle.add_device(s, kind="usb_token", serial="STOCK01", actor="setup",
                             at=T0 - timedelta(days=10))
        return {"holders": holders, "agency_ids": {"DN": city.id, "SYT": syt.id,
                                                   "SYT-TT": unit.id, "STC": other.id}}
