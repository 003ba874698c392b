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

import gc
import itertools
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inventory.fleet import import_plan, import_same, import_write
from inventory.fleet.import_plan import (
    HOLDER_KEY,
    HOLDER_STATUSES,
    IMPORT_METHOD,
    CheckedRows,
    ImportRow,
    Progress,
    move_path,
)
from inventory.fleet.sheets import ColumnUse, Sheet, read_sheet, text_cell
from inventory.register import access, checks, dates
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


Checked = tuple[str, Any] | None
"""What one checked cell sets on its row: (attribute, value), or None for nothing."""


def _checker(name: str) -> Callable[[Any], Checked]:
    """The check of one column's cells (raises ``ValidationError`` naming the value). A check
    depends on the value only, so ``check_rows`` runs it once per distinct value."""
    label = checks.LABELS.get(name, name.replace("_", " "))
    as_text = name in NUMBER_AS_TEXT

    def check(raw: Any) -> Checked:
        if as_text:
            raw = text_cell(raw, label)
        if name == "serial":
            return None if raw is None else ("serial", checks.serial(raw))
        if name == "kind":
            return None if raw in (None, "") else ("kind", checks.kind(raw))
        if name == "status":
            return None if raw in (None, "") else ("status", checks.status(raw))
        if name == "holder_key":
            key = checks.text(raw, "holder key", max_len=32)
            if key is not None and not HOLDER_KEY.fullmatch(key):
                raise ValidationError(f"holder key {key!r} is not 4-32 letters, digits, - or _")
            return "holder_key", key
        if name == "national_id":
            value = checks.text(raw, "national ID number", max_len=20)
            if value and "*" in value:
                return "national_id_tail", value.lstrip("*") or None
            return ("national_id", checks.national_id(value)) if value else None
        if name in ("phone", "phone_number") or name in TEXT_FIELDS:
            return name, checks.field(name, raw)
        if name in ("not_before", "not_after", "last_seen_at"):
            return name, dates.cell_date(raw, checks.LABELS.get(name, name))
        if name == "lock_count" and raw not in (None, ""):
            try:
                count = int(float(raw)) if isinstance(raw, int | float) else int(str(raw))
            except ValueError as err:
                raise ValidationError(f"lock count {raw!r} is not a number") from err
            if count < 0:
                raise ValidationError(f"lock count {count} is negative")
            return "lock_count", count
        return None

    return check


# Columns whose clean cells are stored as they are: a whole column is tested at once
# (``checks.already_clean``), and checked cell by cell only when that test fails.
AS_IS = frozenset({"serial", "phone", "phone_number", "national_id", "holder_key",
                   *TEXT_FIELDS})


TEXT_CELLS = frozenset({str, type(None)})


def _as_is(name: str, present: list[str]) -> bool:
    """Whether every given cell of a column is what its check would store."""
    if name == "national_id":
        return checks.already_national_ids(present)
    if name == "holder_key":
        return not present or bool(HOLDER_KEYS.fullmatch("|".join(present)))
    if name == "serial" and any(" " in v for v in present):
        return False
    return checks.already_clean(present, max_len=checks.field_size(name))


HOLDER_KEYS = re.compile(rf"{HOLDER_KEY.pattern}(?:\|{HOLDER_KEY.pattern})*")


