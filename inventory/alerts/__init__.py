"""Expiry and lock alerts, made for cron (``tokenfleet alerts run``).

Rules (``rules``) find certificates expiring within the thresholds or expired, devices locked or
unseen too long, and requests pending too long. The ledger (``ledger``) records every delivery
per (rule, subject, threshold, recipient), so each warning goes out once per threshold; digests
(``digest``) bundle them per recipient; channels (``channels``) deliver by SMTP or JSON lines.

Exit codes of ``tokenfleet alerts run`` (for cron wrappers and monitoring):

    0   nothing new to send (or, with --dry-run, nothing would be sent)
    10  alerts sent (with --dry-run: there is something to send)
    11  partial failure: some digests were sent, some failed (recorded as failed, retried next run)
    12  every delivery failed (e.g. the mail server is down; retried next run)
    69  the database cannot be reached
    75  another run holds the lock: this run did nothing (overlapping cron runs are harmless)
    78  configuration error (bad TOKENFLEET_* value, SMTP settings missing)

The TUI uses ``last_run`` (the heartbeat), ``acknowledge`` and ``snooze``.
"""

from inventory.alerts.ledger import RunInfo, acknowledge, last_run, ledger_counts, snooze
from inventory.alerts.rules import Alert, crossed_threshold, due_alerts
from inventory.alerts.runner import (
    EXIT_CONFIG,
    EXIT_FAILED,
    EXIT_LOCKED,
    EXIT_NOTHING,
    EXIT_PARTIAL,
    EXIT_SENT,
    AlertRunLockedError,
    RunResult,
    run_alerts,
)
from inventory.alerts.settings import AlertSettings, SmtpSettings

__all__ = [
    "EXIT_CONFIG",
    "EXIT_FAILED",
    "EXIT_LOCKED",
    "EXIT_NOTHING",
    "EXIT_PARTIAL",
    "EXIT_SENT",
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
