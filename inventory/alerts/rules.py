"""The alert rules: which certificates, devices and requests need a warning right now.

Each rule is one index-friendly query (certificates by ``(status, not_after)``, devices by
``(status, id)`` or ``last_seen_at``, requests by ``(state, kind)``) returning plain tuples; no
ORM objects are built, so a 1,000,000-device register is checked in one pass.

PERF (1M devices, ``tests/benchmarks/bench_alerts.py``): a rule may cost a few times its raw SQL.
The rows are fetched at once through Core (``.all()``: iterating a result fetches row by row,
and the ORM adds its loading layer), and alerts are built with positional arguments and the day
arithmetic inline — hundreds of thousands of them on a first run.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from operator import attrgetter
from typing import Any, NamedTuple

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from inventory.register.config import AlertSettings
from inventory.register.models import Agency, Certificate, Device, Holder, ServiceRequest

# Digest order: most urgent rule first.
RULE_ORDER = ("cert_expired", "ca_mismatch", "cert_expiring", "device_locked",
              "request_pending", "device_unseen")
RULE_RANK = {rule: rank for rank, rule in enumerate(RULE_ORDER)}
ALERTING_DEVICE_STATUSES = ("issued", "locked")


class Alert(NamedTuple):
    """One condition that needs a warning. ``(rule, subject_id, threshold, episode)`` is its key
    in the ledger; ``days`` is days left (certificates) or days the condition has lasted.
    A named tuple, not a dataclass: a first run on a big register builds hundreds of thousands."""

    rule: str
    subject_id: int
    threshold: int
    episode: int
    days: int
    since: datetime  # the certificate's end, or when the condition began
    agency_id: int | None
    device_id: int | None = None
    serial: str | None = None
    holder: str | None = None
    detail: str | None = None  # certificate serial, the request's reference, a CA mismatch
    request_kind: str | None = None  # a pending request's kind (a code: digests name it)

    @property
    def key(self) -> tuple[str, int, int, int]:
        return (self.rule, self.subject_id, self.threshold, self.episode)

    @property
    def group(self) -> tuple[str, int, int]:
        """Ack and snooze act on this: every threshold of one subject's condition."""
        return (self.rule, self.subject_id, self.episode)

    def urgency(self) -> tuple[int, int, str]:
        """Sort key: rule order, then the fewest days left / the longest lasting first."""
        days = self.days if self.rule == "cert_expiring" else -self.days
        return (RULE_RANK[self.rule], days, self.serial or "")


def by_urgency(alerts: Sequence[Alert]) -> list[Alert]:
    """Alerts in ``Alert.urgency`` order, sorted with C-level keys (a first run sorts hundreds
    of thousands): by rule rank, then fewest days left (expiring) or longest lasting (the
    others), then serial. Two stable sorts per rule stand in for the negated key."""
    groups: dict[str, list[Alert]] = {}
    for a in alerts:
        groups.setdefault(a.rule, []).append(a)
    ordered: list[Alert] = []
    for rule in sorted(groups, key=RULE_RANK.__getitem__):
        group = groups[rule]
        group.sort(key=_serial_key)
        group.sort(key=_days, reverse=rule != "cert_expiring")
        ordered += group
    return ordered


_days = attrgetter("days")


def _serial_key(alert: Alert) -> str:
    return alert.serial or ""


def crossed_threshold(not_after: datetime, now: datetime, thresholds: tuple[int, ...]) -> int:
    """The tightest threshold (days) crossed by a certificate ending at ``not_after``; 0 when it
    has already ended. Only that one is due: the looser ones it skipped are never sent."""
    left = not_after - now
    if left <= timedelta(0):
        return 0
    crossed = [t for t in thresholds if left <= timedelta(days=t)]
    return min(crossed) if crossed else -1


