"""Read-side queries: device lists by keyset page, look-ups by serial, name search, counts.

Pages are fetched by keyset (``WHERE (sort, id) > (last sort, last id) … LIMIT n``) on indexed
keys, so the first page and every later page cost the same at 1,000,000 devices. Name search
goes through an index on the folded names (FTS5 trigram on SQLite, pg_trgm on PostgreSQL).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    exists,
    func,
    literal_column,
    or_,
    select,
    text,
    tuple_,
)
from sqlalchemy.orm import Session, aliased

from inventory.fleet.listing import SORT_KEYS, DeviceFilter, DeviceRow, Page
from inventory.register import access
from inventory.register.errors import ConcurrentChangeError, NotFoundError, ValidationError
from inventory.register.models import (
    Agency,
    Certificate,
    Device,
    Holder,
    utcnow,
)
from inventory.register.text import escape_like, fold

ActiveCert = aliased(Certificate, name="active_cert")
SearchHolder = aliased(Holder, name="search_holder")


def _search_holder_ids(session: Session, text_: str) -> Select[Any] | None:
    """A sub-select of holder ids whose folded name contains ``text_`` (index-backed)."""
    q = fold(text_)
    if not q:
        return None
    if len(q) < 3:  # trigram indexes need three characters: use the name index as a prefix
        return select(Holder.id).where(Holder.name_folded >= q,
                                       Holder.name_folded < q + "\uffff")
    if session.get_bind().dialect.name == "sqlite":
        phrase = '"' + q.replace('"', '""') + '"'
        return select(literal_column("rowid")).select_from(text("holder_search")).where(
            text("holder_search MATCH :phrase").bindparams(phrase=phrase))
    return select(Holder.id).where(Holder.name_folded.like(f"%{escape_like(q)}%", escape="\\"))


def agency_by_code(session: Session, code: str) -> Agency:
    agency = session.scalar(select(Agency).where(Agency.code == code))
    if agency is None:
        raise NotFoundError(f"no agency with code {code!r}")
    return agency


# A search or subtree that matches at most this many rows is turned into an explicit id list
# that the indexes fetch directly; a broader one is checked row by row along the sort order,
# which fills a page quickly because its matches are dense (PERF: keep first pages flat at 1M).
NARROW = 5000


def _narrow_ids(session: Session, stmt: Select[Any]) -> list[int] | None:
    ids = session.connection().execute(stmt.limit(NARROW + 1)).scalars().all()
    return list(ids) if len(ids) <= NARROW else None


def _conditions(session: Session, f: DeviceFilter, *, for_count: bool = False
                ) -> list[ColumnElement[bool]]:
    now = f.now or utcnow()
    conds: list[ColumnElement[bool]] = []
    if f.statuses:
        conds.append(Device.status.in_(f.statuses) if len(f.statuses) > 1
                     else Device.status == f.statuses[0])
    if f.kind:
        conds.append(Device.kind == f.kind)
    # A login scoped to an agency sees its subtree only (row-level security, a filter that walks
    # pages in sort order); a count says so too, so that it reads the subtree off the index.
    agency_code = f.agency_code or (access.identify(session).agency_code if for_count else None)
    if agency_code:
        agency = agency_by_code(session, agency_code)
        subtree = list(session.scalars(select(Agency.id).where(
            Agency.path.startswith(agency.path))))
        if len(subtree) == 1 or for_count:
            conds.append(Device.agency_id.in_(subtree))  # (agency_id, id) index, in id order
        else:
            conds.append((Device.agency_id + 0).in_(subtree))  # "+ 0": scan in sort order
    if f.expiring_within is not None:
        conds.append(and_(ActiveCert.not_after >= now,
                          ActiveCert.not_after < now + f.expiring_within))
    if f.expired:
        conds.append(ActiveCert.not_after < now)
    if f.holder_id is not None:
        conds.append(Device.holder_id == f.holder_id)
    if f.not_seen_for is not None:
        conds.append(or_(Device.last_seen_at.is_(None), Device.last_seen_at < now - f.not_seen_for))
    if f.search and f.search.strip():
        conds.append(_search_condition(session, f.search.strip(), for_count))
    if f.device_ids is not None:
        conds.append(id_set_condition(session, f.device_ids))
    return conds


SHORT_SET = 64  # an id set up to this long is bound id by id; a longer one as one array


def id_set_condition(session: Session, ids: Collection[int],
                     column: Any = Device.id) -> ColumnElement[bool]:
    """``column`` (an id column) in a set of any size. A long set is one JSON array parameter
    (SQLite ``json_each``, PostgreSQL ``= ANY``): binding and rendering thousands of parameters
    cost more than the query itself (a name search's 2,800 holders: 6.6 → 3 ms a page), and
    SQLite caps them at 32,766."""
    if not ids:
        return column.in_([])
    if len(ids) <= SHORT_SET:
        return column.in_(sorted(ids))
    name = f"{column.key}_set"
    if session.get_bind().dialect.name == "sqlite":
        array = json.dumps(sorted(ids))
        return column.in_(select(literal_column("value")).select_from(
            func.json_each(bindparam(name, array, type_=String, unique=True))))
    return column == func.any(
        bindparam(name, sorted(ids), type_=ARRAY(Integer), unique=True))


def _search_condition(session: Session, raw: str, for_count: bool) -> ColumnElement[bool]:
    holder_ids = _search_holder_ids(session, raw)
    by_serial = and_(Device.serial >= raw, Device.serial < raw + "\uffff")
    holders = _narrow_ids(session, holder_ids) if holder_ids is not None else []
    serial_ids = _narrow_ids(session, select(Device.id).where(by_serial))
    if holders is not None and serial_ids is not None:
        device_ids = set(serial_ids)
        if holders:
            device_ids.update(session.connection().execute(select(Device.id).where(
                id_set_condition(session, holders, Device.holder_id))).scalars().all())
        return id_set_condition(session, device_ids)
    if for_count:
        return or_(Device.holder_id.in_(holder_ids), by_serial) if holder_ids is not None \
            else by_serial
    unindexed_serial = and_(Device.serial + "" >= raw, Device.serial + "" < raw + "\uffff")
    if holder_ids is None:
        return unindexed_serial
    # A broad name search (more than NARROW holders: a letter or two, a common family name)
    # checks each device's holder by its primary key while the list is read in its order: the
    # matches are dense, so a page is found within a few thousand rows, where building the set
    # of matching holders first cost 0.05–0.4 s at 1M devices on every key typed.
    q = fold(raw)
    name = (and_(SearchHolder.name_folded >= q, SearchHolder.name_folded < q + "\uffff")
            if len(q) < 3 else SearchHolder.name_folded.like(f"%{escape_like(q)}%",
                                                             escape="\\"))
    named = exists().where(SearchHolder.id == Device.holder_id, name)
    return or_(named, unindexed_serial)


def _needs_certificate(f: DeviceFilter) -> bool:
    return f.expiring_within is not None or f.expired


def _base(f: DeviceFilter, *, with_certificate: bool | None = None,
          certificate_bound: Any = None) -> Any:
    """The device list's columns; ``with_certificate`` True keeps only devices with an active
    certificate (inner join), False only those without, None both (the filter decides).
    ``certificate_bound`` repeats a page's keyset bound on the certificates' side, so a merge
    join starts its certificate scan at the page instead of at the first device."""
    cert_join = and_(ActiveCert.device_id == Device.id, ActiveCert.status == "active",
                     *(() if certificate_bound is None else (certificate_bound,)))
    stmt = select(
        Device.id, Device.serial, Device.kind, Device.status, Device.lock_count, Device.holder_id,
        Holder.full_name, Agency.code, Agency.name, ActiveCert.not_after, ActiveCert.serial,
        Device.last_seen_at, Device.last_seen_reader, Device.pin_tries_left, Device.version,
    ).select_from(Device)
    if with_certificate or (with_certificate is None and _needs_certificate(f)):
        stmt = stmt.join(ActiveCert, cert_join)
    else:
        stmt = stmt.outerjoin(ActiveCert, cert_join)
        if with_certificate is False:
            stmt = stmt.where(ActiveCert.id.is_(None))
    return (stmt.outerjoin(Holder, Holder.id == Device.holder_id)
            .outerjoin(Agency, Agency.id == Device.agency_id))


def _sort_columns(sort: str) -> tuple[Any, ...]:
    if sort == "id":
        return (Device.id,)
    if sort == "serial":
        return (Device.serial, Device.id)
    if sort == "expiry":
        return (ActiveCert.not_after, Device.id)
    raise ValidationError(f"cannot sort by {sort!r}: use one of {', '.join(SORT_KEYS)}")


def device_page(
    session: Session,
    f: DeviceFilter = DeviceFilter(),
    *,
    sort: str = "id",
    after: Sequence[Any] | None = None,
    limit: int = 50,
    descending: bool = False,
) -> Page:
    """One page of the device list, starting after the key ``after`` (keyset pagination).

    Sorting never filters: by expiry, devices without an active certificate (no expiry) come
    after every dated one, in id order — first when the order is reversed. Their key is
    ``(None, id)``.
    """
    f = f.validate()
    conds = _conditions(session, f)
    if sort == "expiry" and not _needs_certificate(f):
        raw = _expiry_rows(session, f, conds, after, limit + 1, descending)
    else:
        bound = None
        if sort == "id" and after is not None:
            bound = ActiveCert.device_id < after[0] if descending else \
                ActiveCert.device_id > after[0]
        raw = _rows(session, _base(f, certificate_bound=bound).where(*conds),
                    _sort_columns(sort), after, limit + 1, descending)
    make = DeviceRow._make
    rows = [make(r) for r in raw[:limit]]
    next_key = None
    if len(raw) > limit and rows:
        last = rows[-1]
        next_key = {"id": (last.id,), "serial": (last.serial, last.id),
                    "expiry": (last.not_after, last.id)}[sort]
    return Page(rows=rows, next_key=next_key, sort=sort, filter=f)


def _rows(session: Session, stmt: Any, cols: tuple[Any, ...], after: Sequence[Any] | None,
          limit: int, descending: bool) -> list[Any]:
    """``limit`` rows of ``stmt`` in the order of ``cols`` after the key ``after``."""
    if after is not None:
        key = tuple_(*cols)
        stmt = stmt.where(key < tuple_(*after) if descending else key > tuple_(*after))
    stmt = stmt.order_by(*(c.desc() for c in cols) if descending else cols).limit(limit)
    return list(session.connection().execute(stmt).all())  # Core rows: no ORM overhead


def _expiry_rows(session: Session, f: DeviceFilter, conds: list[ColumnElement[bool]],
                 after: Sequence[Any] | None, limit: int, descending: bool) -> list[Any]:
    """By expiry over every device: the dated ones by (not_after, id) on the certificates'
    index, then the undated ones by id — two index-ordered reads, never a sort of the table."""
    segment = {
        "dated": (_base(f, with_certificate=True).where(*conds),
                  (ActiveCert.not_after, Device.id)),
        "undated": (_base(f, with_certificate=False).where(*conds), (Device.id,)),
    }
    order = ["undated", "dated"] if descending else ["dated", "undated"]
    first_key: Sequence[Any] | None = None
    if after is not None:
        here = "undated" if after[0] is None else "dated"  # an undated row's key: (None, id)
        first_key = (after[1],) if here == "undated" else after
        order = order[order.index(here):]
    segments = [(*segment[name], first_key if i == 0 else None)
                for i, name in enumerate(order)]
    rows: list[Any] = []
    for stmt, cols, start in segments:
        rows += _rows(session, stmt, cols, start, limit - len(rows), descending)
        if len(rows) >= limit:
            break
    return rows


def iter_devices(session: Session, f: DeviceFilter = DeviceFilter(), *, sort: str = "id",
                 page_size: int = 2000) -> Any:
    """Every matching device, page by page (exports, reports): memory stays flat."""
    after: Sequence[Any] | None = None
    while True:
        page = device_page(session, f, sort=sort, after=after, limit=page_size)
        yield from page.rows
        if page.next_key is None:
            return
        after = page.next_key


def count_devices(session: Session, f: DeviceFilter = DeviceFilter()) -> int:
    f = f.validate()
    stmt = select(func.count()).select_from(Device)
    if _needs_certificate(f):
        stmt = stmt.join(ActiveCert, and_(ActiveCert.device_id == Device.id,
                                          ActiveCert.status == "active"))
    return session.scalar(stmt.where(*_conditions(session, f, for_count=True))) or 0


def get_device(session: Session, serial: str, kind: str | None = None, *,
               expected_version: int | None = None) -> Device:
    """The device with this serial; ``kind`` is needed only if a token and a SIM share it.

    ``expected_version`` is the version the operator's screen showed: if the device changed
    since, the move is refused with "changed by someone else — reload" instead of acting on a
    state the operator never saw.
    """
    stmt = select(Device).where(Device.serial == serial.strip())
    if kind:
        stmt = stmt.where(Device.kind == kind)
    found = session.scalars(stmt).unique().all()
    if not found:
        raise NotFoundError(f"no device with serial {serial!r}"
                            + (f" of kind {kind}" if kind else ""), key="no_device",
                            serial=serial)
    if len(found) > 1:
        raise ValidationError(f"serial {serial!r} is both a usb_token and a pki_sim: give --kind")
    device = found[0]
    if expected_version is not None and device.version != expected_version:
        raise ConcurrentChangeError(f"device {device.serial} was changed by someone else since "
                                    f"you loaded it (now {device.status}): reload and try again",
                                    key="changed_by_someone_else", serial=device.serial,
                                    status=device.status)
    return device


def find_holders(session: Session, text_: str, *, limit: int = 50) -> list[Holder]:
    ids: Any = _search_holder_ids(session, text_)
    if ids is None:
        return []
    return list(session.scalars(select(Holder).where(Holder.id.in_(ids))
                                .order_by(Holder.name_folded, Holder.id).limit(limit)).unique())


def find_agencies(session: Session, text_: str, *, limit: int = 50) -> list[Agency]:
    q = fold(text_)
    if not q:
        return []
    if len(q) < 3:
        cond: ColumnElement[bool] = or_(Agency.name_folded.startswith(q),
                                        Agency.code.startswith(text_.strip()))
    elif session.get_bind().dialect.name == "sqlite":
        phrase = '"' + q.replace('"', '""') + '"'
        ids: Any = select(literal_column("rowid")).select_from(text("agency_search")).where(
            text("agency_search MATCH :phrase").bindparams(phrase=phrase))
        cond = or_(Agency.id.in_(ids), Agency.code == text_.strip())
    else:
        cond = or_(Agency.name_folded.like(f"%{escape_like(q)}%", escape="\\"),
                   Agency.code == text_.strip())
    return list(session.scalars(select(Agency).where(cond).order_by(Agency.path)
                                .limit(limit)).unique())


def get_holder(session: Session, ref: str) -> Holder:
    """A holder by id, national ID number, or an unambiguous name."""
    ref = ref.strip()
    if ref.isdigit():
        holder = session.get(Holder, int(ref)) if len(ref) < 9 else session.scalar(
            select(Holder).where(Holder.national_id == ref))
        if holder is not None:
            return holder
    matches = find_holders(session, ref, limit=3)
    exact = [h for h in matches if h.name_folded == fold(ref)]
    if len(exact) == 1 or len(matches) == 1:
        return (exact or matches)[0]
    if not matches:
        raise NotFoundError(f"no holder matches {ref!r}")
    raise ValidationError(f"{ref!r} matches several holders ({', '.join(f'{h.id}: {h.full_name}' for h in matches)}…): give the holder id")  # noqa: E501
