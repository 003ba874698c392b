"""What the devices list is filtered by: one value object shared by the filter bar, the chips
that show it, the dashboard's figures (presets) and saved views.

Plain data (no Textual), so saved views store it as JSON and tests build it directly.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from datetime import datetime, timedelta
from typing import Any

from inventory.fleet.listing import DeviceFilter
from inventory.services.figures import NOT_SEEN_STATUSES


@dataclass(frozen=True)
class FilterValues:
    search: str = ""
    status: str | None = None
    kind: str | None = None
    agency_code: str = ""  # the agency and its sub-agencies
    agency_name: str = ""  # shown on its chip
    expiring_days: int | None = None  # active certificate ends within
    locked_only: bool = False
    not_seen_days: int | None = None  # out with a holder and not seen by a reader for
    ca_mismatch: str | None = None  # the CA reconciliation: "any" or one of CERTIFICATE_KINDS

    @property
    def statuses(self) -> tuple[str, ...]:
        if self.locked_only:
            return ("locked",)
        if self.status:
            return (self.status,)
        return NOT_SEEN_STATUSES if self.not_seen_days is not None else ()

    def device_filter(self, now: datetime) -> DeviceFilter:
        return DeviceFilter(
            statuses=self.statuses, kind=self.kind, agency_code=self.agency_code or None,
            expiring_within=timedelta(days=self.expiring_days)
            if self.expiring_days is not None else None,
            search=self.search.strip() or None,
            not_seen_for=timedelta(days=self.not_seen_days)
            if self.not_seen_days is not None else None,
            now=now)

    def without(self, name: str) -> FilterValues:
        """The same filters less one (a chip removed)."""
        default = FilterValues()
        changes: dict[str, Any] = {name: getattr(default, name)}
        if name == "agency_code":
            changes["agency_name"] = ""
        return replace(self, **changes)

    def active(self) -> list[str]:
        """The names of the filters set, in chip order."""
        names = ("search", "status", "kind", "agency_code", "expiring_days", "locked_only",
                 "not_seen_days", "ca_mismatch")
        default = FilterValues()
        return [n for n in names if getattr(self, n) != getattr(default, n)]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FilterValues:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass(frozen=True)
class View:
    """The list as a person left it: filters and order (a saved view has a name)."""

    filters: FilterValues = field(default_factory=FilterValues)
    sort: str = "id"
    descending: bool = False
