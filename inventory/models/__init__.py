"""ORM models. Each feature keeps its tables in its own module; import them all here so that
``Base.metadata`` (and so Alembic) sees every table."""

from .access import ROLES, Operator
from .alerts import ALERT_RULES, ALERT_STATES, AlertLedgerEntry, AlertRun
from .base import Base, UTCDateTime, utcnow
from .register import (
    AGENCY_KINDS,
    CERTIFICATE_STATUSES,
    DEVICE_KINDS,
    DEVICE_STATUSES,
    HANDOVER_METHODS,
    REQUEST_KINDS,
    REQUEST_STATES,
    Agency,
    AgencyHistory,
    Certificate,
    Device,
    Handover,
    Holder,
    ServiceRequest,
    ServiceRequestItem,
)
from .requests import UNLOCK_SOURCES, UnlockCase
from .stocktake import STOCKTAKE_STATES, DeskReader, Stocktake, StocktakeItem
from .trail import AuditHead, Event, ObservationRecord, UnregisteredDevice

__all__ = [
    "AGENCY_KINDS",
    "ALERT_RULES",
    "ALERT_STATES",
    "CERTIFICATE_STATUSES",
    "DEVICE_KINDS",
    "DEVICE_STATUSES",
    "HANDOVER_METHODS",
    "REQUEST_KINDS",
    "REQUEST_STATES",
    "ROLES",
    "STOCKTAKE_STATES",
    "UNLOCK_SOURCES",
    "Agency",
    "AgencyHistory",
    "AlertLedgerEntry",
    "AlertRun",
    "AuditHead",
    "Base",
    "Certificate",
    "DeskReader",
    "Device",
    "Event",
    "Handover",
    "Holder",
    "ObservationRecord",
    "Operator",
    "ServiceRequest",
    "ServiceRequestItem",
    "Stocktake",
    "StocktakeItem",
    "UTCDateTime",
    "UnlockCase",
    "UnregisteredDevice",
    "utcnow",
]
