"""What every screen needs: the register, the operator, the labels and the clock.

The clock can be fixed (tests and snapshots pass ``now``), so everything derived from "now" —
expiry colours, "waiting for N days", this month's counts — is deterministic.

The register may be opened late: ``tokenfleet tui`` paints its first frame from its early
reader's answers (``tui.early``) and connects once that frame is on screen; whatever asks for
the register first (in a worker thread) waits for that.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from inventory.register.config import Settings, default_reports_dir
from inventory.register.dates import utcnow
from inventory.services.figures import NOT_SEEN_DAYS

from .early import EarlyRead
from .i18n import Labels
from .views import ViewStore

if TYPE_CHECKING:
    from textual.dom import DOMNode

    from inventory.register.db import Register


@dataclass(frozen=True)
class Connected:
    """What the app works on: the register, who the operator is, and how the navigation bar
    names the connection (PostgreSQL's login, role and scope; None on SQLite)."""

    register: Register
    actor: str
    who: str | None = None


@dataclass
class UiContext:
    connect: Callable[[], Connected]  # called once, by whatever needs the register first
    labels: Labels = field(default_factory=Labels)
    fixed_now: datetime | None = None
    poller_factory: Callable[[], Any] | None = None  # tests feed a scripted poller
    search_debounce: float = 0.15
    not_seen_days: int = NOT_SEEN_DAYS
    host: str = field(default_factory=socket.gethostname)  # this poller station's name
    settings: Settings = field(default_factory=Settings)  # CA grace days, OCSP URL, timeout
    observation_retention_days: int = Settings.observation_retention_days
    views: ViewStore = field(default_factory=ViewStore)  # the operator's saved views
    reports_dir: Path = field(default_factory=default_reports_dir)  # where reports go
    early: EarlyRead | None = None  # the start screen's first reads, begun before Textual
    connect_error: Exception | None = None  # why connecting failed (the app is ending)
    _connected: Connected | None = field(default=None, repr=False)
    _connecting: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def connected(self) -> Connected:
        """The register and the operator, connecting on first use (the first caller opens it,
        the others wait for it). A failure is final: raised to every caller (the app ends and
        ``tokenfleet tui`` says why, ``TokenfleetApp.failed``)."""
        with self._connecting:
            if self.connect_error is not None:
                raise self.connect_error
            if self._connected is None:
                try:
                    self._connected = self.connect()
                except Exception as exc:
                    self.connect_error = exc
                    raise
            return self._connected

    @property
    def register(self) -> Register:
        return self.connected().register

    @property
    def actor(self) -> str:
        return self.connected().actor

    def now(self) -> datetime:
        return self.fixed_now or utcnow()

    def take_early(self, name: str) -> Future[Any] | None:
        """The early read ``name`` if it was begun and not taken yet (it is taken once: a later
        read of the same figure asks the register)."""
        return self.early.take(name) if self.early is not None else None


def ctx(node: DOMNode) -> UiContext:
    """The UI context of the running app (every tokenfleet screen and widget uses this)."""
    return cast(UiContext, node.app.ctx)  # type: ignore[attr-defined]
