"""A small city built through the services themselves (so building it tests them too)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from inventory.fleet.lifecycle import CertificateData
from inventory.register.db import Register
from inventory.services import devices, holders
from inventory.services.devices import DeviceRef

ACTOR = "le.thu"


@dataclass(frozen=True)
class City:
    register: Register
    holder_id: int  # Nguyễn Văn An, of SYT-BV (a unit under SYT)


@pytest.fixture
def city(register: Register) -> City:
    """HN (city) > SYT (department) > SYT-BV (unit), and STP; devices at each level:
    HN 0, SYT 1 own, SYT-BV 2, STP 1 (so SYT counts 1 own, 3 in all; HN 0 own, 4 in all)."""
    holders.add_agency(register, actor=ACTOR, code="HN", name="UBND Thành phố", kind="city")
    holders.add_agency(register, actor=ACTOR, code="SYT", name="Sở Y tế", parent_code="HN")
    holders.add_agency(register, actor=ACTOR, code="SYT-BV", name="Bệnh viện Đa khoa",
                       parent_code="SYT")
    holders.add_agency(register, actor=ACTOR, code="STP", name="Sở Tư pháp", parent_code="HN")
    an = holders.add_holder(register, actor=ACTOR, full_name="Nguyễn Văn An",
                            agency_code="SYT-BV", national_id="001090001234")
    holders.add_holder(register, actor=ACTOR, full_name="Trần Thị Bích", agency_code="SYT")
    holders.add_holder(register, actor=ACTOR, full_name="Lê Văn Cường", agency_code="STP")
    for serial, holder in (("TOK-1", an.id), ("TOK-2", an.id), ("TOK-3", "tran thi bich"),
                           ("TOK-4", "le van cuong")):
        devices.add_device(register, actor=ACTOR, kind="usb_token", serial=serial,
                           manufacturer="Feitian")
        devices.issue_device(register, DeviceRef(serial), holder, actor=ACTOR,
                             method="in_person")
    devices.add_device(register, actor=ACTOR, kind="usb_token", serial="TOK-STOCK")
    devices.renew_device(register, DeviceRef("TOK-1"), CertificateData(
        serial="C-1", not_before=datetime(2026, 1, 1, tzinfo=UTC),
        not_after=datetime(2027, 1, 1, tzinfo=UTC), subject="CN=Nguyễn Văn An"), actor=ACTOR)
    return City(register, an.id)
