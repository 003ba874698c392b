"""Confirmation before a move that cannot be undone (report lost, revoke, retire)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from ..context import ctx


class ConfirmModal(ModalScreen[bool]):
    BINDINGS = [  # noqa: RUF012
        Binding("escape", "answer(False)", "No", show=False),
        Binding("y", "answer(True)", "Yes", show=False),
        Binding("n", "answer(False)", "No", show=False),
    ]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        labels = ctx(self).labels
        with Vertical(id="confirm-box", classes="modal-box"):
            yield Label(labels("confirm.title"), classes="modal-title")
            yield Static(self.question, id="confirm-question", markup=False)
            with Horizontal(classes="buttons"):
                yield Button(labels("confirm.yes"), id="confirm-yes", variant="error")
                yield Button(labels("confirm.no"), id="confirm-no", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#confirm-no", Button).focus()

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "confirm-yes")
