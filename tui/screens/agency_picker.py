"""Pick an agency from the tree, or by typing part of its name (accents optional, fuzzy).

Every agency field of the UI opens this instead of asking for a code typed by heart. The tree is
read once (``inventory.services.holders.agencies``: tree order, levels, device counts — a city has
hundreds of agencies, a national roll-up a few thousand) and filtered here as you type: the
folded query's letters in order in the folded name or the code, best matches first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.fuzzy import Matcher
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from inventory.register.text import fold

from ..context import ctx
from ..errors import ShowsWorkerErrors
from ..widgets.pick_list import PickList
from ..widgets.search_box import SearchBox

if TYPE_CHECKING:
    from inventory.services.holders import AgencyRow

SHOWN = 300
ALL = "__all__"


@dataclass(frozen=True)
class AgencyChoice:
    """The agency picked (``code`` empty: every agency)."""

    code: str
    name: str


def ranked(rows: list[AgencyRow], query: str, limit: int = SHOWN) -> list[AgencyRow]:
    """The agencies matching ``query`` (folded, fuzzy), best first; all of them in tree order
    when the query is empty."""
    q = fold(query)
    if not q:
        return rows[:limit]
    matcher = Matcher(q)
    scored = []
    for row in rows:
        score = max(matcher.match(fold(row.name)), matcher.match(row.code.lower()) * 1.1)
        if score > 0:
            scored.append((score, row))
    scored.sort(key=lambda pair: -pair[0])
    return [row for _, row in scored[:limit]]


class AgencyPicker(ShowsWorkerErrors, ModalScreen[AgencyChoice | None]):
    """Returns the agency picked, ``AgencyChoice("", …)`` for "every agency", or None."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(None)", "nav.back", show=False)]

    def __init__(self, current: str = "") -> None:
        super().__init__()
        self.current = current
        self.rows: list[AgencyRow] = []
        self.shown: list[AgencyRow] = []

    def compose(self) -> ComposeResult:
        t = ctx(self).labels
        with Vertical(id="agency-picker-box", classes="modal-box"):
            yield Label(t("agency_picker.title"), classes="modal-title")
            yield SearchBox(placeholder=t("agency_picker.search"), id="agency-search")
            yield PickList(id="agency-options")

    def on_mount(self) -> None:
        self.query_one(SearchBox).focus()
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="agency-picker")
    def load(self) -> None:
        from inventory.services.holders import agencies

        rows = agencies(ctx(self).register)
        self.app.call_from_thread(self._loaded, [r for r in rows if r.active])

    def _loaded(self, rows: list[AgencyRow]) -> None:
        self.rows = rows
        self._show(self.query_one(SearchBox).value)
        self.app.key_gate.release()  # type: ignore[attr-defined]

    def _show(self, query: str) -> None:
        t = ctx(self).labels
        self.shown = ranked(self.rows, query)
        options = self.query_one(PickList)
        options.clear_options()
        flat = bool(fold(query))
        items: list[Option] = [Option(t("agency_picker.all"), id=ALL)]
        for row in self.shown:
            indent = "" if flat else "  " * row.level
            count = t.number(row.devices.total)
            items.append(Option(f"{indent}{row.name} ({row.code}) · {count}", id=row.code))
        options.add_options(items)
        codes = [None, *(r.code for r in self.shown)]
        if flat and len(codes) > 1:
            options.highlighted = 1
        elif self.current in codes:
            options.highlighted = codes.index(self.current)
        else:
            options.highlighted = 0

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._show(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter in the search box goes to the list (the best match highlighted)."""
        event.stop()
        self.query_one(PickList).focus()
        self.app.key_gate.release()  # type: ignore[attr-defined]

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        code = event.option.id or ""
        if code == ALL:
            self.dismiss(AgencyChoice("", ""))
            return
        row = next((r for r in self.shown if r.code == code), None)
        if row is not None:
            self.dismiss(AgencyChoice(row.code, row.name))


def choice_label(choice: Any) -> str:
    return f"{choice.name} ({choice.code})" if choice and choice.code else ""