def _check_column(name: str, cells: Sequence[Any], bad: dict[int, list[str]], where: str
                  ) -> dict[str, list[Any]]:
    """One column's cells checked: attribute → one value per row; a refused cell adds its
    message under its row's position in ``bad``. A whole column of clean text is taken as
    it is; otherwise each distinct value is checked once (kinds, statuses, agencies and dates
    repeat on every row)."""
    if name in AS_IS and set(map(type, cells)) <= TEXT_CELLS:
        present = [v for v in cells if v]  # text: without the empty cells
        if _as_is(name, present):
            return {name: [None if v == "" else v for v in cells] if "" in cells
                    else list(cells)}
    # keyed with their type: 1, 1.0 and True are equal as dict keys, not as cells
    keys = list(zip(map(type, cells), cells, strict=True))
    check = _checker(name)
    results: dict[tuple[type, Any], Checked] = {}
    refused: dict[tuple[type, Any], str] = {}
    for key in set(keys):
        value = key[1]
        if value is None or value == "":
            results[key] = None  # an empty cell gives nothing
            continue
        try:
            results[key] = check(value)
        except ValidationError as err:
            refused[key] = f"{where}: {err}"
    if refused:
        for pos, key in enumerate(keys):
            if key in refused:
                bad.setdefault(pos, []).append(refused[key])
    out: dict[str, list[Any]] = {}
    for attr in {c[0] for c in results.values() if c is not None}:
        value_of = {k: c[1] if c is not None and c[0] == attr else None
                    for k, c in results.items()}
        value_of.update(dict.fromkeys(refused))
        out[attr] = list(map(value_of.__getitem__, keys))
    return out


def _blank(raw: list[Any]) -> bool:
    return not any(c is not None and (not isinstance(c, str) or c.strip()) for c in raw)


def _inconsistent(values: dict[str, list[Any]], total: int) -> dict[int, str]:
    """Rows wrong as a whole though each cell passed: position → message (column by column:
    one pass over each column the rule needs, not a look-up per row and field)."""
    empty: list[Any] = [None] * total
    serial = values.get("serial", empty)
    holder = values.get("holder", empty)
    wrong: dict[int, str] = {}

    def flag(mask: Any, message: Callable[[int], str]) -> None:
        for pos in itertools.compress(range(total), mask):
            if pos not in wrong:
                wrong[pos] = message(pos)

    flag([not s for s in serial], lambda pos: "the serial is empty")
    before, after = values.get("not_before"), values.get("not_after")
    if before is not None:
        flag([b is not None and a is not None and a <= b
              for b, a in zip(before, after or empty, strict=True)],
             lambda pos: f"serial {serial[pos]}: the expiry date is before the start date")
        flag([b is not None and a is None for b, a in zip(before, after or empty, strict=True)],
             lambda pos: f"serial {serial[pos]}: a start date without an expiry date")
    status = values.get("status")
    if status is not None:
        flag([s in HOLDER_STATUSES and not h for s, h in zip(status, holder, strict=True)],
             lambda pos: f"serial {serial[pos]}: status {status[pos]} needs the holder's name")
    if "holder" in values:
        agency, code = values.get("agency", empty), values.get("agency_code", empty)
        flag([h and not (a or c) for h, a, c in zip(holder, agency, code, strict=True)],
             lambda pos: f"serial {serial[pos]}: the holder's agency is empty")
    return wrong


