"""Import devices from ``.xlsx`` or ``.csv``: our own export, or the sheets agencies keep.

Headers are matched after folding (``Họ và tên`` → ``ho va ten``) against English and
Vietnamese aliases. Every row is checked first; then all rows are applied in one transaction
through the lifecycle module (a status in the file is reached by allowed moves only). Any bad
row refuses the whole file, naming file row numbers, unless ``skip_invalid`` is given, in which
case each row runs in its own savepoint and bad rows are reported and skipped.
"""

from __future__ import annotations

import contextlib
import csv
import re
import zipfile
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory.fleet import lifecycle
from inventory.register.dates import cell_date
from inventory.register.db import Register
from inventory.register.errors import (
    ImportFileError,
    RowProblem,
    TokenfleetError,
    ValidationError,
)
from inventory.register.models import DEVICE_STATUSES, Agency, Device, Holder
from inventory.register.text import cell_text, fold

ALIASES: dict[str, tuple[str, ...]] = {
    "serial": ("serial", "so serial", "serial number", "so seri", "so se ri", "ma thiet bi",
               "serial thiet bi", "so hieu thiet bi", "iccid", "device serial"),
    "kind": ("kind", "loai", "loai thiet bi", "device kind", "device type"),
    "status": ("status", "trang thai"),
    "holder": ("holder", "ho va ten", "ho ten", "full name", "name", "nguoi su dung", "chu the",
               "ten thue bao"),
    "title": ("title", "holder title", "chuc vu", "chuc danh"),
    "national_id": ("national id", "so cccd", "cccd", "so dinh danh", "cmnd", "so cmnd cccd",
                    "cmnd cccd", "so cmnd", "id number"),
    "email": ("email", "e mail", "thu dien tu", "dia chi thu dien tu"),
    "phone": ("phone", "dien thoai", "so dien thoai", "holder phone"),
    "agency_code": ("agency code", "ma don vi", "ma co quan"),
    "agency": ("agency", "don vi", "co quan", "don vi cong tac", "ten don vi", "ten co quan"),
    "manufacturer": ("manufacturer", "hang san xuat", "nha san xuat"),
    "model": ("model", "dong thiet bi"),
    "phone_number": ("phone number", "so thue bao", "so dien thoai sim", "sim phone"),
    "certificate_serial": ("certificate serial", "serial chung thu", "so hieu chung thu",
                           "serial chung thu so", "so serial chung thu"),
    "not_before": ("not before", "ngay hieu luc", "ngay cap", "valid from", "tu ngay",
                   "ngay bat dau"),
    "not_after": ("not after", "ngay het han", "expiry", "expires", "valid until", "den ngay",
                  "het han", "ngay het hieu luc"),
    "lock_count": ("lock count", "so lan khoa"),
    "notes": ("notes", "ghi chu"),
}
_HEADER_INDEX = {alias: key for key, aliases in ALIASES.items() for alias in aliases}

KIND_WORDS = {"usb token": "usb_token", "token": "usb_token", "pki token": "usb_token",
              "usb": "usb_token", "pki sim": "pki_sim", "sim": "pki_sim", "sim pki": "pki_sim"}
STATUS_WORDS = {"in stock": "in_stock", "trong kho": "in_stock", "ton kho": "in_stock",
                "issued": "issued", "da cap": "issued", "dang su dung": "issued",
                "da ban giao": "issued", "locked": "locked", "bi khoa": "locked",
                "khoa": "locked", "lost": "lost", "mat": "lost", "bi mat": "lost",
                "that lac": "lost", "revoked": "revoked", "thu hoi": "revoked",
                "da thu hoi": "revoked", "retired": "retired", "thanh ly": "retired",
                "ngung su dung": "retired"}
HOLDER_STATUSES = {"issued", "locked", "lost"}
IMPORT_METHOD = "in_person"
HEADER_SEARCH_ROWS = 20


def header_key(cell: Any) -> str | None:
    """A header cell → the column it names (``ALIASES``: English or Vietnamese, accents
    optional); None for a column we do not read."""
    text = fold(str(cell or "")).replace("_", " ").replace("-", " ").replace("/", " ")
    text = re.sub(r"[^a-z0-9 ]", "", text)
    return _HEADER_INDEX.get(re.sub(r"\s+", " ", text).strip())


