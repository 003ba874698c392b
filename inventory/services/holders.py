"""Holders and the agency tree: find, show, add, edit, rename, merge; device counts per agency.

An agency's device count comes in two numbers, and every front end shows the same two: its
``own`` devices (held for the agency itself) and its ``total`` (with every sub-agency's). The CLI
listed the first and the TUI's tree the second before.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from inventory.fleet import lifecycle
from inventory.fleet.queries import (
    DeviceFilter,
    DeviceRow,
    agency_by_code,
    find_agencies,
    get_holder,
    iter_devices,
)
from inventory.fleet.queries import find_holders as _find_holders
from inventory.register.db import Register
from inventory.register.errors import NotFoundError, ValidationError
from inventory.register.models import Agency, Device, Holder

HOLDER_FIELDS = ("full_name", "title", "email", "phone", "national_id")
"""What a person may change on a holder (the agency moves by code: ``agency_code``)."""


# --- read models -------------------------------------------------------------------------------

@dataclass(frozen=True)
class HolderRow:
    id: int
    full_name: str
    title: str | None
    agency_code: str
    email: str | None = None
    national_id: str | None = ""  # masked (********1234) unless asked otherwise


@dataclass(frozen=True)
class HolderDetail:
    id: int
    full_name: str
    title: str | None
    agency_code: str
    agency_name: str
    email: str | None
    phone: str | None
    national_id: str  # masked
    devices: tuple[DeviceRow, ...]


@dataclass(frozen=True)
class HolderSummary:
    """What a change to a holder leaves behind (for the result line)."""

    id: int
    full_name: str


@dataclass(frozen=True)
class AgencySummary:
    code: str
    name: str


@dataclass(frozen=True)
class DeviceCounts:
    """An agency's devices: its ``own`` and its ``total`` with every sub-agency's."""

    own: int = 0
    total: int = 0


@dataclass(frozen=True)
class AgencyRow:
    id: int
    code: str
    name: str
    kind: str
    level: int
    active: bool
    devices: DeviceCounts


@dataclass(frozen=True)
class AgencyNode:
    """One agency in the tree, loaded a level at a time."""

    id: int
    code: str
    name: str
    has_children: bool


def _holder_row(h: Holder, show_id_numbers: bool = False) -> HolderRow:
    nid = h.national_id if show_id_numbers else lifecycle.mask_national_id(h.national_id)
    return HolderRow(h.id, h.full_name, h.title, h.agency.code, h.email, nid)


def find_holders(register: Register, text: str, *, limit: int = 50,
                 show_id_numbers: bool = False) -> list[HolderRow]:
    """Holders whose name contains ``text`` (accents and case ignored)."""
    with register.read() as session:
        return [_holder_row(h, show_id_numbers) for h in _find_holders(session, text,
                                                                      limit=limit)]


def holder_detail(register: Register, holder: int | str) -> HolderDetail:
    """A holder (``resolve_holder``: an id, or an id, ID number or name typed) and their
    devices."""
    with register.read() as session:
        h = resolve_holder(session, holder)
        devices = tuple(iter_devices(session, DeviceFilter(holder_id=h.id)))
        return HolderDetail(h.id, h.full_name, h.title, h.agency.code, h.agency.name, h.email,
                            h.phone, lifecycle.mask_national_id(h.national_id), devices)


def holders_of_agency(register: Register, agency_id: int, limit: int = 200) -> list[HolderRow]:
    with register.read() as session:
        rows = session.execute(select(Holder.id, Holder.full_name, Holder.title, Agency.code)
                               .join(Agency, Agency.id == Holder.agency_id)
                               .where(Holder.agency_id == agency_id)
                               .order_by(Holder.name_folded).limit(limit)).all()
    return [HolderRow(r.id, r.full_name, r.title, r.code) for r in rows]


def _device_counts(session: Session) -> dict[int, DeviceCounts]:
    """One GROUP BY over the (agency_id, id) index, summed up each agency's ``path``."""
    own = dict(session.execute(select(Device.agency_id, func.count())
                               .where(Device.agency_id.is_not(None))
                               .group_by(Device.agency_id)).all())
    totals: dict[int, int] = {}
    for agency_id, path in session.execute(select(Agency.id, Agency.path)).all():
        n = own.get(agency_id, 0)
        if not n:
            continue
        for part in path.strip("/").split("/"):
            if part:
                totals[int(part)] = totals.get(int(part), 0) + n
    return {a: DeviceCounts(own.get(a, 0), total) for a, total in totals.items()}


