"""The desk (key 6): certification requests, the unlock desk and the alert ledger, as tabs.

``[`` and ``]`` switch tabs from anywhere on the desk (the arrows scroll the tables, as in every
list); the new tab's table takes the focus. ``F5`` re-reads every pane; changes from anywhere
(another desk, the CLI, a cron ``alerts run``) re-read them by themselves. ``i`` completes
requests from the CA's answer sheet.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, TabbedContent, TabPane

from inventory.register.changes import Changes
from inventory.register.errors import TokenfleetError
from inventory.services.desk import import_answer

from ..bindings import localise_bindings
from ..context import ctx
from ..errors import ShowsWorkerErrors
from ..widgets.alerts_pane import AlertsPane
from ..widgets.requests_pane import RequestsPane
from ..widgets.unlock_pane import UnlockPane
from .file_picker import FilePicker
from .mode_screen import ModeScreen
from .request_detail import RequestDetailModal

TABS = ("tab-requests", "tab-unlock", "tab-alerts")
ANSWER_SUFFIXES = (".xlsx", ".csv")


class DeskScreen(ShowsWorkerErrors, ModeScreen):
    MODE = "desk"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left_square_bracket", "tab(-1)", "desk.prev_tab", priority=True,
                id="prev-tab"),
        Binding("right_square_bracket", "tab(1)", "desk.next_tab", priority=True,
                id="next-tab"),
        Binding("i", "import_answer", "desk.import_answer", id="import-answer"),
        Binding("f5", "refresh", "nav.refresh", id="refresh"),
    ]

    def compose(self) -> ComposeResult:
        localise_bindings(self, ctx(self).labels)
        t = ctx(self).labels
        yield self.nav_bar()
        with TabbedContent(id="desk-tabs"):
            with TabPane(t("desk.requests"), id="tab-requests"):
                yield RequestsPane(id="requests-pane")
            with TabPane(t("desk.unlock"), id="tab-unlock"):
                yield UnlockPane(id="unlock-pane")
            with TabPane(t("desk.alerts"), id="tab-alerts"):
                yield AlertsPane(id="alerts-pane")
        yield Footer()

    def on_mount(self) -> None:
        self._focus_table()

    def _focus_table(self) -> None:
        pane = self.query_one(TabbedContent).active_pane
        if pane is not None:
            tables = pane.query(DataTable)
            if tables:
                self.set_focus(tables.first())

    def action_tab(self, step: int) -> None:
        tabs = self.query_one(TabbedContent)
        at = TABS.index(tabs.active) if tabs.active in TABS else 0
        tabs.active = TABS[(at + step) % len(TABS)]
        self._focus_table()

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        self.call_after_refresh(self._focus_table)

    def action_refresh(self) -> None:
        self.query_one(RequestsPane).reload()
        self.query_one(UnlockPane).reload()
        self.query_one(AlertsPane).reload()

    def refresh_for_changes(self, changes: Changes) -> None:
        """Another desk, the CLI or the alert job changed the register: every pane re-reads
        (each is one small query)."""
        self.action_refresh()

    def on_requests_pane_opened(self, event: RequestsPane.Opened) -> None:
        def closed(_: str | None) -> None:
            event.pane.reload()

        self.app.push_screen(RequestDetailModal(event.request_id), closed)

    # ------------------------------------------------------------------ the CA's answer
    def action_import_answer(self) -> None:
        t = ctx(self).labels

        def picked(path: Path | None) -> None:
            if path is not None:
                self.query_one(RequestsPane).show_result(t("io.running"), ok=True)
                self.import_answer(path)

        self.app.push_screen(FilePicker(t("desk.answer_title"), ctx(self).reports_dir,
                                        ANSWER_SUFFIXES), picked)

    @work(thread=True, exclusive=True, exit_on_error=False, group="desk-answer")
    def import_answer(self, path: Path) -> None:
        c = ctx(self)
        try:
            result = import_answer(c.register, path, actor=c.actor)
        except TokenfleetError as err:
            self.app.call_from_thread(self._answered, c.labels.explain(err), False)
            return
        message = c.labels("desk.answer_done", path=str(path),
                           requests=", ".join(f"#{r}" for r in result.requests),
                           n=c.labels.number(result.subscribers))
        self.app.call_from_thread(self._answered, message, True)

    def _answered(self, message: str, ok: bool) -> None:
        pane = self.query_one(RequestsPane)
        pane.show_result(message, ok=ok)
        pane.reload()
        if ok:
            self.app.notify(message)