@dataclass
class ImportRow:
    line: int  # 1-based row number in the file
    values: dict[str, Any]
    kind: str = "usb_token"
    status: str | None = None
    not_before: datetime | None = None
    not_after: datetime | None = None
    lock_count: int | None = None


@dataclass
class ImportResult:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[RowProblem] = field(default_factory=list)


# --- reading -----------------------------------------------------------------------------------

def read_table(path: Path) -> list[list[Any]]:
    """All rows of the first sheet (xlsx) or of the CSV file, as Python values."""
    if not path.exists():
        raise ImportFileError(str(path), "no such file")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        if not zipfile.is_zipfile(path):
            raise ImportFileError(str(path), "is not an Excel workbook (.xlsx is a zip file; "
                                  "this one is something else)")
        try:
            from python_calamine import CalamineWorkbook

            book = CalamineWorkbook.from_path(str(path))
            return [list(r) for r in book.get_sheet_by_index(0).to_python(skip_empty_area=False)]
        except Exception as err:  # calamine raises its own error types
            raise ImportFileError(str(path), f"cannot read the workbook: {err}") from err
    if suffix in (".csv", ".txt"):
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as err:
            raise ImportFileError(str(path), "is not UTF-8 text (save the CSV as UTF-8)") from err
        try:
            dialect: Any = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
            dialect.doublequote = True  # the sniffer guesses False when no "" occurs early
        except csv.Error:
            dialect = csv.excel
        return [list(r) for r in csv.reader(text.splitlines(), dialect)]
    raise ImportFileError(str(path), f"unsupported file type {suffix or '(none)'}: use .xlsx "
                          "or .csv")


def parse_rows(path: Path, table: list[list[Any]]) -> tuple[list[ImportRow], list[RowProblem]]:
    if not any(cell_text(c) for r in table for c in r):
        raise ImportFileError(str(path), "the file is empty")
    # Agencies put titles above the table: the header is the first row naming a serial column.
    header_at = next((i for i, r in enumerate(table[:HEADER_SEARCH_ROWS])
                      if "serial" in {header_key(c) for c in r}), None)
    if header_at is None:
        raise ImportFileError(str(path), f"no serial column in the first {HEADER_SEARCH_ROWS} "
                              "rows (expected a header such as 'Số serial' or 'serial')")
    columns = {i: key for i, cell in enumerate(table[header_at]) if (key := header_key(cell))}
    rows: list[ImportRow] = []
    problems: list[RowProblem] = []
    seen: dict[tuple[str, str], int] = {}
    for index in range(header_at + 1, len(table)):
        raw, line = table[index], index + 1
        values = {key: cell_text(raw[i]) if key not in ("not_before", "not_after") else raw[i]
                  for i, key in columns.items() if i < len(raw)}
        if not any(v not in (None, "") for v in values.values()):
            continue  # blank line
        try:
            row = _check(line, values)
        except (ValueError, ValidationError) as err:
            problems.append(RowProblem(line, str(err)))
            continue
        serial_key = (row.kind, str(row.values["serial"]))
        if serial_key in seen:
            problems.append(RowProblem(line, f"serial {serial_key[1]} appears again (first on "
                                       f"row {seen[serial_key]})"))
            continue
        seen[serial_key] = line
        rows.append(row)
    return rows, problems


