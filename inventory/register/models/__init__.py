"""ORM models. Each feature keeps its tables in its own module; import them all here so that
``Base.metadata`` (and so Alembic) sees every table."""

from inventory.register.dates import utcnow
from inventory.register.domain import (
    AGENCY_KINDS,
    CERTIFICATE_STATUSES,
    CHAIN_STATES,
    DEVICE_KINDS,
    DEVICE_STATUSES,
    HANDOVER_METHODS,
    REQUEST_KINDS,
    REQUEST_STATES,
)
from inventory.register.models.access import ROLES, Operator
from inventory.register.models.alerts import ALERT_RULES, ALERT_STATES, AlertLedgerEntry, AlertRun
from inventory.register.models.base import Base, UTCDateTime
from inventory.register.models.ca import RevocationList, TrustAnchor
from inventory.register.models.register import (
    Agency,
    AgencyHistory,
    Certificate,
    Device,
    Handover,
    Holder,
    ServiceRequest,
    ServiceRequestItem,
)
from inventory.register.models.requests import UNLOCK_OUTCOMES, UNLOCK_SOURCES, UnlockCase
from inventory.register.models.stocktake import (
    STOCKTAKE_STATES,
    StationReader,
    Stocktake,
    StocktakeItem,
)
from inventory.register.models.trail import AuditHead, Event, ObservationRecord, UnregisteredDevice

__all__ = [
    "AGENCY_KINDS",
    "ALERT_RULES",
    "ALERT_STATES",
    "CERTIFICATE_STATUSES",
    "CHAIN_STATES",
    "DEVICE_KINDS",
    "DEVICE_STATUSES",
    "HANDOVER_METHODS",
    "REQUEST_KINDS",
    "REQUEST_STATES",
    "ROLES",
    "STOCKTAKE_STATES",
    "UNLOCK_OUTCOMES",
    "UNLOCK_SOURCES",
    "Agency",
    "AgencyHistory",
    "AlertLedgerEntry",
    "AlertRun",
    "AuditHead",
    "Base",
    "Certificate",
    "Device",
    "Event",
    "Handover",
    "Holder",
    "ObservationRecord",
    "Operator",
    "RevocationList",
    "ServiceRequest",
    "ServiceRequestItem",
    "StationReader",
    "Stocktake",
    "StocktakeItem",
    "TrustAnchor",
    "UTCDateTime",
    "UnlockCase",
    "UnregisteredDevice",
    "utcnow",
]
