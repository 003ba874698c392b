"""The devices table: paging by keyset through a window, sorting, filters, search, colours."""

from __future__ import annotations

from rich.text import Text
from sqlalchemy import func, select
from textual import events
from textual.widgets import OptionList
from textual.widgets.data_table import ColumnKey

from inventory.fleet.queries import DeviceFilter, count_devices
from inventory.register.models import Device
from tests.conftest import FIXED_NOW
from tui.screens.agency_picker import ALL, AgencyPicker
from tui.screens.devices import DevicesScreen
from tui.widgets.device_table import WINDOW, DeviceTable, row_style

from .conftest import settle


async def open_devices(app, pilot):
    await pilot.press("2")
    await settle(pilot)
    assert isinstance(app.screen, DevicesScreen)
    return app.screen, app.screen.query_one(DeviceTable)


async def test_pages_forward_and_back_through_the_whole_register(sqlite_demo, make_app):
    app = make_app(sqlite_demo)
    async with app.run_test(size=(160, 45)) as pilot:
        screen, table = await open_devices(app, pilot)
        assert len(table.rows_shown) == WINDOW and table.total == 300
        seen = [r.id for r in table.rows_shown]
        await pilot.press("end")
        await settle(pilot)
        assert table.at_end and table.rows_shown[-1].id == max(
            r for r in sqlite_demo.engine.connect().scalars(select(Device.id)))
        assert "of 300" in str(screen.query_one("#position").render())
        await pilot.press("home")
        await settle(pilot)
        assert [r.id for r in table.rows_shown] == seen and table.cursor_row == 0
        # Down past the last row of the window fetches the next rows by keyset
        table.move_cursor(row=WINDOW - 1)
        await pilot.press("down")
        await settle(pilot)
        assert table.selected is not None and table.selected.id == seen[-1] + 1
        assert table.window_offset > 0 and len(table.rows_shown) == WINDOW
        # and Up past the first row of the window reads backwards
        table.move_cursor(row=0)
        first = table.rows_shown[0].id
        await pilot.press("up")
        await settle(pilot)
        assert table.selected is not None and table.selected.id == first - 1


async def test_walks_every_row_with_page_down(sqlite_demo, make_app):
    app = make_app(sqlite_demo)
    async with app.run_test(size=(160, 45)) as pilot:
        _, table = await open_devices(app, pilot)
        ids: set[int] = set()
        for _ in range(200):
            ids.update(r.id for r in table.rows_shown)
            if table.at_end and table.cursor_row == len(table.rows_shown) - 1:
                break
            await pilot.press("pagedown")
            await settle(pilot, rounds=2)
        assert len(ids) == 300


async def test_sort_by_serial_and_reverse(sqlite_demo, make_app):
    app = make_app(sqlite_demo)
    async with app.run_test(size=(160, 45)) as pilot:
        _, table = await open_devices(app, pilot)
        await pilot.press("s")  # id → serial
        await settle(pilot)
        serials = [r.serial for r in table.rows_shown]
        assert serials == sorted(serials)
        await pilot.press("r")
        await settle(pilot)
        serials = [r.serial for r in table.rows_shown]
        assert serials == sorted(serials, reverse=True)
        await pilot.press("s")  # expiry, reversed: devices without one first, then latest
        await settle(pilot)
        ends = [r.not_after for r in table.rows_shown]
        dated = [e for e in ends if e is not None]
        assert ends == [None] * (len(ends) - len(dated)) + sorted(dated, reverse=True)
        assert table.total == 300


async def test_sorting_by_expiry_hides_nothing(sqlite_demo, make_app):
    """Issue 14: ``s`` until "sorted by expiry" silently added "expiring within 100 years": the
    footer still said "of 300" but devices without a certificate vanished, and ``/SERIAL`` of an
    in-stock device found nothing. Failed before: the in-stock serial was not found."""
    with sqlite_demo.read() as session:
        in_stock = session.scalars(select(Device.serial).where(Device.status == "in_stock")
                                   .order_by(Device.id)).first()
    app = make_app(sqlite_demo)
    async with app.run_test(size=(160, 45)) as pilot:
        screen, table = await open_devices(app, pilot)
        await pilot.press("s", "s")  # id → serial → expiry
        await settle(pilot)
        assert screen.sort == "expiry" and table.total == 300
        await pilot.press("end")
        await settle(pilot)
        assert table.rows_shown[-1].not_after is None  # the undated ones come last
        await pilot.press("slash", *in_stock, "escape")
        await settle(pilot)
        assert [r.serial for r in table.rows_shown] == [in_stock] and table.total == 1


