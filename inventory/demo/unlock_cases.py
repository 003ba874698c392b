"""Unlock cases for the demo fleet, derived from the lock and unlock events it already wrote."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert, select

from inventory.desk.unlock_desk import UNLOCK_METHODS
from inventory.register.models import Device, Event, UnlockCase

DEMO_BRINGERS = ("Văn thư", "Chuyên viên CNTT", "Người sử dụng", "Bưu điện")


def demo_cases(conn: Connection, *, now: datetime, seed: int = 1, chunk: int = 20_000) -> int:
    """Unlock cases for the demo fleet, derived from the lock/unlock events it already wrote.

    Every ``device.lock`` event opens a case; the next ``device.unlock`` of that device closes it.
    Cases of devices still locked stay open. The demo's events already tell the story, so no
    audit events are added here.
    """
    rng = random.Random(seed * 7919 + 7)
    rows: list[dict[str, Any]] = []
    open_by_device: dict[int, dict[str, Any]] = {}
    written = 0
    stmt = (select(Event.device_id, Event.action, Event.occurred_at, Event.after)
            .where(Event.action.in_(("device.lock", "device.unlock")))
            .order_by(Event.device_id, Event.seq))
    for device_id, action, at, after in conn.execute(stmt):
        if action == "device.lock":
            source = "poller" if rng.random() < 0.4 else "reported"
            open_by_device[device_id] = {
                "device_id": device_id, "agency_id": (after or {}).get("agency_id"),
                "holder_id": (after or {}).get("holder_id"), "opened_at": at,
                "opened_by": "poller" if source == "poller" else "demo", "source": source,
                "lock_reason": "poll: PIN blocked" if source == "poller" else "reported by holder",
                "brought_by": None, "brought_at": None, "unlock_method": None,
                "closed_at": None, "closed_by": None, "outcome": None, "notes": None}
            continue
        case = open_by_device.pop(device_id, None)
        if case is None:
            continue
        span = max((at - case["opened_at"]).total_seconds(), 0)
        if rng.random() < 0.8:
            case["brought_by"] = rng.choice(DEMO_BRINGERS)
            case["brought_at"] = case["opened_at"] + timedelta(seconds=rng.uniform(0, span))
        case["unlock_method"] = rng.choices(UNLOCK_METHODS, weights=[50, 20, 10, 5, 15])[0]
        case["closed_at"], case["closed_by"], case["outcome"] = at, "demo", "unlocked"
        rows.append(case)
        if len(rows) >= chunk:
            conn.execute(insert(UnlockCase), rows)
            written, rows = written + len(rows), []
    still_locked = set(conn.scalars(select(Device.id).where(Device.status == "locked")))
    for case in open_by_device.values():  # lost or revoked while locked: never reached the desk
        if case["device_id"] not in still_locked:
            continue
        if rng.random() < 0.5:
            case["brought_by"] = rng.choice(DEMO_BRINGERS)
            case["brought_at"] = min(case["opened_at"] + timedelta(days=rng.randint(0, 5)), now)
        rows.append(case)
    if rows:
        conn.execute(insert(UnlockCase), rows)
    return written + len(rows)

