"""The audit chain replays to every device's row; a row changed without an event is named."""

from __future__ import annotations

from sqlalchemy import select, text

from inventory.fleet import lifecycle, replay
from inventory.fleet.queries import get_device
from inventory.register.db import Register
from inventory.register.models import Certificate, Device


def _tamper(register: Register, sql: str, **params: object) -> None:
    with register.engine.begin() as conn:
        conn.execute(text(sql), params)


def test_a_demo_register_replays_to_its_rows(demo_register: Register) -> None:
    with demo_register.read() as s:
        assert replay.discrepancies(s) == []
        states = {r.device_id: r for r in replay.replay(s)}
        rows = s.execute(select(Device.id, Device.status, Device.holder_id,
                                Device.lock_count)).all()
        active = dict(s.execute(select(Certificate.device_id, Certificate.serial)
                                .where(Certificate.status == "active")).all())
    assert len(states) == len(rows) == 300
    for device_id, status, holder_id, lock_count in rows:
        r = states[device_id]
        assert (r.status, r.holder_id, r.lock_count, r.certificate_serial) == \
            (status, holder_id, lock_count, active.get(device_id))


def test_moves_and_certificates_through_lifecycle_replay(register: Register) -> None:
    from datetime import UTC, datetime

    cert = lifecycle.CertificateData(serial="C1", not_before=datetime(2026, 1, 1, tzinfo=UTC),
                                     not_after=datetime(2029, 1, 1, tzinfo=UTC))
    with register.session() as s:
        agency = lifecycle.add_agency(s, code="A", name="Sở A", actor="t")
        holder = lifecycle.add_holder(s, full_name="Lê Văn Bình", agency=agency, actor="t")
        d = lifecycle.add_device(s, kind="usb_token", serial="R1", actor="t")
        lifecycle.attach_certificate(s, d, cert, actor="t")
        lifecycle.issue(s, d, holder, method="in_person", actor="t")
        lifecycle.lock(s, d, actor="t")
        lifecycle.unlock(s, d, actor="t")
        lifecycle.renew(s, d, lifecycle.CertificateData(
            serial="C2", not_before=datetime(2027, 1, 1, tzinfo=UTC),
            not_after=datetime(2030, 1, 1, tzinfo=UTC)), actor="t")
        e = lifecycle.add_device(s, kind="pki_sim", serial="R2", actor="t")
        lifecycle.attach_certificate(s, e, lifecycle.CertificateData(
            serial="C3", not_before=datetime(2026, 1, 1, tzinfo=UTC),
            not_after=datetime(2029, 1, 1, tzinfo=UTC)), actor="t")
        lifecycle.issue(s, e, holder, method="postal", tracking_no="RR1VN", actor="t")
        lifecycle.revoke(s, e, actor="t")
    with register.read() as s:
        assert replay.discrepancies(s) == []
        by_serial = {r.device_id: r for r in replay.replay(s)}
        r1, r2 = by_serial[get_device(s, "R1").id], by_serial[get_device(s, "R2").id]
    assert (r1.status, r1.lock_count, r1.certificate_serial) == ("issued", 1, "C2")
    assert (r2.status, r2.certificate_serial) == ("revoked", None)


def test_rows_changed_without_an_event_are_named(demo_register: Register) -> None:
    with demo_register.read() as s:
        issued = s.scalars(select(Device).where(Device.status == "issued")
                           .order_by(Device.id).limit(3)).all()
        first, second, third = (d.id for d in issued)
        serials = [d.serial for d in issued]
    _tamper(demo_register, "UPDATE devices SET status = 'retired' WHERE id = :id", id=first)
    _tamper(demo_register, "UPDATE devices SET lock_count = lock_count + 5 WHERE id = :id",
            id=second)
    _tamper(demo_register, "UPDATE certificates SET status = 'revoked' WHERE device_id = :id",
            id=third)
    with demo_register.read() as s:
        found = replay.discrepancies(s)
    assert [(d.serial, d.what, d.register, d.chain) for d in found] == [
        (serials[0], "status", "retired", "issued"),
        (serials[1], "lock count", found[1].chain + 5, found[1].chain),
        (serials[2], "active certificate", None, found[2].chain),
    ]
    assert "changed without an event" in str(found[0]) and serials[0] in str(found[0])


def test_a_row_without_events_and_events_without_a_row(register: Register) -> None:
    with register.session() as s:
        lifecycle.add_device(s, kind="usb_token", serial="KEEP", actor="t")
        gone = lifecycle.add_device(s, kind="usb_token", serial="GONE", actor="t").id
    _tamper(register, "INSERT INTO devices (kind, serial, status, lock_count, "
            "status_changed_at, created_at, version) VALUES ('usb_token', 'SNEAKED', "
            "'issued', 0, '2026-01-01', '2026-01-01', 1)")
    _tamper(register, "DELETE FROM devices WHERE id = :id", id=gone)
    with register.read() as s:
        found = replay.discrepancies(s)
    assert [(d.serial, d.what) for d in found] == [("SNEAKED", "no event"), (None, "missing")]
    assert found[1].device_id == gone
    assert "never recorded" in str(found[0]) and "gone from the register" in str(found[1])
