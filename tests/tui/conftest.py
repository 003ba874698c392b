"""TUI test helpers: an app on a register with the fixed clock, and a way to wait for it.

``settle`` waits until every worker is done and the screen has processed what they posted, so
tests never sleep for a fixed time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.worker import WorkerCancelled

from inventory.demo import city as demo
from inventory.register.db import Register
from tests.conftest import FIXED_NOW
from tui.app import TokenfleetApp

DEADLINE = 30.0  # seconds: generous; the UI should show a change within about one

ACTOR = "tester"
LIFELONG_WORKERS = ("changes", "_loader")


async def settle(pilot: Pilot[Any], rounds: int = 4) -> None:
    """Let timers fire, workers finish and their results reach the widgets."""
    for _ in range(rounds):
        await pilot.pause()
        # the change watcher runs for the app's lifetime, a DirectoryTree's loader for the
        # tree's: wait for everything else (an empty list would mean "all" to wait_for_complete)
        others = [w for w in pilot.app.workers if w.group not in LIFELONG_WORKERS]
        if others:
            try:
                await pilot.app.workers.wait_for_complete(others)
            except WorkerCancelled:  # an exclusive worker replaced by a newer one: wait again
                continue
    await pilot.pause()


REPORTS_DIR = Path("/srv/tokenfleet/bao-cao")  # shown on the report form (snapshots)


@pytest.fixture
def make_app(tmp_path: Path) -> Callable[..., TokenfleetApp]:
    def factory(register: Register, **kwargs: Any) -> TokenfleetApp:
        kwargs.setdefault("actor", ACTOR)
        kwargs.setdefault("now", FIXED_NOW)
        kwargs.setdefault("search_debounce", 0)
        kwargs.setdefault("poller_factory", lambda: IdlePoller())
        kwargs.setdefault("views_path", tmp_path / "views.json")
        kwargs.setdefault("reports_dir", REPORTS_DIR)
        return TokenfleetApp(register, **kwargs)
    return factory


class IdlePoller:
    """A poller that sees nothing (the readers screen has its own tests with real events)."""

    def watch(self, stop: Any) -> Iterator[Any]:
        return iter(())


@pytest.fixture
def sqlite_demo(sqlite_url: str) -> Iterator[Register]:
    """The demo city on SQLite only (snapshots, and screens where the backend does not matter)."""
    reg = Register.open(sqlite_url)
    with reg.session() as session:
        demo.generate(session.connection(), devices=300, seed=7, now=FIXED_NOW)
    yield reg
    reg.dispose()


@pytest.fixture
def other_process(demo_register: Register) -> Iterator[Register]:
    """The same register opened again, as another process would (another PC, or another TUI)."""
    other = Register.open(demo_register.engine.url.render_as_string(hide_password=False))
    yield other
    other.dispose()


async def until(pilot: Any, condition: Callable[[], bool]) -> bool:
    """Whether ``condition`` came true within ``DEADLINE`` (the app keeps running meanwhile)."""
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        if condition():
            return True
        await pilot.pause(0.1)
    return condition()
