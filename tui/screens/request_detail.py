"""One certification request: its steps, dossier and subscribers, and its whole workflow.

``a`` attaches dossier documents (a file picker, or "on paper"), ``s`` submits, ``c`` completes
with the CA's answer (typed in for one subscriber, imported from the CA's sheet for a batch),
``r``/``x`` reject and cancel. Everything goes through the service desk
(``inventory.services.desk``, as ``tokenfleet request …`` does; ``inventory.desk.requests`` is
the one place that moves a request and, on completion, its devices). A step the request's state
does not allow is refused when its key is pressed, naming the states it is allowed from; a
refusal of the core — a missing document, a device whose status forbids the move — is shown in
place, in the operator's language, and nothing changes.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
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
from .attach_document import AttachDocument, DossierChoice, PickLine
from .complete_request import CompleteRequest, Completion
from .confirm import ConfirmModal
from .file_picker import FilePicker

STEPS = desk.REQUEST_STEPS
ANSWER_SUFFIXES = (".xlsx", ".csv")


class RequestDetailModal(ShowsWorkerErrors, ModalScreen[str | None]):
    """Returns the result line of a step taken, or None when closed without one."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "nav.back", show=False),
        Binding("a", "attach", "request.attach", show=False),
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
                yield Button(t("request.attach"), id="request-attach")
                for step in STEPS:
                    yield Button(t(f"request_step.{step}"), id=f"request-{step}",
                                 variant="primary" if step == "submit" else "default")
                yield Button(t("form.cancel"), id="request-close")
            yield Static(t("request.keys"), classes="hint", markup=False)

    def on_mount(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="request-detail")
    def load(self) -> None:
        detail = desk.request_detail(ctx(self).register, self.request_id)
        self.app.call_from_thread(self._show, detail)

    def _show(self, detail: RequestDetail) -> None:
        t = ctx(self).labels
        first = self.detail is None
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
        for line in detail.dossier:
            text = f"  [{'x' if line.attached else ' '}] {t.document(detail.kind, line.key)}"
            if line.attached:
                text += f" — {Path(line.file).name}" if line.file else \
                    f" — {t('attach.on_paper')}"
            lines.append(text)
        lines += ["", t("request.subscribers", n=t.number(len(detail.subscribers)))]
        lines += [f"  {line.name}" for line in detail.subscribers]
        self.query_one("#request-summary", Static).update(plain("\n".join(lines)))
        self.query_one("#request-attach", Button).disabled = not detail.allows("attach")
        for step in STEPS:
            self.query_one(f"#request-{step}", Button).disabled = not detail.allows(step)
        if not isinstance(self.focused, Input):
            enabled = [b for b in self.query(Button) if not b.disabled]
            enabled[0].focus()  # the close button is always enabled
        if first:
            self.app.key_gate.release()  # type: ignore[attr-defined]

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        step = (event.button.id or "").removeprefix("request-")
        if step in STEPS:
            self.action_step(step)
        elif step == "attach":
            self.action_attach()
        else:
            self.action_close()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()

    def action_close(self) -> None:
        self.dismiss(self.result)

    def show_refusal(self, message: str) -> None:
        error = self.query_one("#form-error", Static)
        error.update(plain(message))
        error.add_class("shown")

    # ------------------------------------------------------------------ refused at the key
    def refusal(self, step: str) -> str | None:
        """Why ``step`` cannot be taken now (said before any form), or None."""
        d, t = self.detail, ctx(self).labels
        if d is None:
            return t("devices.loading")
        if not d.allows(step):  # the core's sentences, as its refusal would say them
            if step == "attach":
                return t.message("dossier_closed", {"id": d.id, "state": d.state})
            return t.message("request_step_refused", {
                "id": d.id, "state": d.state, "step": step, "allowed": d.allowed_from(step)})
        if step == "submit" and d.state == "draft":
            missing = d.missing_documents
            if missing:
                said = t.message("dossier_incomplete",
                                 {"id": d.id, "kind": d.kind, "missing": missing})
                return f"{said} {t('request.attach_hint')}"
        return None

    def action_step(self, step: str) -> None:
        if step not in STEPS:
            return
        why = self.refusal(step)
        if why is not None:
            self.show_refusal(why)
            return
        if step == "complete":
            self.complete()
            return
        self.take_step(step, self.query_one("#request-reason", Input).value.strip())

    # ------------------------------------------------------------------ the dossier
    def action_attach(self) -> None:
        why = self.refusal("attach")
        if why is not None:
            self.show_refusal(why)
            return
        assert self.detail is not None
        t = ctx(self).labels
        lines = [PickLine(line.key, t.document(self.detail.kind, line.key), line.attached,
                          line.file) for line in self.detail.dossier]

        def chosen(choice: DossierChoice | None) -> None:
            if choice is None:
                return
            if choice.how == "file":
                self.app.push_screen(
                    FilePicker(t("attach.pick", document=next(
                        line.label for line in lines if line.key == choice.key)),
                        ctx(self).reports_dir),
                    partial(self._attach_picked, choice.key))
            else:
                self.attach(choice.key, None, detach=choice.how == "detach")

        self.app.push_screen(AttachDocument(self.request_id, lines), chosen)

    def _attach_picked(self, key: str, path: Path | None) -> None:
        if path is not None:
            self.attach(key, path)

    @work(thread=True, exclusive=True, exit_on_error=False, group="request-step")
    def attach(self, key: str, path: Path | None, detach: bool = False) -> None:
        c = ctx(self)
        try:
            missing = len(desk.attach_documents(
                c.register, self.request_id, [key], actor=c.actor, detach=detach,
                file=str(path) if path else None).missing_documents)
        except TokenfleetError as err:
            self.app.call_from_thread(self.show_refusal, c.labels.explain(err))
            return
        message = c.labels("attach.done", id=self.request_id, n=c.labels.number(missing))
        self.app.call_from_thread(self._done, message)

    # ------------------------------------------------------------------ completing
    def complete(self) -> None:
        """One subscriber: the CA's answer typed in; a batch: the CA's sheet; a request that
        needs no answer (revocation, recovery, change): a confirmation."""
        d, t = self.detail, ctx(self).labels
        assert d is not None
        if d.kind not in desk.ANSWER_KINDS:
            question = t("complete.confirm", id=d.id, kind=t.inline("request_kind", d.kind),
                         n=t.number(len(d.subscribers)))
            self.app.push_screen(ConfirmModal(question), self._confirmed)
        elif len(d.subscribers) == 1:
            self.app.push_screen(CompleteRequest(d.id, d.kind, d.device_serial), self._answered)
        else:
            self.app.push_screen(FilePicker(t("desk.answer_title"), ctx(self).reports_dir,
                                            ANSWER_SUFFIXES),
                                 self._sheet_picked)

    def _confirmed(self, yes: bool | None) -> None:
        if yes:
            self.finish(None)

    def _answered(self, completion: Completion | None) -> None:
        if completion is not None:
            self.finish(completion)

    def _sheet_picked(self, path: Path | None) -> None:
        if path is not None:
            self.import_answer(path)

    @work(thread=True, exclusive=True, exit_on_error=False, group="request-step")
    def finish(self, completion: Completion | None) -> None:
        c = ctx(self)
        answer = completion.answer if completion is not None else None
        try:
            desk.complete_request(
                c.register, self.request_id, actor=c.actor,
                device_serial=answer.device_serial if answer else None,
                certificate=answer.certificate if answer else None,
                handover=completion.handover if completion else None)
        except TokenfleetError as err:
            self.app.call_from_thread(self.show_refusal, c.labels.explain(err))
            return
        self.app.call_from_thread(self._done, c.labels(
            "request.done", id=self.request_id, state=c.labels("request_state.completed")))

    @work(thread=True, exclusive=True, exit_on_error=False, group="request-step")
    def import_answer(self, path: Path) -> None:
        c = ctx(self)
        try:
            result = desk.import_answer(c.register, path, actor=c.actor)
        except TokenfleetError as err:
            self.app.call_from_thread(self.show_refusal, c.labels.explain(err))
            return
        self.app.call_from_thread(self._done, c.labels(
            "desk.answer_done", path=str(path), n=c.labels.number(result.subscribers),
            requests=", ".join(f"#{r}" for r in result.requests)))

    # ------------------------------------------------------------------ the other steps
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
