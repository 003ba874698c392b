"""Stocktake: count an agency subtree's devices by putting each one in a reader.

``start`` lists what the register expects: every device whose agency is in the subtree and whose
status is ``issued``, ``locked`` or ``in_stock`` (stock held by an agency of the subtree). Lost,
revoked and retired devices are not expected — seeing one is reported as unexpected, which is
what a manager wants to know. The poller's sync calls :func:`tick` for every device it sees while
a stocktake is open (one open stocktake at a time, so a poller never has to choose).

A sighting continues the same scan when it comes from the same poller station as the previous
one and either from the same reader (a card left in the reader and re-read) or within
``SAME_SCAN_SECONDS`` of it (the PC/SC and PKCS#11 views of one insertion); any other sighting —
another station, or another reader later — is a duplicate scan: flagged, counted once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, literal, select
from sqlalchemy.orm import Session

from inventory.fleet.queries import agency_by_code
from inventory.register import audit
from inventory.register.errors import NotFoundError, ValidationError
from inventory.register.models import Agency, Device, Holder, Stocktake, StocktakeItem, utcnow

EXPECTED_STATUSES = ("issued", "locked", "in_stock")
SAME_SCAN_SECONDS = 5.0


def open_stocktake(session: Session) -> Stocktake | None:
    return session.scalars(select(Stocktake).where(Stocktake.state == "open")
                           .order_by(Stocktake.id.desc())).first()


def _take_state(take: Stocktake, counts: dict[str, int] | None = None) -> dict[str, Any]:
    return {"agency_id": take.agency_id, "state": take.state, "started_at": take.started_at,
            "finished_at": take.finished_at} | (counts or {})


def start(session: Session, agency_code: str, actor: str, at: datetime | None = None
          ) -> Stocktake:
    """Open a stocktake for the agency's subtree; refused while another one is open."""
    current = open_stocktake(session)
    if current is not None:
        raise ValidationError(f"stocktake #{current.id} for {current.agency.code} is still open: "
                              "finish it first (tokenfleet stocktake finish)")
    agency = agency_by_code(session, agency_code)
    take = Stocktake(agency_id=agency.id, state="open", started_at=at or utcnow(),
                     started_by=actor)
    session.add(take)
    session.flush()
    subtree = select(Agency.id).where(Agency.path.startswith(agency.path))
    session.execute(insert(StocktakeItem).from_select(
        ["stocktake_id", "device_id", "kind", "serial", "expected", "status_at_start", "scans"],
        select(literal(take.id), Device.id, Device.kind, Device.serial, literal(True),
               Device.status, literal(0))
        .where(Device.agency_id.in_(subtree), Device.status.in_(EXPECTED_STATUSES))))
    expected = session.scalar(select(func.count()).where(
        StocktakeItem.stocktake_id == take.id)) or 0
    audit.record(session, actor=actor, action="stocktake.start", entity_type="stocktake",
                 entity_id=take.id, summary=f"{agency.code}: {expected} devices expected",
                 after=_take_state(take, {"expected": expected}), occurred_at=at)
    return take


def tick(session: Session, take_id: int, *, kind: str, serial: str, device_id: int | None,
         seen_at: datetime, host: str, reader: str) -> str | None:
    """Record one sighting; returns a line when it is a duplicate scan or unexpected (first)."""
    item = session.scalar(select(StocktakeItem).where(
        StocktakeItem.stocktake_id == take_id, StocktakeItem.kind == kind,
        StocktakeItem.serial == serial))
    if item is None:
        session.add(StocktakeItem(stocktake_id=take_id, device_id=device_id, kind=kind,
                                  serial=serial, expected=False, scans=1, first_seen_at=seen_at,
                                  last_seen_at=seen_at, last_seen_host=host,
                                  last_seen_reader=reader))
        session.flush()
        return f"{serial}: stocktake: not expected here (unexpected device)"
    note = None
    if item.scans == 0:
        item.scans, item.first_seen_at = 1, seen_at
    else:
        close = item.last_seen_at is not None and \
            abs((seen_at - item.last_seen_at).total_seconds()) <= SAME_SCAN_SECONDS
        if item.last_seen_host != host or not (item.last_seen_reader == reader or close):
            item.scans += 1
            note = (f"{serial}: stocktake: scanned again (duplicate scan #{item.scans}, "
                    "counted once)")
    if item.last_seen_at is None or seen_at >= item.last_seen_at:
        item.last_seen_at, item.last_seen_host, item.last_seen_reader = seen_at, host, reader
    session.flush()
    return note