def agency_device_counts(register: Register) -> dict[int, DeviceCounts]:
    """Agency id → its device counts (agencies with no device in their subtree are left out:
    ``.get(id, DeviceCounts())``)."""
    with register.read() as session:
        return _device_counts(session)


def agencies(register: Register, search: str | None = None) -> list[AgencyRow]:
    """The agency tree in tree order (or the agencies matching ``search``), with counts."""
    with register.read() as session:
        counts = _device_counts(session)
        found = (find_agencies(session, search, limit=10_000) if search else
                 session.scalars(select(Agency).order_by(Agency.path)).unique().all())
        return [AgencyRow(a.id, a.code, a.name, a.kind, a.level, a.active,
                          counts.get(a.id, DeviceCounts())) for a in found]


def agency_children(register: Register, parent_id: int | None) -> list[AgencyNode]:
    """The active agencies directly under ``parent_id`` (None: the top of the tree)."""
    parent = Agency.parent_id.is_(None) if parent_id is None else Agency.parent_id == parent_id
    with register.read() as session:
        rows = session.execute(select(Agency.id, Agency.code, Agency.name)
                               .where(parent, Agency.active.is_(True))
                               .order_by(Agency.name)).all()
        with_children = set(session.scalars(select(Agency.parent_id).where(
            Agency.parent_id.in_([r.id for r in rows])).distinct()).all())
    return [AgencyNode(r.id, r.code, r.name, r.id in with_children) for r in rows]


# --- commands ----------------------------------------------------------------------------------

def add_holder(register: Register, *, actor: str, full_name: str, agency_code: str,
               title: str | None = None, email: str | None = None, phone: str | None = None,
               national_id: str | None = None) -> HolderSummary:
    with register.session() as session:
        h = lifecycle.add_holder(session, full_name=full_name,
                                 agency=agency_by_code(session, agency_code), actor=actor,
                                 title=title, email=email, phone=phone, national_id=national_id)
        return HolderSummary(h.id, h.full_name)


def resolve_holder(session: Session, holder: int | str) -> Holder:
    """An ``int`` is a holder id a screen picked; a ``str`` what a person typed (id, ID number
    or an unambiguous name)."""
    if isinstance(holder, int):
        found = session.get(Holder, holder)
        if found is None:
            raise NotFoundError(f"holder {holder} is no longer in the register",
                                key="holder_gone", id=holder)
        return found
    return get_holder(session, holder)


def edit_holder(register: Register, holder: int | str, *, actor: str,
                changes: Mapping[str, str | None], agency_code: str | None = None
                ) -> HolderSummary:
    """Change of holder information: only the fields in ``changes`` (``HOLDER_FIELDS``); a new
    ``agency_code`` moves the holder and their devices."""
    unknown = set(changes) - set(HOLDER_FIELDS)
    if unknown:
        raise ValidationError(f"unknown holder field(s): {', '.join(sorted(unknown))}")
    with register.session() as session:
        h = resolve_holder(session, holder)
        values: dict[str, Any] = dict(changes)
        if agency_code:
            values["agency_id"] = agency_by_code(session, agency_code).id
        if not values:
            raise ValidationError(f"holder {h.id}: nothing to change")
        lifecycle.change_holder_details(session, h, actor=actor, **values)
        return HolderSummary(h.id, h.full_name)


def add_agency(register: Register, *, actor: str, code: str, name: str, kind: str = "other",
               parent_code: str | None = None, contact_email: str | None = None
               ) -> AgencySummary:
    with register.session() as session:
        parent = agency_by_code(session, parent_code) if parent_code else None
        a = lifecycle.add_agency(session, code=code, name=name, kind=kind, parent=parent,
                                 contact_email=contact_email, actor=actor)
        return AgencySummary(a.code, a.name)


def rename_agency(register: Register, code: str, new_name: str, *, actor: str
                  ) -> AgencySummary:
    """The old name stays in the agency's history."""
    with register.session() as session:
        a = lifecycle.rename_agency(session, agency_by_code(session, code), new_name,
                                    actor=actor)
        return AgencySummary(a.code, a.name)


def merge_agency(register: Register, code: str, into_code: str, *, actor: str
                 ) -> AgencySummary:
    """Holders, devices and sub-agencies move to ``into_code``; returns the agency kept."""
    with register.session() as session:
        into = lifecycle.merge_agency(session, agency_by_code(session, code),
                                      agency_by_code(session, into_code), actor=actor)
        return AgencySummary(into.code, into.name)
