"""The filters in force, as chips under the filter bar ("Hết hạn ≤ 30 ngày ✕"): what the list
shows is always said, with its unit; Enter, Delete or a click on a chip removes that filter."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Static

from ..context import ctx
from ..filters import FilterValues


def chip_text(labels: Any, name: str, values: FilterValues) -> str:
    t = labels
    if name == "search":
        return t("chip.search", text=values.search.strip())
    if name == "status":
        return t("chip.status", status=t(f"device_status.{values.status}"))
    if name == "kind":
        return t("chip.kind", kind=t(f"device_kind.{values.kind}"))
    if name == "agency_code":
        return t("chip.agency", agency=values.agency_name or values.agency_code)
    if name == "expiring_days":
        return t("chip.expiring", days=t.number(values.expiring_days or 0))
    if name == "locked_only":
        return t("chip.locked")
    if name == "ca_mismatch":
        return t("chip.ca", what=t("ca.any") if values.ca_mismatch == "any"
                 else t.term("ca_mismatch", values.ca_mismatch or ""))
    return t("chip.not_seen", days=t.number(values.not_seen_days or 0))


class Chip(Static, can_focus=True):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter,delete,backspace,x", "remove", "chip.remove", show=False)]

    @dataclass
    class Removed(Message):
        name: str

    def __init__(self, text: str, name: str) -> None:
        super().__init__(f"{text} ✕", classes="chip", markup=False)
        self.filter_name = name

    def action_remove(self) -> None:
        self.post_message(self.Removed(self.filter_name))

    def on_click(self) -> None:
        self.action_remove()


class FilterChips(Horizontal):
    """Hidden when nothing is filtered (a line saved on small terminals)."""

    def show(self, values: FilterValues) -> None:
        labels = ctx(self).labels
        self.remove_children()
        names = values.active()
        self.mount_all([Chip(chip_text(labels, n, values), n) for n in names])
        self.set_class(not names, "empty")
