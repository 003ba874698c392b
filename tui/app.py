"""The tokenfleet terminal UI: composes the screens, keys, themes and the command palette."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib
import threading
from collections.abc import Callable
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import events, work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.css.query import NoMatches
from textual.screen import ModalScreen, Screen
from textual.timer import Timer
from textual.worker import get_current_worker

from inventory.register.config import Settings

from .bindings import localise_bindings
from .commands import TokenfleetCommands
from .context import Connected, UiContext
from .early import WAIT, EarlyRead
from .filters import FilterValues, View
from .i18n import Labels
from .live import RegisterChanged, merge_changes, watch_register
from .modes import SCREENS
from .typeahead import KeyGate, switching
from .views import ViewStore

if TYPE_CHECKING:
    from inventory.register.changes import Changes
    from inventory.register.db import Register

THEMES = ("textual-dark", "textual-light")
SCREEN_CLASSES = {"dashboard": "DashboardScreen", "devices": "DevicesScreen",
                  "holders": "HoldersScreen", "readers": "ReadersScreen",
                  "transfers": "TransfersScreen", "desk": "DeskScreen"}
SEARCHABLE = ("devices", "holders")  # screens with a search box for "/"
HIDDEN_REFRESH_SECONDS = 1.0  # screens out of sight catch up on changes at most this often


def lazy(module: str, name: str) -> Callable[[], Screen[Any]]:
    """A screen whose module is imported when the screen is first opened: starting the app
    imports only the screen it opens with (the others pull in the desk, readers, reports…)."""
    def make() -> Screen[Any]:
        screen: Screen[Any] = getattr(importlib.import_module(module, __package__), name)()
        return screen
    make.__name__ = name
    return make


class TokenfleetApp(App[None]):
    CSS_PATH = "tokenfleet.tcss"
    COMMANDS = App.COMMANDS | {TokenfleetCommands}
    MODES: ClassVar[dict[str, Any]] = {name: lazy(f".screens.{name}", SCREEN_CLASSES[name])
                                       for name in SCREENS}
    # the screen keys are on the navigation bar of every screen, not in every footer
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("1,f2", "switch_mode('dashboard')", "nav.dashboard", show=False,
                id="dashboard"),
        Binding("2,f3", "switch_mode('devices')", "nav.devices", show=False, id="devices"),
        Binding("3,f4", "switch_mode('holders')", "nav.holders", show=False, id="holders"),
        Binding("4", "switch_mode('readers')", "nav.readers", show=False, id="readers"),
        Binding("5", "switch_mode('transfers')", "nav.transfers", show=False, id="transfers"),
        Binding("6", "switch_mode('desk')", "nav.desk", show=False, id="desk"),
        Binding("slash", "search", "nav.search", tooltip="tip.search", show=False, id="search"),
        Binding("question_mark,f1", "help", "nav.help", id="help"),
        Binding("ctrl+t", "toggle_theme", "nav.theme", tooltip="tip.theme", show=False,
                id="theme"),
    ]
    SWITCHING_ACTIONS: ClassVar[frozenset[str]] = frozenset({"search", "switch_mode", "help"})
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]  # noqa: RUF012

    def __init__(self, register: Register | None = None, *, actor: str = "", lang: str = "en",
                 now: datetime | None = None, start: str = "dashboard",
                 poller_factory: Callable[[], Any] | None = None,
                 search_debounce: float = 0.15, theme: str = "textual-dark",
                 host: str | None = None, watch_changes: bool = True,
                 who: str | None = None, settings: Settings | None = None,
                 observation_retention_days: int | None = None,
                 views_path: Path | None = None, reports_dir: Path | None = None,
                 early: EarlyRead | None = None,
                 connect: Callable[[], Connected] | None = None) -> None:
        """``register`` and ``actor``: what to work on, open already; or ``connect``, which
        opens it when the first frame is on screen (``tokenfleet tui``, with ``early``)."""
        if connect is None:
            assert register is not None, "a register, or how to connect to it"
            connect = partial(Connected, register, actor, who)
        self.ctx = UiContext(connect=connect, labels=Labels(lang), fixed_now=now,
                             poller_factory=poller_factory, search_debounce=search_debounce,
                             views=ViewStore(views_path))
        if settings is not None:
            self.ctx.settings = settings
        if host:
            self.ctx.host = host
        if observation_retention_days is not None:
            self.ctx.observation_retention_days = observation_retention_days
        if reports_dir is not None:
            self.ctx.reports_dir = reports_dir
        self.ctx.early = early
        super().__init__()
        localise_bindings(self, self.ctx.labels)
        self.start_mode = start
        self.watch_changes = watch_changes
        self._watch_stopped = threading.Event()
        self.key_gate = KeyGate(self, self._handle_key)
        self._switching_to: str | None = None  # a screen key's mode, until its screen shows
        self._stale: dict[Screen[Any], Changes] = {}  # screens out of sight, what they missed
        self._stale_timer: Timer | None = None
        self.theme = theme
        self.title = self.ctx.labels("app.title")
        self._set_who(who)

    def on_mount(self) -> None:
        self.screen_change_signal.subscribe(self, self._screen_changed)
        self.switch_mode(self.start_mode)
        if self.ctx.early is None:
            self._connect_and_watch()
        else:  # connecting imports the register's models: not before the first frame is painted
            self.call_after_refresh(self._connect_and_watch)

    async def on_unmount(self) -> None:
        """Stop the change watcher and wait for it to close its connection."""
        for worker in self.workers:
            if worker.group == "changes":
                worker.cancel()
        await asyncio.to_thread(self._watch_stopped.wait, 10)

    # ------------------------------------------------------------------ keys
    async def on_event(self, event: events.Event) -> None:
        """Every key passes the key gate first (``tui.typeahead``): none is lost or reordered
        while a screen or field is being switched."""
        if isinstance(event, events.Key) and not event.is_forwarded:
            if not self.key_gate.takes(event):
                await self._handle_key(event)
            return
        await super().on_event(event)

    async def _handle_key(self, event: events.Key) -> None:
        if switching(self, event):
            self.key_gate.hold()
        await super().on_event(event)

    async def action_switch_mode(self, mode: str) -> None:
        if mode == self.current_mode:
            self.key_gate.release()
            return
        self._switching_to = mode  # its screen releases the keys once it has the focus
        await self.switch_mode(mode)

    def _screen_changed(self, screen: Screen[Any]) -> None:
        """A question, a menu or a form opened: the keys typed while it opened go on to it
        (whatever key opened it — every modal takes the keys, none has to remember to)."""
        if isinstance(screen, ModalScreen):
            screen.call_after_refresh(self.key_gate.release)
        elif self._switching_to is not None and self._switching_to == self.current_mode:
            self._switching_to = None  # a screen key's screen is in sight: the keys go on to it
            screen.call_after_refresh(self.key_gate.release)

    def screen_resumed(self, screen: Screen[Any]) -> None:
        """A screen comes into sight: it catches up on what changed meanwhile (the keys typed
        meanwhile go on to it from ``_screen_changed``; ``/`` releases them itself, once the
        search box has the focus)."""
        missed = self._stale.pop(screen, None)
        if missed is not None:
            self._refresh(screen, missed)

    # ------------------------------------------------------------------ live updates
    @work(thread=True, exit_on_error=False, group="changes", name="change watcher")
    def _connect_and_watch(self) -> None:
        """Connect (if not yet), then watch the register for changes until cancelled."""
        if self.ctx.early is not None:  # the early reader's first answer first (tui.early)
            self.ctx.early.first.wait(WAIT)
        try:
            connected = self.ctx.connected()
        except Exception:  # the register cannot be opened, or the claim is refused
            self._watch_stopped.set()
            self.call_from_thread(self.exit)  # ``failed`` says why
            return
        if connected.who != self.who:
            self.call_from_thread(self._show_who, connected.who)
        self.call_from_thread(self._settled)
        if not self.watch_changes:
            self._watch_stopped.set()
            return
        since = None
        if self.ctx.early is not None:  # from just before the first screen's early read
            with contextlib.suppress(Exception):
                since = self.ctx.early.since.result()
        watch_register(connected.register, self.post_message,
                       get_current_worker().cancelled_event, self._watch_stopped, since=since)

    def _settled(self) -> None:
        """Connected, the first screen up: what exists now lives as long as the app. It is put
        out of the collector's way (``gc.freeze``), so that a full collection — 80–100 ms over
        everything the app imported, at random, the slowest keystrokes — scans only what came
        since; and collection resumes (``tokenfleet tui`` pauses it for its start)."""
        gc.collect()  # once, now: garbage frozen would never be freed
        gc.freeze()
        gc.enable()

    @property
    def failed(self) -> Exception | None:
        """Why the app could not connect (it ended then): ``tokenfleet tui`` says it, with its
        exit code."""
        return self.ctx.connect_error

    def _set_who(self, who: str | None) -> None:
        """Who is connected (PostgreSQL: the login, its role and agency scope; None on SQLite),
        in the header's title and on the navigation bar (the header's place)."""
        self.who = who
        self.sub_title = self.ctx.labels("app.subtitle") + (f" — {who}" if who else "")

    def _show_who(self, who: str | None) -> None:
        from .widgets.nav_bar import NavBar

        self._set_who(who)
        for screen in self.all_screens():
            for bar in screen.query(NavBar):
                bar.update(bar.line())

    def on_register_changed(self, message: RegisterChanged) -> None:
        self.refresh_screens(message.changes)

    def all_screens(self) -> list[Screen[Any]]:
        """Every screen of every mode, in sight or not."""
        stacks = getattr(self, "_screen_stacks", {self.current_mode: self.screen_stack})
        return [screen for stack in stacks.values() for screen in stack]

    def refresh_screens(self, changes: Changes) -> None:
        """Every screen re-reads what ``changes`` affects (``refresh_for_changes``): those in
        sight at once, the others within ``HIDDEN_REFRESH_SECONDS`` (several changes in one
        read), and any of them at once when it comes back into sight."""
        in_sight = set(self.screen_stack)
        for screen in self.all_screens():
            if not callable(getattr(screen, "refresh_for_changes", None)):
                continue
            if screen in in_sight:
                self._refresh(screen, changes)
            else:
                self._stale[screen] = merge_changes(self._stale.get(screen), changes)
        if self._stale and self._stale_timer is None:
            self._stale_timer = self.set_timer(HIDDEN_REFRESH_SECONDS, self._refresh_stale)

    def _refresh_stale(self) -> None:
        self._stale_timer = None
        stale, self._stale = self._stale, {}
        for screen, changes in stale.items():
            self._refresh(screen, changes)

    def _refresh(self, screen: Screen[Any], changes: Changes) -> None:
        if not screen.is_mounted:
            return
        # a late notice while the screen is torn down: nothing to redo
        with contextlib.suppress(NoMatches):
            screen.refresh_for_changes(changes)  # type: ignore[attr-defined]

    # ------------------------------------------------------------------ actions
    def action_toggle_theme(self) -> None:
        self.theme = THEMES[1] if self.theme == THEMES[0] else THEMES[0]

    def action_help(self) -> None:
        from .screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())
        else:
            self.key_gate.release()

    async def action_search(self) -> None:
        """``/`` anywhere: the devices screen with the cursor in its search box (from a device's
        page too: the next scanned serial)."""
        if isinstance(self.screen, ModalScreen):  # a question on screen: answer it first
            self.key_gate.release()
            return
        while len(self.screen_stack) > 1:  # a device's page, a month's events: back to the list
            await self.pop_screen()
        if self.current_mode not in SEARCHABLE:
            await self.switch_mode("devices")
        focus_search = getattr(self.screen, "action_focus_search", None)
        if callable(focus_search):
            focus_search()  # it releases the keys once the box has the focus
        else:
            self.key_gate.release()

    async def open_figure(self, target: dict[str, Any]) -> None:
        """A dashboard figure: its list of devices, or this month's events of its kind."""
        if "events" in target:
            from .screens.events import EventsScreen

            await self.push_screen(EventsScreen(target["events"]))
            return
        values = FilterValues(status=target.get("status"), kind=target.get("kind"),
                              expiring_days=target.get("expiring"),
                              not_seen_days=target.get("not_seen"))
        await self.show_view(View(values))

    async def show_view(self, view: View) -> None:
        """The devices list with these filters and this order (a figure, a saved view)."""
        await self.switch_mode("devices")
        show = getattr(self.screen, "show_view", None)
        if callable(show):
            show(view)
        self.key_gate.release()
