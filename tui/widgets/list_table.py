"""Tables of rows with ``j``/``k``; an ``OpeningTable`` opens its row on Enter, and the keys
typed meanwhile wait for what opens (``tui.typeahead``)."""

from __future__ import annotations

from typing import Any, ClassVar

from textual.binding import BindingType
from textual.widgets import DataTable

from .vim_keys import VIM_KEYS


class ListTable(DataTable[Any]):
    BINDINGS: ClassVar[list[BindingType]] = VIM_KEYS


class OpeningTable(ListTable):
    SWITCHING_ACTIONS: ClassVar[frozenset[str]] = frozenset({"select_cursor"})

    def action_select_cursor(self) -> None:
        if self.row_count:
            super().action_select_cursor()  # what opens releases the keys
        else:
            self.app.key_gate.release()  # type: ignore[attr-defined]
