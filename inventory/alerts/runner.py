"""One alert run: lock, find what is due, send digests, record every outcome, beat the heart.

The run lock makes overlapping cron runs harmless: PostgreSQL's session advisory lock, or on
SQLite an OS file lock (``flock``) on ``<database>.alerts-lock`` beside the database file. The
one that does not get it stops at once (``AlertRunLockedError``) and sends nothing. A run reports
its outcome (``RunResult.outcome``); the CLI turns it into an exit code.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any

from sqlalchemy import text

from inventory.alerts import ledger
from inventory.alerts.channels import JSONL_RECIPIENT, JsonLinesChannel, SmtpChannel, alert_record
from inventory.alerts.digest import Digest, render
from inventory.alerts.rules import (
    RULE_ORDER,
    RULE_QUERIES,
    AgencyInfo,
    Alert,
    RuleSource,
    agency_directory,
    by_urgency,
    due_alerts,
)
from inventory.register import seal
from inventory.register.config import AlertSettings, SmtpSettings
from inventory.register.db import Register
from inventory.register.errors import AlertRunLockedError
from inventory.register.models import utcnow

OUTCOMES = ("nothing", "sent", "partial", "failed")
PG_LOCK_KEY = 0x746F6B656E  # "token": one advisory lock key for the alert job
CHANNELS = ("smtp", "jsonl")


@contextmanager
def run_lock(register: Register) -> Iterator[bool]:
    """Yield True if this process now holds the alert-run lock, False if another one does."""
    engine = register.engine
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            got = bool(conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": PG_LOCK_KEY}))
            conn.commit()
            try:
                yield got
            finally:
                if got:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": PG_LOCK_KEY})
                    conn.commit()
        return
    database = engine.url.database
    if not database or database == ":memory:":
        yield True
        return
    fd = os.open(f"{database}.alerts-lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@dataclass
class RunResult:
    outcome: str  # one of OUTCOMES (dry runs: nothing | sent = would send)
    counts: dict[str, int] = field(default_factory=dict)
    planned: list[tuple[Alert, list[str]]] = field(default_factory=list)  # dry run: alert, to
    agencies: dict[int, AgencyInfo] = field(default_factory=dict)
    lang: str = "vi"

    def planned_records(self) -> list[dict[str, Any]]:
        """The dry run's alerts as plain data (JSON, CSV)."""
        return [alert_record(a, self.agencies, self.lang, to) for a, to in self.planned]
    warnings: list[str] = field(default_factory=list)


@dataclass
class Plan:
    """What this run would send: per recipient, the alerts it has not had yet."""

    alerts: list[Alert]
    agencies: dict[int, AgencyInfo]
    view: ledger.LedgerView
    by_recipient: dict[str, list[Alert]] = field(default_factory=dict)
    manager_addresses: tuple[str, ...] = ()
    jsonl: list[tuple[Alert, list[str]]] = field(default_factory=list)
    due: list[tuple[Alert, list[str]]] = field(default_factory=list)  # alert, due recipients
    unroutable: list[Alert] = field(default_factory=list)
    silenced: int = 0
    seal: str | None = None  # the audit chain's current seal, for the managers' digest


def recipients_of(alert: Alert, agencies: dict[int, AgencyInfo],
                  managers: Sequence[str]) -> list[str]:
    info = agencies.get(alert.agency_id) if alert.agency_id is not None else None
    agency_contact = [info.contact] if info and info.contact else []
    return agency_contact + [m for m in managers if m not in agency_contact]


def plan(register: Register, settings: AlertSettings, now: datetime,
         channels: Sequence[str], managers: bool = True,
         rules: Sequence[str] = RULE_ORDER, seal_key: str | None = None,
         sources: Mapping[str, RuleSource] = RULE_QUERIES) -> Plan:
    """Evaluate the rules and subtract what the ledger says is delivered or silenced; the
    lists come out most urgent first."""
    manager_addresses = settings.managers if managers else ()
    with register.read() as session:
        alerts = by_urgency(due_alerts(session, settings, now, rules, sources))
        agencies = agency_directory(session)
        view = ledger.load_view(session, alerts, now, settings)
        current = seal.current(session) if manager_addresses else None
    if current is not None and seal_key:
        current = seal.sign(current, seal_key)
    p = Plan(alerts=alerts, agencies=agencies, view=view, manager_addresses=manager_addresses,
             seal=current.line if current else None)
    smtp, jsonl = "smtp" in channels, "jsonl" in channels
    # Per agency, once: its recipients, and whom an alert of it is due to when the ledger
    # knows nothing of it (the common case: the loop below then only appends).
    routes: dict[int | None, tuple[list[str], list[str]]] = {}
    fresh = not (view.delivered or view.acked or view.snoozed)
    by_recipient = p.by_recipient
    due = p.due
    for alert in alerts:
        route = routes.get(alert.agency_id)
        if route is None:
            recipients = recipients_of(alert, agencies, manager_addresses)
            route = routes[alert.agency_id] = (recipients, (recipients if smtp else [])
                                               + ([JSONL_RECIPIENT] if jsonl else []))
        recipients, all_due = route
        if fresh:
            if smtp:
                if not recipients:
                    p.unroutable.append(alert)
                for r in recipients:
                    by_recipient.setdefault(r, []).append(alert)
            if jsonl:
                p.jsonl.append((alert, recipients))
            if all_due:
                due.append((alert, all_due))
            continue
        if view.silenced(alert):
            p.silenced += 1
            continue
        due_to: list[str] = []
        if smtp:
            if not recipients:
                p.unroutable.append(alert)
            for r in recipients:
                if not view.delivered_to(alert, r):
                    by_recipient.setdefault(r, []).append(alert)
                    due_to.append(r)
        if jsonl and not view.delivered_to(alert, JSONL_RECIPIENT):
            p.jsonl.append((alert, recipients))
            due_to.append(JSONL_RECIPIENT)
        if due_to:
            due.append((alert, due_to))
    return p


