"""Keys never drop: a barcode scanner's burst (``/SERIAL⏎``) reaches the search box in order,
and a serial with exactly one match opens its device (issue 14, "Keys that drop").

``burst`` sends keys as a scanner does: every key is queued before the app has handled the
first, with no pause for the screen to switch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from textual import events
from textual.widgets import Input

from inventory.register.db import Register
from inventory.register.models import Device
from tui.app import TokenfleetApp
from tui.screens.dashboard import DashboardScreen
from tui.screens.device_detail import DeviceDetailScreen
from tui.screens.devices import DevicesScreen
from tui.widgets.device_table import DeviceTable

from .conftest import settle

KEY_NAMES = {"/": "slash", "\n": "enter", "\x1b": "escape", " ": "space", "-": "minus"}


def burst(app: TokenfleetApp, text: str) -> None:
    """Type ``text`` at scanner speed: all keys queued at once (``\\n`` is Enter)."""
    driver = app._driver
    assert driver is not None
    for ch in text:
        name = KEY_NAMES.get(ch, ch)
        event = events.Key(name, "\r" if ch == "\n" else None if ch == "\x1b" else ch)
        event.set_sender(app)
        driver.send_message(event)


def serials(register: Register, n: int, status: str | None = None) -> list[str]:
    with register.read() as session:
        stmt = select(Device.serial).order_by(Device.id)
        if status:
            stmt = stmt.where(Device.status == status)
        return list(session.scalars(stmt.limit(n)))


async def test_slash_and_a_serial_in_one_burst_from_the_dashboard(
        sqlite_demo: Register, make_app: Callable[..., TokenfleetApp]) -> None:
    """Issue 14: from the dashboard, ``/5400000000000018`` in one burst left the box empty (the
    digits went to the dashboard; ``5`` opened the import screen). Failed before: the search
    box did not hold the serial."""
    (serial,) = serials(sqlite_demo, 1)
    app = make_app(sqlite_demo)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
        burst(app, "/" + serial)
        await settle(pilot)
        assert isinstance(app.screen, DevicesScreen)
        assert app.screen.query_one("#search", Input).value == serial
        table = app.screen.query_one(DeviceTable)
        assert [r.serial for r in table.rows_shown] == [serial]


async def test_a_serial_and_enter_with_one_match_opens_the_device(
        sqlite_demo: Register, make_app: Callable[..., TokenfleetApp]) -> None:
    """Failed before: Enter in the devices search box did nothing."""
    serial = serials(sqlite_demo, 5)[-1]
    app = make_app(sqlite_demo)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        burst(app, f"/{serial}\n")
        await settle(pilot)
        assert isinstance(app.screen, DeviceDetailScreen)
        assert app.screen.detail is not None and app.screen.detail.serial == serial


async def test_keys_after_enter_reach_the_device_that_opens(
        sqlite_demo: Register, make_app: Callable[..., TokenfleetApp]) -> None:
    """``/SERIAL⏎l`` at once: the ``l`` (report lost) is for the device the serial opens, not
    for the top row of the list. Failed before: the next action went to the wrong row."""
    (serial,) = serials(sqlite_demo, 1, status="issued")
    app = make_app(sqlite_demo)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        burst(app, f"/{serial}\nl")
        await settle(pilot)
        from tui.screens.action_form import ActionForm

        assert isinstance(app.screen, ActionForm)
        assert app.screen.target is not None and app.screen.target.serial == serial


async def test_enter_in_the_search_box_with_several_matches_goes_to_the_list(
        sqlite_demo: Register, make_app: Callable[..., TokenfleetApp]) -> None:
    """Failed before: Enter in the Devices search box did nothing (it worked in Holders)."""
    app = make_app(sqlite_demo)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("slash", *"nguyen", "enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DevicesScreen)
        table = screen.query_one(DeviceTable)
        assert len(table.rows_shown) > 1 and screen.focused is table
        await pilot.press("j", "j")
        assert table.cursor_row == 2


@pytest.mark.parametrize("count", [200])
async def test_two_hundred_serials_at_scanner_speed_each_open_their_device(
        sqlite_demo: Register, make_app: Callable[..., TokenfleetApp],
        monkeypatch: pytest.MonkeyPatch, count: int) -> None:
    """Two hundred scans in one burst — ``/SERIAL⏎`` each, no pause anywhere: every serial opens
    its own device, in order. Failed before: keys were lost and Enter did nothing."""
    wanted = serials(sqlite_demo, count)
    opened: list[str] = []
    show = DeviceDetailScreen.show

    def record(self: DeviceDetailScreen, detail: Any) -> None:
        if self.detail is None:  # the first time this screen shows its device
            opened.append(detail.serial)
        show(self, detail)

    monkeypatch.setattr(DeviceDetailScreen, "show", record)
    app = make_app(sqlite_demo)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        burst(app, "".join(f"/{s}\n" for s in wanted))
        for _ in range(count):
            await settle(pilot)
            if len(opened) == count:
                break
        assert opened == wanted
        assert isinstance(app.screen, DeviceDetailScreen)
