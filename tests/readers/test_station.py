"""A poller that loses the database buffers and catches up without duplicates (issue 8).

The outage is real: a PostgreSQL server of this test's own (initdb into a temp dir, on a free
port, as the ``postgres`` user like ``.ci/postgres.sh``) is stopped and started again while the
writer runs. The shared test server is never touched.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from inventory.fleet import lifecycle
from inventory.fleet.queries import get_device
from inventory.readers.hardware import ReaderState, WatchEvent
from inventory.readers.station import StationPoller
from inventory.readers.sync import SyncReport, station_readers, sync_observations
from inventory.register import audit
from inventory.register.db import Register
from inventory.register.models import (
    Certificate,
    Event,
    ObservationRecord,
    UnregisteredDevice,
    utcnow,
)
from tests.conftest import PG_URL, REQUIRE_PG, station_actor
from tests.readers.test_sync import _fleet_on, make_cert, obs


class PrivatePostgres:
    def __init__(self) -> None:
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
        problem = None
        if not bins:
            problem = "PostgreSQL server binaries not found"
        elif os.geteuid() != 0 or shutil.which("runuser") is None:
            problem = "needs root (runs the server as the postgres user)"
        if problem:
            if REQUIRE_PG or PG_URL:
                pytest.fail(f"private PostgreSQL: {problem}")
            pytest.skip(f"private PostgreSQL: {problem}")
        self.bin = Path(bins[-1])
        self.dir = Path(tempfile.mkdtemp(prefix="tokenfleet-pg-outage-"))
        shutil.chown(self.dir, "postgres", "postgres")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self._as_pg(self.bin / "initdb", "-D", str(self.dir / "data"), "-U", "postgres",
                    "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8")
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _as_pg(self, *args: Any) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *map(str, args)], check=True,
                       capture_output=True, cwd="/tmp")

    def start(self) -> None:
        self._as_pg(self.bin / "pg_ctl", "-D", self.dir / "data", "-l", self.dir / "log",
                    "-w", "-t", "30", "-o",
                    f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off",
                    "start")

    def stop(self) -> None:
        self._as_pg(self.bin / "pg_ctl", "-D", self.dir / "data", "-m", "fast", "-w", "stop")

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def private_pg() -> Iterator[PrivatePostgres]:
    server = PrivatePostgres()
    server.start()
    yield server
    server.destroy()


def wait_for(check: Callable[[], Any], timeout: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_database_restarted_while_a_poller_runs(private_pg: PrivatePostgres) -> None:
    register = Register.open(private_pg.url, auto_upgrade=True)
    warnings: list[str] = []
    writer = StationPoller(register, station="station9", retry_every=0.2, heartbeat_every=3600,
                      on_warning=warnings.append)
    try:
        with register.session() as s:
            agency = lifecycle.add_agency(s, code="HN", name="Hà Nội", actor="t")
            holder = lifecycle.add_holder(s, full_name="Phạm Thị Dung", agency=agency, actor="t")
            for serial in ("a1", "b1"):
                d = lifecycle.add_device(s, kind="usb_token", serial=serial, actor="t")
                lifecycle.issue(s, d, holder, method="in_person", actor="t")
        writer.start()
        now = utcnow()
        writer.submit((obs("a1", tries=3, at=now),), (ReaderState("R0", True, serial="a1"),))
        wait_for(lambda: writer.landed == 1, what="the first batch")

        private_pg.stop()
        cert = make_cert("Phạm Thị Dung", now - timedelta(days=1), serial=77)
        batches = [
            ((obs("a1", tries=0, blocked=True, at=now + timedelta(seconds=1)),),
             (ReaderState("R0", True, serial="a1"),)),
            ((obs("b1", certs=(cert,), reader="R1", at=now + timedelta(seconds=2)),),
             (ReaderState("R0", False), ReaderState("R1", True, serial="b1"))),
            ((obs("zz1", reader="R1", at=now + timedelta(seconds=3)),), None),
        ]
        for observations, readers in batches:
            writer.submit(observations, readers)
        wait_for(lambda: any("unreachable" in w for w in warnings), what="the outage warning")
        assert writer.pending == 3 and writer.landed == 1

        private_pg.start()
        wait_for(lambda: writer.pending == 0, what="catching up")
        assert any("reachable again" in w for w in warnings)
        # the same batches again (a replay): nothing happens twice
        for observations, _readers in batches:
            writer.submit(observations)
        wait_for(lambda: writer.pending == 0, what="the replay")
    finally:
        writer.stop()
    try:
        with register.read() as s:
            a1 = get_device(s, "a1")
            assert (a1.status, a1.lock_count) == ("locked", 1)
            assert s.scalar(select(func.count()).select_from(Certificate)) == 1
            assert s.scalar(select(func.count()).select_from(UnregisteredDevice)) == 1
            assert s.scalar(select(func.count()).select_from(ObservationRecord)) == 7
            actions = list(s.scalars(select(Event.action).where(
                Event.actor == station_actor(register, "station9"))))
            assert actions.count("device.lock") == 1
            assert actions.count("certificate.seen") == 1
            assert actions.count("unregistered.seen") == 1
            rows = station_readers(s, "station9")
            assert [(r.reader, r.card_present, r.serial) for r in rows] == [
                ("R0", False, None), ("R1", True, "b1")]
            audit.verify(s)
    finally:
        register.dispose()


def test_buffer_is_bounded_oldest_dropped_with_a_warning(private_pg: PrivatePostgres) -> None:
    register = Register.open(private_pg.url, auto_upgrade=True)
    warnings: list[str] = []
    writer = StationPoller(register, station="station9", buffer_limit=2, on_warning=warnings.append)
    try:
        private_pg.stop()
        for n in range(5):  # the writer thread is not started: everything stays queued
            writer.submit((obs(f"x{n}"),))
        assert writer.pending == 2 and writer.dropped == 3
        assert any("dropped the oldest" in w for w in warnings)
        assert writer.flush() is False and writer.pending == 2
        private_pg.start()
        assert writer.flush() is True and writer.pending == 0
        with register.read() as s:
            assert sorted(s.scalars(select(UnregisteredDevice.serial))) == ["x3", "x4"]
    finally:
        register.dispose()


class ScriptedPoller:
    """What the hardware poller yields, scripted (the real one is tested against the lab)."""

    def __init__(self, events: list[WatchEvent]) -> None:
        self.events, self.closed = events, False

    def watch(self, stop: threading.Event) -> Iterator[WatchEvent]:
        yield from self.events

    def close(self) -> None:
        self.closed = True


def test_watch_is_the_whole_pipeline(register: Register) -> None:
    """One station: what its poller sees lands in the register, with the station's reader rows,
    its heartbeat and observation retention (both backends)."""
    fleet = _fleet_on(register)
    now = utcnow()
    with fleet.session() as s:  # an observation older than the retention
        sync_observations(s, [obs("a1", at=now - timedelta(days=120))], host="elsewhere")
    readers = (ReaderState("R0", True, "3B", "piv", "a1"), ReaderState("R1", False))
    poller = ScriptedPoller([
        WatchEvent(at=now, readers=readers, observations=(obs("a1", tries=0, blocked=True,
                                                              at=now),)),
        WatchEvent(at=now, readers=readers),  # the same readers: nothing more to write
    ])
    reports: list[SyncReport] = []
    station = StationPoller(fleet, station="station7", poller_factory=lambda: poller,
                            retention=timedelta(days=90), heartbeat_every=3600,
                            on_report=reports.append)
    seen = list(station.watch(threading.Event()))
    assert len(seen) == 2 and poller.closed and station.pending == 0 and station.landed == 1
    assert [c.action for r in reports for c in r.changes] == ["device.pin_state", "device.lock"]
    with fleet.read() as s:
        a1 = get_device(s, "a1")
        assert (a1.status, a1.last_seen_host) == ("locked", "station7")
        assert [(r.reader, r.card_present, r.serial, r.alive)
                for r in station_readers(s, "station7")] == [
            ("R0", True, "a1", True), ("R1", False, None, True)]
        assert list(s.scalars(select(ObservationRecord.host))) == ["station7"]  # old one pruned
