"""The desk's requests pane: every certification request, newest first, filtered by state.

Enter on a row opens the request (``RequestDetailModal``), where its workflow steps are taken;
the list re-reads when the modal closes and when another desk changes the register.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import DataTable, Label, Select, Static
from textual.worker import get_current_worker

from inventory.register.models import REQUEST_STATES
from inventory.services import desk
from inventory.services.desk import RequestRow

from ..context import ctx
from ..errors import ShowsWorkerErrors
from ..safe import cells
from .list_table import OpeningTable

LIMIT = 500
COLUMNS = ("col.request", "col.request_kind", "col.state", "col.agency", "col.subscribers",
           "col.external_ref", "col.created", "col.days_open", "col.missing")
ALL = "all"


class RequestsPane(ShowsWorkerErrors, Vertical):
    @dataclass
    class Opened(Message):
        """A request was chosen: the screen opens its detail (widgets don't push screens)."""

        pane: RequestsPane
        request_id: int

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rows_shown: list[RequestRow] = []

    def compose(self) -> ComposeResult:
        t = ctx(self).labels
        with Horizontal(classes="desk-bar"):
            yield Label(t("desk.state_filter"), classes="field-label")
            yield Select([(t("desk.all_states"), ALL),
                          *((t(f"request_state.{s}"), s) for s in REQUEST_STATES)],
                         value=ALL, allow_blank=False, id="request-state")
        yield Static(t("desk.requests_hint"), id="requests-result", classes="desk-result",
                     markup=False)
        table = OpeningTable(id="requests", cursor_type="row", zebra_stripes=True)
        for key in COLUMNS:
            table.add_column(t(key), key=key)
        yield table

    def on_mount(self) -> None:
        self.reload()

    @property
    def state(self) -> str | None:
        value = self.query_one("#request-state", Select).value
        return value if isinstance(value, str) and value != ALL else None

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "request-state":
            event.stop()
            self.reload()

    @work(thread=True, exclusive=True, exit_on_error=False, group="desk-requests")
    def reload(self) -> None:
        c = ctx(self)
        rows = desk.list_requests(c.register, state=self.state, now=c.now(), limit=LIMIT)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show, rows)

    def _show(self, rows: list[RequestRow]) -> None:
        t = ctx(self).labels
        self.rows_shown = rows
        table = self.query_one("#requests", DataTable)
        cursor = table.cursor_row
        table.clear()
        for r in rows:
            missing = ", ".join(t.term("document", key)
                                for key in r.missing_documents.split(", ") if key)
            table.add_row(*cells(f"#{r.id}", t(f"request_kind.{r.kind}"),
                                 t(f"request_state.{r.state}"), r.agency_code,
                                 t.number(r.subscribers), r.external_ref,
                                 t.date(r.created_at), t.number(r.days_open), missing),
                          key=str(r.id))
        if rows:
            table.move_cursor(row=min(cursor, len(rows) - 1), animate=False)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id != "requests" or event.row_key.value is None:
            return
        event.stop()
        self.post_message(self.Opened(self, int(event.row_key.value)))

    def show_result(self, message: str, ok: bool = True) -> None:
        result = self.query_one("#requests-result", Static)
        result.update(message)
        result.set_class(not ok, "refused")
