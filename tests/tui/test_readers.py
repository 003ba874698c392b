"""The live readers panel: cards matched to devices, claiming an unknown one, no PC/SC.

The panel is fed real ``WatchEvent``/``Observation`` values from a scripted poller (the poller
itself is tested against pcscd in tests/hardware); what is tested here is the panel.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator

from sqlalchemy import select
from textual.widgets import DataTable, Input

from inventory.readers.hardware import Observation, ReaderState, WatchEvent
from inventory.register.errors import PcscUnavailableError
from inventory.register.models import Device, Event
from tests.conftest import FIXED_NOW
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
    app = make_app(demo_register,
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
