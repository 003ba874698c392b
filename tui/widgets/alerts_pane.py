"""The desk's alerts pane: the alert ledger (newest first) and the alert job's heartbeat.

The ledger, the heartbeat, acknowledge and snooze are ``inventory.services.alerts``, as for
``tokenfleet alerts list|status|ack|snooze`` (ack and snooze mark every row of the alert's
condition and write the audit event). The snooze date is read as the CLI reads it
(``inventory.register.dates``: ``YYYY-MM-DD`` or ``dd/mm/yyyy``, UTC midnight); a bad date is
said on the result line.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, DataTable, Input, Static
from textual.worker import get_current_worker

from inventory.alerts.ledger import RunInfo
from inventory.register.dates import parse_date
from inventory.register.errors import TokenfleetError
from inventory.services import alerts as alert_desk
from inventory.services.alerts import AlertRow

from ..context import ctx
from ..errors import ShowsWorkerErrors
from ..safe import cells, plain
from .desk_field import DeskField

LIMIT = 300
COLUMNS = ("col.alert", "col.state", "col.rule", "col.threshold", "col.serial",
           "col.recipient", "col.attempts", "col.sent_at", "col.snoozed_until")




class AlertsPane(ShowsWorkerErrors, Vertical):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rows_shown: list[AlertRow] = []

    def compose(self) -> ComposeResult:
        t = ctx(self).labels
        yield Static("", id="alerts-run", markup=False)
        with Horizontal(classes="desk-bar"):
            yield Button(t("desk.ack"), id="alert-ack", variant="primary")
            yield DeskField(placeholder=t("desk.snooze_until"), id="snooze-until")
            yield Button(t("desk.snooze"), id="alert-snooze")
        yield Static("", id="alerts-result", classes="desk-result", markup=False)
        table: DataTable[str] = DataTable(id="alerts", cursor_type="row", zebra_stripes=True)
        for key in COLUMNS:
            table.add_column(t(key), key=key)
        yield table

    def on_mount(self) -> None:
        self.reload()

    @work(thread=True, exclusive=True, exit_on_error=False, group="desk-alerts")
    def reload(self) -> None:
        register = ctx(self).register
        rows = alert_desk.alert_ledger(register, limit=LIMIT)
        run = alert_desk.last_run(register)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show, rows, run)

    def _show(self, rows: list[AlertRow], run: RunInfo | None) -> None:
        t = ctx(self).labels
        if run is None:
            heartbeat = t("desk.alerts_never")
        else:
            heartbeat = t("desk.alerts_run", started=t.datetime(run.started_at), host=run.host,
                          outcome=t.inline("alert_run_outcome", run.outcome),
                          success=t.datetime(run.last_success_at) or t("desk.never"))
            if run.error:
                heartbeat += f"\n{run.error}"
        self.query_one("#alerts-run", Static).update(plain(heartbeat))
        self.rows_shown = rows
        table = self.query_one("#alerts", DataTable)
        cursor = table.cursor_row
        table.clear()
        for r in rows:
            table.add_row(*cells(f"#{r.id}", t(f"alert_state.{r.state}"),
                                 t(f"alert_rule.{r.rule}"), t.number(r.threshold), r.serial,
                                 r.recipient, t.number(r.attempts), t.datetime(r.sent_at),
                                 t.datetime(r.snoozed_until)), key=str(r.id))
        if rows:
            table.move_cursor(row=min(cursor, len(rows) - 1), animate=False)

    @property
    def selected(self) -> AlertRow | None:
        row = self.query_one("#alerts", DataTable).cursor_row
        return self.rows_shown[row] if 0 <= row < len(self.rows_shown) else None

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "snooze-until":
            event.stop()
            self.request_snooze()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "alert-ack":
            event.stop()
            entry = self.selected
            if entry is None:
                self.show_result(ctx(self).labels("desk.pick_alert"), ok=False)
                return
            self.apply(entry.id, None)
        elif event.button.id == "alert-snooze":
            event.stop()
            self.request_snooze()

    def request_snooze(self) -> None:
        """Check the date here first: a bad one is said in place and nothing is written."""
        t = ctx(self).labels
        entry = self.selected
        if entry is None:
            self.show_result(t("desk.pick_alert"), ok=False)
            return
        text = self.query_one("#snooze-until", Input).value.strip()
        if not text:
            self.show_result(t("form.need_value", field=t("desk.snooze_until")), ok=False)
            return
        try:
            until = parse_date(text)
        except TokenfleetError:
            self.show_result(t("form.bad_date", field=t("desk.snooze_until"), value=text),
                             ok=False)
            return
        self.apply(entry.id, until)

    @work(thread=True, exclusive=True, exit_on_error=False, group="desk-alerts-action")
    def apply(self, entry_id: int, until: datetime | None) -> None:
        """Acknowledge (``until`` None) or snooze one alert's condition."""
        c = ctx(self)
        try:
            if until is None:
                n = alert_desk.acknowledge_alert(c.register, actor=c.actor, alert_id=entry_id)
                message = c.labels("desk.acked", id=entry_id, n=c.labels.number(n))
            else:
                n = alert_desk.snooze_alert(c.register, actor=c.actor, until=until,
                                            alert_id=entry_id)
                message = c.labels("desk.snoozed", id=entry_id, n=c.labels.number(n),
                                   until=c.labels.date(until))
        except TokenfleetError as err:
            self.app.call_from_thread(self.show_result, c.labels.explain(err), False)
            return
        self.app.call_from_thread(self._done, message)

    def _done(self, message: str) -> None:
        self.show_result(message, ok=True)
        self.app.notify(plain(message), markup=False)
        self.reload()

    def show_result(self, message: str, ok: bool = True) -> None:
        result = self.query_one("#alerts-result", Static)
        result.update(plain(message))
        result.set_class(not ok, "refused")
