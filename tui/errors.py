"""One place where failures of background work become a readable message.

Every screen and widget that starts a worker mixes in :class:`ShowsWorkerErrors`: its single
``on_worker_state_changed`` handler opens the error modal with the error's ``title`` (the
project's :class:`~inventory.register.errors.TokenfleetError` carries one) and message.
"""

from __future__ import annotations

import logging

from textual.worker import Worker, WorkerState

from inventory.register.errors import TokenfleetError

log = logging.getLogger(__name__)


def describe(error: BaseException) -> tuple[str, str]:
    """(title, message) a person can act on."""
    if isinstance(error, TokenfleetError):
        return error.title, str(error)
    return type(error).__name__, str(error) or repr(error)


class ShowsWorkerErrors:
    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            from .screens.error import ErrorModal

            log.error("worker %s failed", event.worker.name, exc_info=event.worker.error)
            title, message = describe(event.worker.error)
            app = self.app  # type: ignore[attr-defined]
            if isinstance(app.screen, ErrorModal) and app.screen.message == message:
                return  # two workers of one query failing for one reason: say it once
            app.push_screen(ErrorModal(title, message))