def run_alerts(register: Register, settings: AlertSettings, *, channels: Sequence[str],
               host: str, out: IO[str], smtp: SmtpSettings | None = None,
               now: datetime | None = None, dry_run: bool = False,
               managers: bool = True, rules: Sequence[str] = RULE_ORDER,
               seal_key: str | None = None,
               sources: Mapping[str, RuleSource] = RULE_QUERIES) -> RunResult:
    """One run. A dry run reads only; a real run holds the lock and writes the heartbeat.
    ``sources`` are the rule queries (the services add the CA layer's)."""
    now = now or utcnow()
    if "smtp" in channels and smtp is None and not dry_run:
        smtp = SmtpSettings.from_env()
    if dry_run:
        p = plan(register, settings, now, channels, managers, rules, sources=sources)
        planned = p.due
        return RunResult(outcome="sent" if planned else "nothing",
                         counts={"alerts_due": len(planned), "silenced": p.silenced,
                                 "unroutable": len(p.unroutable)},
                         planned=planned, agencies=p.agencies, lang=settings.lang,
                         warnings=_warnings(p))
    with run_lock(register) as got:
        if not got:
            raise AlertRunLockedError("another `tokenfleet alerts run` holds the lock: this "
                                      "run sent nothing")
        with register.session() as session:
            run_id = ledger.start_run(session, host, now)
        try:
            result = _deliver(register, settings, channels, smtp, now, out, managers, rules,
                              seal_key, sources)
        except BaseException as err:
            with register.session() as session:
                ledger.finish_run(session, run_id, "failed", {}, error=str(err) or repr(err),
                                  now=max(now, utcnow()))
            raise
        with register.session() as session:
            ledger.finish_run(session, run_id, result.outcome, result.counts,
                              error="; ".join(result.warnings) or None,
                              now=max(now, utcnow()))
        return result


def record_failed_run(register: Register, host: str, error: str,
                      now: datetime | None = None) -> None:
    """A run that could not start (bad configuration) still leaves a heartbeat row saying so."""
    with register.session() as session:
        run_id = ledger.start_run(session, host, now or utcnow())
        ledger.finish_run(session, run_id, "failed", {}, error=error, now=now)


def _warnings(p: Plan) -> list[str]:
    if not p.unroutable:
        return []
    serials = ", ".join(sorted({a.serial or f"#{a.subject_id}" for a in p.unroutable})[:10])
    return [f"{len(p.unroutable)} alert(s) have no recipient (no agency contact_email up the "
            f"tree and no TOKENFLEET_MANAGERS_EMAIL): {serials}"]


def _deliver(register: Register, settings: AlertSettings, channels: Sequence[str],
             smtp: SmtpSettings | None, now: datetime, out: IO[str],
             managers: bool, rules: Sequence[str], seal_key: str | None,
             sources: Mapping[str, RuleSource]) -> RunResult:
    p = plan(register, settings, now, channels, managers, rules, seal_key, sources)
    counts = {"alerts": len({a.key for alerts in p.by_recipient.values() for a in alerts}
                            | {a.key for a, _ in p.jsonl}),
              "messages_sent": 0, "messages_failed": 0, "rows_sent": 0, "rows_failed": 0,
              "silenced": p.silenced, "unroutable": len(p.unroutable)}
    errors: list[str] = []

    def record(recipient: str, alerts: Sequence[Alert], error: str | None) -> None:
        with register.session() as session:
            ledger.record_delivery(session, p.view,
                                   ledger.Delivery(recipient, alerts, error), now)
        outcome = "failed" if error else "sent"
        counts[f"messages_{outcome}"] += 1
        counts[f"rows_{outcome}"] += len(alerts)
        if error:
            errors.append(error)

    if p.by_recipient and smtp is not None:
        digests: list[Digest] = [
            render(r, alerts, p.agencies, settings.lang, managers=r in p.manager_addresses,
                   seal=p.seal if r in p.manager_addresses else None)
            for r, alerts in sorted(p.by_recipient.items())]
        SmtpChannel(smtp).send(digests, on_result=lambda d, err: record(d.recipient, d.alerts,
                                                                         err))
    if p.jsonl:
        JsonLinesChannel(out).send([alert_record(a, p.agencies, settings.lang, rs)
                                    for a, rs in p.jsonl])
        record(JSONL_RECIPIENT, [a for a, _ in p.jsonl], None)
    sent, failed = counts["messages_sent"], counts["messages_failed"]
    outcome = ("nothing" if not sent and not failed else "sent" if not failed
               else "partial" if sent else "failed")
    warnings = _warnings(p) + sorted(set(errors))
    return RunResult(outcome=outcome, counts=counts, warnings=warnings)
