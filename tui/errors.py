"""One place where failures of background work become a readable message.

Every screen and widget that starts a worker mixes in :class:`ShowsWorkerErrors`: its single
``on_worker_state_changed`` handler opens the :class:`ErrorModal` with the error's ``title`` (the
project's :class:`~inventory.register.errors.TokenfleetError` carries one) and message. The modal
lives here rather than in ``screens`` so that widgets can show errors without importing screens.
"""

from __future__ import annotations

import logging

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static
from textual.worker import Worker, WorkerState

from inventory.register.errors import TokenfleetError

from .context import ctx

log = logging.getLogger(__name__)


def describe(error: BaseException) -> tuple[str, str]:
    """(title, message) a person can act on."""
    if isinstance(error, TokenfleetError):
        return error.title, str(error)
    return type(error).__name__, str(error) or repr(error)


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


class ShowsWorkerErrors:
    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            log.error("worker %s failed", event.worker.name, exc_info=event.worker.error)
            title, message = describe(event.worker.error)
            app = self.app  # type: ignore[attr-defined]
            if isinstance(app.screen, ErrorModal) and app.screen.message == message:
                return  # two workers of one query failing for one reason: say it once
            app.push_screen(ErrorModal(title, message))
