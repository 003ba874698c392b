"""The CA desk: trust anchors, revocation lists, reconciliation with the CA, OCSP.

``tokenfleet ca …``, the devices filter, the TUI's device screen, the alert job's
``ca_mismatch`` rule and the monthly report's CA sheet all call these. The work is done by
``inventory.ca``; this layer opens the transactions and returns read models.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from inventory.alerts.rules import Alert, RuleSource
from inventory.ca import anchors, chains, crls, ocsp
from inventory.ca.kinds import CERTIFICATE_KINDS, KIND_NUMBERS, KINDS
from inventory.ca.reconcile import Mismatch, Reconciliation
from inventory.ca.reconcile import reconcile as _reconcile
from inventory.register.config import AlertSettings, Settings
from inventory.register.db import Register
from inventory.register.errors import TokenfleetError
from inventory.register.models import utcnow

log = logging.getLogger(__name__)

__all__ = ["CA_RULES", "CERTIFICATE_KINDS", "KINDS", "DeviceCheck", "Mismatch", "Reconciliation",
           "add_trust", "ask_ocsp", "ca_alerts", "check", "device_check", "import_crl",
           "list_trust", "mismatched_devices", "remove_trust"]


# --- trust anchors ---------------------------------------------------------------------------

def add_trust(register: Register, path: Path, *, actor: str) -> anchors.TrustChange:
    """Trust the CA certificate(s) of a file; every certificate file is validated again."""
    certs = anchors.read_anchor_file(path)
    with register.session() as session:
        return anchors.add_anchors(session, certs, actor=actor, source=str(path))


def remove_trust(register: Register, ref: str, *, actor: str) -> anchors.TrustChange:
    with register.session() as session:
        return anchors.remove_anchor(session, ref, actor=actor)


def list_trust(register: Register) -> list[anchors.AnchorInfo]:
    with register.read() as session:
        return anchors.anchor_infos(session)


# --- revocation lists ------------------------------------------------------------------------

def import_crl(register: Register, source: str, *, actor: str, timeout: float,
               now: datetime | None = None) -> crls.CrlImport:
    """Read (or download, within ``timeout``) a CRL, then check and keep it in one
    transaction: a refused CRL stores nothing."""
    data = crls.read_source(source, timeout=timeout)
    with register.session() as session:
        return crls.import_crl(session, data, source=source, actor=actor, now=now)


# --- reconciliation --------------------------------------------------------------------------

def check(register: Register, *, grace_days: int, now: datetime | None = None,
          kinds: Sequence[str] = KINDS, device_ids: Sequence[int] | None = None,
          keep_verdicts: bool = True) -> Reconciliation:
    """Every mismatch between the register and the CA. Certificates validated for the first
    time keep their verdict (a cache, no audit event); an actor that may not write (a viewer
    on PostgreSQL) just leaves them to be validated again next time."""
    now = now or utcnow()
    with register.read() as session:
        result = _reconcile(session, now=now, grace=timedelta(days=grace_days),
                            device_ids=device_ids, kinds=kinds)
    if keep_verdicts and result.verdicts:
        try:
            with register.session() as session:
                chains.store_verdicts(session, result.verdicts)
        except (SQLAlchemyError, TokenfleetError) as err:
            log.info("path validation verdicts not kept: %s", err)
    return result


def mismatched_devices(register: Register, kind: str, *, grace_days: int,
                       now: datetime | None = None) -> frozenset[int]:
    """The ids of the devices with a CA mismatch (``any``, or one kind): the devices filter."""
    kinds = CERTIFICATE_KINDS if kind == "any" else (kind,)
    return frozenset(check(register, grace_days=grace_days, now=now, kinds=kinds)
                     .device_ids())


@dataclass(frozen=True)
class DeviceCheck:
    """One device's reconciliation (the TUI's device screen)."""

    anchors: int  # 0: nothing to reconcile against
    mismatches: tuple[Mismatch, ...]


def device_check(register: Register, device_id: int, *, grace_days: int,
                 now: datetime | None = None) -> DeviceCheck:
    result = check(register, grace_days=grace_days, now=now, device_ids=[device_id])
    return DeviceCheck(result.anchors, tuple(result.mismatches))


# --- OCSP ------------------------------------------------------------------------------------

def ask_ocsp(register: Register, serial: str, settings: Settings, *, kind: str | None = None,
             now: datetime | None = None) -> ocsp.OcspAnswer:
    """good / revoked / unknown from the CA's responder. The register is read first and
    released before the network is asked (within ``settings.ca_timeout``)."""
    with register.read() as session:
        target, url = ocsp.prepare(session, serial, kind=kind, override_url=settings.ocsp_url)
    return ocsp.ask(target, url, timeout=settings.ca_timeout, now=now)


# --- the alert rule --------------------------------------------------------------------------

def ca_alerts(session: Session, settings: AlertSettings, now: datetime) -> list[Alert]:
    """The ``ca_mismatch`` alerts: once per certificate and kind (the kind's number is the
    ledger's episode); a stale CRL once per CRL."""
    result = _reconcile(session, now=now, grace=timedelta(days=settings.ca_grace_days))
    alerts = []
    for m in result.mismatches:
        since = m.since or now
        detail = m.describe(settings.lang)
        if m.certificate_serial:
            detail = f"{m.certificate_serial}: {detail}"
        alerts.append(Alert("ca_mismatch", m.subject_id, 0, KIND_NUMBERS[m.kind],
                            max(0, -((since - now) // timedelta(days=1))), since, m.agency_id,
                            m.device_id, m.serial, m.holder, detail))
    return alerts


CA_RULES: RuleSource = (("ca_mismatch",), ca_alerts)
"""The CA layer's rule source for the alert job (``inventory.alerts`` does not import it)."""
