"""The alert ledger: what was sent to whom, so every warning goes out once per threshold.

A row is written after each delivery attempt: ``sent`` (with ``sent_at``) or ``failed`` (with
the error, retried next run). Acknowledging or snoozing marks every row of one condition
(rule, subject, episode), which silences its later thresholds too (a snooze until its date).
The heartbeat table ``alert_runs`` gets one row per run, so a stopped or failing job shows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from inventory.alerts.rules import Alert, candidate_subjects
from inventory.register import access, audit
from inventory.register.config import AlertSettings
from inventory.register.errors import NotFoundError, ValidationError
from inventory.register.models import AlertLedgerEntry, AlertRun, Device, utcnow

CHUNK = 2000


@dataclass
class LedgerView:
    """What the ledger knows about a set of alerts: delivered keys, and silenced conditions."""

    delivered: set[tuple[str, int, int, int, str]] = field(default_factory=set)
    row_ids: dict[tuple[str, int, int, int, str], int] = field(default_factory=dict)
    acked: set[tuple[str, int, int]] = field(default_factory=set)
    snoozed: set[tuple[str, int, int]] = field(default_factory=set)

    def silenced(self, alert: Alert) -> bool:
        if not (self.acked or self.snoozed):
            return False
        group = alert.group
        return group in self.acked or group in self.snoozed

    def delivered_to(self, alert: Alert, recipient: str) -> bool:
        return bool(self.delivered) and (*alert.key, recipient) in self.delivered


def load_view(session: Session, alerts: Sequence[Alert], now: datetime,
              settings: AlertSettings) -> LedgerView:
    """Ledger rows of the conditions the rules may alert about now (by the unique index)."""
    view = LedgerView()
    L = AlertLedgerEntry
    for rule in sorted({a.rule for a in alerts}):
        stmt = (select(L.id, L.subject_id, L.threshold, L.episode, L.recipient, L.state,
                       L.sent_at, L.snoozed_until).where(L.rule == rule))
        candidates = candidate_subjects(rule, settings, now)
        if candidates is not None:
            stmt = stmt.where(L.subject_id.in_(candidates.scalar_subquery()))
        rows = session.execute(stmt)
        for rid, subject, threshold, episode, recipient, state, sent_at, until in rows:
            key = (rule, subject, threshold, episode, recipient)
            view.row_ids[key] = rid
            if sent_at is not None:
                view.delivered.add(key)
            if state == "acked":
                view.acked.add((rule, subject, episode))
            elif state == "snoozed" and until is not None and until > now:
                view.snoozed.add((rule, subject, episode))
    return view


@dataclass(frozen=True)
class Delivery:
    """The outcome of one digest to one recipient, for the alerts it carried."""

    recipient: str
    alerts: Sequence[Alert]
    error: str | None = None


def record_delivery(session: Session, view: LedgerView, delivery: Delivery,
                    now: datetime) -> None:
    """Write sent/failed rows for one digest (bulk: a first run may carry thousands)."""
    L = AlertLedgerEntry
    state = "failed" if delivery.error else "sent"
    sent_at = None if delivery.error else now
    new: list[dict[str, Any]] = []
    existing: list[int] = []
    for a in delivery.alerts:
        key = (*a.key, delivery.recipient)
        if key in view.row_ids:
            existing.append(view.row_ids[key])
        else:
            new.append({"rule": a.rule, "subject_id": a.subject_id, "threshold": a.threshold,
                        "episode": a.episode, "recipient": delivery.recipient,
                        "device_id": a.device_id, "agency_id": a.agency_id, "state": state,
                        "attempts": 1, "last_error": delivery.error, "created_at": now,
                        "sent_at": sent_at})
    if new:
        session.execute(insert(L), new)
    for start in range(0, len(existing), CHUNK):
        session.execute(update(L).where(L.id.in_(existing[start:start + CHUNK]))
                        .values(state=state, attempts=L.attempts + 1,
                                last_error=delivery.error, sent_at=sent_at))


def _group_rows(session: Session, entry: AlertLedgerEntry) -> list[AlertLedgerEntry]:
    L = AlertLedgerEntry
    return list(session.scalars(select(L).where(L.rule == entry.rule,
                                                L.subject_id == entry.subject_id,
                                                L.episode == entry.episode)))


def _targets(session: Session, entry_id: int | None, serial: str | None) -> list[AlertLedgerEntry]:
    """The ledger rows an ack/snooze acts on: one alert's condition, or a device's alerts."""
    if (entry_id is None) == (serial is None):
        raise ValidationError("name either an alert id or a device serial")
    if entry_id is not None:
        entry = session.get(AlertLedgerEntry, entry_id)
        if entry is None:
            raise NotFoundError(f"no alert with id {entry_id} (see `tokenfleet alerts list`)",
                                key="no_alert", id=entry_id)
        return _group_rows(session, entry)
    device_ids = list(session.scalars(select(Device.id).where(Device.serial == serial)))
    if not device_ids:
        raise NotFoundError(f"no device with serial {serial}")
    rows = list(session.scalars(select(AlertLedgerEntry)
                                .where(AlertLedgerEntry.device_id.in_(device_ids))))
    if not rows:
        raise NotFoundError(f"device {serial} has no alerts in the ledger")
    groups = {(r.rule, r.subject_id, r.episode) for r in rows}
    return [r for g in groups for r in _group_rows(session, _first(rows, g))]


def _first(rows: Iterable[AlertLedgerEntry], group: tuple[str, int, int]) -> AlertLedgerEntry:
    return next(r for r in rows if (r.rule, r.subject_id, r.episode) == group)


def acknowledge(session: Session, *, actor: str, entry_id: int | None = None,
                serial: str | None = None, at: datetime | None = None) -> int:
    """Stop an alert (every threshold and recipient of its condition); returns rows marked."""
    at = at or utcnow()
    rows = _targets(session, entry_id, serial)
    for r in rows:
        r.state, r.acked_at, r.acked_by, r.snoozed_until = "acked", at, actor, None
    session.flush()
    audit.record(session, actor=actor, action="alert.ack", entity_type="alert",
                 entity_id=entry_id or rows[0].id, device_id=rows[0].device_id,
                 summary=f"acknowledged {len(rows)} alert row(s)"
                         + (f" of device {serial}" if serial else ""),
                 after={"ids": sorted(r.id for r in rows)}, occurred_at=at)
    return len(rows)


def snooze(session: Session, *, actor: str, until: datetime, entry_id: int | None = None,
           serial: str | None = None, at: datetime | None = None) -> int:
    """Silence an alert until ``until``; afterwards its tightest crossed threshold is due again
    (if not already sent). Returns rows marked."""
    at = at or utcnow()
    if until.tzinfo is None:
        raise ValidationError(f"snooze date {until!r} has no timezone")
    if until <= at:
        raise ValidationError(f"snooze until {until:%Y-%m-%d}: that is not in the future",
                              key="snooze_not_in_future", until=until)
    rows = _targets(session, entry_id, serial)
    for r in rows:
        r.state, r.snoozed_until = "snoozed", until
    session.flush()
    audit.record(session, actor=actor, action="alert.snooze", entity_type="alert",
                 entity_id=entry_id or rows[0].id, device_id=rows[0].device_id,
                 summary=f"snoozed {len(rows)} alert row(s) until {until:%Y-%m-%d}"
                         + (f" for device {serial}" if serial else ""),
                 after={"ids": sorted(r.id for r in rows), "until": until}, occurred_at=at)
    return len(rows)


# --- heartbeat ------------------------------------------------------------------------------

@dataclass(frozen=True)
class RunInfo:
    """The latest alert run, for ``alerts status`` and the TUI dashboard."""

    id: int
    started_at: datetime
    finished_at: datetime | None
    host: str
    outcome: str  # running | nothing | sent | partial | failed
    counts: dict[str, Any]
    error: str | None
    last_success_at: datetime | None  # when the last run that did not fail started

    def overdue(self, now: datetime, every: timedelta) -> bool:
        """No successful run within ``every``: the cron job stopped, or keeps failing."""
        return self.last_success_at is None or now - self.last_success_at > every

    @property
    def ok(self) -> bool:
        return self.outcome in ("nothing", "sent")


def start_run(session: Session, host: str, now: datetime) -> int:
    run = AlertRun(started_at=now, host=host, outcome="running", counts={})
    session.add(run)
    session.flush()
    return run.id


def finish_run(session: Session, run_id: int, outcome: str, counts: dict[str, Any],
               error: str | None = None, now: datetime | None = None) -> None:
    """Close the run's heartbeat row and say so in the audit trail (``alert.run``): the one
    feed every open screen watches, so a desk's alert pane and dashboard learn of a cron run."""
    session.execute(update(AlertRun).where(AlertRun.id == run_id)
                    .values(outcome=outcome, counts=counts, error=error,
                            finished_at=now or utcnow()))
    host = session.scalar(select(AlertRun.host).where(AlertRun.id == run_id))
    sent = counts.get("rows_sent", 0)
    # The job's own login on PostgreSQL (the trail names who is connected), alerts@HOST on SQLite.
    actor = access.service_actor(session, f"alerts@{host}")
    audit.record(session, actor=actor, action="alert.run", entity_type="alert_run",
                 entity_id=run_id, summary=f"{outcome}: {sent} alert(s) sent",
                 after={"outcome": outcome, "counts": counts, "error": error}, occurred_at=now)


def last_run(session: Session) -> RunInfo | None:
    """The heartbeat: the latest run (or None if the job never ran)."""
    run = session.scalar(select(AlertRun).order_by(AlertRun.started_at.desc(),
                                                   AlertRun.id.desc()).limit(1))
    if run is None:
        return None
    last_success = session.scalar(
        select(AlertRun.started_at).where(AlertRun.outcome.in_(("nothing", "sent")))
        .order_by(AlertRun.started_at.desc()).limit(1))
    return RunInfo(id=run.id, started_at=run.started_at, finished_at=run.finished_at,
                   host=run.host, outcome=run.outcome, counts=dict(run.counts or {}),
                   error=run.error, last_success_at=last_success)


def ledger_counts(session: Session) -> dict[str, int]:
    rows = session.execute(select(AlertLedgerEntry.state, func.count())
                           .group_by(AlertLedgerEntry.state))
    return {state: n for state, n in rows}


__all__ = ["Delivery", "LedgerView", "RunInfo", "acknowledge", "finish_run", "last_run",
           "ledger_counts", "load_view", "record_delivery", "snooze", "start_run"]
