"""Backups: SQLite's online backup API (safe while others write), ``pg_dump``/``pg_restore``.

A backup is written under a temporary name and renamed when complete. A restore checks the
backup first — a tokenfleet register at a known schema revision whose audit chain verifies —
and keeps the register it replaces as a backup beside it; only then is anything replaced.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import Column, Connection, Engine, MetaData, String, Table, create_engine, exc

from inventory.register.errors import (
    AuditChainBrokenError,
    ConfigurationError,
    DatabaseError,
    NotARegisterError,
    StorageIOError,
)
from inventory.register.files import atomic_output

SQLITE_HEADER = b"SQLite format 3\x00"


def _pg_url(engine: Engine) -> str:
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def _pg_tool(name: str) -> str:
    tool = shutil.which(name)
    if tool is None:
        candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
        if not candidates:
            raise ConfigurationError(f"{name} not found: install the PostgreSQL client tools")
        tool = str(candidates[-1])
    return tool


def backup(engine: Engine, target: Path) -> None:
    """Write a consistent copy of the register to ``target`` while it stays in use. The copy
    is written under a temporary name and renamed when complete: a full disk or an interrupted
    backup leaves no partial file (nor SQLite's ``-journal``)."""
    with atomic_output(target, replace=False) as tmp:
        if engine.dialect.name == "sqlite":
            _sqlite_copy(engine, tmp, target)
        else:
            _run([_pg_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={tmp}",
                  _pg_url(engine)], "pg_dump", target)


def _sqlite_copy(engine: Engine, tmp: Path, target: Path) -> None:
    raw = engine.raw_connection()
    dest = None
    try:
        dest = sqlite3.connect(tmp)
        raw.driver_connection.backup(dest)  # type: ignore[union-attr]
    except sqlite3.Error as err:
        raise _sqlite_io_error(err, target) from err
    finally:
        if dest is not None:
            dest.close()
        raw.close()


def _sqlite_io_error(err: sqlite3.Error, path: Path) -> StorageIOError:
    message = str(err)
    if "full" in message:
        return StorageIOError(str(path), "cannot write: no space left on the device "
                                         "(disk full)")
    return StorageIOError(str(path), f"cannot write: {message}")


@dataclass(frozen=True)
class RestoreResult:
    revision: str
    events: int
    kept: Path | None  # the register as it was before, backed up beside it


def restore(engine: Engine, source: Path) -> RestoreResult:
    """Replace the register with a backup made by :func:`backup` — only once the backup is
    known good: a tokenfleet register at a revision this version knows, whose audit chain
    verifies. The register it replaces is first backed up beside it (SQLite: beside the
    register's file; PostgreSQL: beside the backup file). On PostgreSQL, the database owner's
    work (``_require_restorer``)."""
    if not source.is_file():
        raise NotARegisterError(str(source), "no such file")
    if engine.dialect.name == "sqlite":
        revision, events = _check_sqlite_backup(source)
    else:
        revision, events = _check_pg_backup(engine, source)
    _require_restorer(engine)
    kept = _keep_current(engine, source)
    if engine.dialect.name == "sqlite":
        src = sqlite3.connect(f"file:{quote(str(source.resolve()))}?mode=ro&immutable=1",
                              uri=True)
        raw = engine.raw_connection()
        try:
            src.backup(raw.driver_connection)  # type: ignore[arg-type]
        except sqlite3.Error as err:
            raise _sqlite_io_error(err, Path(str(engine.url.database))) from err
        finally:
            raw.close()
            src.close()
    else:
        _run([_pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner",
              "--single-transaction", f"--dbname={_pg_url(engine)}", str(source)], "pg_restore")
    return RestoreResult(revision=revision, events=events, kept=kept)


def _known_revision(source: Path, revision: str | None) -> str:
    from alembic.script import ScriptDirectory

    from inventory.register.db import alembic_config

    if not revision:
        raise NotARegisterError(str(source), "holds no tokenfleet register (no schema "
                                             "revision): nothing was restored")
    try:
        ScriptDirectory.from_config(alembic_config()).get_revision(revision)
    except Exception as err:
        raise NotARegisterError(str(source), f"is a register at schema revision {revision}, "
                                             "which this version of tokenfleet does not know: "
                                             "nothing was restored") from err
    return revision


def _verify_chain(source: Path, connection: Connection) -> int:
    from sqlalchemy.orm import Session

    from inventory.register import audit

    with Session(connection) as session:
        try:
            return audit.verify(session).events
        except AuditChainBrokenError as err:
            raise AuditChainBrokenError(err.event_id, f"{err.reason} — in the backup {source}; "
                                                      "nothing was restored") from err
        except exc.DBAPIError as err:
            raise NotARegisterError(str(source), "its audit trail cannot be read: nothing was "
                                                 "restored") from err


def _check_sqlite_backup(source: Path) -> tuple[str, int]:
    with source.open("rb") as fh:
        header = fh.read(16)
    if header != SQLITE_HEADER:
        hint = " (a PostgreSQL backup is restored into a PostgreSQL register)" \
            if header.startswith(b"PGDMP") else ""
        raise NotARegisterError(str(source), f"is not a tokenfleet backup: not an SQLite "
                                             f"database{hint}; nothing was restored")
    url = f"sqlite:///file:{quote(str(source.resolve()))}?mode=ro&immutable=1&uri=true"
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            try:
                check = conn.exec_driver_sql("PRAGMA quick_check").scalar()
            except exc.DBAPIError as err:
                raise NotARegisterError(str(source), f"cannot be read as a database "
                                                     f"({err.orig}): nothing was restored") \
                    from err
            if check != "ok":
                raise NotARegisterError(str(source), f"is damaged ({check}): nothing was "
                                                     "restored")
            try:
                revision = conn.exec_driver_sql("SELECT version_num FROM alembic_version") \
                    .scalar()
            except exc.DBAPIError:
                revision = None
            revision = _known_revision(source, revision)
            return revision, _verify_chain(source, conn)
    finally:
        engine.dispose()


_COPY = re.compile(r"^COPY (?:public\.)?(\w+) \(([^)]*)\) FROM stdin;$")


def _check_pg_backup(engine: Engine, source: Path) -> tuple[str, int]:
    """Read the backup's revision and audit trail into temporary tables of one session (they
    hide the real tables of the same name there) and verify the chain before anything is
    replaced."""
    listing = subprocess.run([_pg_tool("pg_restore"), "--list", str(source)],
                             capture_output=True, text=True, check=False)
    if listing.returncode != 0:
        raise NotARegisterError(str(source), "is not a PostgreSQL custom-format backup "
                                             "(pg_dump --format=custom): nothing was restored")
    tables = set(re.findall(r"TABLE DATA \S+ (\w+) ", listing.stdout))
    if not {"alembic_version", "events", "audit_head"} <= tables:
        raise NotARegisterError(str(source), "holds no tokenfleet register: nothing was "
                                             "restored")
    script = subprocess.run(
        [_pg_tool("pg_restore"), "--data-only", "--table=alembic_version", "--table=events",
         "--table=audit_head", "--file=-", str(source)],
        capture_output=True, text=True, check=False)
    if script.returncode != 0:
        raise NotARegisterError(str(source), f"cannot be read: {script.stderr.strip()[-200:]}")
    from inventory.register.models import AuditHead, Event

    temp = MetaData()
    for model in (Event, AuditHead):
        Table(model.__tablename__, temp,
              *(Column(c.name, c.type) for c in model.__table__.columns),
              prefixes=["TEMPORARY"])
    Table("alembic_version", temp, Column("version_num", String(32)), prefixes=["TEMPORARY"])
    with engine.connect() as conn:
        temp.create_all(conn, checkfirst=False)
        raw = conn.connection.driver_connection
        assert raw is not None
        cursor = raw.cursor()
        blocks: list[tuple[str, list[str]]] = []
        current: list[str] | None = None  # the data lines of the COPY block being read
        for line in script.stdout.splitlines():
            if current is not None:
                if line == "\\.":
                    current = None
                else:
                    current.append(line)
            elif match := _COPY.match(line):
                current = []
                blocks.append((f"COPY {match[1]} ({match[2]}) FROM STDIN", current))
        for statement, lines in blocks:
            with cursor.copy(statement) as copy:
                for data in lines:
                    copy.write(data + "\n")
        revision = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
        revision = _known_revision(source, revision)
        events = _verify_chain(source, conn)
        conn.rollback()
    return revision, events


def _require_restorer(engine: Engine) -> None:
    """Restoring replaces every table, operators and the audit trail included: on PostgreSQL
    that is the database owner's work (``pg_restore --clean`` drops tables, which only their
    owner may), refused to every other login before anything happens; the embedded register's
    one desk may. A register that cannot be read yet (new, damaged) has nobody to protect."""
    from sqlalchemy.orm import Session

    from inventory.register import access

    with engine.connect() as conn, Session(conn) as session:
        try:
            access.identify(session)
        except exc.DBAPIError:
            return
        access.require_role(session, doing="restore the register (it replaces every table)")


def _keep_current(engine: Engine, source: Path) -> Path | None:
    """Back up the register about to be replaced, if it holds one (else None)."""
    from inventory.register.db import sqlite_file, stored_revision

    if stored_revision(engine) is None:
        return None
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    if engine.dialect.name == "sqlite":
        path = sqlite_file(str(engine.url))
        assert path is not None
        folder, stem, suffix = path.parent, f"{path.stem}.before-restore-{stamp}", path.suffix
    else:
        folder, stem = source.parent, f"{engine.url.database}.before-restore-{stamp}"
        suffix = ".dump"
    kept, n = folder / f"{stem}{suffix}", 1
    while kept.exists():
        n += 1
        kept = folder / f"{stem}-{n}{suffix}"
    backup(engine, kept)
    return kept


def _run(cmd: list[str], what: str, path: Path | None = None) -> None:
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["(no message)"])[-1]
        if path is not None and "No space left" in result.stderr:
            raise StorageIOError(str(path), "cannot write: no space left on the device "
                                            "(disk full)")
        raise DatabaseError(f"{what} failed: {last}")
