"""What the devices table and the detail screen share: action keys, the menu, the forms.

A move the device's state does not allow is refused when its key is pressed — before any form
or confirmation — naming the states it is allowed from (``tui.actions.refusal``); the core
checks again when the move is made (someone may have moved the device meanwhile).
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual.binding import Binding

from ..actions import ACTION_KEYS, DeviceTarget, offered_actions, refusal
from ..context import ctx
from .action_menu import ActionMenu

ACTION_BINDINGS = [
    Binding("a", "action_menu", "nav.actions", tooltip="tip.actions", id="actions"),
    *(Binding(key, f"device_action('{name}')", f"device_action.{name}", show=False, id=name)
      for name, key in ACTION_KEYS.items()),
]


class DeviceActions:
    """Mixed into a screen that has a selected device (``current_target``)."""

    SWITCHING_ACTIONS: ClassVar[frozenset[str]] = frozenset({"device_action", "action_menu"})
    app: Any

    def current_target(self) -> DeviceTarget | None:
        raise NotImplementedError

    def after_action(self, result: str) -> None:
        """Refresh what the action changed (the row, the detail)."""

    def action_action_menu(self) -> None:
        target = self.current_target()
        if target is None:
            self.app.key_gate.release()
            return
        actions = offered_actions(target.status, target.holder_id is not None)
        self.app.push_screen(
            ActionMenu(target.serial, actions),
            lambda chosen: self.action_device_action(chosen) if chosen else None)

    def action_device_action(self, name: str) -> None:
        """Refused at the key if the device's state does not allow it; else the form."""
        target = self.current_target()
        if target is None:
            self.app.key_gate.release()
            return
        labels = ctx(self.app).labels
        why = refusal(name, target.serial, target.status, target.holder_id is not None, labels)
        if why is not None:
            self.app.notify(why, title=labels("refused.title"), severity="error")
            self.app.key_gate.release()
            return
        from .action_form import ActionForm  # its services: imported when a form first opens

        self.app.push_screen(ActionForm(name, target),
                             lambda result: self.after_action(result) if result else None)
