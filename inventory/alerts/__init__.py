"""Expiry and lock alerts, made for cron (``tokenfleet alerts run``).

Rules (``rules``) find certificates expiring within the thresholds or expired, devices locked or
unseen too long, and requests pending too long. The ledger (``ledger``) records every delivery
per (rule, subject, threshold, recipient), so each warning goes out once per threshold; digests
(``digest``) bundle them per recipient; channels (``channels``) deliver by SMTP or JSON lines.

A run reports what happened (``RunResult.outcome``: nothing, sent, partial, failed) and raises
``AlertRunLockedError`` when another run holds the lock; ``inventory.cli.exit_codes`` turns both
into the exit codes cron sees.

The service layer (``inventory.services.alerts``) uses ``last_run`` (the heartbeat),
``ledger_counts``, ``acknowledge`` and ``snooze`` for both front ends.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from inventory.alerts.ledger import RunInfo, acknowledge, last_run, ledger_counts, snooze
from inventory.alerts.rules import Alert, crossed_threshold, due_alerts
from inventory.register.config import AlertSettings, SmtpSettings
from inventory.register.errors import AlertRunLockedError

if TYPE_CHECKING:
    from inventory.alerts.runner import OUTCOMES, RunResult, run_alerts

_FROM_RUNNER = frozenset({"OUTCOMES", "RunResult", "run_alerts"})

__all__ = [
    "OUTCOMES",
    "Alert",
    "AlertRunLockedError",
    "AlertSettings",
    "RunInfo",
    "RunResult",
    "SmtpSettings",
    "acknowledge",
    "crossed_threshold",
    "due_alerts",
    "last_run",
    "ledger_counts",
    "run_alerts",
    "snooze",
]


def __getattr__(name: str) -> Any:
    """The runner (digests, SMTP) is imported when a run needs it, not by every reader of the
    ledger (the TUI's dashboard starts faster)."""
    if name == "runner":
        return importlib.import_module("inventory.alerts.runner")
    if name in _FROM_RUNNER:
        return getattr(importlib.import_module("inventory.alerts.runner"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
