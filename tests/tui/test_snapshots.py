"""SVG snapshots of every screen on the demo register (seed 7, fixed clock), SQLite only, at the
roomy 160×45 and the small 80×24 (issue 14: every screen usable at 80×24).

Update after an intended change: ``pytest tests/tui/test_snapshots.py --snapshot-update``, then
look at the pictures (``tests/tui/render_snapshots.py`` turns them into PNGs).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import select
from textual.widgets import TabbedContent

from inventory.register.models import Device, ServiceRequest

from .conftest import settle

SIZES = [pytest.param((160, 45), id="160x45"), pytest.param((80, 24), id="80x24")]


def first_serial(register: Any, status: str) -> str:
    with register.read() as session:
        return str(session.scalars(select(Device.serial).where(Device.status == status)
                                   .order_by(Device.id)).first())


def keys(*pressed: str) -> Callable[[Any], Awaitable[None]]:
    async def run_before(pilot: Any) -> None:
        await settle(pilot)
        for key in pressed:
            await pilot.press(key)
            await settle(pilot)
    return run_before


@pytest.mark.parametrize("size", SIZES)
def test_dashboard(snap_compare: Any, sqlite_demo: Any, make_app: Any,
                   size: tuple[int, int]) -> None:
    assert snap_compare(make_app(sqlite_demo, lang="vi"), terminal_size=size, run_before=settle)


@pytest.mark.parametrize("size", SIZES)
def test_devices(snap_compare: Any, sqlite_demo: Any, make_app: Any,
                 size: tuple[int, int]) -> None:
    assert snap_compare(make_app(sqlite_demo), terminal_size=size, run_before=keys("2"))


@pytest.mark.parametrize("size", SIZES)
def test_devices_search_vietnamese(snap_compare: Any, sqlite_demo: Any, make_app: Any,
                                   size: tuple[int, int]) -> None:
    async def run_before(pilot: Any) -> None:
        await keys("2")(pilot)
        await pilot.press("slash", *"nguyen thi")
        await settle(pilot)
    assert snap_compare(make_app(sqlite_demo, lang="vi"), terminal_size=size,
                        run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_devices_with_filter_chips(snap_compare: Any, sqlite_demo: Any, make_app: Any,
                                   size: tuple[int, int]) -> None:
    async def run_before(pilot: Any) -> None:
        await settle(pilot)
        pilot.app.screen.query_one("#fig-expiring-30").focus()
        await pilot.press("enter")
        await settle(pilot)
    assert snap_compare(make_app(sqlite_demo, lang="vi"), terminal_size=size,
                        run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_device_detail(snap_compare: Any, sqlite_demo: Any, make_app: Any,
                       size: tuple[int, int]) -> None:
    serial = first_serial(sqlite_demo, "locked")

    async def run_before(pilot: Any) -> None:
        await keys("2")(pilot)
        await pilot.press("slash", *serial, "enter")
        await settle(pilot)
    assert snap_compare(make_app(sqlite_demo, lang="vi"), terminal_size=size,
                        run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_holders_and_agencies(snap_compare: Any, sqlite_demo: Any, make_app: Any,
                              size: tuple[int, int]) -> None:
    async def run_before(pilot: Any) -> None:
        await keys("3")(pilot)
        await pilot.press("slash", *"nguyen van")
        await settle(pilot)
    assert snap_compare(make_app(sqlite_demo, lang="vi"), terminal_size=size,
                        run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_readers(snap_compare: Any, sqlite_demo: Any, make_app: Any,
                 size: tuple[int, int]) -> None:
    assert snap_compare(make_app(sqlite_demo, lang="vi"), terminal_size=size,
                        run_before=keys("4"))


@pytest.mark.parametrize("size", SIZES)
def test_import_export_report(snap_compare: Any, sqlite_demo: Any, make_app: Any,
                              size: tuple[int, int]) -> None:
    assert snap_compare(make_app(sqlite_demo, lang="vi"), terminal_size=size,
                        run_before=keys("5"))


@pytest.mark.parametrize("tab", ["tab-requests", "tab-unlock", "tab-alerts"])
@pytest.mark.parametrize("size", SIZES)
def test_desk(snap_compare: Any, sqlite_demo: Any, make_app: Any, size: tuple[int, int],
              tab: str) -> None:
    async def run_before(pilot: Any) -> None:
        await keys("6")(pilot)
        pilot.app.screen.query_one(TabbedContent).active = tab
        await settle(pilot)
    assert snap_compare(make_app(sqlite_demo, lang="vi"), terminal_size=size,
                        run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_request_detail(snap_compare: Any, sqlite_demo: Any, make_app: Any,
                        size: tuple[int, int]) -> None:
    with sqlite_demo.read() as session:
        newest = session.scalar(select(ServiceRequest.id).order_by(ServiceRequest.created_at.desc(),
                                                                   ServiceRequest.id.desc()))
    assert newest is not None

    async def run_before(pilot: Any) -> None:
        await keys("6")(pilot)
        pilot.app.screen.query_one("#requests").focus()
        await pilot.press("enter")  # the newest request is the first row
        await settle(pilot)
    assert snap_compare(make_app(sqlite_demo, lang="vi"), terminal_size=size,
                        run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_issue_form(snap_compare: Any, sqlite_demo: Any, make_app: Any,
                    size: tuple[int, int]) -> None:
    serial = first_serial(sqlite_demo, "in_stock")

    async def run_before(pilot: Any) -> None:
        await keys("2")(pilot)
        await pilot.press("slash", *serial, "enter")
        await settle(pilot)
        await pilot.press("i", *"tran")
        await settle(pilot)
    assert snap_compare(make_app(sqlite_demo, lang="vi"), terminal_size=size,
                        run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_refused_move_at_the_key(snap_compare: Any, sqlite_demo: Any, make_app: Any,
                                 size: tuple[int, int]) -> None:
    serial = first_serial(sqlite_demo, "in_stock")

    async def run_before(pilot: Any) -> None:
        await keys("2")(pilot)
        await pilot.press("slash", *serial, "escape", "m")  # mark locked: only when issued
        await settle(pilot)
    assert snap_compare(make_app(sqlite_demo, lang="vi"), terminal_size=size,
                        run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_agency_picker(snap_compare: Any, sqlite_demo: Any, make_app: Any,
                       size: tuple[int, int]) -> None:
    async def run_before(pilot: Any) -> None:
        await keys("2")(pilot)
        await pilot.click("#agency-filter")
        await settle(pilot)
        await pilot.press(*"so y")
        await settle(pilot)
    assert snap_compare(make_app(sqlite_demo, lang="vi"), terminal_size=size,
                        run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_help(snap_compare: Any, sqlite_demo: Any, make_app: Any, size: tuple[int, int]) -> None:
    assert snap_compare(make_app(sqlite_demo, lang="vi"), terminal_size=size,
                        run_before=keys("question_mark"))
