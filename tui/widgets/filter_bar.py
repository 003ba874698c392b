"""The filter bar above the devices table: search, status, kind, agency, expiring, locked, and
the CA reconciliation (devices whose certificate does not match the CA)."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Checkbox, Input, Select

from inventory.register.models import DEVICE_KINDS, DEVICE_STATUSES
from inventory.services.ca import CERTIFICATE_KINDS

from ..context import ctx


@dataclass(frozen=True)
class FilterValues:
    search: str = ""
    status: str | None = None
    kind: str | None = None
    agency_code: str = ""
    expiring_days: str = ""
    locked_only: bool = False
    ca_mismatch: str | None = None  # "any" or one of CERTIFICATE_KINDS


class FilterBar(Horizontal):
    """Posts ``FilterBar.Changed`` with every edit; the search box's changes are debounced by
    the screen, so typing fast asks the database once."""

    @dataclass
    class Changed(Message):
        values: FilterValues
        from_search: bool

    def compose(self) -> ComposeResult:
        labels = ctx(self).labels
        yield Input(placeholder=labels("devices.search"), id="search")
        yield Select([(labels(f"device_status.{s}"), s) for s in DEVICE_STATUSES],
                     id="status-filter", prompt=labels("col.status"))
        yield Select([(labels(f"device_kind.{k}"), k) for k in DEVICE_KINDS], id="kind-filter",
                     prompt=labels("col.kind"))
        yield Input(placeholder=labels("devices.agency"), id="agency-filter")
        yield Input(placeholder=labels("devices.expiring"), id="expiring-filter",
                    restrict=r"[0-9]*", max_length=4)
        yield Checkbox(labels("devices.locked_only"), id="locked-filter")
        yield Select([(labels("ca.any"), "any"),
                      *((labels.term("ca_mismatch", k), k) for k in CERTIFICATE_KINDS)],
                     id="ca-filter", prompt=labels("ca.filter"))

    @property
    def values(self) -> FilterValues:
        status = self.query_one("#status-filter", Select).value
        kind = self.query_one("#kind-filter", Select).value
        ca = self.query_one("#ca-filter", Select).value
        return FilterValues(
            search=self.query_one("#search", Input).value,
            status=status if isinstance(status, str) else None,
            kind=kind if isinstance(kind, str) else None,
            agency_code=self.query_one("#agency-filter", Input).value.strip(),
            expiring_days=self.query_one("#expiring-filter", Input).value.strip(),
            locked_only=self.query_one("#locked-filter", Checkbox).value,
            ca_mismatch=ca if isinstance(ca, str) else None)

    def set_values(self, values: FilterValues) -> None:
        """Show a preset (a dashboard figure); posts one Changed when done."""
        with self.prevent(Input.Changed, Select.Changed, Checkbox.Changed):
            self.query_one("#search", Input).value = values.search
            self.query_one("#status-filter", Select).value = (
                values.status if values.status else Select.NULL)
            self.query_one("#kind-filter", Select).value = (
                values.kind if values.kind else Select.NULL)
            self.query_one("#agency-filter", Input).value = values.agency_code
            self.query_one("#expiring-filter", Input).value = values.expiring_days
            self.query_one("#locked-filter", Checkbox).value = values.locked_only
            self.query_one("#ca-filter", Select).value = (
                values.ca_mismatch if values.ca_mismatch else Select.NULL)

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        if event.input.id == "agency-filter":
            return  # a half-typed code is not an agency yet: applied on Enter
        self.post_message(self.Changed(self.values, from_search=event.input.id == "search"))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(self.Changed(self.values, from_search=False))

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        self.post_message(self.Changed(self.values, from_search=False))

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        event.stop()
        self.post_message(self.Changed(self.values, from_search=False))
