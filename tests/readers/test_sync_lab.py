"""``tokenfleet poll`` against the real lab: pcscd + emulated cards + SoftHSM2, into a register.

Lab fixtures SKIP (or FAIL with TOKENFLEET_REQUIRE_LAB=1) when the lab cannot run. PC/SC tests
share one pcscd: run serially. ``--once`` runs in-process (the emulated cards are threads of this
process either way); ``--watch`` runs as a subprocess, as it does as a service.
"""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from inventory.fleet import lifecycle
from inventory.fleet.queries import get_device
from inventory.readers import sync as syncmod
from inventory.readers.hardware import HardwareConfig, Poller
from inventory.register import audit
from inventory.register.db import Register
from inventory.register.models import Device, Event, ObservationRecord, UnregisteredDevice
from tests.conftest import run_tokenfleet
from tests.lab.pcscd import Pcscd
from tests.lab.softhsm import SOFTHSM_LIB, SoftHsmLab, TestCa, TokenSpec
from tests.lab.vcard import PivCard, PkiSimCard
from tests.readers.conftest import CardSlots

pytestmark = pytest.mark.lab

TOKENFLEET = str(Path(sys.executable).parent / "tokenfleet")


def poll_once(url: str, *args: str, station: str = "station1") -> dict[str, Any]:
    result = run_tokenfleet("--db", url, "poll", "--once", "--station", station, "--format", "json",
                            *args)
    assert result.code == 0, result.err
    data: dict[str, Any] = json.loads(result.out)
    return data


def run_cli(url: str, *args: str) -> str:
    result = run_tokenfleet("--db", url, *args)
    assert result.code == 0, result.err
    return result.out


