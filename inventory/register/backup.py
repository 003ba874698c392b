"""Backups: SQLite's online backup API (safe while others write), ``pg_dump``/``pg_restore``."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import Engine

from inventory.register.errors import ConfigurationError, DatabaseError, StorageIOError
from inventory.register.files import atomic_output


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


def restore(engine: Engine, source: Path) -> None:
    """Replace the register's contents with a backup made by :func:`backup`."""
    if not source.exists():
        raise ConfigurationError(f"no backup file {source}")
    if engine.dialect.name == "sqlite":
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        raw = engine.raw_connection()
        try:
            src.backup(raw.driver_connection)  # type: ignore[arg-type]
        finally:
            raw.close()
            src.close()
        return
    _run([_pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction",
          f"--dbname={_pg_url(engine)}", str(source)], "pg_restore")


def _run(cmd: list[str], what: str, path: Path | None = None) -> None:
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["(no message)"])[-1]
        if path is not None and "No space left" in result.stderr:
            raise StorageIOError(str(path), "cannot write: no space left on the device "
                                            "(disk full)")
        raise DatabaseError(f"{what} failed: {last}")
