"""A register's contents in and out: import a sheet, back up, restore.

The CLI (``tokenfleet import``, ``db backup``, ``db restore``) and the TUI's transfers screen
call these. Export and the monthly report write spreadsheets, which this layer may not import:
they are one function each in ``reports`` (``register_export.export_register``,
``monthly.write_monthly``), which both front ends call in the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from inventory.fleet import importing
from inventory.fleet.importing import ImportResult, Progress
from inventory.register import audit, backup
from inventory.register.db import Register


def import_sheet(register: Register, path: Path, *, actor: str, dry_run: bool = False,
                 skip_invalid: bool = False, progress: Progress | None = None) -> ImportResult:
    """Import devices from an ``.xlsx``/``.csv`` sheet, all or nothing (``skip_invalid``:
    the good rows, reporting the others); ``dry_run`` plans and writes nothing."""
    return importing.import_file(register, path, actor=actor, dry_run=dry_run,
                                 skip_invalid=skip_invalid, progress=progress)


def backup_register(register: Register, target: Path) -> None:
    """Back the register up while it is in use (written under a temporary name, renamed when
    complete)."""
    backup.backup(register.engine, target)


@dataclass(frozen=True)
class RestoreOutcome:
    revision: str  # the schema revision of the backup
    events: int  # audit events in the restored register, its chain verified
    kept: Path | None  # the register as it was, backed up beside it


def restore_register(engine: Engine, source: Path) -> RestoreOutcome:
    """Replace the register with a backup, only once the backup is known good (see
    ``inventory.register.backup.restore``: on PostgreSQL the database owner's work), then
    verify the restored chain."""
    result = backup.restore(engine, source)
    with Register(engine).read() as session:
        verified = audit.verify(session)
    return RestoreOutcome(revision=result.revision, events=verified.events, kept=result.kept)
