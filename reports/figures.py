"""The numbers of the monthly report: headline figures per month, the trend, per-agency tallies.

Headline figures are SQL aggregates over the point-in-time state (see ``pointintime``), so the
previous month costs a few queries, not a second pass over the register. Per-agency counts are
tallied while the Register sheet streams by, because agency resolution (merges, holder moves)
happens in Python on each row anyway.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from inventory.desk.unlock_desk import unlock_turnaround
from inventory.register.models import DEVICE_KINDS, DEVICE_STATUSES, Event

from .pointintime import (
    IN_USE,
    AgencyResolver,
    DeviceAt,
    Period,
    certificates_at,
    device_states,
)

EXPIRY_WINDOWS = (30, 60, 90)
EVENT_FIGURES = {
    "issued": "device.issue",
    "renewed": "certificate.renew",
    "revoked": "device.revoke",
    "locked": "device.lock",
    "unlocked": "device.unlock",
    "lost": "device.report_lost",
}
# Order of the rows on the Summary sheet.
FIGURE_KEYS = (
    "in_use.usb_token", "in_use.pki_sim", "in_use.total",
    "issued", "renewed", "revoked", "locked", "unlocked", "lost",
    "expiring_30", "expiring_60", "expiring_90",
    "locked_now", "lost_now", "median_unlock_days",
)


def month_figures(session: Session, period: Period) -> dict[str, float | int | None]:
    """Every Summary figure for one month (state at its end, events within it)."""
    at = period.end
    state, cert = device_states(at), certificates_at(at)
    expiring = [func.coalesce(func.sum(case(
        ((cert.c.not_after >= at) & (cert.c.not_after < at + timedelta(days=d)), 1),
        else_=0)), 0) for d in EXPIRY_WINDOWS]
    by_kind_status: Counter[tuple[str, str]] = Counter()
    expiring_counts = dict.fromkeys(EXPIRY_WINDOWS, 0)
    # one pass over the state: counts by kind and status, and expiring certificates with them
    for kind, status, n, *ends in session.execute(
            select(state.c.kind, state.c.status, func.count(), *expiring)
            .select_from(state.outerjoin(cert, cert.c.device_id == state.c.device_id))
            .group_by(state.c.kind, state.c.status)):
        by_kind_status[(kind, status)] = n
        if status in IN_USE:
            for d, count in zip(EXPIRY_WINDOWS, ends, strict=True):
                expiring_counts[d] += int(count)
    figures: dict[str, float | int | None] = {}
    for kind in DEVICE_KINDS:
        figures[f"in_use.{kind}"] = sum(by_kind_status[(kind, s)] for s in IN_USE)
    figures["in_use.total"] = sum(int(figures[f"in_use.{k}"] or 0) for k in DEVICE_KINDS)
    counts = dict(session.execute(
        select(Event.action, func.count())
        .where(Event.action.in_(EVENT_FIGURES.values()), Event.occurred_at >= period.start,
               Event.occurred_at < at)
        .group_by(Event.action)).all())
    for key, action in EVENT_FIGURES.items():
        figures[key] = counts.get(action, 0)
    figures.update({f"expiring_{d}": n for d, n in expiring_counts.items()})
    figures["locked_now"] = sum(n for (_, s), n in by_kind_status.items() if s == "locked")
    figures["lost_now"] = sum(n for (_, s), n in by_kind_status.items() if s == "lost")
    figures["median_unlock_days"] = median_unlock_days(session, period)
    return figures


def median_unlock_days(session: Session, period: Period) -> float | None:
    """Median days from lock to unlock over the month's unlocks: the unlock desk's figure
    (:func:`inventory.desk.unlock_desk.unlock_turnaround`), so the report and the desk agree."""
    months = unlock_turnaround(session, since=period.start, until=period.end, by_agency=False)
    return months[0].median_days if months else None


def issuance_trend(session: Session, period: Period, months: int = 12) -> list[
        tuple[str, int, int]]:
    """(YYYY-MM, issued, renewed) for the ``months`` months ending with ``period``."""
    periods = [period]
    while len(periods) < months:
        periods.insert(0, periods[0].previous())
    rows = []
    for p in periods:
        counts = dict(session.execute(
            select(Event.action, func.count()).where(
                Event.action.in_(("device.issue", "certificate.renew")),
                Event.occurred_at >= p.start, Event.occurred_at < p.end)
            .group_by(Event.action)).all())
        rows.append((p.label(), counts.get("device.issue", 0),
                     counts.get("certificate.renew", 0)))
    return rows


@dataclass
class AgencyCounts:
    """One row of the By-agency sheet."""

    agency_id: int | None
    by_kind_status: Counter[tuple[str, str]] = field(default_factory=Counter)
    expiring_30: int = 0
    expiring_90: int = 0

    def count(self, kind: str, status: str) -> int:
        return self.by_kind_status[(kind, status)]

    def status_total(self, status: str) -> int:
        return sum(self.by_kind_status[(k, status)] for k in DEVICE_KINDS)

    @property
    def total(self) -> int:
        return sum(self.by_kind_status.values())


class AgencyTally:
    """Counts devices per agency (rolled up to one tree level) as the register streams by."""

    def __init__(self, agencies: AgencyResolver, level: int, at: datetime):
        self.agencies, self.level, self.at = agencies, level, at
        self.rows: dict[int | None, AgencyCounts] = {}
        self.top: dict[int | None, AgencyCounts] = {}  # level 1, for the Summary chart

    def add(self, device: DeviceAt) -> None:
        for level, rows in ((self.level, self.rows), (1, self.top)):
            key = self.agencies.rollup(device.agency_id, level)
            counts = rows.get(key)
            if counts is None:
                counts = rows[key] = AgencyCounts(key)
            counts.by_kind_status[(device.kind, device.status)] += 1
            if device.expires_within(self.at, 30):
                counts.expiring_30 += 1
            if device.expires_within(self.at, 90):
                counts.expiring_90 += 1

    def sorted_rows(self, rows: dict[int | None, AgencyCounts] | None = None) -> list[
            AgencyCounts]:
        """Agencies in tree order (by path); devices with no agency last."""
        rows = self.rows if rows is None else rows

        def key(c: AgencyCounts) -> Any:
            info = self.agencies.info(c.agency_id)
            return (1, ()) if info is None else (0, info.path_ids)

        return sorted(rows.values(), key=key)


KIND_STATUS_COLUMNS = [(k, s) for k in DEVICE_KINDS for s in DEVICE_STATUSES]
