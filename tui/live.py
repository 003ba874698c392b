"""Other desks' work on screen without pressing refresh: one change watcher for the whole app.

A long-lived thread worker blocks in ``inventory.register.changes.ChangeWatcher.wait`` (PostgreSQL
LISTEN/NOTIFY, or SQLite's audit-head check) and posts :class:`RegisterChanged`; the app hands
it to every open screen that has ``refresh_for_changes``. The worker stops when cancelled (the
app cancels it on exit) within one wait, and always closes the watcher's listener connection.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual.message import Message

if TYPE_CHECKING:  # imported when watching begins: the first frame is painted without them
    from inventory.register.changes import Changes
    from inventory.register.db import Register

log = logging.getLogger(__name__)

WAIT = 0.5  # seconds per wait: how long a cancelled watcher may take to notice
RETRY = 2.0  # seconds before a watcher that lost the database tries again


@dataclass
class RegisterChanged(Message):
    """Someone (this app, another TUI, a poller) changed the register."""

    changes: Changes


def watch_register(register: Register, post: Any, stop: threading.Event,
                   stopped: threading.Event, since: int | None = None) -> None:
    """Post a :class:`RegisterChanged` for every batch of changes until ``stop`` is set (the
    changes after ``since``, the trail's head when the first screen read the register;
    default: from now)."""
    from inventory.register.changes import ChangeWatcher

    watcher: ChangeWatcher | None = None
    seq: int | None = since
    try:
        while not stop.is_set():
            try:
                if watcher is None:
                    watcher = ChangeWatcher(register, since=seq)
                changes = watcher.wait(WAIT)
            except Exception as exc:  # the database went away: say so once per try, retry
                log.warning("change watcher: %s (retrying in %.0f s)", exc, RETRY)
                if watcher is not None:
                    seq = watcher.seq
                    watcher.close()
                    watcher = None
                stop.wait(RETRY)
                continue
            if changes is not None and not stop.is_set():
                post(RegisterChanged(changes))
    finally:
        if watcher is not None:
            watcher.close()
        stopped.set()


def merge_changes(earlier: Changes | None, later: Changes) -> Changes:
    """Two notices as one (a screen out of sight catches up on both in one read)."""
    if earlier is None:
        return later
    from inventory.register.changes import Changes

    return Changes(seq=max(earlier.seq, later.seq),
                   device_ids=earlier.device_ids | later.device_ids,
                   actions=earlier.actions | later.actions)
