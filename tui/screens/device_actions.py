"""What the devices table and the detail screen share: action keys, the menu, the forms."""

from __future__ import annotations

from textual.binding import Binding

from ..actions import ACTION_KEYS, offered_actions
from ..context import ctx
from .action_form import ActionForm, DeviceTarget
from .action_menu import ActionMenu

ACTION_BINDINGS = [
    Binding("a", "action_menu", "nav.actions", tooltip="tip.actions", id="actions"),
    *(Binding(key, f"device_action('{name}')", f"device_action.{name}", show=False, id=name)
      for name, key in ACTION_KEYS.items()),
]


class DeviceActions:
    """Mixed into a screen that has a selected device (``current_target``)."""

    def current_target(self) -> DeviceTarget | None:
        raise NotImplementedError

    def after_action(self, result: str) -> None:
        """Refresh what the action changed (the row, the detail)."""

    def action_action_menu(self) -> None:
        target = self.current_target()
        if target is None:
            return
        actions = offered_actions(target.status, target.holder_id is not None)
        self.app.push_screen(  # type: ignore[attr-defined]
            ActionMenu(target.serial, actions),
            lambda chosen: self.action_device_action(chosen) if chosen else None)

    def action_device_action(self, name: str) -> None:
        """Open the form even for a move the state machine refuses: the refusal shows there."""
        target = self.current_target()
        if target is None:
            return
        if name == "edit_holder" and target.holder_id is None:
            self.app.notify(ctx(self).labels("form.no_holder"),  # type: ignore[attr-defined,arg-type]
                            severity="warning")
            return
        self.app.push_screen(ActionForm(name, target),  # type: ignore[attr-defined]
                             lambda result: self.after_action(result) if result else None)
