"""The unlock desk: locked devices brought to the desk, and how long unlocking took.

The cases and the turnaround come from the service desk (``inventory.services.desk``: open
cases first, oldest first); "brought in" and "unlocked" are its ``bring_in`` and
``mark_unlocked``, as ``tokenfleet unlock bring|close`` are, so the lifecycle move and the audit
events are the same as from the CLI. A refusal is shown on the pane's result line.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Checkbox, DataTable, Input, Select, Static
from textual.worker import get_current_worker

from inventory.register.errors import TokenfleetError
from inventory.services import desk
from inventory.services.desk import CaseRow, UnlockTurnaround
from inventory.services.devices import DeviceRef

from ..context import ctx
from ..errors import ShowsWorkerErrors
from ..safe import cells, plain
from .desk_field import DeskField

COLUMNS = ("col.case", "col.serial", "col.kind", "col.agency", "col.holder", "col.opened",
           "col.brought_by", "col.brought_at", "col.unlock_method", "col.closed", "col.days")
MONTHS_SHOWN = 3


class UnlockPane(ShowsWorkerErrors, Vertical):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rows_shown: list[CaseRow] = []

    def compose(self) -> ComposeResult:
        t = ctx(self).labels
        yield Static("", id="unlock-figures", markup=False)
        with Horizontal(classes="desk-bar"):
            yield Checkbox(t("desk.open_only"), id="unlock-open-only")
            yield DeskField(placeholder=t("desk.brought_by"), id="brought-by")
            yield Button(t("desk.bring_in"), id="bring-in")
            yield Select([(t(f"unlock_method.{m}"), m) for m in desk.UNLOCK_METHODS],
                         value=desk.UNLOCK_METHODS[0], allow_blank=False, id="unlock-method")
            yield Button(t("desk.mark_unlocked"), id="mark-unlocked", variant="primary")
        yield Static("", id="unlock-result", classes="desk-result", markup=False)
        table: DataTable[str] = DataTable(id="unlock-cases", cursor_type="row",
                                          zebra_stripes=True)
        for key in COLUMNS:
            table.add_column(t(key), key=key)
        yield table

    def on_mount(self) -> None:
        self.reload()

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        event.stop()
        self.reload()

    @work(thread=True, exclusive=True, exit_on_error=False, group="desk-unlock")
    def reload(self) -> None:
        open_only = self.query_one("#unlock-open-only", Checkbox).value
        register = ctx(self).register
        rows = desk.unlock_cases(register, open_only=open_only)
        figures = desk.unlock_turnaround(register, by_agency=False)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show, rows, figures[-MONTHS_SHOWN:])

    def _show(self, rows: list[CaseRow], figures: list[UnlockTurnaround]) -> None:
        t = ctx(self).labels
        still_open = sum(1 for r in rows if r.closed_at is None)
        lines = [t("desk.unlock_open", n=t.number(still_open))]
        lines += [t("desk.unlock_month", month=t.month(datetime.strptime(f.month, "%Y-%m")),
                    n=t.number(f.unlocked), median=t.number(f.median_days),
                    p90=t.number(f.p90_days), max=t.number(f.max_days))
                  for f in reversed(figures)]
        self.query_one("#unlock-figures", Static).update(plain("\n".join(lines)))
        self.rows_shown = rows
        table = self.query_one("#unlock-cases", DataTable)
        cursor = table.cursor_row
        table.clear()
        for r in rows:
            table.add_row(*cells(f"#{r.id}", r.serial, t.term("device_kind", r.device_kind),
                                 r.agency_code, r.holder, t.datetime(r.opened_at),
                                 r.brought_by, t.datetime(r.brought_at),
                                 t.term("unlock_method", r.unlock_method),
                                 t.datetime(r.closed_at),
                                 t.number(r.days) if r.days is not None else ""),
                          key=str(r.id))
        if rows:
            table.move_cursor(row=min(cursor, len(rows) - 1), animate=False)

    @property
    def selected(self) -> CaseRow | None:
        row = self.query_one("#unlock-cases", DataTable).cursor_row
        return self.rows_shown[row] if 0 <= row < len(self.rows_shown) else None

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id not in ("bring-in", "mark-unlocked"):
            return
        event.stop()
        case = self.selected
        if case is None:
            self.show_result(ctx(self).labels("desk.pick_case"), ok=False)
            return
        if event.button.id == "bring-in":
            self.apply("bring_in", case, self.query_one("#brought-by", Input).value)
        else:
            self.apply("unlocked", case, str(self.query_one("#unlock-method", Select).value))

    @work(thread=True, exclusive=True, exit_on_error=False, group="desk-unlock-action")
    def apply(self, step: str, case: CaseRow, value: str) -> None:
        c = ctx(self)
        ref = DeviceRef(case.serial, case.device_kind)
        try:
            if step == "bring_in":
                row = desk.bring_in(c.register, ref, brought_by=value, actor=c.actor)
                message = c.labels("desk.brought_done", serial=case.serial, who=row.brought_by)
            else:
                desk.mark_unlocked(c.register, ref, method=value, actor=c.actor)
                message = c.labels("desk.unlocked_done", serial=case.serial)
        except TokenfleetError as err:
            self.app.call_from_thread(self.show_result, c.labels.explain(err), False)
            return
        self.app.call_from_thread(self._done, message)

    def _done(self, message: str) -> None:
        self.show_result(message, ok=True)
        self.app.notify(plain(message), markup=False)
        self.reload()

    def show_result(self, message: str, ok: bool = True) -> None:
        result = self.query_one("#unlock-result", Static)
        result.update(plain(message))
        result.set_class(not ok, "refused")
