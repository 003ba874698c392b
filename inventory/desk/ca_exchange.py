"""Import the CA's answer to submitted requests and complete them in bulk.

The answer is a sheet (``.xlsx`` or ``.csv``) with one row per subscriber: the reference we sent
in the intake export (``R<request>-<item>``) or the subscriber's national ID number, and for
issuance and renewal the certificate and the device serial. The certificate is best given as a
file the CA sent (a "Tệp chứng thư" column naming it, relative to the sheet's folder): serial,
issuer, subject, validity and fingerprint are then read from the certificate itself, and typed
columns on the same row, if any, must agree with it. Without a file, the typed serial and
validity are taken. Every row is checked first; a row naming an unknown subscriber, a
certificate file that cannot be read, or a request only partly answered refuses the whole file
with row numbers. Then all requests are completed in one transaction.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from inventory.desk import requests as req_mod
from inventory.fleet.certificates import CertificateData, normalise_serial
from inventory.fleet.lifecycle import check_national_id, mask_national_id
from inventory.fleet.sheets import read_table
from inventory.register.dates import cell_date
from inventory.register.db import Register
from inventory.register.errors import (
    ImportFileError,
    RowProblem,
    TokenfleetError,
    ValidationError,
)
from inventory.register.models import ServiceRequest, ServiceRequestItem
from inventory.register.text import cell_text, fold

ANSWER_ALIASES: dict[str, tuple[str, ...]] = {
    "ref": ("ref", "ma ho so", "ma yeu cau", "reference", "ma tham chieu"),
    "national_id": ("national id", "so cccd", "cccd", "so cmnd cccd", "so dinh danh",
                    "id number", "cmnd"),
    "full_name": ("full name", "ho va ten", "ho ten", "name", "ten thue bao"),
    "certificate_serial": ("certificate serial", "serial chung thu", "so hieu chung thu",
                           "serial chung thu so", "so serial chung thu"),
    "not_before": ("not before", "ngay hieu luc", "tu ngay", "valid from"),
    "not_after": ("not after", "ngay het han", "den ngay", "valid until", "expires"),
    "device_serial": ("device serial", "serial thiet bi", "so serial token", "serial token",
                      "so serial thiet bi", "iccid"),
    "fingerprint_sha256": ("fingerprint", "sha256", "fingerprint sha256", "van tay"),
    "certificate_file": ("certificate file", "cert file", "tep chung thu", "tep chung thu so",
                         "file chung thu", "file chung thu so"),
}
_INDEX = {alias: key for key, aliases in ANSWER_ALIASES.items() for alias in aliases}
_REF = re.compile(r"^R(\d+)-(\d+)$", re.IGNORECASE)


def _header(cell: Any) -> str | None:
    text = re.sub(r"[^a-z0-9 ]", "", fold(str(cell or "")).replace("_", " ").replace("-", " "))
    return _INDEX.get(re.sub(r"\s+", " ", text).strip())


@dataclass
class AnswerRow:
    line: int
    values: dict[str, Any]
    item: ServiceRequestItem | None = None
    answer: req_mod.Answer = field(default_factory=req_mod.Answer)


@dataclass(frozen=True)
class AnswerResult:
    requests: tuple[int, ...]
    subscribers: int


def _match(session: Session, row: AnswerRow, by_nid: dict[str, ServiceRequestItem]) -> str | None:
    """Find the row's request line; returns a problem or None."""
    v = row.values
    who = v.get("full_name") or "(no name)"
    if ref := v.get("ref"):
        m = _REF.match(str(ref).strip())
        item = session.get(ServiceRequestItem, int(m.group(2))) if m else None
        if item is None or item.request_id != int(m.group(1)):  # type: ignore[union-attr]
            return f"reference {ref} ({who}) names no subscriber of any request"
        row.item = item
    elif nid := v.get("national_id"):
        try:
            nid = check_national_id(nid)
        except TokenfleetError as err:
            return f"{who}: {err}"
        row.item = by_nid.get(nid)
        if row.item is None:
            return (f"subscriber {who} (ID {mask_national_id(nid)}) is in no submitted "
                    "request")
    else:
        return f"{who}: neither a reference (R<request>-<line>) nor an ID number"
    if row.item.request.state != "submitted":
        return (f"{who}: request #{row.item.request_id} is {row.item.request.state}, not "
                "waiting for the CA")
    return None


def _answer(row: AnswerRow, folder: Path) -> str | None:
    v = row.values
    kind = row.item.request.kind if row.item else ""
    if kind not in req_mod.ANSWER_KINDS:
        return None
    who = v.get("full_name") or v.get("ref")
    if kind == "new_issuance" and not v.get("device_serial"):
        return f"{who}: a new issuance needs the device serial"
    try:
        not_before = cell_date(v.get("not_before"), "valid-from date")
        not_after = cell_date(v.get("not_after"), "expiry date")
    except ValidationError as err:
        return str(err)
    if name := v.get("certificate_file"):
        return _from_file(row, folder / str(name), not_before, not_after)
    if not (v.get("certificate_serial") and not_before and not_after):
        return (f"{who}: a {kind} answer needs the certificate file, or the certificate "
                "serial, valid-from and expiry dates")
    row.answer = req_mod.Answer(
        device_serial=v.get("device_serial"),
        certificate=CertificateData(serial=v["certificate_serial"], not_before=not_before,
                                    not_after=not_after,
                                    fingerprint_sha256=v.get("fingerprint_sha256")))
    return None