DAY = timedelta(days=1)
_new = tuple.__new__  # Alert(...) without the named tuple's Python-level __new__ (all 12 fields)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _days_between(later: datetime, earlier: datetime) -> int:
    """Whole days, rounded up (``timedelta`` arithmetic in C: this runs once per alert)."""
    return max(0, -((earlier - later) // DAY))


def certificate_alerts(session: Session, settings: AlertSettings, now: datetime) -> list[Alert]:
    """Active certificates of issued/locked devices that end within the widest threshold (or
    have ended). A renewal supersedes the old certificate and a revocation revokes it, so
    either stops that certificate's alerts."""
    horizon = now + timedelta(days=max(settings.thresholds))
    rows = session.connection().execute(
        select(Certificate.id, Certificate.not_after, Certificate.serial, Device.id,
               Device.serial, Device.agency_id, Holder.full_name)
        .join(Device, Device.id == Certificate.device_id)
        .outerjoin(Holder, Holder.id == Device.holder_id)
        .where(Certificate.status == "active", Certificate.not_after < horizon,
               Device.status.in_(ALERTING_DEVICE_STATUSES))
    ).all()
    ascending = sorted(settings.thresholds)
    boundaries = [now + timedelta(days=t) for t in ascending]  # bisect instead of a scan
    beyond = len(ascending)
    alerts: list[Alert] = []
    append = alerts.append
    for cert_id, not_after, cert_serial, device_id, serial, agency_id, holder in rows:
        if not_after <= now:
            append(_new(Alert, ("cert_expired", cert_id, 0, 0, -((not_after - now) // DAY),
                                not_after, agency_id, device_id, serial, holder, cert_serial,
                                None)))
            continue
        i = bisect_left(boundaries, not_after)
        if i == beyond:
            continue
        append(_new(Alert, ("cert_expiring", cert_id, ascending[i], 0,
                            -((now - not_after) // DAY), not_after, agency_id, device_id,
                            serial, holder, cert_serial, None)))
    return alerts


def locked_alerts(session: Session, settings: AlertSettings, now: datetime) -> list[Alert]:
    """Devices locked longer than ``locked_days``; each lock-out (``lock_count``) is an
    episode of its own, so a device locked again after an unlock warns again."""
    rows = session.connection().execute(
        select(Device.id, Device.serial, Device.agency_id, Device.lock_count,
               Device.status_changed_at, Holder.full_name)
        .outerjoin(Holder, Holder.id == Device.holder_id)
        .where(Device.status == "locked",
               Device.status_changed_at < now - timedelta(days=settings.locked_days))
    ).all()
    threshold = settings.locked_days
    return [_new(Alert, ("device_locked", device_id, threshold, lock_count,
                         -((since - now) // DAY), since, agency_id, device_id, serial, holder,
                         None, None))
            for device_id, serial, agency_id, lock_count, since, holder in rows]


def unseen_alerts(session: Session, settings: AlertSettings, now: datetime) -> list[Alert]:
    """Devices a poller has seen before but not for ``unseen_days`` (never-polled fleets stay
    quiet). The last sighting (in minutes) is the episode: seen again, then lost, warns again."""
    rows = session.connection().execute(
        select(Device.id, Device.serial, Device.agency_id, Device.last_seen_at,
               Holder.full_name)
        .outerjoin(Holder, Holder.id == Device.holder_id)
        .where(Device.last_seen_at.is_not(None),
               Device.last_seen_at < now - timedelta(days=settings.unseen_days),
               Device.status.in_(ALERTING_DEVICE_STATUSES))
    ).all()
    threshold = settings.unseen_days
    minute = timedelta(minutes=1)
    return [_new(Alert, ("device_unseen", device_id, threshold, (seen - EPOCH) // minute,
                         -((seen - now) // DAY), seen, agency_id, device_id, serial, holder,
                         None, None))
            for device_id, serial, agency_id, seen, holder in rows if seen is not None]


def pending_request_alerts(session: Session, settings: AlertSettings,
                           now: datetime) -> list[Alert]:
    """Requests submitted to the CA more than ``pending_days`` ago and still not answered."""
    rows = session.connection().execute(
        select(ServiceRequest.id, ServiceRequest.kind, ServiceRequest.external_ref,
               ServiceRequest.agency_id, ServiceRequest.submitted_at)
        .where(ServiceRequest.state == "submitted",
               ServiceRequest.submitted_at < now - timedelta(days=settings.pending_days))
    ).all()
    return [Alert(rule="request_pending", subject_id=request_id,
                  threshold=settings.pending_days, episode=0,
                  days=_days_between(now, submitted), since=submitted, agency_id=agency_id,
                  detail=ref or f"#{request_id}", request_kind=kind)
            for request_id, kind, ref, agency_id, submitted in rows if submitted is not None]


RuleQuery = Callable[[Session, AlertSettings, datetime], list[Alert]]
RuleSource = tuple[tuple[str, ...], RuleQuery]
"""The rules a query answers, and the query. A layer above may add sources: the
``ca_mismatch`` rule's is ``inventory.services.ca.CA_RULES`` (alerts do not import the CA)."""


RULE_QUERIES: dict[str, RuleSource] = {
    "cert": (("cert_expiring", "cert_expired"), certificate_alerts),
    "locked": (("device_locked",), locked_alerts),
    "unseen": (("device_unseen",), unseen_alerts),
    "pending": (("request_pending",), pending_request_alerts),
}


def due_alerts(session: Session, settings: AlertSettings, now: datetime,
               rules: Sequence[str] = RULE_ORDER,
               sources: Mapping[str, RuleSource] = RULE_QUERIES) -> list[Alert]:
    """Every condition of ``rules`` that needs a warning now (before the ledger is asked)."""
    found: list[Alert] = []
    for covered, query in sources.values():
        if any(r in rules for r in covered):
            found += [a for a in query(session, settings, now) if a.rule in rules]
    return found


def candidate_subjects(rule: str, settings: AlertSettings, now: datetime) -> Select[Any] | None:
    """A sub-select of the subject ids ``rule`` may alert about now: the ledger is read for
    these only (a join on its unique index, no giant ``IN`` list of bound ids). None: every
    ledger row of the rule (CA mismatches are few, and their subjects certificates or CRLs)."""
    if rule == "ca_mismatch":
        return None
    if rule in ("cert_expiring", "cert_expired"):
        horizon = now + timedelta(days=max(settings.thresholds))
        return select(Certificate.id).where(Certificate.status == "active",
                                            Certificate.not_after < horizon)
    if rule == "device_locked":
        return select(Device.id).where(Device.status == "locked")
    if rule == "device_unseen":
        return select(Device.id).where(
            Device.last_seen_at < now - timedelta(days=settings.unseen_days))
    return select(ServiceRequest.id).where(ServiceRequest.state == "submitted")


@dataclass(frozen=True)
class AgencyInfo:
    id: int
    code: str
    name: str
    contact: str | None  # the agency's own or its nearest ancestor's contact e-mail


def agency_directory(session: Session) -> dict[int, AgencyInfo]:
    """Every agency with the address its alerts go to: its own ``contact_email`` or, walking
    up the tree ``path``, the nearest ancestor's. Agencies are few; one query loads them."""
    rows = session.execute(select(Agency.id, Agency.code, Agency.name, Agency.path,
                                  Agency.contact_email)).all()
    own = {r.id: (r.contact_email or "").strip() or None for r in rows}
    directory = {}
    for r in rows:
        chain = [int(p) for p in r.path.strip("/").split("/") if p.isdigit()][::-1]
        contact = next((own[a] for a in [r.id, *chain] if own.get(a)), None)
        directory[r.id] = AgencyInfo(r.id, r.code, r.name, contact)
    return directory
