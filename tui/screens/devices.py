"""The devices screen: filter bar, the paged table, and the position line."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Header, Input, Static

from inventory.fleet.queries import SORT_KEYS, DeviceFilter
from inventory.register.changes import Changes
from inventory.services import ca as ca_desk

from ..bindings import localise_bindings
from ..context import ctx
from ..errors import ShowsWorkerErrors
from ..widgets.device_table import SORT_OF_COLUMN, DeviceTable, Query
from ..widgets.filter_bar import FilterBar, FilterValues
from .action_form import DeviceTarget
from .device_actions import ACTION_BINDINGS, DeviceActions


class DevicesScreen(ShowsWorkerErrors, DeviceActions, Screen[None]):
    AUTO_FOCUS = "#devices"
    BINDINGS = [  # noqa: RUF012
        Binding("slash", "focus_search", "nav.search", tooltip="tip.search", id="search"),
        Binding("escape", "leave_search", "nav.back", show=False),
        Binding("s", "cycle_sort", "nav.sort", tooltip="tip.sort", id="sort"),
        Binding("r", "reverse", "nav.reverse", tooltip="tip.reverse", id="reverse"),
        Binding("c", "clear_filters", "nav.clear_filters", id="clear-filters"),
        Binding("f5", "refresh", "nav.refresh", show=False),
        *ACTION_BINDINGS,
    ]

    def __init__(self) -> None:
        super().__init__()
        self.sort = "id"
        self.descending = False
        self.not_seen_for: timedelta | None = None  # only from the dashboard's figure
        self.preset_statuses: tuple[str, ...] = ()  # likewise (issued or locked, unseen)
        self._debounce: Timer | None = None

    def compose(self) -> ComposeResult:
        localise_bindings(self, ctx(self).labels)
        yield Header()
        yield FilterBar(id="filter-bar")
        yield DeviceTable(id="devices")
        yield Static(ctx(self).labels("devices.loading"), id="position")
        yield Footer()

    def on_mount(self) -> None:
        self.table.focus()
        self.run_query()

    @property
    def table(self) -> DeviceTable:
        return self.query_one(DeviceTable)

    # ------------------------------------------------------------------ filter
    def build_filter(self, v: FilterValues) -> DeviceFilter:
        days = int(v.expiring_days) if v.expiring_days.isdigit() else None
        statuses = ("locked",) if v.locked_only else (
            (v.status,) if v.status else self.preset_statuses)
        return DeviceFilter(statuses=statuses, kind=v.kind, agency_code=v.agency_code or None,
                            expiring_within=timedelta(days=days) if days is not None else None,
                            search=v.search or None, not_seen_for=self.not_seen_for,
                            now=ctx(self).now())

    def run_query(self) -> None:
        values = self.query_one(FilterBar).values
        f = self.build_filter(values)
        if f.expiring_within is not None and self.sort == "id":
            # the expiry index gives this list in expiry order at once; in id order SQLite
            # sorts the whole window first (0.45 s for 30 days at 1M devices)
            self.sort = "expiry"
        if values.ca_mismatch:
            self.load_ca_mismatches(Query(f, self.sort, self.descending), values.ca_mismatch)
            return
        self.table.load(Query(f, self.sort, self.descending))

    @work(thread=True, exclusive=True, exit_on_error=False, group="ca-filter")
    def load_ca_mismatches(self, query: Query, kind: str) -> None:
        """The CA filter: reconcile (off the UI thread), then list the devices it names."""
        c = ctx(self)
        ids = ca_desk.mismatched_devices(c.register, kind, now=c.now(),
                                         grace_days=c.settings.ca_grace_days)
        self.app.call_from_thread(self.table.load, replace(
            query, filter=replace(query.filter, device_ids=ids)))

    def show_preset(self, values: FilterValues, not_seen_for: timedelta | None = None,
                    statuses: tuple[str, ...] = ()) -> None:
        """Open the list a dashboard figure stands for."""
        self.not_seen_for, self.preset_statuses = not_seen_for, statuses
        self.query_one(FilterBar).set_values(values)
        self.run_query()
        self.table.focus()

    def on_filter_bar_changed(self, event: FilterBar.Changed) -> None:
        if self._debounce is not None:
            self._debounce.stop()
        if event.from_search and ctx(self).search_debounce > 0:
            self._debounce = self.set_timer(ctx(self).search_debounce, self.run_query)
        else:
            self.run_query()

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
        from .device_detail import DeviceDetailScreen

        self.app.push_screen(DeviceDetailScreen(event.device_id),
                             lambda _: self.table.reload())

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
        # set_focus now, not focus() (deferred): keys typed right after "/" land in the box
        self.set_focus(self.query_one("#search", Input))

    def action_leave_search(self) -> None:
        self.table.focus()

    def action_cycle_sort(self) -> None:
        self.sort = SORT_KEYS[(SORT_KEYS.index(self.sort) + 1) % len(SORT_KEYS)]
        self.run_query()

    def action_reverse(self) -> None:
        self.descending = not self.descending
        self.run_query()

    def action_clear_filters(self) -> None:
        self.show_preset(FilterValues())

    def action_refresh(self) -> None:
        self.run_query()

    # ------------------------------------------------------------------ actions
    def current_target(self) -> DeviceTarget | None:
        row = self.table.selected
        return (DeviceTarget(row.id, row.serial, row.status, row.holder_id, row.kind, row.version)
                if row else None)

    def after_action(self, result: str) -> None:
        self.table.reload()

    def refresh_for_changes(self, changes: Changes) -> None:
        self.table.refresh_window()
