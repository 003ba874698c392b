"""Devices pollers saw that the register does not know, and claiming one into it.

The claim itself (maker, model and certificates from what the poller read) is
``inventory.readers.sync.claim``; ``tokenfleet unregistered list|claim`` and the TUI's readers
screen both come here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from inventory.fleet import lifecycle
from inventory.readers import sync
from inventory.register.db import Register
from inventory.register.models import UnregisteredDevice
from inventory.services.devices import DeviceSummary, device_summary


@dataclass(frozen=True)
class UnregisteredRow:
    kind: str
    serial: str
    first_seen_at: datetime
    last_seen_at: datetime
    host: str | None
    reader: str | None
    manufacturer: str | None
    model: str | None
    label: str | None
    certificate_subjects: tuple[str, ...]


def unregistered_devices(register: Register, *, limit: int | None = None
                         ) -> list[UnregisteredRow]:
    """Most recently seen first."""
    U = UnregisteredDevice
    stmt = select(U).order_by(U.last_seen_at.desc())
    if limit is not None:
        stmt = stmt.limit(limit)
    with register.read() as session:
        return [UnregisteredRow(
            u.kind, u.serial, u.first_seen_at, u.last_seen_at, u.host, u.reader,
            u.manufacturer, u.model, u.label,
            tuple(c.get("subject", "") for c in (u.details or {}).get("certificates", [])))
            for u in session.scalars(stmt)]


@dataclass(frozen=True)
class ClaimResult:
    device: DeviceSummary
    certificates: int  # attached from what the poller read
    claimed: bool  # False: it was never seen, and was added to stock instead
    warnings: tuple[str, ...] = ()


def claim_device(register: Register, serial: str, *, actor: str, kind: str | None = None,
                 add_if_unseen: bool = False, manufacturer: str | None = None,
                 model: str | None = None) -> ClaimResult:
    """Enter an unregistered device in the register (in stock, with its certificates).

    With ``add_if_unseen`` (a screen where a person typed the serial), a device no poller saw
    is added to stock with the ``manufacturer`` and ``model`` given instead of refused.
    """
    with register.session() as session:
        if add_if_unseen and session.scalar(select(UnregisteredDevice.id).where(
                UnregisteredDevice.serial == serial.strip(),
                *([UnregisteredDevice.kind == kind] if kind else []))) is None:
            device = lifecycle.add_device(session, kind=kind or "usb_token", serial=serial,
                                          actor=actor, manufacturer=manufacturer or None,
                                          model=model or None)
            return ClaimResult(device_summary(device), 0, claimed=False)
        device, warnings = sync.claim(session, serial, actor=actor, kind=kind)
        return ClaimResult(device_summary(device), len(device.certificates), claimed=True,
                           warnings=tuple(warnings))
