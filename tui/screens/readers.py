"""The live readers panel, every poller station's readers, and claiming an unknown device."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Footer, Label

from inventory.register.changes import Changes

from ..bindings import localise_bindings
from ..context import ctx
from ..widgets.readers_panel import ReadersPanel
from ..widgets.station_readers_table import StationReadersTable
from .action_form import ActionForm
from .mode_screen import ModeScreen


class ReadersScreen(ModeScreen):
    MODE = "readers"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("c", "claim", "action.claim", id="claim")]

    def compose(self) -> ComposeResult:
        localise_bindings(self, ctx(self).labels)
        yield self.nav_bar()
        yield ReadersPanel(id="readers")
        yield Label(ctx(self).labels("stations.title"), classes="section-title")
        yield StationReadersTable(id="station-readers")
        yield Footer()

    def refresh_for_changes(self, changes: Changes) -> None:
        self.query_one(StationReadersTable).reload()

    def action_claim(self) -> None:
        row = self.query_one(ReadersPanel).selected
        if row is None or row.known or not row.serial:
            return
        self.app.push_screen(ActionForm("claim", None, serial=row.serial,
                                        kind=row.kind or "usb_token",
                                        manufacturer=row.manufacturer or "",
                                        model=row.model or ""))