def _check(line: int, values: dict[str, Any]) -> ImportRow:
    serial = values.get("serial")
    if not serial:
        raise ValueError("the serial is empty")
    row = ImportRow(line, values)
    if kind := values.get("kind"):
        folded = fold(kind).replace("_", " ")
        if folded not in KIND_WORDS:
            raise ValueError(f"serial {serial}: device kind {kind!r} is neither a USB token nor "
                             "a PKI SIM")
        row.kind = KIND_WORDS[folded]
    elif serial.isdigit() and serial.startswith("89") and len(serial) >= 18:
        row.kind = "pki_sim"  # an ICCID
    if status := values.get("status"):
        folded = fold(status).replace("_", " ")
        row.status = STATUS_WORDS.get(folded)
        if row.status is None:
            raise ValueError(f"serial {serial}: status {status!r} is not one of "
                             f"{', '.join(DEVICE_STATUSES)}")
    row.not_before = cell_date(values.get("not_before"), f"serial {serial}: date")
    row.not_after = cell_date(values.get("not_after"), f"serial {serial}: expiry date")
    if row.not_before and row.not_after and row.not_after <= row.not_before:
        raise ValueError(f"serial {serial}: the expiry date is before the start date")
    if (nid := values.get("national_id")) and "*" not in nid:
        try:
            lifecycle.check_national_id(nid)
        except TokenfleetError as err:
            raise ValueError(f"serial {serial}: {err}") from err
    if values.get("lock_count"):
        try:
            row.lock_count = int(values["lock_count"])
        except ValueError as err:
            raise ValueError(f"serial {serial}: lock count {values['lock_count']!r} is not a "
                             "number") from err
    target = row.status or ("issued" if values.get("holder") else None)
    if target in HOLDER_STATUSES and not values.get("holder"):
        raise ValueError(f"serial {serial}: status {target} needs the holder's name")
    if values.get("holder") and not (values.get("agency") or values.get("agency_code")):
        raise ValueError(f"serial {serial}: the holder's agency is empty")
    return row


# --- applying ----------------------------------------------------------------------------------

def move_path(source: str, target: str) -> list[str] | None:
    """The shortest chain of allowed moves from one status to another (BFS over MOVES)."""
    queue: deque[tuple[str, list[str]]] = deque([(source, [])])
    seen = {source}
    while queue:
        status, path = queue.popleft()
        if status == target:
            return path
        for move in lifecycle.MOVES.values():
            if status in move.sources and move.target not in seen:
                seen.add(move.target)
                queue.append((move.target, [*path, move.name]))
    return None


