"""The desk (key 6): certification requests, the unlock desk and the alert ledger, as tabs."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer, Header, TabbedContent, TabPane

from inventory.register.changes import Changes

from ..bindings import localise_bindings
from ..context import ctx
from ..widgets.alerts_pane import AlertsPane
from ..widgets.requests_pane import RequestsPane
from ..widgets.unlock_pane import UnlockPane
from .request_detail import RequestDetailModal


class DeskScreen(Screen[None]):
    def compose(self) -> ComposeResult:
        localise_bindings(self, ctx(self).labels)
        t = ctx(self).labels
        yield Header()
        with TabbedContent(id="desk-tabs"):
            with TabPane(t("desk.requests"), id="tab-requests"):
                yield RequestsPane(id="requests-pane")
            with TabPane(t("desk.unlock"), id="tab-unlock"):
                yield UnlockPane(id="unlock-pane")
            with TabPane(t("desk.alerts"), id="tab-alerts"):
                yield AlertsPane(id="alerts-pane")
        yield Footer()

    def on_requests_pane_opened(self, event: RequestsPane.Opened) -> None:
        def closed(_: str | None) -> None:
            event.pane.reload()

        self.app.push_screen(RequestDetailModal(event.request_id), closed)

    def refresh_for_changes(self, changes: Changes) -> None:
        """Another desk changed the register: every pane re-reads (each is one small query)."""
        self.query_one(RequestsPane).reload()
        self.query_one(UnlockPane).reload()
        self.query_one(AlertsPane).reload()
