"""The live readers panel: cards matched to devices, claiming an unknown one, no PC/SC, and the
station pipeline behind it (reader rows, heartbeat, buffering while the register is down).

The panel is fed real ``WatchEvent``/``Observation`` values from a scripted poller (the poller
itself is tested against pcscd in tests/readers); what is tested here is the panel and that it
runs the one station pipeline (``inventory.readers.station.StationPoller``).
"""

from __future__ import annotations

import contextlib
import os
import queue
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from sqlalchemy import func, select
from textual.widgets import DataTable, Input, Static

from inventory.fleet import lifecycle
from inventory.readers.hardware import Observation, ReaderState, WatchEvent
from inventory.readers.sync import station_readers
from inventory.register import audit
from inventory.register.db import Register, make_engine
from inventory.register.errors import PcscUnavailableError
from inventory.register.models import Device, Event, ObservationRecord, utcnow
from inventory.vocabulary import Vocabulary
from tests.conftest import FIXED_NOW, station_actor
from tests.readers.test_station import PrivatePostgres
from tui.screens.action_form import ActionForm
from tui.screens.readers import ReadersScreen
from tui.widgets.readers_panel import ReadersPanel

from .conftest import settle


class ScriptedPoller:
    def __init__(self, events: list[WatchEvent]) -> None:
        self.events = events

    def watch(self, stop: threading.Event) -> Iterator[WatchEvent]:
        for event in self.events:
            if stop.is_set():
                return
            yield event


def card_event(known_serial: str, known_kind: str) -> WatchEvent:
    readers = (ReaderState("Lab Reader 00", True, "3B", "piv", known_serial),
               ReaderState("Lab Reader 01", True, "3B", "piv", "NEW-TOKEN-77"),
               ReaderState("Lab Reader 02", False))
    observations = (
        Observation(source="pcsc", reader="Lab Reader 00", kind=known_kind,  # type: ignore[arg-type]
                    serial=known_serial, seen_at=FIXED_NOW, profile="piv", pin_tries_left=3),
        Observation(source="pcsc", reader="Lab Reader 01", kind="usb_token",
                    serial="NEW-TOKEN-77", seen_at=FIXED_NOW, profile="piv",
                    manufacturer="Feitian", model="ePass2003"),
    )
    return WatchEvent(at=FIXED_NOW, readers=readers, observations=observations)


async def test_cards_are_matched_and_an_unknown_one_can_be_claimed(demo_register, make_app):
    with demo_register.read() as session:
        known, kind = session.execute(select(Device.serial, Device.kind)
                                      .where(Device.status == "issued")
                                      .order_by(Device.id)).first()
    app = make_app(demo_register, host="tui-station",
                   poller_factory=lambda: ScriptedPoller([card_event(known, kind)]))
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.press("4")
        await settle(pilot)
        assert isinstance(app.screen, ReadersScreen)
        panel = app.screen.query_one(ReadersPanel)
        by_reader = {r.reader: r for r in panel.rows}
        assert by_reader["Lab Reader 00"].known and "Issued" in by_reader["Lab Reader 00"].device
        assert not by_reader["Lab Reader 01"].known
        assert by_reader["Lab Reader 02"].serial is None
        # inventory.readers.sync kept the unknown card as unregistered: listed to claim
        assert [r.serial for r in panel.unregistered] == ["NEW-TOKEN-77"]
        table = app.screen.query_one("#readers-table", DataTable)
        table.focus()
        table.move_cursor(row=1)
        await pilot.press("c")
        form = app.screen
        assert isinstance(form, ActionForm)
        assert form.query_one("#serial", Input).value == "NEW-TOKEN-77"
        await pilot.press("enter")
        await settle(pilot)
        assert not isinstance(app.screen, ActionForm)
    with demo_register.read() as session:
        device = session.scalars(select(Device).where(Device.serial == "NEW-TOKEN-77")).one()
        assert (device.status, device.manufacturer, device.model) == (
            "in_stock", "Feitian", "ePass2003")
        assert "unregistered.claim" in session.scalars(
            select(Event.action).where(Event.device_id == device.id)).all()
        assert session.scalar(select(Event.actor).where(Event.device_id == device.id)) == "tester"
        # the register learnt what the readers saw (inventory.readers.sync): last seen, PIN state
        seen = session.scalars(select(Device).where(Device.serial == known)).one()
        assert seen.last_seen_reader == "Lab Reader 00" and seen.pin_tries_left == 3
        assert seen.last_seen_host == "tui-station"
        # … as a poller station does: its reader rows, its heartbeat, the raw observations
        rows = station_readers(session, "tui-station")
        assert [(r.reader, r.card_present, r.serial) for r in rows] == [
            ("Lab Reader 00", True, known), ("Lab Reader 01", True, "NEW-TOKEN-77"),
            ("Lab Reader 02", False, None)]
        assert all(r.alive for r in rows)
        assert session.scalar(select(func.count()).select_from(ObservationRecord).where(
            ObservationRecord.host == "tui-station")) == 2


async def test_no_pcsc_service_is_a_message_not_a_crash(sqlite_demo, make_app):
    def no_pcsc() -> ScriptedPoller:
        raise PcscUnavailableError("PC/SC not available: Service not available.")

    app = make_app(sqlite_demo, poller_factory=no_pcsc)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.press("4")
        await settle(pilot)
        message = str(app.screen.query_one("#readers-message").render())
        assert "Reader service not available: PC/SC not available" in message
        await pilot.press("1")  # the app goes on
        await settle(pilot)


