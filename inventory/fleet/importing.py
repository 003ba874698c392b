"""Import devices from ``.xlsx`` or ``.csv``: our own export, or the sheets agencies keep.

Four steps, and only the last takes the register's write lock:

1. read the file and name its columns by the words of their headers (``inventory.fleet.sheets``);
2. check every row through the core's checks (``inventory.register.checks``: NFC, no control
   characters, column sizes, ID numbers, kinds and statuses as people write them), naming the
   row and column of each bad cell;
3. resolve agencies, holders, devices and certificates in set-based queries and plan every
   change (``inventory.fleet.import_plan``): which rows add, move, renew or change nothing;
4. write the plan in one transaction (``inventory.fleet.import_write``): rows in batches, audit
   events hash-chained in one append; the few moves that open or close unlock cases or revoke
   certificates go through the lifecycle functions. If another desk wrote meanwhile, the plan
   is made again.

All or nothing: any bad row refuses the whole file, naming file row numbers, unless
``skip_invalid``, in which case bad rows are reported and the others imported. A re-import of
our own export — masked ID numbers, same-name holders and all — changes nothing: holders are
matched on the ``holder_key`` column the export writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inventory.fleet import import_plan, import_write
from inventory.fleet.import_plan import (
    HOLDER_KEY,
    HOLDER_STATUSES,
    IMPORT_METHOD,
    ImportRow,
    Progress,
    move_path,
)
from inventory.fleet.sheets import ColumnUse, Sheet, read_sheet, text_cell
from inventory.register import checks, dates
from inventory.register.db import Register
from inventory.register.errors import ImportFileError, RowProblem, ValidationError


@dataclass
class ImportResult:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    holders_created: int = 0
    holders_updated: int = 0
    agencies_created: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    warnings: list[RowProblem] = field(default_factory=list)
    columns: list[ColumnUse] = field(default_factory=list)
    attempts: int = 0  # plans made (more than one when another desk wrote meanwhile)


# --- checking rows -----------------------------------------------------------------------------

TEXT_FIELDS = ("holder", "title", "email", "agency_code", "agency", "manufacturer", "model",
               "notes", "certificate_serial")
NUMBER_AS_TEXT = ("serial", "national_id", "phone", "phone_number", "certificate_serial")


def _cell(row: ImportRow, name: str, raw: Any) -> None:
    """Check one cell and set it on ``row`` (raises ``ValidationError`` naming the value)."""
    label = checks.LABELS.get(name, name.replace("_", " "))
    if name in NUMBER_AS_TEXT:
        raw = text_cell(raw, label)
    if name == "serial":
        if raw is not None:
            row.serial = checks.serial(raw)
    elif name == "kind":
        if raw not in (None, ""):
            row.kind = checks.kind(raw)
    elif name == "status":
        if raw not in (None, ""):
            row.status = checks.status(raw)
    elif name == "holder_key":
        key = checks.text(raw, "holder key", max_len=32)
        if key is not None and not HOLDER_KEY.fullmatch(key):
            raise ValidationError(f"holder key {key!r} is not 4-32 letters, digits, - or _")
        row.holder_key = key
    elif name == "national_id":
        value = checks.text(raw, "national ID number", max_len=20)
        if value and "*" in value:
            row.national_id_tail = value.lstrip("*") or None
        elif value:
            row.national_id = checks.national_id(value)
    elif name == "phone":
        row.phone = checks.field("phone", raw)
    elif name == "phone_number":
        row.phone_number = checks.field("phone_number", raw)
    elif name in TEXT_FIELDS:
        setattr(row, name, checks.field(name, raw))
    elif name in ("not_before", "not_after", "last_seen_at"):
        setattr(row, name, dates.cell_date(raw, checks.LABELS.get(name, name)))
    elif name == "lock_count" and raw not in (None, ""):
        try:
            count = int(float(raw)) if isinstance(raw, int | float) else int(str(raw))
        except ValueError as err:
            raise ValidationError(f"lock count {raw!r} is not a number") from err
        if count < 0:
            raise ValidationError(f"lock count {count} is negative")
        row.lock_count = count


def _check_row(sheet: Sheet, line: int, raw: list[Any], problems: list[RowProblem]
               ) -> ImportRow | None:
    row = ImportRow(line, serial="")
    bad = False
    width = len(raw)
    for index, name in sheet.columns.items():
        value = raw[index] if index < width else None
        try:
            if value is None or value == "":
                continue  # an empty cell gives nothing
            _cell(row, name, value)
        except ValidationError as err:
            problems.append(RowProblem(line, f"{sheet.where(index)}: {err}"))
            bad = True
    if bad:
        return None
    try:
        _check_consistency(row)
    except ValidationError as err:
        problems.append(RowProblem(line, str(err)))
        return None
    return row


def _check_consistency(row: ImportRow) -> None:
    if not row.serial:
        raise ValidationError("the serial is empty")
    if row.not_before and row.not_after and row.not_after <= row.not_before:
        raise ValidationError(f"serial {row.serial}: the expiry date is before the start date")
    if row.not_before and not row.not_after:
        raise ValidationError(f"serial {row.serial}: a start date without an expiry date")
    target = row.status or ("issued" if row.holder else None)
    if target in HOLDER_STATUSES and not row.holder:
        raise ValidationError(f"serial {row.serial}: status {target} needs the holder's name")
    if row.holder and not (row.agency or row.agency_code):
        raise ValidationError(f"serial {row.serial}: the holder's agency is empty")


def check_rows(sheet: Sheet, progress: Progress | None = None
               ) -> tuple[list[ImportRow], list[RowProblem], list[RowProblem]]:
    """Every data row checked: (good rows, problems, warnings)."""
    rows: list[ImportRow] = []
    problems: list[RowProblem] = []
    warnings: list[RowProblem] = []
    seen: dict[str, int] = {}
    total = len(sheet.rows) - sheet.header_row - 1
    for n, index in enumerate(range(sheet.header_row + 1, len(sheet.rows))):
        if progress and n % 5000 == 0:
            progress("checking", n, total)
        raw, line = sheet.rows[index], index + 1
        if not any(c is not None and (not isinstance(c, str) or c.strip()) for c in raw):
            continue  # a blank line
        row = _check_row(sheet, line, raw, problems)
        if row is None:
            continue
        if row.serial in seen:
            problems.append(RowProblem(line, f"serial {row.serial} appears again (first on "
                                       f"row {seen[row.serial]})"))
            continue
        seen[row.serial] = line
        if row.kind is None:
            if checks.looks_like_iccid(row.serial):
                row.kind_guess = "pki_sim"
                warnings.append(RowProblem(line, f"serial {row.serial} has no kind and looks "
                                           "like a SIM's ICCID: taken as a PKI SIM"))
            else:
                row.kind_guess = sheet.kind_hint
        rows.append(row)
    if progress:
        progress("checking", total, total)
    return rows, problems, warnings


# --- the whole import --------------------------------------------------------------------------

def import_file(register: Register, path: Path, *, actor: str, dry_run: bool = False,
                skip_invalid: bool = False, progress: Progress | None = None) -> ImportResult:
    """Import ``path`` into the register (see the module's docstring)."""

    if progress:
        progress("reading", 0, 1)
    sheet = read_sheet(path)
    if progress:
        progress("reading", 1, 1)
    rows, problems, warnings = check_rows(sheet, progress)
    result = ImportResult(rows=len(rows) + len(problems), problems=problems,
                          warnings=warnings, columns=sheet.uses)
    if problems and not skip_invalid:
        raise ImportFileError(str(path), f"{len(problems)} bad row(s); nothing was imported",
                              sorted(problems, key=lambda p: p.row))
    actor = checks.actor(actor)
    if dry_run:
        plan = import_plan.make_plan(register, rows, actor=actor, dry_run=True,
                                     progress=progress)
        result.attempts = 1
    else:
        try:
            plan, result.attempts = import_write.write(register, rows, actor=actor,
                                                       skip_invalid=skip_invalid,
                                                       progress=progress)
        except import_write.LateProblems as late:
            raise ImportFileError(str(path), f"{len(late.problems)} bad row(s); nothing was "
                                  "imported", late.problems) from late
    _count(result, plan, problems)
    if result.problems and not skip_invalid:
        raise ImportFileError(str(path), f"{len(result.problems)} bad row(s); nothing was "
                              "imported", result.problems)
    return result


def _count(result: ImportResult, plan: Any, problems: list[RowProblem]) -> None:
    outcomes = list(plan.outcomes.values())
    problems = problems + plan.late_problems
    result.created = outcomes.count("created")
    result.updated = outcomes.count("updated")
    result.unchanged = outcomes.count("unchanged")
    result.holders_created = len(plan.new_holders)
    result.holders_updated = len(plan.holder_changes)
    result.agencies_created = len(plan.new_agencies)
    result.problems = sorted(problems + plan.problems, key=lambda p: p.row)


__all__ = ["HOLDER_STATUSES", "IMPORT_METHOD", "ImportFileError", "ImportResult", "ImportRow",
           "Progress", "check_rows", "import_file", "move_path"]