def wait_for(check: Callable[[], Any], timeout: float = 20.0, what: str = "") -> Any:
    """Re-check the register until ``check`` is truthy (a deadline, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or check}")
        time.sleep(0.1)


@pytest.fixture
def issued(register: Register) -> Callable[..., None]:
    """Enter devices in the register, issued to a holder of agency HN-STP."""
    with register.session() as s:
        city = lifecycle.add_agency(s, code="HN", name="UBND Thành phố Hà Nội", actor="t")
        dep = lifecycle.add_agency(s, code="HN-STP", name="Sở Tư pháp", actor="t", parent=city)
        lifecycle.add_holder(s, full_name="Nguyễn Văn An", agency=dep, actor="t")

    def add(*serials: str, kind: str = "usb_token") -> None:
        with register.session() as s:
            from inventory.register.models import Holder

            holder = s.scalars(select(Holder)).first()
            assert holder is not None
            for serial in serials:
                d = lifecycle.add_device(s, kind=kind, serial=serial, actor="t")
                lifecycle.issue(s, d, holder, method="in_person", actor="t")

    return add


def device(register: Register, serial: str) -> Device:
    with register.read() as s:
        d = get_device(s, serial)
        _ = d.certificates, d.holder
        s.expunge_all()  # a snapshot that outlives the read transaction
        return d


def count(register: Register, model: Any, *where: Any) -> int:
    with register.read() as s:
        return int(s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


# ------------------------------------------------------------------------------ --once
def test_poll_once_recognises_cards_and_tokens_as_pkcs11_tool_reads_them(
    register: Register, db_url: str, issued: Callable[..., None], cards: CardSlots,
    softhsm: tuple[SoftHsmLab, list[TokenSpec]], test_ca: TestCa
) -> None:
    _lab, specs = softhsm
    issued("8400000000000201")
    issued("8984048000123450201", kind="pki_sim")
    issued(*(s.serial.lower() for s in specs[:4]))
    valid, expired = test_ca.quick_cert(1), test_ca.quick_cert(2, expired=True)
    cards.insert(PivCard("8400000000000201", {"9A": valid, "9C": expired}, tries_left=2), 0)
    cards.insert(PkiSimCard("8984048000123450201", tries_left=3), 1)
    out = poll_once(db_url, "--pkcs11-module", SOFTHSM_LIB)
    seen = {s["serial"]: s for s in out["seen"]}

    piv = device(register, "8400000000000201")
    assert (piv.last_seen_reader, piv.last_seen_host, piv.pin_tries_left) == \
        (cards.reader(0), "station1", 2)
    assert piv.holder is not None and piv.holder.full_name == "Nguyễn Văn An"
    certs = sorted(piv.certificates, key=lambda c: c.not_before)
    assert [c.status for c in certs] == ["superseded", "active"]  # newest ends active
    assert "Nguyễn Văn An" in (certs[1].subject or "")
    assert [c["expired"] for c in sorted(seen["8400000000000201"]["certificates"],
                                         key=lambda c: c["not_after"])] == [True, False]
    sim = device(register, "8984048000123450201")
    assert (sim.kind, sim.pin_tries_left, sim.last_seen_reader) == ("pki_sim", 3, cards.reader(1))

    # the SoftHSM tokens as an independent tool lists them
    listing = subprocess.run(["pkcs11-tool", "--module", SOFTHSM_LIB, "-L"], check=True,
                             capture_output=True, text=True).stdout
    tool_serials = {m.lower() for m in re.findall(r"serial num\s*:\s*(\S+)", listing)}
    assert tool_serials == {s.serial.lower() for s in specs}
    assert {s for s in seen if s in tool_serials} == tool_serials
    for spec in specs[:4]:
        d = device(register, spec.serial.lower())
        (cert,) = d.certificates
        assert spec.holder in (cert.subject or "")
        assert (d.last_seen_reader or "").startswith("pkcs11:")
    unknown = {s.serial.lower() for s in specs[4:]}
    assert set(out["unregistered"]) == unknown
    with register.read() as s:
        assert {u.serial for u in syncmod.unregistered_devices(s)} == unknown
        audit.verify(s)
    # a second pass changes nothing
    again = poll_once(db_url, "--pkcs11-module", SOFTHSM_LIB)
    assert again["changes"] == []


def test_pull_keeps_last_seen(register: Register, db_url: str, issued: Callable[..., None],
                              cards: CardSlots) -> None:
    issued("8400000000000202")
    cards.insert(PivCard("8400000000000202"), 2)
    poll_once(db_url)
    first = device(register, "8400000000000202")
    cards.pull(2)
    out = poll_once(db_url)
    assert "8400000000000202" not in {s["serial"] for s in out["seen"]}
    after = device(register, "8400000000000202")
    assert (after.last_seen_at, after.last_seen_reader) == \
        (first.last_seen_at, cards.reader(2))


def test_blocked_card_locked_once_then_ready_for_unlock(
    register: Register, db_url: str, issued: Callable[..., None], cards: CardSlots
) -> None:
    issued("8400000000000203")
    cards.insert(PivCard("8400000000000203", tries_left=0), 3)
    for _ in range(4):
        poll_once(db_url)
    d = device(register, "8400000000000203")
    assert (d.status, d.lock_count, d.pin_blocked) == ("locked", 1, True)
    assert count(register, Event, Event.action == "device.lock") == 1
    cards.pull(3)
    cards.insert(PivCard("8400000000000203", tries_left=3), 3)  # the SO PIN reset it
    out = poll_once(db_url)
    assert any("ready for unlock" in c["text"] for c in out["changes"])
    d = device(register, "8400000000000203")
    assert (d.status, d.lock_count, d.pin_tries_left) == ("locked", 1, 3)
    with register.read() as s:
        assert [x.serial for x in syncmod.ready_for_unlock(s)] == ["8400000000000203"]


def test_hundred_polls_through_the_sync_spend_no_pin_try(
    register: Register, issued: Callable[..., None], cards: CardSlots, test_ca: TestCa
) -> None:
    issued("8400000000000204", "8400000000000205")
    fleet = [PivCard("8400000000000204", {"9A": test_ca.quick_cert(1)}, tries_left=3),
             PivCard("8400000000000205", tries_left=1),
             PkiSimCard("8984048000123450204", tries_left=2)]
    for i, card in enumerate(fleet):
        cards.insert(card, 4 + i)
    with Poller(HardwareConfig()) as poller:
        for _ in range(100):
            result = poller.scan_once()
            with register.session() as s:
                syncmod.sync_observations(s, result.observations, host="station1")
    assert [c.tries for c in fleet] == [3, 1, 2]
    for card in fleet:
        assert len(card.verify_commands()) >= 100 and card.verify_commands_with_data() == []
    assert count(register, ObservationRecord) == 300
    assert count(register, Event, Event.action == "device.pin_state") == 2  # first sightings
    assert device(register, "8400000000000205").pin_tries_left == 1


def test_unknown_card_is_unregistered_then_claimed(
    register: Register, db_url: str, cards: CardSlots, test_ca: TestCa
) -> None:
    cards.insert(PivCard("8400000000000206", {"9A": test_ca.quick_cert(3)}), 7)
    out = poll_once(db_url)
    assert out["unregistered"] == ["8400000000000206"]
    poll_once(db_url)
    assert count(register, Event, Event.action == "unregistered.seen") == 1
    listing = run_cli(db_url, "unregistered", "list", "--format", "json")
    (row,) = json.loads(listing)
    assert row["serial"] == "8400000000000206" and row["model"] == "emulated PIV token"
    assert "claimed" in run_cli(db_url, "unregistered", "claim", "8400000000000206")
    d = device(register, "8400000000000206")
    assert (d.status, d.holder_id, len(d.certificates)) == ("in_stock", None, 1)
    assert count(register, UnregisteredDevice) == 0


def test_card_pulled_mid_read_records_nothing(
    register: Register, db_url: str, issued: Callable[..., None], cards: CardSlots,
    test_ca: TestCa
) -> None:
    issued("8400000000000207")
    card = PivCard("8400000000000207", {"9A": test_ca.quick_cert(1)}, tries_left=0)
    card.pull_after = 3
    cards.insert(card, 8)
    out = poll_once(db_url)
    assert out["seen"] == [] and out["changes"] == []
    d = device(register, "8400000000000207")
    assert (d.status, d.last_seen_at, d.certificates) == ("issued", None, [])
    assert count(register, ObservationRecord) == 0


def test_two_pollers_on_the_same_cards_lock_once(
    register: Register, db_url: str, issued: Callable[..., None], cards: CardSlots
) -> None:
    issued("8400000000000208")
    cards.insert(PivCard("8400000000000208", tries_left=0), 9)
    env = {**os.environ, "TOKENFLEET_DATABASE_URL": db_url}
    procs = [subprocess.Popen([TOKENFLEET, "poll", "--once", "--station", station], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for station in ("station-a", "station-b")]
    for p in procs:
        _out, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
    d = device(register, "8400000000000208")
    assert (d.status, d.lock_count) == ("locked", 1)
    assert count(register, Event, Event.action == "device.lock") == 1
    with register.read() as s:
        audit.verify(s)
        hosts = set(s.scalars(select(ObservationRecord.host)))
    assert hosts == {"station-a", "station-b"}


def test_stocktake_with_the_lab(register: Register, db_url: str, issued: Callable[..., None],
                                cards: CardSlots, tmp_path: Path) -> None:
    issued("8400000000000209", "8400000000000210")
    assert "2 devices expected" in run_cli(db_url, "stocktake", "start", "--agency", "HN")
    cards.insert(PivCard("8400000000000209"), 10)
    cards.insert(PivCard("8400000000000299"), 11)  # not in the register
    poll_once(db_url)
    poll_once(db_url, station="station2")  # another station reads it again: a duplicate scan
    status = json.loads(run_cli(db_url, "stocktake", "status", "--format", "json"))
    assert (status["seen"][0]["serial"], status["duplicates"]) == \
        ("8400000000000209", ["8400000000000209", "8400000000000299"])
    out_csv = tmp_path / "stocktake.csv"
    run_cli(db_url, "stocktake", "finish", "--output", str(out_csv))
    with out_csv.open(encoding="utf-8") as fh:
        rows = {r["serial"]: r for r in csv.DictReader(fh)}
    assert {s: r["outcome"] for s, r in rows.items()} == {
        "8400000000000209": "seen", "8400000000000210": "missing",
        "8400000000000299": "unexpected"}
    assert rows["8400000000000209"]["scans"] == "2"


# ------------------------------------------------------------------------------ --watch
class WatchProcess:
    """``tokenfleet poll --watch`` as a subprocess; its output lines collected in a thread."""

    def __init__(self, db_url: str, *args: str, station: str = "watch-station") -> None:
        env = {**os.environ, "TOKENFLEET_DATABASE_URL": db_url, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen([TOKENFLEET, "poll", "--watch", "--station", station, *args],
                                     env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True)
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        wait_for(lambda: any("watching as" in line for line in self.lines), what="watch start")

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def terminate(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(15)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.reader.join(10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


@pytest.fixture
def watchers() -> Iterator[list[WatchProcess]]:
    started: list[WatchProcess] = []
    yield started
    for w in started:
        w.close()


def test_watch_follows_inserts_survives_pcscd_restart_and_stops_on_sigterm(
    register: Register, db_url: str, issued: Callable[..., None], cards: CardSlots,
    pcscd: Pcscd, watchers: list[WatchProcess]
) -> None:
    issued("8400000000000211", "8400000000000212")
    w = WatchProcess(db_url)
    watchers.append(w)
    cards.insert(PivCard("8400000000000211", tries_left=3), 12)
    wait_for(lambda: device(register, "8400000000000211").last_seen_at, what="first insert")
    assert device(register, "8400000000000211").last_seen_host == "watch-station"
    with register.read() as s:
        wait_for(lambda: any(r.serial == "8400000000000211" for r in
                             syncmod.station_readers(s, "watch-station")), what="station readers")
    pcscd.kill()
    cards.forget()
    wait_for(lambda: any("PC/SC not available" in line for line in w.lines), what="outage")
    pcscd.start()
    cards.insert(PivCard("8400000000000212", tries_left=0), 12)
    wait_for(lambda: device(register, "8400000000000212").status == "locked",
             what="lock after the pcscd restart")
    assert device(register, "8400000000000212").lock_count == 1
    assert w.terminate() == 0
    assert w.lines[-1] == "stopped"
