"""The devices table: a window of about a hundred rows over a register of any size.

Like k9s, the table never holds the register: it shows ``WINDOW`` rows fetched by keyset
pagination (``inventory.services.devices.device_page``). Down past the last row fetches the next
``STEP``
rows after the last key; Up past the first fetches the previous ones by reading the order
backwards from the first key; Home/End read the first/last page. The position shown is
approximate (an offset kept while paging, and ``count_devices`` for the total), which is all a
scroll position needs — and every step costs one indexed query, at 1,000 or 1,000,000 devices.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

from textual import events, work
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.timer import Timer
from textual.widgets import DataTable
from textual.worker import get_current_worker

from inventory.fleet.listing import DeviceFilter, DeviceRow, Page

from ..context import ctx
from ..early import WINDOW, answered, result_or
from ..errors import ShowsWorkerErrors
from ..safe import cells as safe_cells
from .vim_keys import VIM_KEYS

if TYPE_CHECKING:
    from inventory.register.db import Register

STEP = 30
COUNT_DELAY = 0.25  # seconds after the rows are shown: the count follows when typing pauses
EXPIRING_SOON = timedelta(days=30)
SORT_OF_COLUMN = {"col.serial": "serial", "col.expiry": "expiry"}  # the indexed sort keys
COLUMNS = ("col.serial", "col.kind", "col.status", "col.holder", "col.agency", "col.expiry",
           "col.locks", "col.last_seen")


def row_key(row: DeviceRow, sort: str) -> tuple[Any, ...]:
    """The keyset key of a row for a sort (what ``device_page(after=…)`` expects)."""
    if sort == "serial":
        return (row.serial, row.id)
    if sort == "expiry":
        return (row.not_after, row.id)
    return (row.id,)


def row_style(row: DeviceRow, now: datetime) -> str:
    """Expired red, expiring within 30 days yellow, locked magenta (theme-independent names)."""
    if row.status == "locked":
        return "bold magenta"
    if row.not_after is not None and row.status in ("issued", "in_stock"):
        if row.not_after < now:
            return "bold red"
        if row.not_after < now + EXPIRING_SOON:
            return "yellow"
    return ""


@dataclass(frozen=True)
class Query:
    filter: DeviceFilter
    sort: str = "id"
    descending: bool = False


class DeviceTable(ShowsWorkerErrors, DataTable[Any]):
    """Shows one window of the device list and pages through the rest on demand."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("home,g", "first_page", "Top", show=False),
        Binding("end,G", "last_page", "Bottom", show=False),
        Binding("ctrl+home", "first_page", "Top", show=False),
        Binding("ctrl+end", "last_page", "Bottom", show=False),
        *VIM_KEYS,
    ]
    SWITCHING_ACTIONS: ClassVar[frozenset[str]] = frozenset({"select_cursor"})

    @dataclass
    class WindowChanged(Message):
        """Posted after every load: where the window is, for the position line."""

        table: DeviceTable
        first: int  # 1-based approximate position of the first row
        shown: int
        total: int | None

    @dataclass
    class Opened(Message):
        """Enter on a row: open that device."""

        device_id: int

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.query_state = Query(DeviceFilter())
        self.rows_shown: list[DeviceRow] = []
        self.window_offset = 0
        self.total: int | None = None
        self.at_start = True
        self.at_end = True
        self.loading_window = False
        self._refresh_pending = False
        self._then: Callable[[list[DeviceRow]], None] | None = None
        self._count_timer: Timer | None = None

    def on_mount(self) -> None:
        labels = ctx(self).labels
        for key in COLUMNS:
            self.add_column(labels(key), key=key)

    # ------------------------------------------------------------------ public
    def load(self, query: Query, then: Callable[[list[DeviceRow]], None] | None = None) -> None:
        """Show the first page of a new query (and count its rows in the background);
        ``then`` gets the rows once they are on screen (Enter in the search box)."""
        self.query_state = query
        self._then = then
        self.total = None
        if self._count_timer is not None:
            self._count_timer.stop()
        # the count waits until the rows are shown and typing pauses: it costs more than the
        # page at 1M devices, and a search typed letter by letter needs only the last one
        self._count_timer = None
        early = ctx(self).take_early("first-page") if opens(query) else None
        if answered(early):
            self._show(query, Window.first_of(early.result()))
            return  # read before the screen was built (tui.early): shown in its first frame
        self._fetch("first", early)

    def reload(self) -> None:
        """Re-read the rows on screen (after an action changed one), keeping the cursor."""
        self._fetch("same")

    def refresh_window(self) -> None:
        """Someone changed the register: re-read the window and the count. A page fetch on
        its way (the operator paging) is not cancelled: the re-read follows it instead."""
        if any(w.node is self and w.group == "device-page" and not w.is_finished
               for w in self.app.workers):
            self._refresh_pending = True
            return
        self._fetch("same")
        self._count(self.query_state)

    @property
    def selected(self) -> DeviceRow | None:
        if not self.rows_shown or not 0 <= self.cursor_row < len(self.rows_shown):
            return None
        return self.rows_shown[self.cursor_row]

    # ------------------------------------------------------------------ keys
    def action_cursor_down(self) -> None:
        if self.rows_shown and self.cursor_row >= len(self.rows_shown) - 1 and not self.at_end:
            self._fetch("forward")
        else:
            super().action_cursor_down()

    def action_cursor_up(self) -> None:
        if self.rows_shown and self.cursor_row <= 0 and not self.at_start:
            self._fetch("backward")
        else:
            super().action_cursor_up()

    def action_page_down(self) -> None:
        if self.rows_shown and self.cursor_row >= len(self.rows_shown) - 1 and not self.at_end:
            self._fetch("forward")
        else:
            super().action_page_down()

    def action_page_up(self) -> None:
        if self.rows_shown and self.cursor_row <= 0 and not self.at_start:
            self._fetch("backward")
        else:
            super().action_page_up()

    def _on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        """The wheel past the bottom of the window reads on, like the keys do."""
        super()._on_mouse_scroll_down(event)
        if self.rows_shown and not self.at_end and self.scroll_y >= self.max_scroll_y:
            self._fetch("forward")

    def _on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        super()._on_mouse_scroll_up(event)
        if self.rows_shown and not self.at_start and self.scroll_y <= 0:
            self._fetch("backward")

    def action_first_page(self) -> None:
        self._fetch("first")

    def action_last_page(self) -> None:
        self._fetch("last")

    def action_select_cursor(self) -> None:
        if (row := self.selected) is not None:
            self.post_message(self.Opened(row.id))
        else:
            self.app.key_gate.release()  # type: ignore[attr-defined]  # nothing to open

    # ------------------------------------------------------------------ workers
    @work(thread=True, exclusive=True, exit_on_error=False, group="device-count")
    def _count(self, query: Query, early: Future[int] | None = None) -> None:
        def count() -> int:
            from inventory.services.devices import count_devices

            return count_devices(ctx(self).register, query.filter)

        total = result_or(early, count)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._set_total, query, total)

    @work(thread=True, exclusive=True, exit_on_error=False, group="device-page")
    def _fetch(self, how: str, early: Future[Page] | None = None) -> None:
        q = self.query_state
        rows, cursor = list(self.rows_shown), self.cursor_row
        keep = self.selected.id if how == "same" and self.selected is not None else None
        first = result_or(early, lambda: None)  # read before the screen was built (tui.early)
        result = Window.first_of(first) if first is not None else _fetch_window(
            ctx(self).register, q, how, rows, cursor, self.window_offset, self.total,
            self.at_start, self.at_end, keep)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show, q, result)

    # ------------------------------------------------------------------ main thread
    def _set_total(self, query: Query, total: int) -> None:
        self._count_timer = None
        if query == self.query_state:
            self.total = total
            self._announce()

    def _show(self, query: Query, w: Window) -> None:
        if query != self.query_state:
            return  # a newer query is on its way
        self.rows_shown, self.window_offset = w.rows, w.offset
        self.at_start, self.at_end = w.at_start, w.at_end
        now = ctx(self).now()
        labels = ctx(self).labels
        self.clear()
        for row in w.rows:
            style = row_style(row, now)
            cells = (row.serial, labels.term("device_kind", row.kind),
                     labels.term("device_status", row.status), row.holder_name or "",
                     row.agency_code or "", labels.date(row.not_after),
                     labels.number(row.lock_count), labels.date(row.last_seen_at))
            self.add_row(*safe_cells(*cells, style=style), key=str(row.id))
        if w.rows:
            self.move_cursor(row=max(0, min(w.cursor, len(w.rows) - 1)), animate=False)
        early = None
        if self.total is None and self._count_timer is None and opens(query):
            early = ctx(self).take_early("count")  # counted before the screen was built
            if answered(early):
                self.total, early = early.result(), None
        self._announce()
        if self.total is None and self._count_timer is None:
            if early is not None or ctx(self).search_debounce <= 0:
                self._count(query, early)  # at once: counted early, or no debounce (tests)
            else:  # the count follows when typing pauses
                self._count_timer = self.set_timer(COUNT_DELAY, partial(self._count, query))
        if self._then is not None and w.offset == 0:
            then, self._then = self._then, None
            then(w.rows)
        if self._refresh_pending:
            self._refresh_pending = False
            self.refresh_window()

    def _announce(self) -> None:
        self.post_message(self.WindowChanged(self, self.window_offset + 1 if self.rows_shown else 0,
                                             len(self.rows_shown), self.total))


