"""What every screen needs: the register, the operator, the labels and the clock.

The clock can be fixed (tests and snapshots pass ``now``), so everything derived from "now" —
expiry colours, "waiting for N days", this month's counts — is deterministic.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from inventory.register.config import Settings, default_reports_dir
from inventory.register.db import Register
from inventory.register.models import utcnow

from .early import EarlyRead
from .i18n import Labels
from .views import ViewStore

if TYPE_CHECKING:
    from textual.dom import DOMNode


@dataclass
class UiContext:
    register: Register
    actor: str
    labels: Labels = field(default_factory=Labels)
    fixed_now: datetime | None = None
    poller_factory: Callable[[], Any] | None = None  # tests feed a scripted poller
    search_debounce: float = 0.15
    not_seen_days: int = 30
    host: str = field(default_factory=socket.gethostname)  # this poller station's name
    settings: Settings = field(default_factory=Settings)  # CA grace days, OCSP URL, timeout
    observation_retention_days: int = Settings.observation_retention_days
    views: ViewStore = field(default_factory=ViewStore)  # the operator's saved views
    reports_dir: Path = field(default_factory=default_reports_dir)  # where reports go
    early: EarlyRead | None = None  # the start screen's first read, begun before Textual

    def now(self) -> datetime:
        return self.fixed_now or utcnow()

    def take_early(self, name: str) -> Future[Any] | None:
        """The early read ``name`` if it was begun and not taken yet (it is taken once: a later
        read of the same figure asks the register)."""
        early = self.early
        if early is None or early.name != name or early.value is None:
            return None
        value, early.value = early.value, None
        return value


def ctx(node: DOMNode) -> UiContext:
    """The UI context of the running app (every tokenfleet screen and widget uses this)."""
    return cast(UiContext, node.app.ctx)  # type: ignore[attr-defined]
