"""The start screen's first read, begun before the interface is built.

``tokenfleet tui`` spends most of its first second importing Textual and laying out the screen,
while the register could already be answering (SQLite and PostgreSQL do their work outside
Python's lock). So the CLI starts the start screen's first read — the dashboard's counts by
status and kind, the devices list's first page — in a thread as soon as the register is open,
before importing Textual; the screen takes that answer instead of asking again. Nothing is
missed meanwhile: the head of the audit trail is read just before, and the change watcher starts
from it, so a change made between the read and the first screen reaches the screen like any
other.

No Textual here: this module is imported before it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, TypeGuard

from inventory.fleet.queries import DeviceFilter, Page
from inventory.register.changes import ChangeWatcher
from inventory.register.db import Register
from inventory.services import dashboard as figures
from inventory.services.devices import device_page

WINDOW = 60  # rows the devices table holds: a tall terminal shows about 40


def first_page(register: Register) -> Page:
    """The devices list as it opens: no filter, in id order."""
    return device_page(register, DeviceFilter(), limit=WINDOW)


READS: dict[str, tuple[str, Callable[[Register], Any]]] = {
    "dashboard": ("counts", figures.status_and_kind_counts),
    "devices": ("first-page", first_page),
}
"""Per start screen: the name its screen takes it under, and the read."""


@dataclass
class EarlyRead:
    name: str
    since: Future[int] = field(default_factory=Future)  # the trail's head before the read
    value: Future[Any] | None = field(default_factory=Future)  # None once taken


def begin(register: Register, start: str) -> EarlyRead | None:
    """Start the ``start`` screen's first read in a thread (None if it has none)."""
    if start not in READS:
        return None
    name, read = READS[start]
    early = EarlyRead(name)

    value = early.value
    assert value is not None

    def run() -> None:
        try:
            early.since.set_result(ChangeWatcher.head_of(register))
        except BaseException as exc:  # the watcher starts from now, and says what went wrong
            early.since.set_exception(exc)
        try:
            value.set_result(read(register))
        except BaseException as exc:  # raised where the screen takes it, shown like its own
            value.set_exception(exc)

    threading.Thread(target=run, name=f"early {name}", daemon=True).start()
    return early


def answered(value: Future[Any] | None) -> TypeGuard[Future[Any]]:
    """Whether an early read's answer is in (and not an error): the screen shows it at once,
    in its first frame; otherwise its worker waits for it (an error is shown as its own)."""
    return value is not None and value.done() and value.exception() is None