@dataclass(frozen=True)
class Window:
    rows: list[DeviceRow]
    cursor: int
    offset: int
    at_start: bool
    at_end: bool

    @classmethod
    def first_of(cls, page: Page) -> Window:
        """The window of a list's first page."""
        return cls(page.rows, 0, 0, True, page.next_key is None)


def _fetch_window(register: Register, q: Query, how: str, rows: list[DeviceRow], cursor: int,
                  offset: int, total: int | None, at_start: bool, at_end: bool,
                  keep_id: int | None = None) -> Window:
    """The next window for a move (pure paging arithmetic around ``device_page``)."""
    from inventory.services.devices import device_page

    def page(after: Any, limit: int, backwards: bool = False) -> tuple[list[DeviceRow], bool]:
        p = device_page(register, q.filter, sort=q.sort, after=after, limit=limit,
                        descending=q.descending != backwards)
        return (list(reversed(p.rows)) if backwards else p.rows), p.next_key is None

    if how == "first" or (not rows and how != "last"):
        new, end = page(None, WINDOW)
        return Window(new, 0, 0, True, end)
    if how == "last":
        new, start = page(None, WINDOW, backwards=True)
        off = max(0, (total or len(new)) - len(new))
        return Window(new, len(new) - 1, 0 if start else off, start, True)
    if how == "forward":
        new, end = page(row_key(rows[-1], q.sort), STEP)
        if not new:
            return Window(rows, cursor, offset, at_start, True)
        merged = (rows + new)[-WINDOW:]
        dropped = len(rows) + len(new) - len(merged)
        return Window(merged, cursor - dropped + 1, offset + dropped, at_start and not dropped,
                      end)
    if how == "backward":
        new, start = page(row_key(rows[0], q.sort), STEP, backwards=True)
        if not new:
            return Window(rows, cursor, 0, True, at_end)
        merged = (new + rows)[:WINDOW]
        kept_after = len(merged) - len(new)
        return Window(merged, cursor + len(new) - 1, max(0, offset - len(new)), start,
                      at_end and kept_after == len(rows))
    # "same": re-read from just before the first row, so changed rows show their new state
    before, _ = page(row_key(rows[0], q.sort), 1, backwards=True)
    new, end = page(row_key(before[0], q.sort) if before else None, len(rows))
    ids = [r.id for r in new]
    if keep_id in ids:  # the device under the cursor is still listed: stay on it
        cursor = ids.index(keep_id)
    return Window(new, cursor, offset, at_start, end and at_end)


def opens(q: Query) -> bool:
    """Whether ``q`` is the list as it opens (what ``tui.early`` reads before the screen)."""
    return not q.descending and q.sort == "id" and replace(q.filter, now=None) == DeviceFilter()


def with_now(f: DeviceFilter, now: datetime) -> DeviceFilter:
    return replace(f, now=now)
