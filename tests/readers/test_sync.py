"""The sync step with hand-built observations, on SQLite and PostgreSQL (no reader hardware)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import func, select, update

from inventory.fleet import lifecycle
from inventory.fleet.queries import get_device
from inventory.readers import stocktake, sync
from inventory.readers.hardware import CertificateInfo, Observation, ReaderState
from inventory.register import audit
from inventory.register.db import Register
from inventory.register.models import (
    Certificate,
    Device,
    Event,
    ObservationRecord,
    UnlockCase,
    UnregisteredDevice,
)
from tests.conftest import station_actor

T0 = datetime(2026, 11, 15, 9, 0, tzinfo=UTC)
_KEY = ec.generate_private_key(ec.SECP256R1())


def make_cert(cn: str, start: datetime, days: int = 730, serial: int = 1) -> CertificateInfo:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "UBND Thành phố")])
    issuer = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test CA")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(issuer)
            .public_key(_KEY.public_key()).serial_number(serial)
            .not_valid_before(start).not_valid_after(start + timedelta(days=days))
            .sign(_KEY, hashes.SHA256()))
    from cryptography.hazmat.primitives.serialization import Encoding

    return CertificateInfo.from_der(cert.public_bytes(Encoding.DER), slot="9A")


def obs(serial: str | None, *, tries: int | None = 3, blocked: bool = False,
        certs: tuple[CertificateInfo, ...] = (), reader: str = "Virtual PCD 00",
        source: str = "pcsc", kind: str = "usb_token", at: datetime = T0) -> Observation:
    return Observation(source=source, reader=reader, kind=kind, serial=serial,  # type: ignore[arg-type]
                       seen_at=at, pin_tries_left=tries, pin_blocked=blocked, certificates=certs,
                       manufacturer="Bit4id", model="miniLector")


@pytest.fixture
def fleet(register: Register) -> Register:
    return _fleet_on(register)


def _fleet_on(register: Register) -> Register:
    """Agencies HN > HN-STP and HCM; issued token a1 and SIM (HN-STP), s1 in stock, b1 (HCM)."""
    with register.session() as s:
        city = lifecycle.add_agency(s, code="HN", name="UBND Thành phố", actor="t", kind="city")
        dep = lifecycle.add_agency(s, code="HN-STP", name="Sở Tư pháp", actor="t", parent=city)
        other = lifecycle.add_agency(s, code="HCM", name="Khác", actor="t")
        h = lifecycle.add_holder(s, full_name="Nguyễn Văn An", agency=dep, actor="t")
        h2 = lifecycle.add_holder(s, full_name="Trần Thị Bích", agency=other, actor="t")
        a1 = lifecycle.add_device(s, kind="usb_token", serial="a1", actor="t")
        lifecycle.issue(s, a1, h, method="in_person", actor="t")
        lifecycle.add_device(s, kind="usb_token", serial="s1", actor="t")
        sim = lifecycle.add_device(s, kind="pki_sim", serial="8984048000123456789", actor="t")
        lifecycle.issue(s, sim, h, method="in_person", actor="t")
        b1 = lifecycle.add_device(s, kind="usb_token", serial="b1", actor="t")
        lifecycle.issue(s, b1, h2, method="in_person", actor="t")
    return register


def run(register: Register, *observations: Observation, host: str = "station1") -> sync.SyncReport:
    with register.session() as s:
        return sync.sync_observations(s, observations, host=host)


def events(register: Register, action: str) -> list[Any]:
    with register.read() as s:
        return list(s.execute(select(Event.actor, Event.summary, Event.before)
                              .where(Event.action == action).order_by(Event.seq)))


def test_seen_updates_last_seen_without_bumping_version(fleet: Register) -> None:
    with fleet.read() as s:
        version = get_device(s, "a1").version
    report = run(fleet, obs("a1", tries=3))
    assert [x["serial"] for x in report.seen] == ["a1"] and report.seen[0]["registered"]
    with fleet.read() as s:
        d = get_device(s, "a1")
        assert (d.last_seen_at, d.last_seen_reader, d.last_seen_host) == \
            (T0, "Virtual PCD 00", "station1")
        assert (d.pin_tries_left, d.pin_blocked, d.version) == (3, False, version)
        assert s.scalar(select(func.count()).select_from(ObservationRecord)) == 1
    assert len(events(fleet, "device.pin_state")) == 1
    for n in range(3):  # same state again: no audit event, only raw observations
        run(fleet, obs("a1", tries=3, at=T0 + timedelta(minutes=n + 1)))
    assert len(events(fleet, "device.pin_state")) == 1
    run(fleet, obs("a1", tries=2, at=T0 + timedelta(minutes=9)))
    (ev,) = events(fleet, "device.pin_state")[1:]
    assert ev.actor == station_actor(fleet, "station1")
    assert ev.before == {"pin_tries_left": 3, "pin_blocked": False}
    with fleet.read() as s:
        assert get_device(s, "a1").version == version  # an operator's edit still applies
        assert s.scalar(select(func.count()).select_from(ObservationRecord)) == 5


def test_older_observation_never_moves_last_seen_back(fleet: Register) -> None:
    run(fleet, obs("a1", at=T0 + timedelta(hours=1), reader="new"))
    run(fleet, obs("a1", at=T0, reader="old"))  # a buffered batch landing late
    with fleet.read() as s:
        assert get_device(s, "a1").last_seen_reader == "new"


def test_blocked_token_is_locked_once(fleet: Register) -> None:
    for n in range(4):
        report = run(fleet, obs("a1", tries=0, blocked=True, at=T0 + timedelta(seconds=n)))
        if n == 0:
            assert any(c.action == "device.lock" for c in report.changes)
        else:
            assert not any(c.action == "device.lock" for c in report.changes)
    with fleet.read() as s:
        d = get_device(s, "a1")
        assert (d.status, d.lock_count, d.pin_blocked) == ("locked", 1, True)
        case = s.scalar(select(UnlockCase).where(UnlockCase.device_id == d.id))
        assert case is not None and case.source == "poller"
    (lock,) = events(fleet, "device.lock")
    assert lock.actor == station_actor(fleet, "station1")
    assert lock.summary == "PIN blocked, seen by poller@station1 at Virtual PCD 00"


def test_seen_healthy_while_locked_is_ready_for_unlock_not_unlocked(fleet: Register) -> None:
    run(fleet, obs("a1", tries=0, blocked=True))
    with fleet.read() as s:
        assert sync.ready_for_unlock(s) == []
    report = run(fleet, obs("a1", tries=3, at=T0 + timedelta(minutes=5)))
    assert any("ready for unlock" in c.text for c in report.changes)
    with fleet.read() as s:
        assert get_device(s, "a1").status == "locked"
        assert [d.serial for d in sync.ready_for_unlock(s)] == ["a1"]


def test_pkcs11_view_without_count_keeps_the_known_tries(fleet: Register) -> None:
    run(fleet, obs("a1", tries=3))
    run(fleet, obs("a1", tries=None, source="pkcs11", reader="pkcs11:x#slot 1",
                   at=T0 + timedelta(seconds=2)))
    with fleet.read() as s:
        assert get_device(s, "a1").pin_tries_left == 3
    assert len(events(fleet, "device.pin_state")) == 1


def test_certificates_attached_in_order_and_renewal_supersedes(fleet: Register) -> None:
    old = make_cert("Nguyễn Văn An", T0 - timedelta(days=800), serial=11)  # expired
    new = make_cert("Nguyễn Văn An", T0 - timedelta(days=10), serial=12)
    report = run(fleet, obs("a1", certs=(new, old)))
    assert [c.action for c in report.changes].count("certificate.seen") == 2
    with fleet.read() as s:
        d = get_device(s, "a1")
        by_serial = {c.serial: c.status for c in d.certificates}
        assert by_serial == {"B": "superseded", "C": "active"}
        assert d.active_certificate is not None
        assert d.active_certificate.not_after == new.not_after
    run(fleet, obs("a1", certs=(new, old), at=T0 + timedelta(minutes=1)))
    assert len(events(fleet, "certificate.seen")) == 2  # known certificates: nothing again
    renewal = make_cert("Nguyễn Văn An", T0, serial=13)
    run(fleet, obs("a1", certs=(renewal,), at=T0 + timedelta(minutes=2)))
    with fleet.read() as s:
        active = get_device(s, "a1").active_certificate
        assert active is not None and active.serial == "D"


def test_certificate_of_another_device_is_a_warning(fleet: Register) -> None:
    cert = make_cert("Trần Thị Bích", T0, serial=21)
    run(fleet, obs("b1", certs=(cert,)))
    report = run(fleet, obs("a1", certs=(cert,), reader="r2"))
    assert any("registered on device b1" in w for w in report.warnings)
    with fleet.read() as s:
        assert get_device(s, "a1").certificates == []


def test_certificate_not_attached_to_a_revoked_device(fleet: Register) -> None:
    with fleet.session() as s:
        lifecycle.revoke(s, get_device(s, "b1"), actor="t")
    report = run(fleet, obs("b1", certs=(make_cert("X", T0, serial=31),)))
    assert any("is revoked" in w for w in report.warnings)
    with fleet.read() as s:
        assert s.scalar(select(func.count()).select_from(Certificate)) == 0


def test_unknown_serial_matched_through_a_known_fingerprint(fleet: Register) -> None:
    cert = make_cert("Nguyễn Văn An", T0, serial=41)
    run(fleet, obs("a1", certs=(cert,)))
    report = run(fleet, obs("A1-OTHER-VIEW", certs=(cert,), source="pkcs11",
                            at=T0 + timedelta(minutes=1)))
    assert report.unregistered == [] and report.seen[0]["registered"]
    with fleet.read() as s:
        assert get_device(s, "a1").last_seen_at == T0 + timedelta(minutes=1)
        assert s.scalar(select(func.count()).select_from(UnregisteredDevice)) == 0


def test_unknown_device_is_unregistered_then_claimed(fleet: Register) -> None:
    cert = make_cert("Lê Văn Cường", T0, serial=51)
    for n in range(3):
        report = run(fleet, obs("zz99", certs=(cert,), at=T0 + timedelta(minutes=n)))
        assert report.unregistered == ["zz99"]
    assert len(events(fleet, "unregistered.seen")) == 1
    with fleet.read() as s:
        (u,) = sync.unregistered_devices(s)
        assert (u.first_seen_at, u.last_seen_at) == (T0, T0 + timedelta(minutes=2))
        assert u.manufacturer == "Bit4id" and "Lê Văn Cường" in u.details["certificates"][0][
            "subject"]
        assert s.scalar(select(func.count()).select_from(Device).where(
            Device.serial == "zz99")) == 0
    with fleet.session() as s:
        _device, warnings = sync.claim(s, "zz99", actor="manager")
    assert warnings == []
    with fleet.read() as s:
        d = get_device(s, "zz99")
        assert (d.status, d.holder_id, d.model) == ("in_stock", None, "miniLector")
        assert [c.serial for c in d.certificates] == ["33"]
        assert sync.unregistered_devices(s) == []
        assert s.scalar(select(func.count()).select_from(ObservationRecord).where(
            ObservationRecord.device_id == d.id)) == 3
        audit.verify(s)
    assert len(events(fleet, "unregistered.claim")) == 1


def test_sim_and_unidentified_card(fleet: Register) -> None:
    report = run(fleet, obs("8984048000123456789", kind="pki_sim"), obs(None, reader="r9"))
    assert report.seen[0]["status"] == "issued"
    assert any("could not be identified" in w for w in report.warnings)


def test_two_pollers_lock_once(fleet: Register) -> None:
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def poller(host: str) -> None:
        try:
            barrier.wait(10)
            with fleet.session() as s:
                sync.sync_observations(s, [obs("a1", tries=0, blocked=True)], host=host)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=poller, args=(h,)) for h in ("station1", "station2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    with fleet.read() as s:
        d = get_device(s, "a1")
        assert (d.status, d.lock_count) == ("locked", 1)
        audit.verify(s)
    assert len(events(fleet, "device.lock")) == 1


def test_lock_that_lost_the_race_is_retried_and_does_nothing(pg_url: str) -> None:
    """The other poller's lock commits after this one read the device: the version check
    refuses the second lock, the savepoint is rolled back, the re-read sees ``locked``."""
    register = Register.open(pg_url)
    try:
        fleet = _fleet_on(register)
        with fleet.session() as s:
            stale = get_device(s, "a1")  # this session has read "issued"
            assert stale.status == "issued"
            with fleet.engine.begin() as other:  # another poller's lock, committed meanwhile
                other.execute(update(Device).where(Device.id == stale.id).values(
                    status="locked", lock_count=1, version=Device.version + 1))
            report = sync.sync_observations(s, [obs("a1", tries=0, blocked=True)], host="d2")
            assert not any(c.action == "device.lock" for c in report.changes)
        with fleet.read() as s:
            d = get_device(s, "a1")
            assert (d.status, d.lock_count, d.pin_blocked) == ("locked", 1, True)
            audit.verify(s)
        assert events(fleet, "device.lock") == []
    finally:
        register.dispose()


def test_stocktake_seen_missing_unexpected_duplicate(fleet: Register) -> None:
    with fleet.session() as s:
        take = stocktake.start(s, "HN", "manager")
    with fleet.read() as s:
        assert stocktake.status(s).counts["expected"] == 2  # a1, SIM (s1 is in central stock)
    run(fleet, obs("a1"), obs("a1", source="pkcs11", reader="pkcs11:m#slot 0"))  # one scan
    run(fleet, obs("a1", at=T0 + timedelta(minutes=1)))  # left in the reader: same scan
    report = run(fleet, obs("a1", reader="Virtual PCD 03", at=T0 + timedelta(minutes=3)),
                 host="station2")
    assert any("duplicate scan" in c.text for c in report.changes)
    run(fleet, obs("b1", at=T0 + timedelta(minutes=4)), obs("zz77", at=T0 + timedelta(minutes=4)))
    with fleet.session() as s:
        result = stocktake.finish(s, "manager")
    assert result.id == take.id and result.state == "finished"
    assert [r["serial"] for r in result.seen] == ["a1"]
    assert [r["serial"] for r in result.missing] == ["8984048000123456789"]
    assert sorted(r["serial"] for r in result.unexpected) == ["b1", "zz77"]
    assert [(r["serial"], r["scans"]) for r in result.duplicates] == [("a1", 2)]
    assert result.counts == {"expected": 2, "seen": 1, "missing": 1, "unexpected": 2,
                             "duplicates": 1}


def test_prune_observations(fleet: Register) -> None:
    run(fleet, obs("a1", at=T0 - timedelta(days=100)))
    run(fleet, obs("a1", at=T0))
    with fleet.session() as s:
        assert sync.prune_observations(s, timedelta(days=90), now=T0) == 1
    with fleet.read() as s:
        assert s.scalar(select(func.count()).select_from(ObservationRecord)) == 1


def test_station_readers(fleet: Register) -> None:
    with fleet.session() as s:
        sync.record_station_readers(s, "station1", [ReaderState("R0", True, "3B00", "piv", "a1"),
                                              ReaderState("R1", False)], at=T0)
        sync.record_station_readers(s, "station2", [], at=T0)
    with fleet.session() as s:
        sync.record_station_readers(s, "station1", [ReaderState("R0", False)], at=T0)
        sync.station_heartbeat(s, "station2", at=T0 + timedelta(minutes=5))
    with fleet.read() as s:
        rows = sync.station_readers(s, now=T0 + timedelta(minutes=5))
    assert [(r.station, r.reader, r.card_present, r.alive) for r in rows] == [
        ("station1", "R0", False, False), ("station2", sync.NO_READERS, False, True)]
