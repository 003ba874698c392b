"""A menu of the actions allowed for the selected device (``a``)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from ..actions import ACTION_KEYS
from ..context import ctx
from ..safe import cell


class ActionMenu(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "dismiss(None)", "Close", show=False)]  # noqa: RUF012

    def __init__(self, serial: str, actions: list[str]) -> None:
        super().__init__()
        self.serial, self.actions = serial, actions

    def compose(self) -> ComposeResult:
        t = ctx(self).labels
        with Vertical(id="menu-box", classes="modal-box"):
            yield Label(cell(f"{t('nav.actions')} — {self.serial}"), classes="modal-title")
            yield OptionList(*(Option(cell(f"[{ACTION_KEYS[a]}] {t(f'device_action.{a}')}"), id=a)
                               for a in self.actions), id="action-options")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)
