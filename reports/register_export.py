"""``tokenfleet export FILE``: the whole register, one row per device, as .xlsx or .csv.

Headers are the field names ``inventory.fleet.sheets`` reads, so an export re-imports as is and
changes nothing: each holder is named by its stable ``holder_key`` (two officials of one agency
may share a name), masked ID numbers are left alone, and CSV cells protected from spreadsheets
(``csv_safe``) read back as written. Devices stream by keyset pages from
``iter_devices``; the holder, device and certificate details each page needs come from three
small ``IN`` look-ups, so memory stays flat at a million devices. Text is written with
``write_string`` only: a holder named ``=HYPERLINK(…)`` stays text.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory.fleet.lifecycle import mask_national_id
from inventory.fleet.queries import DeviceRow, iter_devices
from inventory.register.db import Register
from inventory.register.errors import ValidationError
from inventory.register.files import atomic_output, guarded_file
from inventory.register.models import Certificate, Device, Holder
from inventory.register.text import csv_safe

COLUMNS = ("serial", "kind", "status", "holder", "holder_key", "title", "national_id", "email",
           "phone",
           "agency_code", "agency", "manufacturer", "model", "phone_number", "lock_count",
           "certificate_serial", "not_before", "not_after", "last_seen_at", "notes")
DATE_COLUMNS = frozenset({"not_before", "not_after", "last_seen_at"})
WIDTHS = {"serial": 22, "holder": 26, "holder_key": 18, "title": 18, "email": 30, "agency": 40,
          "certificate_serial": 36, "not_before": 17, "not_after": 17, "last_seen_at": 17,
          "notes": 30}
PAGE = 2000


def _pages(session: Session) -> Iterator[list[DeviceRow]]:
    page: list[DeviceRow] = []
    for row in iter_devices(session, page_size=PAGE):
        page.append(row)
        if len(page) == PAGE:
            yield page
            page = []
    if page:
        yield page


def _records(session: Session, include_personal_data: bool) -> Iterator[list[Any]]:
    """One list of values (in ``COLUMNS`` order) per device, page by page."""
    for page in _pages(session):
        device_ids = [r.id for r in page]
        holder_ids = sorted({r.holder_id for r in page if r.holder_id is not None})
        holders = {h[0]: h[1:] for h in session.execute(
            select(Holder.id, Holder.key, Holder.title, Holder.national_id, Holder.email,
                   Holder.phone).where(Holder.id.in_(holder_ids)))} if holder_ids else {}
        devices = {d[0]: d[1:] for d in session.execute(
            select(Device.id, Device.manufacturer, Device.model, Device.phone_number,
                   Device.notes).where(Device.id.in_(device_ids)))}
        not_before = dict(session.execute(
            select(Certificate.device_id, Certificate.not_before).where(
                Certificate.device_id.in_(device_ids), Certificate.status == "active"))
            .all())
        for r in page:
            key, title, nid, email, phone = holders.get(r.holder_id or -1, (None,) * 5)
            manufacturer, model, phone_number, notes = devices[r.id]
            if nid and not include_personal_data:
                nid = mask_national_id(nid)
            yield [r.serial, r.kind, r.status, r.holder_name, key, title, nid, email, phone,
                   r.agency_code, r.agency_name, manufacturer, model, phone_number,
                   r.lock_count, r.certificate_serial,
                   not_before.get(r.id) if r.certificate_serial else None, r.not_after,
                   r.last_seen_at, notes]


def _write_xlsx(path: Path, records: Iterator[list[Any]]) -> int:
    with guarded_file(path) as fh:
        return _write_book(fh, records)


def _write_book(fh: Any, records: Iterator[list[Any]]) -> int:
    import xlsxwriter

    book = xlsxwriter.Workbook(fh, {
        "constant_memory": True, "remove_timezone": True, "strings_to_formulas": False,
        "strings_to_urls": False, "strings_to_numbers": False})
    ws = book.add_worksheet("register")
    header = book.add_format({"bold": True, "bg_color": "#DCE6F1", "border": 1})
    dates = book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    for col, name in enumerate(COLUMNS):
        ws.set_column(col, col, WIDTHS.get(name, 13))
        ws.write_string(0, col, name, header)
    kinds = [("date" if c in DATE_COLUMNS else "int" if c == "lock_count" else "text")
             for c in COLUMNS]
    row = 0
    for values in records:
        row += 1
        for col, (value, kind) in enumerate(zip(values, kinds, strict=True)):
            if value is None or value == "":
                continue
            if kind == "date":
                ws.write_datetime(row, col, value, dates)
            elif kind == "int":
                ws.write_number(row, col, value)
            else:
                ws.write_string(row, col, str(value))
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(row, 1), len(COLUMNS) - 1)
    book.close()
    return row


def _write_csv(path: Path, records: Iterator[list[Any]]) -> int:
    n = 0
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(COLUMNS)
        for values in records:
            writer.writerow(["" if v is None else v.isoformat() if isinstance(v, datetime)
                             else csv_safe(v) for v in values])
            n += 1
    return n


def export_register(register: Register, path: Path, include_personal_data: bool = False) -> int:
    """Write every device to ``path`` (.xlsx or .csv); returns how many were written. The file
    appears complete or not at all (a temporary name is renamed at the end)."""
    suffix = path.suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise ValidationError(f"cannot export to {path}: the name must end in .xlsx or .csv")
    with atomic_output(path) as tmp, register.read() as session:
        records = _records(session, include_personal_data)
        return _write_xlsx(tmp, records) if suffix == ".xlsx" else _write_csv(tmp, records)
