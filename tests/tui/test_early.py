"""The start screen's first read, begun before Textual (``tui.early``): the screen shows it, and
nothing changed meanwhile is lost (the change watcher starts from the trail's head as it was just
before the read)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from inventory.fleet import lifecycle
from inventory.register.db import Register
from inventory.register.models import Device
from tui import early
from tui.app import TokenfleetApp
from tui.widgets.device_table import DeviceTable

from .conftest import settle, until
from .test_figures import a_serial, figure


async def test_a_change_between_the_early_read_and_the_first_screen_reaches_it(
        demo_register: Register, make_app: Callable[..., TokenfleetApp]) -> None:
    first = early.begin(demo_register, "dashboard")
    assert first is not None and first.value is not None
    counts = first.value.result(timeout=30)
    serial = a_serial(demo_register, "issued")
    with demo_register.session() as session:  # after the read, before the screen
        device = session.scalars(select(Device).where(Device.serial == serial)).one()
        lifecycle.lock(session, device, actor="other-desk")
    app = make_app(demo_register, start="dashboard", early=first)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        assert app.ctx.early is not None and app.ctx.early.value is None  # the screen took it
        locked = counts.by_status.get("locked", 0)
        assert await until(pilot, lambda: figure(app.screen, "fig-status-locked") == locked + 1)


async def test_the_devices_list_opens_on_the_early_page(
        demo_register: Register, make_app: Callable[..., TokenfleetApp]) -> None:
    first = early.begin(demo_register, "devices")
    assert first is not None and first.value is not None
    page = first.value.result(timeout=30)
    app = make_app(demo_register, start="devices", early=first)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(DeviceTable)
        assert [r.id for r in table.rows_shown] == [r.id for r in page.rows]
        assert app.ctx.early is not None and app.ctx.early.value is None


def test_a_screen_without_an_early_read_begins_none(demo_register: Register) -> None:
    assert early.begin(demo_register, "desk") is None