def check_rows(sheet: Sheet, progress: Progress | None = None
               ) -> tuple[CheckedRows, list[RowProblem], list[RowProblem]]:
    """Every data row checked, column by column: (good rows, problems, warnings)."""
    problems: list[RowProblem] = []
    warnings: list[RowProblem] = []
    at = next(i for i, name in sheet.columns.items() if name == "serial")
    data = sheet.rows[sheet.header_row + 1:]
    first = sheet.header_row + 2  # the file's row number of data[0]
    shortest = min(map(len, data), default=0)
    if shortest > at:
        serial_cells = [r[at] for r in data]
    else:
        serial_cells = [r[at] if len(r) > at else None for r in data]
    blank = [pos for pos, c in enumerate(serial_cells)
             if c is None or (type(c) is str and not c.strip())]
    blank = [pos for pos in blank if _blank(data[pos])]
    if blank:
        skip = set(blank)
        lines = [first + pos for pos in range(len(data)) if pos not in skip]
        data = [r for pos, r in enumerate(data) if pos not in skip]
    else:
        lines = list(range(first, first + len(data)))
    total = len(data)
    if progress:
        progress("checking", 0, total)
    values: dict[str, list[Any]] = {}
    bad: dict[int, list[str]] = {}
    width = max(sheet.columns) + 1
    if blank:
        shortest = min(map(len, data), default=0)
    if shortest < width:  # a CSV line shorter than the header
        data = [r if len(r) >= width else [*r, *[None] * (width - len(r))] for r in data]
    cells_of = list(zip(*data, strict=False)) if data else []
    for index, name in sheet.columns.items():
        cells = cells_of[index] if cells_of else ()
        values.update(_check_column(name, cells, bad, sheet.where(index)))
    if "serial" not in values:
        values["serial"] = [None] * total
    wrong = _inconsistent(values, total)
    serials = values["serial"]
    if bad or wrong or len(set(serials)) < total:
        good: list[int] = []
        seen: dict[str, int] = {}
        for pos, line in enumerate(lines):
            if pos in bad:
                problems += [RowProblem(line, message) for message in bad[pos]]
                continue
            if pos in wrong:
                problems.append(RowProblem(line, wrong[pos]))
                continue
            serial = serials[pos]
            if serial in seen:
                problems.append(RowProblem(line, f"serial {serial} appears again (first on "
                                           f"row {seen[serial]})"))
                continue
            seen[serial] = line
            good.append(pos)
    else:
        good = list(range(total))
    if len(good) < total:
        values = {name: [column[p] for p in good] for name, column in values.items()}
        lines = [lines[p] for p in good]
    checked = CheckedRows(lines, values, [sheet.kind_hint] * len(lines))
    kinds = values.get("kind")
    for pos, serial in enumerate(values["serial"]):
        if (kinds is None or kinds[pos] is None) and checks.looks_like_iccid(serial):
            checked.kind_guess[pos] = "pki_sim"
            warnings.append(RowProblem(lines[pos], f"serial {serial} has no kind and looks "
                                       "like a SIM's ICCID: taken as a PKI SIM"))
    if progress:
        progress("checking", total, total)
    return checked, problems, warnings


# --- the whole import --------------------------------------------------------------------------

@contextmanager
def _bulk() -> Iterator[None]:
    """No cyclic garbage collection while an import builds its columns and plan: millions of
    short-lived lists and tuples (none in cycles) would trigger a full collection pass after
    pass, as much as half the time of a re-import. Collection resumes as it was."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def import_file(register: Register, path: Path, *, actor: str, dry_run: bool = False,
                skip_invalid: bool = False, progress: Progress | None = None) -> ImportResult:
    """Import ``path`` into the register (see the module's docstring)."""
    with _bulk():
        return _import_file(register, path, actor=actor, dry_run=dry_run,
                            skip_invalid=skip_invalid, progress=progress)


def _import_file(register: Register, path: Path, *, actor: str, dry_run: bool,
                 skip_invalid: bool, progress: Progress | None) -> ImportResult:

    if progress:
        progress("reading", 0, 1)
    sheet = read_sheet(path)
    if progress:
        progress("reading", 1, 1)
    checked, problems, warnings = check_rows(sheet, progress)
    result = ImportResult(rows=len(checked) + len(problems), problems=problems,
                          warnings=warnings, columns=sheet.uses)
    if problems and not skip_invalid:
        raise ImportFileError(str(path), f"{len(problems)} bad row(s); nothing was imported",
                              sorted(problems, key=lambda p: p.row))
    actor = checks.actor(actor)
    with register.read() as session:  # most rows of a re-import: no plan, no lock
        if not dry_run:  # a viewer may not import, even a file that would change nothing
            access.require(session, actor, "device.edit")
        same = import_same.unchanged_rows(session.connection(), checked) if checked else set()
    rows = checked.rows(skip=same)
    if not rows:
        plan: import_plan.Plan | None = None
    elif dry_run:
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
    result.unchanged += len(same)
    if result.problems and not skip_invalid:
        raise ImportFileError(str(path), f"{len(result.problems)} bad row(s); nothing was "
                              "imported", result.problems)
    return result


def _count(result: ImportResult, plan: import_plan.Plan | None,
           problems: list[RowProblem]) -> None:
    if plan is None:
        result.problems = sorted(problems, key=lambda p: p.row)
        return
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
