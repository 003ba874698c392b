"""The start screen's first reads, done by a forked reader while the interface is built
(``tui.early``): the screen shows its answers, nothing changed meanwhile is lost (the change
watcher starts from the trail's head as the reader found it), a read it could not answer is
read by the screen itself, and ``tokenfleet tui`` that cannot connect ends with one line and its
exit code."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from inventory.fleet import lifecycle
from inventory.fleet.listing import DeviceFilter
from inventory.register.db import Register
from inventory.register.models import Device
from inventory.services.dashboard import status_and_kind_counts
from inventory.services.devices import count_devices, device_page
from tui import early
from tui.app import TokenfleetApp
from tui.widgets.device_table import DeviceTable

from ..conftest import FIXED_NOW
from .conftest import settle, until
from .test_figures import a_serial, figure


def opener(register: Register) -> Callable[[], Register]:
    """How the reader opens the register: afresh, as the forked process of ``tokenfleet tui``."""
    url = register.engine.url.render_as_string(hide_password=False)
    return lambda: Register.open(url, auto_upgrade=False, create=False)


async def test_a_change_between_the_early_read_and_the_first_screen_reaches_it(
        demo_register: Register, make_app: Callable[..., TokenfleetApp]) -> None:
    counts = status_and_kind_counts(demo_register)
    first = early.begin(opener(demo_register), "dashboard", now=FIXED_NOW)
    assert first is not None and first.first.wait(60)  # the counts are in
    serial = a_serial(demo_register, "issued")
    with demo_register.session() as session:  # after the read, before the screen
        device = session.scalars(select(Device).where(Device.serial == serial)).one()
        lifecycle.lock(session, device, actor="other-desk")
    app = make_app(demo_register, start="dashboard", early=first)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        assert first.take("counts") is None  # the screen took it
        locked = counts.by_status.get("locked", 0)
        assert await until(pilot, lambda: figure(app.screen, "fig-status-locked") == locked + 1)


async def test_the_devices_list_opens_on_the_early_page_and_count(
        demo_register: Register, make_app: Callable[..., TokenfleetApp]) -> None:
    page = device_page(demo_register, DeviceFilter(), limit=early.WINDOW)
    total = count_devices(demo_register, DeviceFilter())
    first = early.begin(opener(demo_register), "devices")
    assert first is not None
    app = make_app(demo_register, start="devices", early=first)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(DeviceTable)
        assert await until(pilot, lambda: table.total == total)
        assert [r.id for r in table.rows_shown] == [r.id for r in page.rows]
        assert first.take("first-page") is None and first.take("count") is None


async def test_what_the_reader_could_not_answer_the_screen_reads_itself(
        demo_register: Register, make_app: Callable[..., TokenfleetApp], tmp_path: Path) -> None:
    def cannot_open() -> Register:
        raise RuntimeError("no register here")

    counts = status_and_kind_counts(demo_register)
    first = early.begin(cannot_open, "dashboard")
    assert first is not None
    app = make_app(demo_register, start="dashboard", early=first)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        assert await until(pilot, lambda: figure(app.screen, "fig-status-issued")
                           == counts.by_status["issued"])


def test_a_screen_without_early_reads_begins_none(demo_register: Register) -> None:
    assert early.begin(opener(demo_register), "desk") is None


def test_tui_that_cannot_connect_ends_with_one_line_and_its_exit_code(
        demo_register: Register, tmp_path: Path) -> None:
    """The app is up before the register is opened: a refused claim still ends it with the
    CLI's one line and exit code (77), no traceback."""
    url = demo_register.engine.url.render_as_string(hide_password=False)
    env = {**os.environ, "TOKENFLEET_DATABASE_URL": url, "TERM": "xterm-256color",
           "HOME": str(tmp_path)}
    done = subprocess.run([str(Path(sys.executable).with_name("tokenfleet")), "--actor",
                           "somebody-else", "tui"], env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 77, done.stderr[-2000:]
    assert done.stderr.rstrip().endswith("--actor somebody-else is not you")
    assert "Traceback" not in done.stderr
