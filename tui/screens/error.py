"""The error modal: a title and a message a person can act on."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from ..context import ctx


class ErrorModal(ModalScreen[None]):
    BINDINGS = [Binding("escape", "dismiss", "Close", show=False)]  # noqa: RUF012

    def __init__(self, title: str, message: str) -> None:
        super().__init__()
        self.error_title, self.message = title, message

    def compose(self) -> ComposeResult:
        with Vertical(id="error-box", classes="modal-box"):
            yield Label(self.error_title, id="error-title", classes="modal-title")
            yield Static(self.message, id="error-message", markup=False)
            yield Button(ctx(self).labels("error.close"), id="error-close", variant="error")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(None)
