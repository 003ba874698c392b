"""Keys never drop: keys typed while a screen or field is being switched wait, then go on in
order to the field that opens.

A barcode scanner (or a fast typist) sends ``/5400000000000018⏎`` in one burst. ``/`` switches
to the devices screen and moves the focus to its search box, but that takes a few messages, and
Textual hands every key to whatever has the focus *when the key is read* — so the digits went to
the dashboard (``5`` opened another screen) and the box stayed empty.

The app reads every key first (``TokenfleetApp.on_event``). A key bound to a *switching* action
— one a node lists in its ``SWITCHING_ACTIONS`` (open a screen, move the focus, open a device) —
makes the gate :meth:`KeyGate.hold` the keys after it; the code that finishes the switch calls
:meth:`KeyGate.release`, and the held keys are replayed through the normal path, in order, to
what now has the focus. A hold never outlives ``HOLD_SECONDS``: a switch that fails (an error
modal) cannot swallow the keyboard.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from textual import events
from textual.timer import Timer

if TYPE_CHECKING:
    from textual.app import App

HOLD_SECONDS = 5.0


def action_name(action: str) -> str:
    """``"switch_mode('devices')"`` → ``"switch_mode"``; ``"app.search"`` → ``"search"``."""
    return action.split("(", 1)[0].rsplit(".", 1)[-1]


def switching(app: App[Any], event: events.Key) -> bool:
    """Does this key start a switch (so the keys after it must wait for it)?"""
    focused = app.focused
    if focused is not None and focused.check_consume_key(event.key, event.character):
        return False  # typed into a field
    try:
        active = app.screen.active_bindings.get(event.key)
    except Exception:  # no screen yet (start-up): nothing to switch from
        return False
    if active is None or not active.enabled:
        return False
    return action_name(active.binding.action) in getattr(active.node, "SWITCHING_ACTIONS", ())


class KeyGate:
    """Holds keys while a switch is under way and replays them, in order, when it is done."""

    def __init__(self, app: App[Any], handle: Callable[[events.Key], Awaitable[None]]) -> None:
        self.app = app
        self.handle = handle  # the app's normal handling of one key
        self.waiting: deque[events.Key] = deque()
        self.holding = False
        self._replaying = False
        self._timer: Timer | None = None

    def takes(self, event: events.Key) -> bool:
        """Keep ``event`` if a switch is under way, or keys before it still wait (order)."""
        if self.holding or self.waiting or self._replaying:
            self.waiting.append(event)
            return True
        return False

    def hold(self) -> None:
        """Keys from now on wait for :meth:`release` (or ``HOLD_SECONDS``)."""
        self.holding = True
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.app.set_timer(HOLD_SECONDS, self.release, name="key-gate")

    def release(self) -> None:
        """The switch is done: the waiting keys go on to what has the focus now."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        was_holding, self.holding = self.holding, False
        if (was_holding or self.waiting) and not self._replaying:
            self.app.call_later(self._replay)

    async def _replay(self) -> None:
        if self._replaying:
            return
        self._replaying = True
        try:
            while self.waiting and not self.holding:
                await self.handle(self.waiting.popleft())
        finally:
            self._replaying = False
        if self.waiting and not self.holding:  # keys that came while the last one ran
            self.app.call_later(self._replay)
