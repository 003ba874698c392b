"""Device detail and the changes a person makes to a device, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from inventory.fleet.lifecycle import CertificateData
from inventory.register.errors import (
    ConcurrentChangeError,
    DuplicateError,
    MoveNotAllowedError,
    NotFoundError,
    ValidationError,
)
from inventory.services import devices
from inventory.services.devices import DeviceDetail, DeviceRef

from .conftest import ACTOR, City

DETAIL_KEYS = ["serial", "kind", "status", "manufacturer", "model", "phone_number", "lock_count",
               "pin_tries_left", "holder", "agency", "not_after", "last_seen_at",
               "last_seen_reader", "allowed_moves", "certificates", "handovers", "requests",
               "history"]


def test_detail_by_serial_and_by_id(city: City) -> None:
    d = devices.device_detail(city.register, DeviceRef("TOK-1"))
    assert isinstance(d, DeviceDetail)
    assert devices.device_detail(city.register, d.id) == d
    assert (d.status, d.agency and d.agency.code, d.holder and d.holder.national_id) == (
        "issued", "SYT-BV", "********1234")
    assert d.not_after == datetime(2027, 1, 1, tzinfo=UTC)
    assert [c.serial for c in d.certificates] == ["C-1"]
    assert [h.method for h in d.handovers] == ["in_person"]
    assert [e.action for e in d.history] == ["device.add", "device.issue", "certificate.renew"]
    assert {e.actor for e in d.history} == {ACTOR}
    assert "lock" in d.allowed_moves and "issue" not in d.allowed_moves
    with pytest.raises(NotFoundError):
        devices.device_detail(city.register, DeviceRef("NOPE"))


def test_detail_record_keeps_the_json_keys(city: City) -> None:
    record = devices.device_detail(city.register, DeviceRef("TOK-1")).as_record()
    assert list(record) == DETAIL_KEYS
    assert list(record["holder"]) == ["id", "full_name", "title", "email", "national_id"]
    assert record["not_after"] == "2027-01-01T00:00:00+00:00"
    assert record["certificates"][0]["not_before"] == "2026-01-01T00:00:00+00:00"
    assert isinstance(record["allowed_moves"], list)


def test_moves_report_before_and_after(city: City) -> None:
    r = devices.move_device(city.register, DeviceRef("TOK-2"), "lock", actor=ACTOR,
                            note="brought to the desk")
    assert (r.before, r.after, r.device.lock_count) == ("issued", "locked", 1)
    r = devices.move_device(city.register, DeviceRef("TOK-2"), "unlock", actor=ACTOR)
    assert (r.before, r.after) == ("locked", "issued")
    with pytest.raises(MoveNotAllowedError, match="TOK-STOCK is in_stock"):
        devices.move_device(city.register, DeviceRef("TOK-STOCK"), "lock", actor=ACTOR)
    with pytest.raises(ValidationError, match="unknown move"):
        devices.move_device(city.register, DeviceRef("TOK-2"), "issue", actor=ACTOR)


def test_a_stale_screen_changes_nothing(city: City) -> None:
    shown = devices.device_detail(city.register, DeviceRef("TOK-2"))
    devices.move_device(city.register, DeviceRef("TOK-2"), "lock", actor="other.desk")
    with pytest.raises(ConcurrentChangeError, match="changed by someone else"):
        devices.move_device(city.register, shown.ref, "report_lost", actor=ACTOR)
    with pytest.raises(ConcurrentChangeError):
        devices.edit_device_holder(city.register, shown.ref, actor=ACTOR,
                                   changes={"title": "Bác sĩ"})
    now = devices.device_detail(city.register, DeviceRef("TOK-2"))
    assert now.status == "locked" and now.holder and now.holder.title is None
    r = devices.move_device(city.register, now.ref, "report_lost", actor=ACTOR)
    assert r.after == "lost"


def test_issue_by_picked_id_or_typed_reference(city: City) -> None:
    devices.add_device(city.register, actor=ACTOR, kind="pki_sim", serial="8984000000000000001",
                       phone_number="0912000111")
    r = devices.issue_device(city.register, DeviceRef("8984000000000000001"), city.holder_id,
                             actor=ACTOR, method="postal", tracking_no="RR1VN")
    assert (r.before, r.after, r.device.kind) == ("in_stock", "issued", "pki_sim")
    d = devices.device_detail(city.register, DeviceRef("8984000000000000001"))
    assert d.handovers[0].tracking_no == "RR1VN" and d.phone_number == "0912000111"
    with pytest.raises(NotFoundError, match="holder 99999"):
        devices.issue_device(city.register, DeviceRef("TOK-STOCK"), 99999, actor=ACTOR,
                             method="in_person")
    with pytest.raises(ValidationError, match="tracking number"):
        devices.issue_device(city.register, DeviceRef("TOK-STOCK"), "nguyen van an",
                             actor=ACTOR, method="postal")
    assert devices.device_detail(city.register, DeviceRef("TOK-STOCK")).status == "in_stock"


def test_add_renew_and_edit_holder(city: City) -> None:
    with pytest.raises(DuplicateError):
        devices.add_device(city.register, actor=ACTOR, kind="usb_token", serial="TOK-1")
    r = devices.renew_device(city.register, DeviceRef("TOK-1"), CertificateData(
        serial="C-2", not_before=datetime(2026, 12, 1, tzinfo=UTC),
        not_after=datetime(2028, 12, 1, tzinfo=UTC)), actor=ACTOR)
    assert (r.certificate_serial, r.not_after.year) == ("C-2", 2028)
    with pytest.raises(MoveNotAllowedError):
        devices.renew_device(city.register, DeviceRef("TOK-STOCK"), CertificateData(
            serial="C-3", not_before=datetime(2026, 12, 1, tzinfo=UTC),
            not_after=datetime(2028, 12, 1, tzinfo=UTC)), actor=ACTOR)
    h = devices.edit_device_holder(city.register, DeviceRef("TOK-1"), actor=ACTOR,
                                   changes={"title": "Bác sĩ", "email": "an@syt.test"})
    assert h.id == city.holder_id
    detail = devices.device_detail(city.register, DeviceRef("TOK-2"))
    assert detail.holder and (detail.holder.title, detail.holder.email) == ("Bác sĩ",
                                                                            "an@syt.test")
    with pytest.raises(ValidationError, match="has no holder"):
        devices.edit_device_holder(city.register, DeviceRef("TOK-STOCK"), actor=ACTOR,
                                   changes={"title": "x"})