async def test_clicking_a_column_header_sorts_by_it(sqlite_demo, make_app):
    app = make_app(sqlite_demo)
    async with app.run_test(size=(160, 45)) as pilot:
        screen, table = await open_devices(app, pilot)
        table.post_message(DeviceTable.HeaderSelected(table, ColumnKey("col.expiry"), 5, Text("x")))
        await settle(pilot)
        assert screen.sort == "expiry" and not screen.descending
        table.post_message(DeviceTable.HeaderSelected(table, ColumnKey("col.expiry"), 5, Text("x")))
        await settle(pilot)
        assert screen.descending
        ends = [r.not_after for r in table.rows_shown]
        dated = [e for e in ends if e is not None]
        assert ends == [None] * (len(ends) - len(dated)) + sorted(dated, reverse=True)


async def test_mouse_wheel_past_the_window_reads_on(sqlite_demo, make_app):
    app = make_app(sqlite_demo)
    async with app.run_test(size=(160, 45)) as pilot:
        _, table = await open_devices(app, pilot)
        first = table.rows_shown[0].id
        table.scroll_end(animate=False)
        await pilot.pause()
        table._on_mouse_scroll_down(events.MouseScrollDown(table, 1, 1, 0, 1, 0, False, False,
                                                           False))
        await settle(pilot)
        assert table.rows_shown[0].id > first and table.window_offset > 0


async def test_filters_and_accent_free_search(sqlite_demo, make_app):
    app = make_app(sqlite_demo)
    async with app.run_test(size=(160, 45)) as pilot:
        screen, table = await open_devices(app, pilot)
        await pilot.press("slash")
        assert screen.focused is not None and screen.focused.id == "search"
        await pilot.press(*"nguyen")
        await settle(pilot)
        assert table.rows_shown
        assert all((r.holder_name or "").startswith("Nguyễn") or r.serial.startswith("nguyen")
                   for r in table.rows_shown)
        await pilot.press("escape")
        assert screen.focused is table
        await pilot.press("c")  # clear filters
        await settle(pilot)
        assert table.total == 300
        screen.query_one("#locked-filter").value = True
        await settle(pilot)
        with sqlite_demo.read() as session:
            locked = count_devices(session, DeviceFilter(statuses=("locked",)))
        assert table.total == locked and all(r.status == "locked" for r in table.rows_shown)
        screen.query_one("#locked-filter").value = False
        await pilot.click("#expiring-filter")
        await pilot.press("3", "0")
        await settle(pilot)
        with sqlite_demo.read() as session:
            expiring = count_devices(session, DeviceFilter(
                expiring_within=FIXED_NOW - FIXED_NOW + __import__("datetime").timedelta(days=30),
                now=FIXED_NOW))
        assert table.total == expiring


async def test_an_unknown_agency_cannot_be_picked(sqlite_demo, make_app):
    """The agency filter is picked from the register's agencies (no code typed by heart; it
    used to take a code, and an unknown one was an error): a name or code that matches none
    leaves only "every agency" to pick."""
    app = make_app(sqlite_demo)
    async with app.run_test(size=(160, 45)) as pilot:
        screen, _ = await open_devices(app, pilot)
        await pilot.click("#agency-filter")
        await settle(pilot)
        assert isinstance(app.screen, AgencyPicker)
        await pilot.press(*"zzz")  # Vietnamese names and the codes hold no z
        await settle(pilot)
        options = app.screen.query_one("#agency-options", OptionList)
        assert [options.get_option_at_index(i).id for i in range(options.option_count)] == [ALL]
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen


def test_row_colours_follow_expiry_and_lock(sqlite_demo):
    with sqlite_demo.read() as session:
        from inventory.fleet.queries import device_page
        rows = device_page(session, DeviceFilter(), limit=300).rows
        n = session.scalar(select(func.count()).select_from(Device))
    assert n == 300
    styles = {row_style(r, FIXED_NOW) for r in rows}
    assert "bold magenta" in styles  # locked
    assert "yellow" in styles  # expiring within 30 days
