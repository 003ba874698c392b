"""The state machine: every (status, move) pair is either done with its audit event, or refused
with a typed error that names the device and changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from inventory.fleet import lifecycle
from inventory.fleet.queries import get_device
from inventory.register import audit
from inventory.register.errors import (
    ConcurrentChangeError,
    DuplicateError,
    MoveNotAllowedError,
    ValidationError,
)
from inventory.register.models import DEVICE_STATUSES, Certificate, Event, Handover
from tests.conftest import cert_serial

# A path of moves from in_stock to each status (no shortcuts in tests: the register's own moves).
PATH_TO = {
    "in_stock": [],
    "issued": ["issue"],
    "locked": ["issue", "lock"],
    "lost": ["issue", "report_lost"],
    "revoked": ["issue", "revoke"],
    "retired": ["retire"],
}
EXPECTED = {  # DESIGN.md, verbatim
    ("in_stock", "issue"): "issued",
    ("issued", "lock"): "locked",
    ("locked", "unlock"): "issued",
    ("issued", "report_lost"): "lost",
    ("locked", "report_lost"): "lost",
    ("issued", "revoke"): "revoked",
    ("locked", "revoke"): "revoked",
    ("lost", "revoke"): "revoked",
    ("issued", "return_to_stock"): "in_stock",
    ("in_stock", "retire"): "retired",
    ("revoked", "retire"): "retired",
}


@pytest.fixture
def world(register):
    with register.session() as s:
        city = lifecycle.add_agency(s, code="DN", name="Thành phố Đà Nẵng", kind="city",
                                    actor="t")
        dept = lifecycle.add_agency(s, code="STTTT", name="Sở Thông tin và Truyền thông",
                                    kind="department", parent=city, actor="t")
        holder = lifecycle.add_holder(s, full_name="Nguyễn Văn An", agency=dept, actor="t",
                                      national_id="001203004567")
        return {"agency_id": dept.id, "holder_id": holder.id}


def _device_in(register, world, status: str, serial: str = "T0001") -> None:
    with register.session() as s:
        device = lifecycle.add_device(s, kind="usb_token", serial=serial, actor="t")
        holder = s.get(lifecycle.Holder, world["holder_id"])
        for move in PATH_TO[status]:
            if move == "issue":
                lifecycle.issue(s, device, holder, method="in_person", actor="t")
            else:
                lifecycle.apply_move(s, device, move, actor="t")
        assert device.status == status


def test_the_table_is_design_md():
    table = {(src, m.name): m.target for m in lifecycle.MOVES.values() for src in m.sources}
    assert table == EXPECTED


@pytest.mark.parametrize("status", DEVICE_STATUSES)
@pytest.mark.parametrize("move", sorted(lifecycle.MOVES))
def test_every_move_from_every_status(register, world, status, move):
    _device_in(register, world, status)
    with register.read() as s:
        events_before = s.scalar(select(func.count()).select_from(Event))
        lock_count_before = get_device(s, "T0001").lock_count
    expected = EXPECTED.get((status, move))
    if expected is None:
        with pytest.raises(MoveNotAllowedError) as err, register.session() as s:
            device = get_device(s, "T0001")
            holder = s.get(lifecycle.Holder, world["holder_id"])
            if move == "issue":
                lifecycle.issue(s, device, holder, method="in_person", actor="t")
            else:
                lifecycle.apply_move(s, device, move, actor="t")
        assert "T0001" in str(err.value) and status in str(err.value)
        with register.read() as s:
            assert get_device(s, "T0001").status == status
            assert s.scalar(select(func.count()).select_from(Event)) == events_before
        return
    with register.session() as s:
        device = get_device(s, "T0001")
        if move == "issue":
            lifecycle.issue(s, device, s.get(lifecycle.Holder, world["holder_id"]),
                            method="in_person", actor="alice")
        else:
            lifecycle.apply_move(s, device, move, actor="alice")
    with register.read() as s:
        device = get_device(s, "T0001")
        assert device.status == expected
        assert device.lock_count == lock_count_before + (1 if expected == "locked" else 0)
        last = s.scalars(select(Event).order_by(Event.seq.desc()).limit(1)).one()
        assert (last.action, last.actor, last.device_id) == (f"device.{move}", "alice", device.id)
        assert last.before["status"] == status and last.after["status"] == expected
        audit.verify(s)


def test_issue_records_handover_and_postal_needs_tracking(register, world):
    _device_in(register, world, "in_stock")
    with pytest.raises(ValidationError, match="tracking number"), register.session() as s:
        lifecycle.issue(s, get_device(s, "T0001"), s.get(lifecycle.Holder, world["holder_id"]),
                        method="postal", actor="t")
    with register.session() as s:
        lifecycle.issue(s, get_device(s, "T0001"), s.get(lifecycle.Holder, world["holder_id"]),
                        method="postal", tracking_no="RR123456789VN", actor="t")
    with register.read() as s:
        device = get_device(s, "T0001")
        handover = s.scalars(select(Handover)).one()
        assert (handover.method, handover.tracking_no) == ("postal", "RR123456789VN")
        assert device.holder_id == world["holder_id"] and device.agency_id == world["agency_id"]


def test_lock_counts_each_lockout(register, world):
    _device_in(register, world, "issued")
    for _ in range(3):
        with register.session() as s:
            lifecycle.lock(s, get_device(s, "T0001"), actor="t")
        with register.session() as s:
            lifecycle.unlock(s, get_device(s, "T0001"), actor="t")
    with register.read() as s:
        assert get_device(s, "T0001").lock_count == 3


def _cert(serial: str, start: datetime, fp: str | None = None) -> lifecycle.CertificateData:
    return lifecycle.CertificateData(serial=serial, not_before=start,
                                     not_after=start + timedelta(days=3 * 365),
                                     fingerprint_sha256=fp or serial.lower().ljust(64, "0"))


def test_renew_supersedes_and_revoke_revokes(register, world):
    _device_in(register, world, "issued")
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    with register.session() as s:
        lifecycle.attach_certificate(s, get_device(s, "T0001"), _cert("AA01", t0), actor="t")
    with register.session() as s:
        lifecycle.renew(s, get_device(s, "T0001"), _cert("AA02", t0 + timedelta(days=1000)),
                        actor="t")
    with register.read() as s:
        statuses = dict(s.execute(select(Certificate.serial, Certificate.status)).all())
        assert statuses == {"AA01": "superseded", "AA02": "active"}
        assert cert_serial(get_device(s, "T0001")) == "AA02"
    with register.session() as s:
        lifecycle.revoke(s, get_device(s, "T0001"), actor="t", reason="holder left")
    with register.read() as s:
        statuses = dict(s.execute(select(Certificate.serial, Certificate.status)).all())
        assert statuses == {"AA01": "superseded", "AA02": "revoked"}


def test_renew_refused_unless_issued_and_duplicate_fingerprint_refused(register, world):
    _device_in(register, world, "lost")
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    with pytest.raises(MoveNotAllowedError, match="T0001 is lost"), register.session() as s:
        lifecycle.renew(s, get_device(s, "T0001"), _cert("BB01", t0), actor="t")
    _device_in(register, world, "issued", serial="T0002")
    with register.session() as s:
        lifecycle.renew(s, get_device(s, "T0002"), _cert("BB01", t0), actor="t")
    with pytest.raises(DuplicateError, match="BB01"), register.session() as s:
        lifecycle.renew(s, get_device(s, "T0002"), _cert("BB01", t0), actor="t")


def test_duplicate_serial_refused_across_kinds(register, world):
    _device_in(register, world, "in_stock")
    with pytest.raises(DuplicateError, match="T0001"), register.session() as s:
        lifecycle.add_device(s, kind="usb_token", serial="T0001", actor="t")
    # A serial is unique across kinds: the same number as a SIM is the same device typed wrong.
    with pytest.raises(DuplicateError, match=r"T0001 is already in the register \(as a "
                                             r"usb_token\)"), register.session() as s:
        lifecycle.add_device(s, kind="pki_sim", serial="T0001", actor="t")


def test_change_holder_details_moves_devices_and_checks_id(register, world):
    _device_in(register, world, "issued")
    with register.session() as s:
        other = lifecycle.add_agency(s, code="SYT", name="Sở Y tế", actor="t")
        other_id = other.id
        holder = s.get(lifecycle.Holder, world["holder_id"])
        lifecycle.change_holder_details(s, holder, actor="t", full_name="Nguyễn Văn Ân",
                                        agency_id=other.id)
    with register.read() as s:
        assert get_device(s, "T0001").agency_id == other_id
        event = s.scalars(select(Event).where(Event.action == "holder.change")).one()
        assert event.before["full_name"] == "Nguyễn Văn An"
        assert event.after["full_name"] == "Nguyễn Văn Ân"
    with pytest.raises(ValidationError, match="12 digits"), register.session() as s:
        lifecycle.change_holder_details(s, s.get(lifecycle.Holder, world["holder_id"]),
                                        actor="t", national_id="12AB")


def test_agency_rename_and_merge_keep_history(register, world):
    with register.session() as s:
        from inventory.fleet.queries import agency_by_code

        src = lifecycle.add_agency(s, code="QX", name="Quận X", actor="t")
        sub = lifecycle.add_agency(s, code="PX1", name="Phường 1", parent=src, actor="t")
        lifecycle.rename_agency(s, src, "Quận X mới", actor="t")
        into = agency_by_code(s, "STTTT")
        lifecycle.merge_agency(s, src, into, actor="t")
        assert sub.parent_id == into.id and sub.path.startswith(into.path)
        assert [h.change for h in src.history] == ["rename", "merge"]
        assert not src.active


def test_move_on_a_stale_screen_is_refused_not_overwritten(register, world):
    """Alice loaded the device; Bob locked it; Alice's "report lost" is refused: reload."""
    _device_in(register, world, "issued")
    with register.read() as s:
        seen_version = get_device(s, "T0001").version  # what alice's screen shows
    with register.session() as s:
        lifecycle.lock(s, get_device(s, "T0001"), actor="bob")
    with pytest.raises(ConcurrentChangeError, match=r"T0001.*reload"), register.session() as s:
        lifecycle.report_lost(s, get_device(s, "T0001", expected_version=seen_version),
                              actor="alice")
    with register.read() as s:
        device = get_device(s, "T0001")
        assert (device.status, device.lock_count) == ("locked", 1)
        audit.verify(s)


def test_the_states_each_action_needs() -> None:
    """The one table front ends ask before offering a form (refused at the key)."""
    from inventory.fleet.lifecycle import action_sources

    assert action_sources("revoke") == frozenset({"issued", "locked", "lost"})
    assert action_sources("renew") == frozenset({"issued"})
    assert action_sources("edit_holder") is None
