"""Holders and agencies: the agency tree with device counts, holder search, their devices.

Tree labels put the count first ("1.234 · SYT Sở Y tế") so a narrow terminal cuts the name, not
the number. Enter in the search box goes to the list of holders, Enter there to their devices.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Input, Label, Tree
from textual.widgets.tree import TreeNode
from textual.worker import get_current_worker

from inventory.fleet.listing import DeviceFilter
from inventory.services.holders import (
    AgencyNode,
    DeviceCounts,
    HolderRow,
    agency_children,
    agency_device_counts,
    find_holders,
    holders_of_agency,
)

from ..bindings import localise_bindings
from ..context import ctx
from ..errors import ShowsWorkerErrors
from ..safe import cell, cells
from ..widgets.device_table import DeviceTable
from ..widgets.list_table import ListTable
from ..widgets.nav_tree import NavTree
from ..widgets.search_box import SearchBox
from .mode_screen import ModeScreen


class HoldersScreen(ShowsWorkerErrors, ModeScreen):
    MODE = "holders"
    AUTO_FOCUS = "#agency-tree"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "focus_search", "nav.search", tooltip="tip.search", id="search"),
        Binding("escape", "leave_search", "nav.back", show=False),
    ]
    SWITCHING_ACTIONS: ClassVar[frozenset[str]] = frozenset({"focus_search"})

    def __init__(self) -> None:
        super().__init__()
        self.counts: dict[int, DeviceCounts] = {}
        self.holders: list[HolderRow] = []
        self._debounce: Timer | None = None

    def compose(self) -> ComposeResult:
        localise_bindings(self, ctx(self).labels)
        t = ctx(self).labels
        yield self.nav_bar()
        with Horizontal(id="holders-layout"):
            tree = NavTree(t("holders.tree"), id="agency-tree", data=None)
            tree.show_root = False
            yield tree
            with Vertical(id="holders-right"):
                yield SearchBox(placeholder=t("holders.search"), id="holder-search")
                yield Label(t("holders.results"), id="holders-title", classes="section-title")
                holders = ListTable(id="holders", cursor_type="row")
                for col in ("col.name", "col.title", "col.agency"):
                    holders.add_column(t(col))
                yield holders
                yield Label(t("holders.pick"), id="holder-devices-title",
                            classes="section-title")
                yield DeviceTable(id="holder-devices")
        yield Footer()

    def on_mount(self) -> None:
        self.load_counts()

    # ------------------------------------------------------------------ tree
    @work(thread=True, exclusive=True, exit_on_error=False, group="agency-counts")
    def load_counts(self) -> None:
        register = ctx(self).register
        counts = agency_device_counts(register)
        top = agency_children(register, None)
        self.app.call_from_thread(self._fill_root, counts, top)

    def _label(self, a: AgencyNode) -> Text:
        """The tree counts each agency's devices with its sub-agencies'; picking one shows its
        own count too (``tokenfleet agency list`` shows both)."""
        total = self.counts.get(a.id, DeviceCounts()).total
        return cell(f"{ctx(self).labels.number(total)} · {a.code} {a.name}")

    def _add_agency_nodes(self, node: TreeNode[AgencyNode | None], children: list[AgencyNode]
                      ) -> None:
        for a in children:
            node.add(self._label(a), data=a, allow_expand=a.has_children)

    def _fill_root(self, counts: dict[int, DeviceCounts], top: list[AgencyNode]) -> None:
        self.counts = counts
        tree = self.query_one("#agency-tree", Tree)
        line = tree.cursor_line
        tree.clear()
        self._add_agency_nodes(tree.root, top)
        if len(tree.root.children) == 1:
            tree.root.children[0].expand()
        tree.cursor_line = max(line, 0)  # a cursor from the start: j/k and Enter work at once

    def on_tree_node_expanded(self, event: Tree.NodeExpanded[AgencyNode | None]) -> None:
        node = event.node
        if node.data is not None and not node.children and node.data.has_children:
            self.load_children(node)

    @work(thread=True, exit_on_error=False, group="agency-children")
    def load_children(self, node: TreeNode[AgencyNode | None]) -> None:
        assert node.data is not None
        children = agency_children(ctx(self).register, node.data.id)
        self.app.call_from_thread(self._add_agency_nodes, node, children)

    def on_tree_node_selected(self, event: Tree.NodeSelected[AgencyNode | None]) -> None:
        a = event.node.data
        if a is not None:
            n = self.counts.get(a.id, DeviceCounts())
            t = ctx(self).labels
            self.query_one("#holders-title", Label).update(cell(t(
                "holders.of_agency", code=a.code, name=a.name, own=t.number(n.own),
                total=t.number(n.total))))
            self.load_agency_holders(a.id)

    @work(thread=True, exclusive=True, exit_on_error=False, group="holders")
    def load_agency_holders(self, agency_id: int) -> None:
        rows = holders_of_agency(ctx(self).register, agency_id)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self.show_holders, rows)

    # ------------------------------------------------------------------ holders
    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id != "holder-search":
            return
        if self._debounce is not None:
            self._debounce.stop()
        text, delay = event.value, ctx(self).search_debounce
        if delay > 0:
            self._debounce = self.set_timer(delay, lambda: self.search_holders(text))
        else:
            self.search_holders(text)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter in the search box: to the list of holders."""
        event.stop()
        self.set_focus(self.query_one("#holders", DataTable))
        self.app.key_gate.release()  # type: ignore[attr-defined]

    @work(thread=True, exclusive=True, exit_on_error=False, group="holders")
    def search_holders(self, text: str) -> None:
        rows = find_holders(ctx(self).register, text, limit=200)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._found, rows)

    def _found(self, rows: list[HolderRow]) -> None:
        self.query_one("#holders-title", Label).update(ctx(self).labels("holders.results"))
        self.show_holders(rows)

    def show_holders(self, rows: list[HolderRow]) -> None:
        self.holders = rows
        table = self.query_one("#holders", DataTable)
        table.clear()
        for h in rows:
            table.add_row(*cells(h.full_name, h.title, h.agency_code), key=str(h.id))
        if rows:
            self.show_devices_of(rows[0])

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "holders" and 0 <= event.cursor_row < len(self.holders):
            self.show_devices_of(self.holders[event.cursor_row])

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id == "holders":
            self.query_one("#holder-devices", DeviceTable).focus()

    def show_devices_of(self, holder: HolderRow) -> None:
        from ..widgets.device_table import Query

        self.query_one("#holder-devices-title", Label).update(
            cell(ctx(self).labels("holders.devices", name=holder.full_name)))
        self.query_one("#holder-devices", DeviceTable).load(
            Query(DeviceFilter(holder_id=holder.id, now=ctx(self).now())))

    def on_device_table_opened(self, event: DeviceTable.Opened) -> None:
        from .device_detail import DeviceDetailScreen

        self.app.push_screen(DeviceDetailScreen(event.device_id),
                             lambda _: self.query_one("#holder-devices", DeviceTable).reload())

    def on_device_table_window_changed(self, event: DeviceTable.WindowChanged) -> None:
        event.stop()

    def action_focus_search(self) -> None:
        """Focus now (keys typed right after "/" land in the box), the old text selected."""
        self.query_one(SearchBox).focus_and_select()
        self.app.key_gate.release()  # type: ignore[attr-defined]

    def action_leave_search(self) -> None:
        self.query_one("#holders", DataTable).focus()