# libpcsclite reads PCSCLITE_CSOCK_NAME once per process, and earlier tests may have talked to
# the lab's pcscd: the check runs in a fresh interpreter, like a desk where pcscd is not running.
NO_PCSCD_SCRIPT = """
import asyncio, sys
from inventory.register.db import Register
from tui.app import TokenfleetApp

async def main():
    app = TokenfleetApp(Register.open(sys.argv[1]), actor="t", lang="en", watch_changes=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.press("4")
        message = ""
        for _ in range(100):
            await pilot.pause(0.1)
            message = str(app.screen.query_one("#readers-message").render())
            if "not available" in message:
                break
        print(message)
        app.exit()

asyncio.run(main())
"""


def test_the_real_poller_without_pcscd_degrades(sqlite_demo):
    """With no pcscd to talk to, the real adapter's warning is shown in the panel."""
    url = sqlite_demo.engine.url.render_as_string(hide_password=False)
    env = {**os.environ, "PCSCLITE_CSOCK_NAME": "/nonexistent/pcscd.comm"}
    done = subprocess.run([sys.executable, "-c", NO_PCSCD_SCRIPT, url], env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "not available" in done.stdout


# --- buffering: the readers screen keeps working while the register is unreachable -------------

class QueuedPoller:
    """Yields the events a test puts, until the panel stops it (as a real watch would)."""

    def __init__(self) -> None:
        self.events: queue.Queue[WatchEvent] = queue.Queue()

    def watch(self, stop: threading.Event) -> Iterator[WatchEvent]:
        while not stop.is_set():
            try:
                yield self.events.get(timeout=0.05)
            except queue.Empty:
                continue


Outage = Callable[[], AbstractContextManager[None]]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def fragile(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Register, Outage]]:
    """A register and a way to make it refuse writes for a while: on SQLite another process
    holds the write lock (a long import at another desk) and writers give up after 0.2 s; on
    PostgreSQL the server itself (a private one) is stopped and started again."""
    if request.param == "sqlite":
        path = tmp_path / "register.sqlite3"
        Register.open(f"sqlite:///{path}").dispose()
        engine = make_engine(f"sqlite:///{path}")

        @sqlalchemy.event.listens_for(engine, "connect")
        def _impatient(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.execute("PRAGMA busy_timeout=200")

        @contextlib.contextmanager
        def locked() -> Iterator[None]:
            other = sqlite3.connect(path, isolation_level=None)
            other.execute("BEGIN EXCLUSIVE")  # in WAL mode readers go on, writers wait
            try:
                yield
            finally:
                other.execute("ROLLBACK")
                other.close()

        register = Register(engine)
        yield register, locked
        register.dispose()
        return
    server = PrivatePostgres()
    server.start()

    @contextlib.contextmanager
    def stopped() -> Iterator[None]:
        server.stop()
        try:
            yield
        finally:
            server.start()

    register = Register.open(server.url, auto_upgrade=True)
    yield register, stopped
    register.dispose()
    server.destroy()


def blocked_card(serial: str, tries: int, at: datetime) -> WatchEvent:
    return WatchEvent(at=at, readers=(ReaderState("Lab Reader 00", True, "3B", "piv", serial),),
                      observations=(Observation(
                          source="pcsc", reader="Lab Reader 00", kind="usb_token",
                          serial=serial, seen_at=at, profile="piv", pin_tries_left=tries,
                          pin_blocked=tries == 0),))


def a_device(register: Register, serial: str) -> Device:
    with register.read() as session:
        device = session.scalars(select(Device).where(Device.serial == serial)).one()
        session.expunge(device)
        return device


async def until(pilot: Any, condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 60
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await pilot.pause(0.1)


async def test_the_readers_screen_buffers_while_the_register_is_unreachable(
        fragile: tuple[Register, Outage], make_app: Callable[..., Any]) -> None:
    register, outage = fragile
    with register.session() as s:
        agency = lifecycle.add_agency(s, code="HN", name="Hà Nội", actor="t")
        holder = lifecycle.add_holder(s, full_name="Phạm Thị Dung", agency=agency, actor="t")
        lifecycle.issue(s, lifecycle.add_device(s, kind="usb_token", serial="a1", actor="t"),
                        holder, method="in_person", actor="t")
    poller = QueuedPoller()
    now = utcnow()
    app = make_app(register, host="tui-station", start="readers", watch_changes=False,
                   poller_factory=lambda: poller)
    async with app.run_test(size=(160, 45)) as pilot:
        panel = app.screen.query_one(ReadersPanel)
        message = panel.query_one("#readers-message", Static)
        poller.events.put(blocked_card("a1", 3, now))
        await until(pilot, lambda: a_device(register, "a1").last_seen_at is not None,
                    "the first card written")
        with outage():
            poller.events.put(blocked_card("a1", 0, now + timedelta(seconds=1)))
            await until(pilot, lambda: "unreachable" in str(message.render()),
                        "the panel saying the register is unreachable")
            assert [(r.reader, r.serial) for r in panel.rows] == [("Lab Reader 00", "a1")]
        await until(pilot, lambda: a_device(register, "a1").status == "locked",
                    "the buffered lock written once the register is back")
        locked = Vocabulary("en").term("device_status", "locked")
        await until(pilot, lambda: panel.rows and panel.rows[0].device.startswith(locked),
                    "the panel showing the device locked")
    with register.read() as s:
        device = s.scalars(select(Device).where(Device.serial == "a1")).one()
        assert (device.lock_count, device.pin_blocked, device.last_seen_host) == (
            1, True, "tui-station")
        assert list(s.scalars(select(Event.actor).where(Event.action == "device.lock"))) == [
            station_actor(register, "tui-station")]
        rows = station_readers(s, "tui-station")
        assert [(r.reader, r.card_present, r.serial, r.alive) for r in rows] == [
            ("Lab Reader 00", True, "a1", True)]
        audit.verify(s)
