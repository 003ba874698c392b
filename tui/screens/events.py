"""This month's events of one kind (a dashboard figure): who issued, renewed, revoked, unlocked."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Label

from inventory.services.dashboard import EventRow, events_since, month_start

from ..bindings import localise_bindings
from ..context import ctx
from ..errors import ShowsWorkerErrors
from ..safe import cells


class EventsScreen(ShowsWorkerErrors, Screen[None]):
    BINDINGS = [Binding("escape", "app.pop_screen", "nav.back", id="back")]  # noqa: RUF012

    def __init__(self, action: str) -> None:
        super().__init__()
        self.action = action

    def compose(self) -> ComposeResult:
        localise_bindings(self, ctx(self).labels)
        t = ctx(self).labels
        since = month_start(ctx(self).now())
        yield Header()
        yield Label(t("events.title", action=t(f"event.{self.action}"),
                      since=t.date(since)), classes="section-title")
        table: DataTable[str] = DataTable(id="events", cursor_type="row")
        for col in ("col.when", "col.actor", "col.device", "col.summary"):
            table.add_column(t(col))
        yield table
        yield Footer()

    def on_mount(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="events")
    def load(self) -> None:
        c = ctx(self)
        now = c.now()
        rows = events_since(c.register, self.action, month_start(now), now)
        self.app.call_from_thread(self.show, rows)

    def show(self, rows: list[EventRow]) -> None:
        t = ctx(self).labels
        table = self.query_one(DataTable)
        table.clear()
        table.add_rows([cells(t.datetime(r.occurred_at), r.actor, r.serial,
                               t.note(r.action, r.summary)) for r in rows])
