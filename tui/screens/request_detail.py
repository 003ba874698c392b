"""One certification request: its steps, dossier and subscribers, and its workflow actions.

The request is read, and submit, complete, reject and cancel are taken, through the service desk
(``inventory.services.desk``, as ``tokenfleet request show|submit|complete|reject|cancel`` do;
``inventory.desk.requests`` is the one place that moves a request and, on completion, its
devices). A refusal — a missing dossier document, a device whose status forbids the move — is
shown in place; the transaction is rolled back, nothing changes.
"""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from inventory.register.errors import TokenfleetError
from inventory.services import desk
from inventory.services.desk import RequestDetail

from ..bindings import localise_bindings
from ..context import ctx
from ..errors import ShowsWorkerErrors
from ..safe import plain

STEPS = desk.REQUEST_STEPS


class RequestDetailModal(ShowsWorkerErrors, ModalScreen[str | None]):
    """Returns the result line of a step taken, or None when closed without one."""

    BINDINGS = [  # noqa: RUF012
        Binding("escape", "close", "nav.back", show=False),
        Binding("s", "step('submit')", "request_step.submit", show=False),
        Binding("c", "step('complete')", "request_step.complete", show=False),
        Binding("r", "step('reject')", "request_step.reject", show=False),
        Binding("x", "step('cancel')", "request_step.cancel", show=False),
    ]

    AUTO_FOCUS = None  # the step keys must not land in the reason box: focus goes to a button

    def __init__(self, request_id: int) -> None:
        super().__init__()
        self.request_id = request_id
        self.detail: RequestDetail | None = None
        self.result: str | None = None

    def compose(self) -> ComposeResult:
        localise_bindings(self, ctx(self).labels)
        t = ctx(self).labels
        with VerticalScroll(id="request-box", classes="modal-box"):
            yield Label(t("request.title", id=self.request_id), classes="modal-title")
            yield Static("", id="request-summary", markup=False)
            yield Label(t("request.reason"), classes="field-label")
            yield Input(id="request-reason")
            yield Static("", id="form-error", markup=False)
            with Horizontal(classes="buttons"):
                for step in STEPS:
                    yield Button(t(f"request_step.{step}"), id=f"request-{step}",
                                 variant="primary" if step == "submit" else "default")
                yield Button(t("form.cancel"), id="request-close")

    def on_mount(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="request-detail")
    def load(self) -> None:
        detail = desk.request_detail(ctx(self).register, self.request_id)
        self.app.call_from_thread(self._show, detail)

    def _show(self, detail: RequestDetail) -> None:
        t = ctx(self).labels
        self.detail = detail
        lines = [f"{t('col.request_kind')}: {t(f'request_kind.{detail.kind}')}",
                 f"{t('col.state')}: {t(f'request_state.{detail.state}')}",
                 f"{t('col.agency')}: {detail.agency_code} · {detail.agency_name}",
                 f"{t('col.external_ref')}: {detail.external_ref or '—'}", "",
                 t("request.steps")]
        for step, who, when in detail.history:
            lines.append(f"  {t(f'request.step_{step}')}: {t.datetime(when)} · {who}")
        if detail.close_reason:
            lines.append(f"  {t('request.reason')}: {detail.close_reason}")
        lines += ["", t("request.dossier")]
        lines += [f"  [{'x' if d.attached else ' '}] {t.document(detail.kind, d.key)}"
                  for d in detail.dossier]
        lines += ["", t("request.subscribers", n=len(detail.subscribers))]
        lines += [f"  {line.name}" for line in detail.subscribers]
        self.query_one("#request-summary", Static).update(plain("\n".join(lines)))
        for step in STEPS:
            self.query_one(f"#request-{step}", Button).disabled = not detail.allows(step)
        if not isinstance(self.focused, Input):
            enabled = [b for b in self.query(Button) if not b.disabled]
            enabled[0].focus()  # the close button is always enabled

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        step = (event.button.id or "").removeprefix("request-")
        if step in STEPS:
            self.action_step(step)
        else:
            self.action_close()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()

    def action_close(self) -> None:
        self.dismiss(self.result)

    def action_step(self, step: str) -> None:
        if step in STEPS:
            self.take_step(step, self.query_one("#request-reason", Input).value.strip())

    def show_refusal(self, message: str) -> None:
        error = self.query_one("#form-error", Static)
        error.update(plain(message))
        error.add_class("shown")

    @work(thread=True, exclusive=True, exit_on_error=False, group="request-step")
    def take_step(self, step: str, reason: str) -> None:
        c = ctx(self)
        try:
            state = desk.request_step(c.register, self.request_id, step, actor=c.actor,
                                      reason=reason).state
        except TokenfleetError as err:
            self.app.call_from_thread(self.show_refusal, c.labels.explain(err))
            return
        message = c.labels("request.done", id=self.request_id,
                           state=c.labels(f"request_state.{state}"))
        self.app.call_from_thread(self._done, message)

    def _done(self, message: str) -> None:
        self.result = message
        self.query_one("#form-error", Static).remove_class("shown")
        self.app.notify(plain(message), markup=False)
        self.load()
