"""Pick a holder by typing part of the name, accents optional (``find_holders``)."""

from __future__ import annotations

from dataclasses import dataclass

from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from inventory.services.holders import HolderRow, find_holders

from ..context import ctx
from ..errors import ShowsWorkerErrors
from ..safe import cell


class HolderPicker(ShowsWorkerErrors, Vertical):
    @dataclass
    class Picked(Message):
        holder: HolderRow

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.found: list[HolderRow] = []
        self.picked: HolderRow | None = None
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Input(placeholder=ctx(self).labels("form.holder_search"), id="holder-search")
        yield OptionList(id="holder-options")

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.picked = None
        if self._timer is not None:
            self._timer.stop()
        text, delay = event.value, ctx(self).search_debounce
        if delay > 0:
            self._timer = self.set_timer(delay, lambda: self._search(text))
        else:
            self._search(text)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        options = self.query_one(OptionList)
        if self.found:
            options.focus()
            options.highlighted = 0

    @work(thread=True, exclusive=True, exit_on_error=False, group="holder-search")
    def _search(self, text: str) -> None:
        rows = find_holders(ctx(self).register, text, limit=20)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show, rows)

    def _show(self, rows: list[HolderRow]) -> None:
        self.found = rows
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options([Option(cell(f"{h.full_name} — {h.title or ''} ({h.agency_code})"),
                                    id=str(h.id)) for h in rows])

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.picked = self.found[event.option_index]
        with self.prevent(Input.Changed):
            self.query_one(Input).value = self.picked.full_name
        self.found = [self.picked]
        self.query_one(OptionList).clear_options()
        self.post_message(self.Picked(self.picked))
