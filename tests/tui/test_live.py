"""Many processes on one register: another process's changes appear without a key press; a move
on a device that changed since the screen showed it is refused with "reload"; every station's
readers are listed.

"Another process" is another ``Register`` (its own engine and connections), on SQLite and
PostgreSQL. Waits are readiness loops bounded by a generous deadline, not timing assertions.
"""

from __future__ import annotations

from sqlalchemy import select

from inventory.fleet import lifecycle
from inventory.readers.hardware import ReaderState
from inventory.readers.sync import record_station_readers
from inventory.register.db import Register
from inventory.register.models import Device
from tui.screens.action_form import ActionForm
from tui.widgets.device_table import DeviceTable
from tui.widgets.station_readers_table import StationReadersTable

from .conftest import settle, until
from .test_actions import a_device, events_of, open_detail, reread


def lock_elsewhere(other: Register, device_id: int) -> None:
    with other.session() as session:
        lifecycle.lock(session, session.get_one(Device, device_id), actor="other-process",
                       reason="reported by another process")


async def test_a_change_made_elsewhere_shows_in_the_table_and_dashboard(
        demo_register, other_process, make_app):
    with demo_register.read() as session:
        first_issued = session.scalar(select(Device.id).where(Device.status == "issued")
                                      .order_by(Device.id))
    app = make_app(demo_register)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        locked_before = str(app.screen.query_one("#fig-locked").render())
        await pilot.press("2")
        await settle(pilot)
        table = app.screen.query_one(DeviceTable)
        row = next(i for i, r in enumerate(table.rows_shown) if r.id == first_issued)
        table.move_cursor(row=row)
        await pilot.pause()
        lock_elsewhere(other_process, first_issued)
        assert await until(pilot, lambda: any(
            r.id == first_issued and r.status == "locked" for r in table.rows_shown))
        assert table.selected is not None and table.selected.id == first_issued
        await pilot.press("1")
        await settle(pilot)
        # the dashboard (another mode) was not open: it shows the new figure on the next change
        lock_elsewhere(other_process, a_device(demo_register, "issued").id)
        assert await until(pilot, lambda: str(app.screen.query_one("#fig-locked").render())
                           != locked_before)


async def test_the_detail_reloads_when_its_device_changes_elsewhere(
        demo_register, other_process, make_app):
    device = a_device(demo_register, "issued")
    app = make_app(demo_register)
    async with app.run_test(size=(160, 45)) as pilot:
        detail = await open_detail(app, pilot, device.serial)
        lock_elsewhere(other_process, device.id)
        assert await until(pilot, lambda: detail.detail is not None
                           and detail.detail.status == "locked")


async def test_a_move_on_a_device_changed_since_it_was_shown_is_refused(
        demo_register, other_process, make_app):
    device = a_device(demo_register, "issued")
    app = make_app(demo_register, watch_changes=False)  # the screen keeps the old version
    async with app.run_test(size=(160, 45)) as pilot:
        detail = await open_detail(app, pilot, device.serial)
        lock_elsewhere(other_process, device.id)
        before = events_of(demo_register, device.id)
        await pilot.press("l")  # report lost: allowed from locked too, but not what was shown
        await pilot.press(*"left on the bus", "enter")
        await settle(pilot)
        if not isinstance(app.screen, ActionForm):  # the confirmation of a destructive move
            await pilot.press("y")
            await settle(pilot)
        assert isinstance(app.screen, ActionForm)
        refusal = str(app.screen.query_one("#form-error").render())
        assert "changed by someone else" in refusal and "reload" in refusal
        assert reread(demo_register, device.id).status == "locked"
        assert events_of(demo_register, device.id) == before
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is detail and detail.detail is not None
        assert detail.detail.status == "locked"  # the screen reloaded


async def test_every_stations_readers_are_listed(demo_register, other_process, make_app):
    app = make_app(demo_register)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.press("4")
        await settle(pilot)
        stations = app.screen.query_one(StationReadersTable)
        with other_process.session() as session:
            record_station_readers(session, "district-3", [
                ReaderState("Station 3 Reader 00", True, "3B", "piv", "TOKEN-D3"),
                ReaderState("Station 3 Reader 01", False)])
        assert await until(pilot, lambda: {(r.station, r.reader, r.serial) for r in
                                           stations.rows_shown} >= {
            ("district-3", "Station 3 Reader 00", "TOKEN-D3"),
            ("district-3", "Station 3 Reader 01", None)})
        assert all(r.alive for r in stations.rows_shown if r.station == "district-3")