@dataclass
class StocktakeResult:
    id: int
    agency_code: str
    agency_name: str
    state: str
    started_at: datetime
    finished_at: datetime | None
    seen: list[dict[str, Any]] = field(default_factory=list)
    missing: list[dict[str, Any]] = field(default_factory=list)
    unexpected: list[dict[str, Any]] = field(default_factory=list)
    duplicates: list[dict[str, Any]] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        return {"expected": len(self.seen) + len(self.missing), "seen": len(self.seen),
                "missing": len(self.missing), "unexpected": len(self.unexpected),
                "duplicates": len(self.duplicates)}

    def records(self) -> list[dict[str, Any]]:
        """One row per device with its outcome, for table/CSV/JSON export."""
        return self.seen + self.missing + self.unexpected

    def summary(self) -> dict[str, Any]:
        return {"id": self.id, "agency": self.agency_code, "agency_name": self.agency_name,
                "state": self.state, "started_at": self.started_at,
                "finished_at": self.finished_at} | self.counts


def _get(session: Session, take_id: int | None) -> Stocktake:
    if take_id is not None:
        take = session.get(Stocktake, take_id)
        if take is None:
            raise NotFoundError(f"no stocktake #{take_id}")
        return take
    take = open_stocktake(session) or session.scalars(
        select(Stocktake).order_by(Stocktake.id.desc())).first()
    if take is None:
        raise NotFoundError("no stocktake yet: start one with `tokenfleet stocktake start "
                            "--agency CODE`")
    return take


def status(session: Session, take_id: int | None = None) -> StocktakeResult:
    """Seen, missing, unexpected and duplicate-scanned devices (the open or latest stocktake)."""
    take = _get(session, take_id)
    result = StocktakeResult(take.id, take.agency.code, take.agency.name, take.state,
                             take.started_at, take.finished_at)
    rows = session.execute(
        select(StocktakeItem, Device.status, Holder.full_name, Agency.code)
        .outerjoin(Device, Device.id == StocktakeItem.device_id)
        .outerjoin(Holder, Holder.id == Device.holder_id)
        .outerjoin(Agency, Agency.id == Device.agency_id)
        .where(StocktakeItem.stocktake_id == take.id)
        .order_by(StocktakeItem.kind, StocktakeItem.serial)).all()
    for item, dev_status, holder, agency in rows:
        outcome = ("seen" if item.scans else "missing") if item.expected else "unexpected"
        record = {"outcome": outcome, "kind": item.kind, "serial": item.serial,
                  "registered": item.device_id is not None,
                  "status": dev_status or "(unregistered)", "holder": holder, "agency": agency,
                  "scans": item.scans, "first_seen_at": item.first_seen_at,
                  "last_seen_host": item.last_seen_host, "last_seen_reader": item.last_seen_reader}
        {"seen": result.seen, "missing": result.missing,
         "unexpected": result.unexpected}[outcome].append(record)
        if item.scans > 1:
            result.duplicates.append(record)
    return result


def finish(session: Session, actor: str, at: datetime | None = None) -> StocktakeResult:
    """Close the open stocktake; its result stays readable with ``status``."""
    take = open_stocktake(session)
    if take is None:
        raise NotFoundError("no stocktake is open")
    before = _take_state(take)
    take.state, take.finished_at, take.finished_by = "finished", at or utcnow(), actor
    session.flush()
    result = status(session, take.id)
    audit.record(session, actor=actor, action="stocktake.finish", entity_type="stocktake",
                 entity_id=take.id, before=before, after=_take_state(take, result.counts),
                 summary=", ".join(f"{k} {v}" for k, v in result.counts.items()), occurred_at=at)
    return result
