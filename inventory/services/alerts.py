"""The alert desk: the job, the ledger (what was sent to whom), its heartbeat, ack, snooze.

``tokenfleet alerts run|list|status|ack|snooze`` and the TUI's alerts pane show and do the same.
The job (``run_job``) is ``inventory.alerts.run_alerts`` with every rule, the CA layer's
``ca_mismatch`` included (the alerts layer does not import the CA layer; this one joins them).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from inventory.alerts import ledger
from inventory.alerts.ledger import RunInfo
from inventory.alerts.rules import RULE_QUERIES, RuleSource
from inventory.alerts.runner import RunResult, run_alerts
from inventory.register.config import AlertSettings
from inventory.register.db import Register
from inventory.register.errors import ValidationError
from inventory.register.models import ALERT_STATES, AlertLedgerEntry, Device
from inventory.services.ca import CA_RULES

LEDGER_LIMIT = 200
ALL_RULES: dict[str, RuleSource] = {**RULE_QUERIES, "ca": CA_RULES}
"""Every rule source of the alert job."""


def run_job(register: Register, settings: AlertSettings, **options: Any) -> RunResult:
    """One alert run (``inventory.alerts.run_alerts``'s options) over every rule."""
    return run_alerts(register, settings, sources=ALL_RULES, **options)


@dataclass(frozen=True)
class AlertRow:
    """One row of the alert ledger: one alert (rule, subject, threshold) to one recipient."""

    id: int
    state: str
    rule: str
    threshold: int
    serial: str | None
    recipient: str
    attempts: int
    sent_at: datetime | None
    snoozed_until: datetime | None
    last_error: str | None
    subject_id: int


@dataclass(frozen=True)
class AlertStatus:
    """The job's heartbeat and the ledger's counts, for monitoring."""

    last_run: RunInfo | None
    ledger: dict[str, int]  # every state of ALERT_STATES, 0 when none

    def healthy(self, now: datetime, overdue_after: int) -> bool:
        """The last run succeeded and one did within ``overdue_after`` hours."""
        run = self.last_run
        return run is not None and run.ok and not run.overdue(now, timedelta(hours=overdue_after))


def alert_ledger(register: Register, *, state: str | None = None, serial: str | None = None,
                 limit: int = LEDGER_LIMIT) -> list[AlertRow]:
    """The newest ledger rows first, of one state and/or one device if asked."""
    if state is not None and state not in ALERT_STATES:
        raise ValidationError(f"alert state {state!r} is not one of {', '.join(ALERT_STATES)}")
    L = AlertLedgerEntry
    stmt = (select(L, Device.serial).outerjoin(Device, Device.id == L.device_id)
            .order_by(L.id.desc()).limit(limit))
    if state:
        stmt = stmt.where(L.state == state)
    if serial:
        stmt = stmt.where(Device.serial == serial)
    with register.read() as session:
        return [AlertRow(e.id, e.state, e.rule, e.threshold, dev_serial, e.recipient,
                         e.attempts, e.sent_at, e.snoozed_until, e.last_error, e.subject_id)
                for e, dev_serial in session.execute(stmt)]


def last_run(register: Register) -> RunInfo | None:
    """The alert job's heartbeat (None: it never ran)."""
    with register.read() as session:
        return ledger.last_run(session)


def alert_status(register: Register) -> AlertStatus:
    with register.read() as session:
        counts = ledger.ledger_counts(session)
        return AlertStatus(ledger.last_run(session),
                           {s: counts.get(s, 0) for s in ALERT_STATES})


def acknowledge_alert(register: Register, *, actor: str, alert_id: int | None = None,
                      serial: str | None = None) -> int:
    """No more warnings about an alert's condition (every threshold and recipient), or about
    every alert of a device; returns the ledger rows marked."""
    with register.session() as session:
        return ledger.acknowledge(session, actor=actor, entry_id=alert_id, serial=serial)


def snooze_alert(register: Register, *, actor: str, until: datetime,
                 alert_id: int | None = None, serial: str | None = None) -> int:
    """Silence an alert (or a device's alerts) until ``until``; returns the rows marked."""
    with register.session() as session:
        return ledger.snooze(session, actor=actor, until=until, entry_id=alert_id,
                             serial=serial)
