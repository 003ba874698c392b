"""The tokenfleet terminal UI: composes the screens, keys, themes and the command palette."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, ClassVar

from textual import work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.worker import get_current_worker

from inventory.register.changes import Changes
from inventory.register.config import Settings
from inventory.register.db import Register
from inventory.services.dashboard import NOT_SEEN_STATUSES

from .bindings import localise_bindings
from .commands import TokenfleetCommands
from .context import UiContext
from .i18n import Labels
from .live import RegisterChanged, watch_register
from .modes import SCREENS
from .screens.dashboard import DashboardScreen
from .screens.desk import DeskScreen
from .screens.devices import DevicesScreen
from .screens.events import EventsScreen
from .screens.help import HelpScreen
from .screens.holders import HoldersScreen
from .screens.readers import ReadersScreen
from .screens.transfers import TransfersScreen
from .widgets.filter_bar import FilterValues

THEMES = ("textual-dark", "textual-light")
SCREEN_CLASSES: dict[str, type[Screen[None]]] = {
    "dashboard": DashboardScreen,
    "devices": DevicesScreen,
    "holders": HoldersScreen,
    "readers": ReadersScreen,
    "transfers": TransfersScreen,
    "desk": DeskScreen,
}


class TokenfleetApp(App[None]):
    CSS_PATH = "tokenfleet.tcss"
    COMMANDS = App.COMMANDS | {TokenfleetCommands}
    MODES: ClassVar[dict[str, Any]] = {name: SCREEN_CLASSES[name] for name in SCREENS}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("1,f2", "switch_mode('dashboard')", "nav.dashboard", id="dashboard"),
        Binding("2,f3", "switch_mode('devices')", "nav.devices", id="devices"),
        Binding("3,f4", "switch_mode('holders')", "nav.holders", id="holders"),
        Binding("4", "switch_mode('readers')", "nav.readers", id="readers"),
        Binding("5", "switch_mode('transfers')", "nav.transfers", id="transfers"),
        Binding("6", "switch_mode('desk')", "nav.desk", id="desk"),
        Binding("slash", "search", "nav.search", tooltip="tip.search", show=False, id="search"),
        Binding("question_mark,f1", "help", "nav.help", id="help"),
        Binding("ctrl+t", "toggle_theme", "nav.theme", tooltip="tip.theme", id="theme"),
    ]

    def __init__(self, register: Register, *, actor: str, lang: str = "en",
                 now: datetime | None = None, start: str = "dashboard",
                 poller_factory: Callable[[], Any] | None = None,
                 search_debounce: float = 0.15, theme: str = "textual-dark",
                 host: str | None = None, watch_changes: bool = True,
                 who: str | None = None, settings: Settings | None = None,
                 observation_retention_days: int | None = None) -> None:
        self.ctx = UiContext(register=register, actor=actor, labels=Labels(lang), fixed_now=now,
                             poller_factory=poller_factory, search_debounce=search_debounce)
        if settings is not None:
            self.ctx.settings = settings
        if host:
            self.ctx.host = host
        if observation_retention_days is not None:
            self.ctx.observation_retention_days = observation_retention_days
        super().__init__()
        localise_bindings(self, self.ctx.labels)
        self.start_mode = start
        self.watch_changes = watch_changes
        self._watch_stopped = threading.Event()
        self.theme = theme
        self.title = self.ctx.labels("app.title")
        # who is connected (PostgreSQL: the login, its role and agency scope), in the header
        self.sub_title = self.ctx.labels("app.subtitle") + (f" — {who}" if who else "")

    def on_mount(self) -> None:
        self.switch_mode(self.start_mode)
        if self.watch_changes:
            self._watch_register()
        else:
            self._watch_stopped.set()

    async def on_unmount(self) -> None:
        """Stop the change watcher and wait for it to close its connection."""
        for worker in self.workers:
            if worker.group == "changes":
                worker.cancel()
        await asyncio.to_thread(self._watch_stopped.wait, 10)

    @work(thread=True, exit_on_error=False, group="changes", name="change watcher")
    def _watch_register(self) -> None:
        watch_register(self.ctx.register, self.post_message,
                       get_current_worker().cancelled_event, self._watch_stopped)

    def on_register_changed(self, message: RegisterChanged) -> None:
        self.refresh_screens(message.changes)

    def refresh_screens(self, changes: Changes) -> None:
        """Every open screen re-reads what ``changes`` affects (``refresh_for_changes``)."""
        for screen in self.screen_stack:
            refresh = getattr(screen, "refresh_for_changes", None)
            if not callable(refresh) or not screen.is_mounted:
                continue
            try:
                refresh(changes)
            except NoMatches:  # a late notice while the screen is torn down: nothing to redo
                continue

    def action_toggle_theme(self) -> None:
        self.theme = THEMES[1] if self.theme == THEMES[0] else THEMES[0]

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    async def action_search(self) -> None:
        """``/`` anywhere: the devices screen with the cursor in its search box."""
        if not isinstance(self.screen, DevicesScreen | HoldersScreen):
            await self.switch_mode("devices")
        screen = self.screen
        if isinstance(screen, DevicesScreen | HoldersScreen):
            screen.call_after_refresh(screen.action_focus_search)

    async def open_figure(self, target: dict[str, Any]) -> None:
        """A dashboard figure: its list of devices, or this month's events of its kind."""
        if "events" in target:
            await self.push_screen(EventsScreen(target["events"]))
            return
        values = FilterValues(status=target.get("status"), kind=target.get("kind"),
                              expiring_days=str(target["expiring"]) if "expiring" in target
                              else "")
        not_seen = timedelta(days=target["not_seen"]) if "not_seen" in target else None
        await self.switch_mode("devices")
        screen = self.screen
        if isinstance(screen, DevicesScreen):
            screen.show_preset(values, not_seen,
                               statuses=NOT_SEEN_STATUSES if not_seen is not None else ())
