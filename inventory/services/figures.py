"""The dashboard's figures as plain Python: their windows, the month's actions, and the shapes
of their answers. No SQLAlchemy here — ``tokenfleet tui`` lays out its first frame, and takes
the first answers from its early reader (``tui.early``), before it opens the register;
``inventory.services.dashboard`` counts them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

EXPIRY_WINDOWS = (7, 30, 60, 90)
NOT_SEEN_STATUSES = ("issued", "locked")  # only devices out with holders can be "unseen"
MONTH_ACTIONS = ("device.issue", "certificate.renew", "device.revoke", "device.unlock")
NOT_SEEN_DAYS = 30


@dataclass(frozen=True)
class StatusKindCounts:
    by_status: dict[str, int]
    by_kind: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.by_status.values())


@dataclass(frozen=True)
class MonthCounts:
    start: datetime
    counts: dict[str, int]  # MONTH_ACTIONS → events since ``start``
