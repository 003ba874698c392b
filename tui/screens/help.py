"""The key map (``?`` or F1)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label, Static

from ..context import ctx
from ..keymap import DESK_KEYS, DEVICES_KEYS, GLOBAL_KEYS


class HelpScreen(ModalScreen[None]):
    BINDINGS = [  # noqa: RUF012
        Binding("escape", "dismiss(None)", "Close", show=False),
        Binding("question_mark", "dismiss(None)", "Close", show=False),
        Binding("f1", "dismiss(None)", "Close", show=False),
    ]

    def compose(self) -> ComposeResult:
        t = ctx(self).labels
        with VerticalScroll(id="help-box", classes="modal-box"):
            yield Label(t("help.title"), classes="modal-title")
            for title, keys in (("help.global", GLOBAL_KEYS), ("help.devices", DEVICES_KEYS),
                                ("help.desk", DESK_KEYS)):
                yield Label(t(title), classes="section-title")
                table: DataTable[str] = DataTable(show_header=False, cursor_type="none")
                table.add_columns("key", "what")
                table.add_rows([(k, t(v)) for k, v in keys])
                yield table
            yield Static(t("help.close"), classes="hint")
