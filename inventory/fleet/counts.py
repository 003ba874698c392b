"""Counts over the devices table as Core queries on its columns: they need no ORM mapper
configured — about 45 ms on a process's first ORM use (``inventory.fleet.queries``' aliases
configure them all when it is imported) — so the dashboard's first figure is cheap in a fresh
process, such as ``tokenfleet tui``'s early reader (``tui.early``).
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from inventory.register.models import Device


def count_by_status(session: Session) -> dict[tuple[str, str], int]:
    """(kind, status) → number of devices: one GROUP BY over the (kind, status) index."""
    device = Device.__table__.c
    rows = session.execute(select(device.kind, device.status, func.count())
                           .group_by(device.kind, device.status)).all()
    return {(k, s): n for k, s, n in rows}