class _Applier:
    def __init__(self, session: Session, actor: str):
        self.session, self.actor = session, actor
        self.agencies: dict[str, Agency] = {}

    def agency(self, values: dict[str, Any]) -> Agency:
        code, name = values.get("agency_code"), values.get("agency")
        key = code or fold(name)
        if key in self.agencies:
            return self.agencies[key]
        stmt = select(Agency).where(Agency.code == code) if code else \
            select(Agency).where(Agency.name_folded == fold(name))
        agency = self.session.scalars(stmt.order_by(Agency.id)).first()
        if agency is None:
            if not name:
                raise ValueError(f"agency code {code} is not in the register and the row gives "
                                 "no agency name to create it")
            new_code = code or "IMP-" + re.sub(r"[^A-Z0-9]", "", "".join(
                w[0] for w in fold(name).upper().split()))[:20]
            while self.session.scalar(select(Agency.id).where(Agency.code == new_code)):
                new_code += "X"
            agency = lifecycle.add_agency(self.session, code=new_code, name=name,
                                          actor=self.actor)
        self.agencies[key] = agency
        return agency

    def holder(self, values: dict[str, Any]) -> Holder:
        agency = self.agency(values)
        nid = values.get("national_id")
        nid = nid if nid and "*" not in nid else None
        holder = None
        if nid:
            holder = self.session.scalar(select(Holder).where(Holder.national_id == nid))
        if holder is None:
            holder = self.session.scalars(select(Holder).where(
                Holder.name_folded == fold(values["holder"]),
                Holder.agency_id == agency.id).order_by(Holder.id)).first()
        if holder is None:
            return lifecycle.add_holder(self.session, full_name=values["holder"], agency=agency,
                                        actor=self.actor, title=values.get("title"),
                                        email=values.get("email"), phone=values.get("phone"),
                                        national_id=nid)
        changes = {k: values[k] for k in ("title", "email", "phone")
                   if values.get(k) and values[k] != getattr(holder, k)}
        if nid and holder.national_id != nid:
            changes["national_id"] = nid
        if holder.agency_id != agency.id:
            changes["agency_id"] = agency.id
        if changes:
            lifecycle.change_holder_details(self.session, holder, actor=self.actor, **changes)
        return holder

    def apply(self, row: ImportRow) -> str:
        """Apply one row; returns "created", "updated" or "unchanged"."""
        v, s = row.values, self.session
        device = s.scalar(select(Device).where(Device.kind == row.kind,
                                               Device.serial == v["serial"]))
        outcome = "unchanged"
        if device is None:
            device = lifecycle.add_device(s, kind=row.kind, serial=v["serial"], actor=self.actor,
                                          manufacturer=v.get("manufacturer"),
                                          model=v.get("model"),
                                          phone_number=v.get("phone_number"),
                                          notes=v.get("notes"))
            outcome = "created"
        else:
            for key in ("manufacturer", "model", "phone_number", "notes"):
                if v.get(key) and getattr(device, key) != v[key]:
                    setattr(device, key, v[key])
                    outcome = "updated"
        holder = self.holder(v) if v.get("holder") else None
        target = row.status or ("issued" if holder and device.status == "in_stock"
                                else device.status)
        if holder and device.holder_id not in (None, holder.id) and target in HOLDER_STATUSES:
            # Another holder had it: take it back, then hand it to this one.
            if device.status != "issued":
                raise ValueError(f"serial {device.serial} is {device.status} for another holder:"
                                 " cannot give it to " + holder.full_name)
            lifecycle.return_to_stock(s, device, actor=self.actor, note="import: new holder")
        if target != device.status:
            path = move_path(device.status, target)
            if path is None:
                raise ValueError(f"serial {device.serial} is {device.status}: the state machine "
                                 f"allows no way to {target}")
            for move in path:
                if move == "issue":
                    if holder is None:
                        raise ValueError(f"serial {device.serial}: to issue it the row needs a "
                                         "holder")
                    lifecycle.issue(s, device, holder, method=IMPORT_METHOD, actor=self.actor)
                else:
                    lifecycle.apply_move(s, device, move, actor=self.actor, note="import")
            outcome = "updated" if outcome == "unchanged" else outcome
        if row.lock_count is not None and row.lock_count > device.lock_count:
            device.lock_count = row.lock_count  # history from before the register existed
            outcome = "updated" if outcome == "unchanged" else outcome
        if row.not_after and self._certificate(device, row):
            outcome = "updated" if outcome == "unchanged" else outcome
        s.flush()
        return outcome

    def _certificate(self, device: Device, row: ImportRow) -> bool:
        assert row.not_after is not None
        cert_serial = row.values.get("certificate_serial") or f"(imported {device.serial})"
        active = device.active_certificate
        if active and active.serial == cert_serial and active.not_after == row.not_after:
            return False
        if device.status not in lifecycle.CERTIFICATE_STATES:
            return False  # a lost/revoked/retired device keeps the certificates it had
        not_before = row.not_before or row.not_after - timedelta(days=3 * 365)
        lifecycle.attach_certificate(self.session, device, lifecycle.CertificateData(
            serial=cert_serial, not_before=not_before, not_after=row.not_after),
            actor=self.actor, action="certificate.import")
        self.session.refresh(device, ["certificates"])
        return True


def import_file(register: Register, path: Path, *, actor: str, dry_run: bool = False,
                skip_invalid: bool = False) -> ImportResult:
    rows, problems = parse_rows(path, read_table(path))
    if problems and not skip_invalid:
        raise ImportFileError(str(path), f"{len(problems)} bad row(s); nothing was imported",
                              problems)
    result = ImportResult(rows=len(rows), problems=list(problems))
    with contextlib.suppress(_DryRunDone):
        _apply_all(register, path, rows, result, actor=actor, dry_run=dry_run,
                   skip_invalid=skip_invalid)
    if skip_invalid:
        result.rows = len(rows) + len(problems)
    return result


class _DryRunDone(Exception):
    """Raised inside the transaction so that a dry run rolls everything back."""


def _apply_all(register: Register, path: Path, rows: list[ImportRow], result: ImportResult, *,
               actor: str, dry_run: bool, skip_invalid: bool) -> None:
    with register.session() as session:
        applier = _Applier(session, actor)
        for row in rows:
            try:
                with session.begin_nested():
                    outcome = applier.apply(row)
            except (ValueError, TokenfleetError) as err:
                result.problems.append(RowProblem(row.line, str(err)))
                applier.agencies.clear()  # the savepoint may have undone a new agency
                continue
            setattr(result, outcome, getattr(result, outcome) + 1)
        result.problems.sort(key=lambda p: p.row)
        if result.problems and not skip_invalid:
            raise ImportFileError(str(path), f"{len(result.problems)} bad row(s); nothing was "
                                  "imported", result.problems)
        if dry_run:
            raise _DryRunDone
