"""The CA's answer to a request of one subscriber, typed in: the device handed over (issuance),
the new certificate (issuance, renewal) and how the device goes to its holder.

Returns the answer and handover plan; the request's modal completes the request with them
(``inventory.desk.requests.complete``), so every line is checked by the core before anything
moves. A batch is completed from the CA's answer sheet instead (``i``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from inventory.fleet.lifecycle import CertificateData
from inventory.register import dates
from inventory.register.errors import ValidationError
from inventory.register.models import HANDOVER_METHODS
from inventory.services.desk import Answer, HandoverPlan

from ..context import ctx


@dataclass(frozen=True)
class Completion:
    answer: Answer | None
    handover: HandoverPlan


class CompleteRequest(ModalScreen[Completion | None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(None)", "nav.back", show=False)]

    def __init__(self, request_id: int, kind: str, device_serial: str | None = None) -> None:
        super().__init__()
        self.request_id, self.kind, self.device_serial = request_id, kind, device_serial

    @property
    def issuance(self) -> bool:
        return self.kind == "new_issuance"

    def compose(self) -> ComposeResult:
        t = ctx(self).labels
        with VerticalScroll(id="complete-box", classes="modal-box"):
            yield Label(t("complete.title", id=self.request_id,
                          kind=t(f"request_kind.{self.kind}")), classes="modal-title")
            if self.issuance:
                yield from self._field("complete.device_serial", "device-serial",
                                       self.device_serial or "")
            yield from self._field("form.cert_serial", "cert-serial")
            yield from self._field("form.not_before", "not-before")
            yield from self._field("form.not_after", "not-after")
            if self.issuance:
                yield Label(t("form.method"), classes="field-label")
                yield Select([(t(f"handover_method.{m}"), m) for m in HANDOVER_METHODS],
                             id="method", value="in_person", allow_blank=False)
                yield from self._field("form.tracking", "tracking")
            yield Static("", id="form-error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button(t("request_step.complete"), id="complete-submit", variant="primary")
                yield Button(t("form.cancel"), id="complete-cancel")

    def _field(self, key: str, field_id: str, value: str = "") -> ComposeResult:
        yield Label(ctx(self).labels(key), classes="field-label")
        yield Input(value=value, id=field_id)

    def on_mount(self) -> None:
        self.query(Input).first().focus()
        self.app.key_gate.release()  # type: ignore[attr-defined]

    def _value(self, field_id: str) -> str:
        return self.query_one(f"#{field_id}", Input).value.strip()

    def _required(self, field_id: str, key: str) -> str:
        t = ctx(self).labels
        value = self._value(field_id)
        if not value:
            raise ValidationError(t("form.need_value", field=t(key)))
        return value

    def _date(self, field_id: str, key: str) -> Any:
        t = ctx(self).labels
        value = self._required(field_id, key)
        try:
            return dates.parse_date(value)
        except ValidationError:
            raise ValidationError(t("form.bad_date", field=t(key), value=value)) from None

    def collect(self) -> Completion:
        cert = CertificateData(serial=self._required("cert-serial", "form.cert_serial"),
                               not_before=self._date("not-before", "form.not_before"),
                               not_after=self._date("not-after", "form.not_after"))
        device = self._required("device-serial", "complete.device_serial") \
            if self.issuance else None
        method = str(self.query_one("#method", Select).value) if self.issuance else "in_person"
        tracking = self._value("tracking") or None if self.issuance else None
        return Completion(Answer(device_serial=device, certificate=cert),
                          HandoverPlan(method=method, tracking_no=tracking))

    def submit(self) -> None:
        try:
            completion = self.collect()
        except ValidationError as err:
            error = self.query_one("#form-error", Static)
            error.update(str(err))
            error.add_class("shown")
            return
        self.dismiss(completion)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter goes on to the next field; on the last one it completes the request."""
        event.stop()
        inputs = list(self.query(Input))
        if event.input is not inputs[-1]:
            inputs[inputs.index(event.input) + 1].focus()
        else:
            self.submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "complete-submit":
            self.submit()
        else:
            self.dismiss(None)
