"""The alert ledger (what was sent to whom, once per threshold) and the alert job's heartbeat."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from inventory.register.dates import utcnow
from inventory.register.models.base import Base

ALERT_RULES = ("cert_expiring", "cert_expired", "device_locked", "device_unseen",
               "request_pending", "ca_mismatch")
ALERT_STATES = ("sent", "failed", "acked", "snoozed")
RUN_OUTCOMES = ("running", "nothing", "sent", "partial", "failed")


class AlertLedgerEntry(Base):
    """One alert for one recipient. The unique key is what makes a rerun unable to double-send.

    ``subject_id`` is a certificate id (cert_* rules), a device id (device_*) or a request id
    (request_pending). ``threshold`` is in days (0 for an expired certificate). ``episode``
    tells two occurrences of the same condition apart (a device locked a second time, seen
    again and then unseen again); it is 0 for certificates and requests. For ``ca_mismatch``
    the subject is the certificate (a CRL for ``crl_stale``), the threshold 0, and the episode
    the mismatch kind's number (``inventory.ca.kinds.KIND_NUMBERS``).
    """

    __tablename__ = "alert_ledger"
    __table_args__ = (
        UniqueConstraint("rule", "subject_id", "threshold", "episode", "recipient",
                         name="uq_alert_ledger_once"),
        Index("ix_alert_ledger_device_id", "device_id"),
        Index("ix_alert_ledger_state", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    rule: Mapped[str] = mapped_column(String(30))
    subject_id: Mapped[int] = mapped_column(Integer)
    threshold: Mapped[int] = mapped_column(Integer)
    episode: Mapped[int] = mapped_column(Integer, default=0)
    recipient: Mapped[str] = mapped_column(String(200))
    device_id: Mapped[int | None] = mapped_column(Integer)
    agency_id: Mapped[int | None] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(10))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    snoozed_until: Mapped[datetime | None]
    acked_at: Mapped[datetime | None]
    acked_by: Mapped[str | None] = mapped_column(String(120))


class AlertRun(Base):
    """The heartbeat: one row per (non-dry) run, so a job that stopped or failed is visible."""

    __tablename__ = "alert_runs"
    __table_args__ = (Index("ix_alert_runs_started_at", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    host: Mapped[str] = mapped_column(String(120))
    outcome: Mapped[str] = mapped_column(String(10), default="running")
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)
