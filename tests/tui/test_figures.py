"""One source per number, current on every screen (issue 14, "Numbers that disagree").

Changes come from where they come from in real life: another process (``other_process``), the
CLI (``tokenfleet``, in-process but with its own register connection) and the alert job. No
screen needs F5 to be right, and a screen out of sight is right when you come back to it.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select
from textual.widgets import TabbedContent

from inventory.fleet import lifecycle
from inventory.register.db import Register
from inventory.register.models import Device, UnlockCase
from tests.conftest import FIXED_NOW, Tokenfleet
from tui.app import TokenfleetApp
from tui.screens.dashboard import DashboardScreen
from tui.screens.desk import DeskScreen
from tui.widgets.device_table import DeviceTable

from .conftest import settle, until


def figure(screen: Any, figure_id: str) -> int | None:
    """The number a dashboard figure shows (None while it is being counted)."""
    text = str(screen.query_one(f"#{figure_id}").render()).split("\n", 1)[0]
    digits = re.sub(r"[^0-9]", "", text)
    return int(digits) if digits else None


def locked_count(register: Register) -> int:
    with register.read() as session:
        return int(session.scalar(select(func.count()).select_from(Device)
                                  .where(Device.status == "locked")) or 0)


def a_serial(register: Register, status: str) -> str:
    with register.read() as session:
        return str(session.scalars(select(Device.serial).where(Device.status == status)
                                   .order_by(Device.id)).first())


async def test_the_dashboard_is_current_when_you_come_back_to_it(
        demo_register: Register, other_process: Register,
        make_app: Callable[..., TokenfleetApp]) -> None:
    """Issue 14: lock a device while on screen 2, press 1 — the dashboard showed the old count
    until F5. Failed before: the locked figure kept its old value."""
    serial = a_serial(demo_register, "issued")
    app = make_app(demo_register)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        before = figure(app.screen, "fig-locked")
        assert before == locked_count(demo_register)
        await pilot.press("2")
        await settle(pilot)
        table = app.screen.query_one(DeviceTable)
        with other_process.session() as session:
            device = session.scalars(select(Device).where(Device.serial == serial)).one()
            lifecycle.lock(session, device, actor="other-desk")
        assert await until(pilot, lambda: table.total is not None)  # the change has arrived
        await pilot.press("1")
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
        assert await until(pilot, lambda: figure(app.screen, "fig-locked") == before + 1)


async def test_a_cli_unlock_reaches_the_dashboard_out_of_sight(
        demo_register: Register, tokenfleet: Tokenfleet,
        make_app: Callable[..., TokenfleetApp]) -> None:
    """Issue 14: a CLI unlock made meanwhile never appeared on the dashboard. Failed before."""
    serial = a_serial(demo_register, "locked")
    url = demo_register.engine.url.render_as_string(hide_password=False)
    app = make_app(demo_register)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        before = figure(app.screen, "fig-locked")
        assert before is not None
        await pilot.press("6")
        await settle(pilot)
        code, _, err = tokenfleet("--db", url, "device", "unlock", serial)
        assert code == 0, err
        dashboard = next(s for s in app.all_screens() if isinstance(s, DashboardScreen))
        # refreshed while out of sight, not only when shown again
        assert await until(pilot, lambda: figure(dashboard, "fig-locked") == before - 1)


async def test_the_desk_alerts_tab_learns_of_a_cron_alerts_run(
        demo_register: Register, tokenfleet: Tokenfleet,
        make_app: Callable[..., TokenfleetApp]) -> None:
    """Issue 14: the Alerts tab still said "The alert job has never run" after ``alerts run``
    sent thousands of alerts. Failed before: the run left no change for the screens to see."""
    url = demo_register.engine.url.render_as_string(hide_password=False)
    app = make_app(demo_register)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.press("6")
        await settle(pilot)
        pilot.app.screen.query_one("#desk-tabs", TabbedContent).active = "tab-alerts"
        await settle(pilot)
        heartbeat = app.screen.query_one("#alerts-run")
        assert "never run" in str(heartbeat.render())
        code, _, err = tokenfleet("--db", url, "alerts", "run", "--channel", "jsonl",
                                  "--now", FIXED_NOW.isoformat())
        assert code in (10, 0), err  # sent (10) or nothing to send (0)
        assert await until(pilot, lambda: "never run" not in str(heartbeat.render()))


async def test_f5_on_the_desk_rereads_every_pane(
        demo_register: Register, tokenfleet: Tokenfleet,
        make_app: Callable[..., TokenfleetApp]) -> None:
    """Issue 14: F5 did nothing on the desk. Failed before (no change watcher here)."""
    url = demo_register.engine.url.render_as_string(hide_password=False)
    app = make_app(demo_register, watch_changes=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.press("6")
        await settle(pilot)
        assert isinstance(app.screen, DeskScreen)
        heartbeat = app.screen.query_one("#alerts-run")
        code, _, err = tokenfleet("--db", url, "alerts", "run", "--channel", "jsonl",
                                  "--now", FIXED_NOW.isoformat())
        assert code in (10, 0), err
        await settle(pilot)
        assert "never run" in str(heartbeat.render())
        await pilot.press("f5")
        await settle(pilot)
        assert "never run" not in str(heartbeat.render())


async def test_open_unlock_cases_on_the_desk_equal_the_locked_devices(
        demo_register: Register, make_app: Callable[..., TokenfleetApp]) -> None:
    """Issue 14: reporting a locked device lost left its case open — the Desk said 604 open
    cases while 603 devices were locked. Failed before: one more open case than locked."""
    serial = a_serial(demo_register, "locked")
    app = make_app(demo_register, lang="vi")
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("slash", *serial, "enter")
        await settle(pilot)
        await pilot.press("l", *"mất khi đi công tác", "enter")
        await settle(pilot)
        await pilot.press("y")  # the confirmation: reporting lost cannot be undone
        await settle(pilot)
        await pilot.press("6")
        await settle(pilot)
        app.screen.query_one("#desk-tabs", TabbedContent).active = "tab-unlock"
        await settle(pilot)
        figures = str(app.screen.query_one("#unlock-figures").render())
        locked = locked_count(demo_register)
        with demo_register.read() as session:
            still_open = session.scalar(select(func.count()).select_from(UnlockCase)
                                        .where(UnlockCase.closed_at.is_(None)))
        assert still_open == locked
        assert f"Vụ việc đang mở: {locked}" in figures
        await pilot.press("1")
        await settle(pilot)
        assert figure(app.screen, "fig-locked") == locked


async def test_the_dashboard_fills_in_without_waiting_for_its_slowest_figure(
        sqlite_demo: Register, make_app: Callable[..., TokenfleetApp],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 14: every figure waited for the slowest one (3.8 s at 1M; 20 s cold). Each figure
    is read on its own now and shows when it arrives. Failed before: with one figure held
    back, the screen showed none of the later ones."""
    from inventory.services import dashboard

    gate = threading.Event()
    slow = dashboard.not_seen_count

    def held_back(*args: Any, **kwargs: Any) -> Any:
        gate.wait(20)
        return slow(*args, **kwargs)

    monkeypatch.setattr(dashboard, "not_seen_count", held_back)
    app = make_app(sqlite_demo)
    try:
        async with app.run_test(size=(160, 45)) as pilot:
            screen = app.screen
            assert await until(pilot, lambda: figure(screen, "fig-expiring-30") is not None
                               and figure(screen, "fig-month-device-issue") is not None)
            assert figure(screen, "fig-not-seen") is None  # still being counted
            gate.set()
            assert await until(pilot, lambda: figure(screen, "fig-not-seen") is not None)
    finally:
        gate.set()
