"""A search box: Enter goes to the list (or opens the one match), and keys typed after Enter wait
for that (``tui.typeahead``); focusing it selects what it holds, so a new search — or the next
scanned serial — replaces the last one."""

from __future__ import annotations

from typing import ClassVar

from textual.widgets import Input


class SearchBox(Input):
    SWITCHING_ACTIONS: ClassVar[frozenset[str]] = frozenset({"submit"})

    def focus_and_select(self) -> None:
        """Take the focus now (keys typed right after land here) with the text selected."""
        self.screen.set_focus(self)
        self.select_all()
