"""One place where failures of background work become a readable message.

Every screen and widget that starts a worker mixes in :class:`ShowsWorkerErrors`: its single
``on_worker_state_changed`` handler opens the :class:`ErrorModal` with the error's heading and
message in the operator's language (``inventory.vocabulary``: a refusal that names its sentence
is said in Vietnamese too; anything else shows its own text). The modal
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
from .i18n import Labels
from .safe import plain

log = logging.getLogger(__name__)


def describe(error: BaseException, labels: Labels) -> tuple[str, str]:
    """(title, message) a person can act on."""
    if isinstance(error, TokenfleetError):
        return labels.error_title(error), labels.explain(error)
    return type(error).__name__, str(error) or repr(error)


class ErrorModal(ModalScreen[None]):
    BINDINGS = [Binding("escape", "dismiss", "Close", show=False)]  # noqa: RUF012

    def __init__(self, title: str, message: str) -> None:
        super().__init__()
        self.error_title, self.message = title, message

    def compose(self) -> ComposeResult:
        with Vertical(id="error-box", classes="modal-box"):
            yield Label(self.error_title, id="error-title", classes="modal-title")
            yield Static(plain(self.message), id="error-message", markup=False)
            yield Button(ctx(self).labels("error.close"), id="error-close", variant="error")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(None)


class ShowsWorkerErrors:
    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            if ctx(self).connect_error is not None:  # type: ignore[arg-type]
                return  # the register could not be opened: the app ends and says why, once
            log.error("worker %s failed", event.worker.name, exc_info=event.worker.error)
            title, message = describe(event.worker.error, ctx(self).labels)  # type: ignore[arg-type]
            app = self.app  # type: ignore[attr-defined]
            if isinstance(app.screen, ErrorModal) and app.screen.message == message:
                return  # two workers of one query failing for one reason: say it once
            app.push_screen(ErrorModal(title, message))
