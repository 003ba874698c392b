"""The filter bar above the devices table: the search box on its own line (it keeps its width at
80 columns) beside the CA reconciliation (devices whose certificate does not match the CA), and
one line of compact filters — status, kind, agency (picked from the tree), expiring within N days
(the unit is written), locked only.

The screen shows the filters in force as chips below it (``FilterChips``).
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Checkbox, Input, Label, Select

from inventory.ca.kinds import CERTIFICATE_KINDS
from inventory.register.domain import DEVICE_KINDS, DEVICE_STATUSES

from ..context import ctx
from ..filters import FilterValues
from .search_box import SearchBox
from .tick_box import TickBox


class FilterBar(Vertical):
    """Posts ``FilterBar.Changed`` with every edit; the search box's changes are debounced by
    the screen, so typing fast asks the database once."""

    @dataclass
    class Changed(Message):
        values: FilterValues
        from_search: bool

    @dataclass
    class AgencyWanted(Message):
        """The agency button: the screen opens the agency picker (widgets push no screens)."""

        current: str

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.agency_code, self.agency_name = "", ""
        self.not_seen_days: int | None = None  # only from the dashboard's "not seen" figure

    def compose(self) -> ComposeResult:
        t = ctx(self).labels
        with Horizontal(id="search-row"):
            yield SearchBox(placeholder=t("devices.search"), id="search")
            yield Select([(t("ca.any"), "any"),
                          *((t.term("ca_mismatch", k), k) for k in CERTIFICATE_KINDS)],
                         id="ca-filter", prompt=t("ca.filter"))
        with Horizontal(id="filter-row"):
            yield Select([(t(f"device_status.{s}"), s) for s in DEVICE_STATUSES],
                         id="status-filter", prompt=t("col.status"), compact=True)
            yield Select([(t(f"device_kind.{k}"), k) for k in DEVICE_KINDS], id="kind-filter",
                         prompt=t("col.kind"), compact=True)
            yield Button(t("devices.agency_any"), id="agency-filter", compact=True)
            yield Label(t("devices.expiring"), classes="filter-label")
            yield Input(id="expiring-filter", restrict=r"[0-9]*", max_length=4, compact=True)
            yield Label(t("devices.days"), classes="filter-label")
            yield TickBox(t("devices.locked_only"), id="locked-filter", compact=True)

    @property
    def values(self) -> FilterValues:
        status = self.query_one("#status-filter", Select).value
        kind = self.query_one("#kind-filter", Select).value
        days = self.query_one("#expiring-filter", Input).value.strip()
        ca = self.query_one("#ca-filter", Select).value
        return FilterValues(
            search=self.query_one("#search", Input).value,
            status=status if isinstance(status, str) else None,
            kind=kind if isinstance(kind, str) else None,
            agency_code=self.agency_code, agency_name=self.agency_name,
            expiring_days=int(days) if days.isdigit() else None,
            locked_only=self.query_one("#locked-filter", Checkbox).value,
            not_seen_days=self.not_seen_days,
            ca_mismatch=ca if isinstance(ca, str) else None)

    def set_values(self, values: FilterValues) -> None:
        """Show a preset (a dashboard figure, a saved view, a chip removed); posts one Changed."""
        with self.prevent(Input.Changed, Select.Changed, Checkbox.Changed):
            self.query_one("#search", Input).value = values.search
            self.query_one("#status-filter", Select).value = (
                values.status if values.status else Select.NULL)
            self.query_one("#kind-filter", Select).value = (
                values.kind if values.kind else Select.NULL)
            self.query_one("#expiring-filter", Input).value = (
                str(values.expiring_days) if values.expiring_days is not None else "")
            self.query_one("#locked-filter", Checkbox).value = values.locked_only
            self.query_one("#ca-filter", Select).value = (
                values.ca_mismatch if values.ca_mismatch else Select.NULL)
        self.not_seen_days = values.not_seen_days
        self._show_agency(values.agency_code, values.agency_name)

    def set_agency(self, code: str, name: str) -> None:
        self._show_agency(code, name)
        self.post_message(self.Changed(self.values, from_search=False))

    def _show_agency(self, code: str, name: str) -> None:
        t = ctx(self).labels
        self.agency_code, self.agency_name = code, name
        self.query_one("#agency-filter", Button).label = (
            t("devices.agency_is", agency=code) if code else t("devices.agency_any"))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "agency-filter":
            event.stop()
            self.post_message(self.AgencyWanted(self.agency_code))

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.post_message(self.Changed(self.values, from_search=event.input.id == "search"))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "search":
            return  # the screen: Enter goes to the list, or opens the one match
        event.stop()
        self.post_message(self.Changed(self.values, from_search=False))

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        self.post_message(self.Changed(self.values, from_search=False))

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        event.stop()
        self.post_message(self.Changed(self.values, from_search=False))