def _from_file(row: AnswerRow, path: Path, not_before: datetime | None,
               not_after: datetime | None) -> str | None:
    """The certificate read from the file the row names; typed columns must agree with it."""
    v = row.values
    try:
        cert = CertificateData.from_file(path)
    except TokenfleetError as err:
        return str(err)
    typed = v.get("certificate_serial")
    if typed and normalise_serial(typed) != cert.serial:
        return f"{path.name} holds certificate {cert.serial}, the sheet says {typed}"
    for label, date_, actual in (("valid-from", not_before, cert.not_before),
                                 ("expiry", not_after, cert.not_after)):
        if date_ is not None and date_.date() != actual.date():
            return (f"{path.name}: {label} date {actual:%d/%m/%Y} in the certificate, "
                    f"{date_:%d/%m/%Y} in the sheet")
    fp = v.get("fingerprint_sha256")
    if fp and fp.lower().replace(":", "") != cert.fingerprint_sha256:
        return f"{path.name}: its SHA-256 fingerprint is not the one in the sheet"
    row.answer = req_mod.Answer(device_serial=v.get("device_serial"), certificate=cert)
    return None


def _submitted_by_nid(session: Session) -> dict[str, ServiceRequestItem]:
    out: dict[str, ServiceRequestItem] = {}
    stmt = (select(ServiceRequest).where(ServiceRequest.state == "submitted")
            .options(selectinload(ServiceRequest.items).selectinload(ServiceRequestItem.holder)))
    for req in session.scalars(stmt).unique():
        for item in req.items:
            if nid := req_mod.subscriber_national_id(item):
                out.setdefault(nid, item)
    return out


def parse_answer(session: Session, path: Path, table: Sequence[Sequence[Any]]
                 ) -> list[AnswerRow]:
    header_at = next((i for i, r in enumerate(table) if any(cell_text(c) for c in r)), None)
    if header_at is None:
        raise ImportFileError(str(path), "the file is empty")
    columns = {i: key for i, cell in enumerate(table[header_at]) if (key := _header(cell))}
    if not {"ref", "national_id"} & set(columns.values()):
        raise ImportFileError(str(path), f"row {header_at + 1}: no reference ('Mã hồ sơ') or ID "
                              "number ('Số CCCD') column")
    by_nid = _submitted_by_nid(session)
    rows: list[AnswerRow] = []
    problems: list[RowProblem] = []
    seen: dict[int, int] = {}
    for index in range(header_at + 1, len(table)):
        raw = table[index]
        values = {key: raw[i] if key in ("not_before", "not_after") else cell_text(raw[i])
                  for i, key in columns.items() if i < len(raw)}
        if not any(v not in (None, "") for v in values.values()):
            continue
        row = AnswerRow(index + 1, values)
        problem = _match(session, row, by_nid) or _answer(row, path.parent)
        if problem is None and row.item is not None and row.item.id in seen:
            problem = f"the same subscriber as row {seen[row.item.id]}"
        if problem:
            problems.append(RowProblem(row.line, problem))
            continue
        assert row.item is not None
        seen[row.item.id] = row.line
        rows.append(row)
    if problems:
        raise ImportFileError(str(path), f"{len(problems)} bad row(s); nothing was completed",
                              problems)
    return rows


def import_answer(register: Register, path: Path, *, actor: str,
                  handover: req_mod.HandoverPlan | None = None,
                  at: datetime | None = None) -> AnswerResult:
    """Complete every request the answer covers, all or nothing."""
    table = read_table(path)
    with register.session() as session:
        rows = parse_answer(session, path, table)
        by_request: dict[int, list[AnswerRow]] = {}
        for row in rows:
            assert row.item is not None
            by_request.setdefault(row.item.request_id, []).append(row)
        problems = []
        for request_id, answered in by_request.items():
            req = req_mod.get_request(session, request_id)
            missing = [req_mod.subscriber_label(i) for i in req.items
                       if i.id not in {r.item.id for r in answered if r.item}]
            if missing:
                problems.append(RowProblem(answered[0].line, (
                    f"request #{request_id} has {len(req.items)} subscribers but the answer "
                    f"covers {len(answered)}; missing: {', '.join(missing)}")))
        if problems:
            raise ImportFileError(str(path), "requests only partly answered; nothing was "
                                  "completed", problems)
        for request_id, answered in by_request.items():
            req = req_mod.get_request(session, request_id)
            answers = {r.item.id: r.answer for r in answered if r.item}
            try:
                req_mod.complete(session, req, actor=actor, answers=answers, handover=handover,
                                 at=at)
            except TokenfleetError as err:
                raise ImportFileError(str(path), "nothing was completed",
                                      [RowProblem(answered[0].line, str(err))]) from err
        return AnswerResult(requests=tuple(by_request), subscribers=len(rows))
