"""SVG snapshots of the main screens on the demo register (seed 7, fixed clock), SQLite only.

Update after an intended change: ``pytest tests/tui/test_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from inventory.register.models import Device

from .conftest import settle

SIZE = (160, 45)


def first_serial(register: Any, status: str) -> str:
    with register.read() as session:
        return session.scalars(select(Device.serial).where(Device.status == status)
                               .order_by(Device.id)).first()


def test_dashboard(snap_compare, sqlite_demo, make_app):
    assert snap_compare(make_app(sqlite_demo), terminal_size=SIZE, run_before=settle)


def test_devices(snap_compare, sqlite_demo, make_app):
    async def run_before(pilot: Any) -> None:
        await pilot.press("2")
        await settle(pilot)
    assert snap_compare(make_app(sqlite_demo), terminal_size=SIZE, run_before=run_before)


def test_devices_search_vietnamese(snap_compare, sqlite_demo, make_app):
    async def run_before(pilot: Any) -> None:
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("slash", *"tran thi")
        await settle(pilot)
    assert snap_compare(make_app(sqlite_demo, lang="vi"), terminal_size=SIZE,
                        run_before=run_before)


def test_device_detail(snap_compare, sqlite_demo, make_app):
    serial = first_serial(sqlite_demo, "locked")

    async def run_before(pilot: Any) -> None:
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("slash", *serial, "escape", "enter")
        await settle(pilot)
    assert snap_compare(make_app(sqlite_demo), terminal_size=SIZE, run_before=run_before)


def test_holders_and_agencies(snap_compare, sqlite_demo, make_app):
    async def run_before(pilot: Any) -> None:
        await pilot.press("3")
        await settle(pilot)
        await pilot.press("slash", *"nguyen van")
        await settle(pilot)
    assert snap_compare(make_app(sqlite_demo), terminal_size=SIZE, run_before=run_before)


def test_refused_move_in_a_form(snap_compare, sqlite_demo, make_app):
    serial = first_serial(sqlite_demo, "in_stock")

    async def run_before(pilot: Any) -> None:
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("slash", *serial, "escape", "k", *"brought to the desk", "enter")
        await settle(pilot)
    assert snap_compare(make_app(sqlite_demo), terminal_size=SIZE, run_before=run_before)
