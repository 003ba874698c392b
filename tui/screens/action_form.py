"""The form of one lifecycle action on one device: fields, validation, confirmation, result.

Values are checked here first (required fields, dates) and then by the services
(``inventory.services``, which change the register through ``inventory.fleet.lifecycle``, as
for the CLI); a refusal (``MoveNotAllowedError`` or any ``TokenfleetError``) is shown in place,
in the form, and the register is left unchanged.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from inventory.fleet.lifecycle import CertificateData
from inventory.register import dates
from inventory.register.changes import Changes
from inventory.register.errors import ConcurrentChangeError, TokenfleetError, ValidationError
from inventory.register.models import DEVICE_KINDS, HANDOVER_METHODS
from inventory.services import devices, holders
from inventory.services.devices import SIMPLE_MOVES
from inventory.services.unregistered import claim_device

from ..actions import DESTRUCTIVE, DeviceTarget, refusal
from ..context import ctx
from ..errors import ShowsWorkerErrors
from ..safe import plain
from ..widgets.holder_picker import HolderPicker
from .confirm import ConfirmModal

NOTE_ACTIONS = SIMPLE_MOVES


class ActionForm(ShowsWorkerErrors, ModalScreen[str | None]):
    """Returns the result line (also notified) or None when cancelled."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", show=False)]  # noqa: RUF012

    def __init__(self, action: str, target: DeviceTarget | None, **preset: str) -> None:
        super().__init__()
        self.action, self.target, self.preset = action, target, preset

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        t = ctx(self).labels
        with VerticalScroll(id="form-box", classes="modal-box"):
            title = t(f"device_action.{self.action}")
            if self.target is not None:
                title += f" — {self.target.serial}"
            yield Label(title, classes="modal-title", id="form-title")
            yield from self._fields()
            yield Static("", id="form-error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button(t("form.submit"), id="form-submit", variant="primary")
                yield Button(t("form.cancel"), id="form-cancel")

    def _field(self, key: str, field_id: str, **kwargs: Any) -> ComposeResult:
        yield Label(ctx(self).labels(key), classes="field-label")
        yield Input(value=self.preset.get(field_id, ""), id=field_id, **kwargs)

    def _fields(self) -> ComposeResult:
        t = ctx(self).labels
        if self.action == "issue":
            yield HolderPicker(id="holder-picker")
            yield Label(t("form.method"), classes="field-label")
            yield Select([(t(f"handover_method.{m}"), m) for m in HANDOVER_METHODS], id="method",
                         value="in_person", allow_blank=False)
            yield from self._field("form.tracking", "tracking")
        elif self.action in NOTE_ACTIONS:
            yield from self._field("form.note", "note")
        elif self.action == "renew":
            yield from self._field("form.cert_serial", "cert-serial")
            yield from self._field("form.not_before", "not-before")
            yield from self._field("form.not_after", "not-after")
            yield from self._field("form.subject", "subject")
        elif self.action == "edit_holder":
            for key, field_id in (("form.full_name", "full-name"), ("form.title", "title"),
                                  ("form.email", "email"), ("form.phone", "phone"),
                                  ("form.national_id", "national-id")):
                yield from self._field(key, field_id)
        elif self.action == "claim":
            yield from self._field("form.serial", "serial")
            yield Label(t("form.kind"), classes="field-label")
            yield Select([(t(f"device_kind.{k}"), k) for k in DEVICE_KINDS], id="kind",
                         value=self.preset.get("kind", "usb_token"), allow_blank=False)

    def on_mount(self) -> None:
        if self.action == "edit_holder" and self.target and self.target.holder_id:
            self._load_holder(self.target.holder_id)
        first = self.query(Input).first(Input) if self.query(Input) else None
        if first is not None:
            first.focus()
        self.app.key_gate.release()  # type: ignore[attr-defined]  # keys typed meanwhile: here
        if self.target is not None:
            self._check_state(self.target.id)

    # ------------------------------------------------------------------ the device first
    @work(thread=True, exclusive=True, exit_on_error=False, group="form-state")
    def _check_state(self, device_id: int) -> None:
        now = devices.device_state(ctx(self).register, device_id)
        self.app.call_from_thread(self._state_checked, now)

    def _state_checked(self, now: devices.DeviceSummary) -> None:
        """The device as it is now, before anything is typed: moved by someone else since the
        screen showed it, or no longer in a state this action is allowed from — said at once,
        in the UI's language, and the form cannot be sent."""
        target, t = self.target, ctx(self).labels
        if target is None or target.version is None or now.version == target.version:
            return
        said = [t.message("changed_by_someone_else",
                          {"serial": target.serial, "status": now.status}) or ""]
        if (why := refusal(self.action, target.serial, now.status, target.holder_id is not None,
                           t)) is not None:
            said.append(why)
        self.show_refusal(" ".join(said))
        self.query_one("#form-submit", Button).disabled = True
        self.app.refresh_screens(  # type: ignore[attr-defined]
            Changes(seq=-1, device_ids=frozenset({target.id}), actions=frozenset()))

    # ------------------------------------------------------------------ submit
    def _value(self, field_id: str) -> str:
        return self.query_one(f"#{field_id}", Input).value.strip()

    def _required(self, field_id: str, key: str) -> str:
        value = self._value(field_id)
        if not value:
            raise ValidationError(ctx(self).labels("form.need_value",
                                                   field=ctx(self).labels(key)))
        return value

    def _date(self, field_id: str, key: str) -> datetime:
        value = self._required(field_id, key)
        try:
            return dates.parse_date(value)
        except ValidationError as err:
            raise ValidationError(ctx(self).labels("form.bad_date", field=ctx(self).labels(key),
                                                   value=value)) from err

    def collect(self) -> dict[str, Any]:
        """The form's values, checked; raises ValidationError with a message for the form."""
        if self.action == "issue":
            picker = self.query_one(HolderPicker)
            if picker.picked is None:
                raise ValidationError(ctx(self).labels("form.pick_holder"))
            method = self.query_one("#method", Select).value
            return {"holder_id": picker.picked.id, "method": method,
                    "tracking_no": self._value("tracking") or None}
        if self.action in NOTE_ACTIONS:
            return {"note": self._value("note") or None}
        if self.action == "renew":
            return {"cert": CertificateData(
                serial=self._required("cert-serial", "form.cert_serial"),
                not_before=self._date("not-before", "form.not_before"),
                not_after=self._date("not-after", "form.not_after"),
                subject=self._value("subject") or None)}
        if self.action == "edit_holder":
            changes = {"full_name": self._required("full-name", "form.full_name"),
                       "title": self._value("title") or None,
                       "email": self._value("email") or None,
                       "phone": self._value("phone") or None}
            if national_id := self._value("national-id"):
                changes["national_id"] = national_id
            return changes
        if self.action == "claim":
            return {"serial": self._required("serial", "form.serial"),
                    "kind": self.query_one("#kind", Select).value}
        raise ValidationError(f"unknown action {self.action!r}")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "holder-search":
            event.stop()
            self.submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "form-submit":
            self.submit()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def submit(self) -> None:
        try:
            values = self.collect()
        except TokenfleetError as err:
            self.show_refusal(ctx(self).labels.explain(err))
            return
        if self.action in DESTRUCTIVE and self.target is not None:
            question = ctx(self).labels("confirm.body",
                                        action=ctx(self).labels(f"device_action.{self.action}"),
                                        serial=self.target.serial)
            def confirmed(yes: bool | None) -> None:
                if yes:
                    self._apply(values)

            self.app.push_screen(ConfirmModal(question), confirmed)
            return
        self._apply(values)

    def show_refusal(self, message: str) -> None:
        error = self.query_one("#form-error", Static)
        error.update(plain(message))
        error.add_class("shown")

    # ------------------------------------------------------------------ workers
    @work(thread=True, exclusive=True, exit_on_error=False, group="action")
    def _apply(self, values: dict[str, Any]) -> None:
        try:
            result = self._perform(values)
        except ConcurrentChangeError as err:
            self.app.call_from_thread(self._stale, ctx(self).labels.explain(err))
            return
        except TokenfleetError as err:
            self.app.call_from_thread(self.show_refusal, ctx(self).labels.explain(err))
            return
        self.app.call_from_thread(self._done, result)

    def _stale(self, message: str) -> None:
        """Changed by someone else: say so here, and have the screens below re-read it."""
        self.show_refusal(message)
        if self.target is not None:
            self.app.refresh_screens(  # type: ignore[attr-defined]
                Changes(seq=-1, device_ids=frozenset({self.target.id}), actions=frozenset()))

    def _perform(self, values: dict[str, Any]) -> str:
        """Runs in the worker thread: one service call, one transaction."""
        c = ctx(self)
        t, actor, register = c.labels, c.actor, c.register
        if self.action == "claim":
            claimed = claim_device(register, values["serial"], actor=actor, kind=values["kind"],
                                   add_if_unseen=True,
                                   manufacturer=self.preset.get("manufacturer"),
                                   model=self.preset.get("model"))
            return t("done.claim", serial=claimed.device.serial)
        assert self.target is not None
        ref = self.target.ref
        if self.action == "issue":
            moved = devices.issue_device(register, ref, values["holder_id"], actor=actor,
                                         method=values["method"],
                                         tracking_no=values["tracking_no"])
        elif self.action in NOTE_ACTIONS:
            moved = devices.move_device(register, ref, self.action, actor=actor,
                                        note=values["note"])
        elif self.action == "renew":
            renewed = devices.renew_device(register, ref, values["cert"], actor=actor)
            return t("done.renew", serial=renewed.device.serial,
                     cert=renewed.certificate_serial, until=t.date(renewed.not_after))
        elif self.action == "edit_holder":
            holder = devices.edit_device_holder(register, ref, actor=actor, changes=values)
            return t("done.holder", name=holder.full_name)
        else:
            raise ValidationError(f"unknown action {self.action!r}")
        return t("done.move", serial=moved.device.serial, before=t(f"device_status.{moved.before}"),
                 after=t(f"device_status.{moved.after}"))

    def _done(self, result: str) -> None:
        self.app.notify(plain(result), markup=False)
        self.dismiss(result)

    @work(thread=True, exclusive=True, exit_on_error=False, group="form-load")
    def _load_holder(self, holder_id: int) -> None:
        holder = holders.holder_detail(ctx(self).register, holder_id)
        values = {"full-name": holder.full_name, "title": holder.title or "",
                  "email": holder.email or "", "phone": holder.phone or ""}
        self.app.call_from_thread(self._fill, values)

    def _fill(self, values: dict[str, str]) -> None:
        for field_id, value in values.items():
            self.query_one(f"#{field_id}", Input).value = value
