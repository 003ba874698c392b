"""The devices screen: search and filters (shown as chips), the paged table, the position line.

Enter in the search box runs the search at once: one match (or one device whose serial is what
was typed — a scanned serial) opens that device, anything else moves to the list. Keys typed
meanwhile wait for it (``tui.typeahead``), so a scanner's ``/SERIAL⏎x`` opens the device and
asks to revoke it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.timer import Timer
from textual.widgets import Footer, Input, Static

from inventory.fleet.listing import SORT_KEYS, DeviceRow

from ..actions import DeviceTarget
from ..bindings import localise_bindings
from ..context import ctx
from ..errors import ShowsWorkerErrors
from ..filters import FilterValues, View
from ..widgets.device_table import SORT_OF_COLUMN, DeviceTable, Query
from ..widgets.filter_bar import FilterBar
from ..widgets.filter_chips import Chip, FilterChips
from ..widgets.search_box import SearchBox
from .agency_picker import AgencyChoice, AgencyPicker
from .device_actions import ACTION_BINDINGS, DeviceActions
from .mode_screen import ModeScreen
from .prompt import PromptModal

if TYPE_CHECKING:
    from inventory.register.changes import Changes


class DevicesScreen(ShowsWorkerErrors, DeviceActions, ModeScreen):
    MODE = "devices"
    AUTO_FOCUS = "#devices"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "focus_search", "nav.search", tooltip="tip.search", id="search"),
        Binding("escape", "leave_search", "nav.back", show=False),
        Binding("s", "cycle_sort", "nav.sort", tooltip="tip.sort", id="sort"),
        Binding("r", "reverse", "nav.reverse", tooltip="tip.reverse", show=False,
                id="reverse"),
        Binding("c", "clear_filters", "nav.clear_filters", show=False, id="clear-filters"),
        Binding("v", "save_view", "nav.save_view", tooltip="tip.save_view", show=False,
                id="save-view"),
        Binding("f5", "refresh", "nav.refresh", show=False),
        *ACTION_BINDINGS,
    ]
    SWITCHING_ACTIONS: ClassVar[frozenset[str]] = (
        DeviceActions.SWITCHING_ACTIONS | {"focus_search"})

    def __init__(self) -> None:
        super().__init__()
        self.sort = "id"
        self.descending = False
        self._debounce: Timer | None = None

    def compose(self) -> ComposeResult:
        localise_bindings(self, ctx(self).labels)
        yield self.nav_bar()
        yield FilterBar(id="filter-bar")
        yield FilterChips(id="filter-chips", classes="empty")
        yield DeviceTable(id="devices")
        yield Static(ctx(self).labels("devices.loading"), id="position")
        yield Footer()

    def on_mount(self) -> None:
        self.run_query()  # the focus: AUTO_FOCUS (a deferred focus() here would steal it back
        # from the search box when "/" opens this screen)

    @property
    def table(self) -> DeviceTable:
        return self.query_one(DeviceTable)

    @property
    def view(self) -> View:
        return View(self.query_one(FilterBar).values, self.sort, self.descending)

    # ------------------------------------------------------------------ filter
    def run_query(self, then: object = None) -> None:
        values = self.query_one(FilterBar).values
        self.query_one(FilterChips).show(values)
        f = values.device_filter(ctx(self).now())
        if f.expiring_within is not None and self.sort == "id":
            # the expiry index gives this list in expiry order at once; in id order SQLite
            # sorts the whole window first (0.45 s for 30 days at 1M devices)
            self.sort = "expiry"
        query = Query(f, self.sort, self.descending)
        done = then if callable(then) else None
        if values.ca_mismatch:
            self.load_ca_mismatches(query, values.ca_mismatch, done)
            return
        self.table.load(query, then=done)

    @work(thread=True, exclusive=True, exit_on_error=False, group="ca-filter")
    def load_ca_mismatches(self, query: Query, kind: str, then: Any = None) -> None:
        """The CA filter: reconcile (off the UI thread), then list the devices it names."""
        from inventory.services import ca as ca_desk  # cryptography: when the filter is used

        c = ctx(self)
        ids = ca_desk.mismatched_devices(c.register, kind, now=c.now(),
                                         grace_days=c.settings.ca_grace_days)
        self.app.call_from_thread(self.table.load, replace(
            query, filter=replace(query.filter, device_ids=ids)), then=then)

    def show_view(self, view: View) -> None:
        """A dashboard figure's list, or a saved view: these filters, this order."""
        self.query_one(FilterBar).set_values(view.filters)
        self.sort, self.descending = view.sort, view.descending
        self.run_query()
        self.set_focus(self.table)

    def on_filter_bar_changed(self, event: FilterBar.Changed) -> None:
        if self._debounce is not None:
            self._debounce.stop()
        if event.from_search and ctx(self).search_debounce > 0:
            self._debounce = self.set_timer(ctx(self).search_debounce, self.run_query)
        else:
            self.run_query()

    def on_filter_bar_agency_wanted(self, event: FilterBar.AgencyWanted) -> None:
        def picked(choice: AgencyChoice | None) -> None:
            if choice is not None:
                self.query_one(FilterBar).set_agency(choice.code, choice.name)

        self.app.push_screen(AgencyPicker(event.current), picked)

    def on_chip_removed(self, event: Chip.Removed) -> None:
        bar = self.query_one(FilterBar)
        bar.set_values(bar.values.without(event.name))
        self.run_query()
        self.set_focus(self.table)

    # ------------------------------------------------------------------ search: Enter
    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "search":
            return
        event.stop()
        if self._debounce is not None:
            self._debounce.stop()
        typed = event.value.strip()
        self.run_query(then=lambda rows: self._searched(typed, rows))

    def _searched(self, typed: str, rows: list[DeviceRow]) -> None:
        """The search typed and Enter: one match opens it, else the list takes the keys."""
        exact = [r for r in rows if r.serial == typed]
        one = rows[0] if len(rows) == 1 and self.table.at_end else (
            exact[0] if len(exact) == 1 else None)
        if one is not None and typed:
            self.table.move_cursor(row=rows.index(one), animate=False)
            self.open_device(one.id)  # the detail screen releases the keys once it shows it
            return
        self.set_focus(self.table)
        self.app.key_gate.release()

    # ------------------------------------------------------------------ table
    def on_device_table_window_changed(self, event: DeviceTable.WindowChanged) -> None:
        t = ctx(self).labels
        position = self.query_one("#position", Static)
        if not event.shown:
            position.update(t("devices.empty"))
            return
        total = t.number(event.total) if event.total is not None else "…"
        position.update(t("devices.position", first=t.number(event.first),
                          last=t.number(event.first + event.shown - 1), total=total,
                          sort=t(f"sort.{self.sort}"),
                          order=t("order.desc" if self.descending else "order.asc")))

    def on_device_table_opened(self, event: DeviceTable.Opened) -> None:
        self.open_device(event.device_id)

    def open_device(self, device_id: int) -> None:
        from .device_detail import DeviceDetailScreen

        self.app.push_screen(DeviceDetailScreen(device_id), lambda _: self.table.reload())

    def on_data_table_header_selected(self, event: DeviceTable.HeaderSelected) -> None:
        """A click on Serial or Cert. expiry sorts by it (again: reverses); other columns have
        no index to sort a million rows by, so they go back to the register's order."""
        sort = SORT_OF_COLUMN.get(str(event.column_key.value), "id")
        if sort == self.sort:
            self.descending = not self.descending
        else:
            self.sort, self.descending = sort, False
        self.run_query()

    # ------------------------------------------------------------------ keys
    def action_focus_search(self) -> None:
        """Focus now (keys typed right after "/" land in the box), the old text selected so
        that what is typed replaces it."""
        self.query_one(SearchBox).focus_and_select()
        self.app.key_gate.release()

    def action_leave_search(self) -> None:
        self.set_focus(self.table)

    def action_cycle_sort(self) -> None:
        self.sort = SORT_KEYS[(SORT_KEYS.index(self.sort) + 1) % len(SORT_KEYS)]
        self.run_query()

    def action_reverse(self) -> None:
        self.descending = not self.descending
        self.run_query()

    def action_clear_filters(self) -> None:
        self.show_view(View(FilterValues(), self.sort, self.descending))

    def action_refresh(self) -> None:
        self.run_query()

    def action_save_view(self) -> None:
        """Name the filters and order on screen; the command palette recalls them."""
        t = ctx(self).labels
        view = self.view

        def named(name: str | None) -> None:
            if name:
                ctx(self).views.save(name, view)
                self.app.notify(t("views.saved", name=name))

        self.app.push_screen(PromptModal(t("views.name_title"), t("views.name_placeholder"),
                                         t("views.name_hint")), named)

    # ------------------------------------------------------------------ actions
    def current_target(self) -> DeviceTarget | None:
        row = self.table.selected
        return (DeviceTarget(row.id, row.serial, row.status, row.holder_id, row.kind, row.version)
                if row else None)

    def after_action(self, result: str) -> None:
        self.table.reload()

    def refresh_for_changes(self, changes: Changes) -> None:
        self.table.refresh_window()
