"""Backups: SQLite's online backup API (safe while others write), ``pg_dump``/``pg_restore``."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import Engine

from inventory.register.errors import ConfigurationError, DatabaseError


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
    """Write a consistent copy of the register to ``target`` while it stays in use."""
    if target.exists():
        raise ConfigurationError(f"{target} exists: choose a new file for the backup")
    target.parent.mkdir(parents=True, exist_ok=True)
    if engine.dialect.name == "sqlite":
        raw = engine.raw_connection()
        try:
            dest = sqlite3.connect(target)
            with dest:
                raw.driver_connection.backup(dest)  # type: ignore[union-attr]
            dest.close()
        finally:
            raw.close()
        return
    _run([_pg_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={target}",
          _pg_url(engine)], "pg_dump")


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


def _run(cmd: list[str], what: str) -> None:
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise DatabaseError(f"{what} failed: {result.stderr.strip().splitlines()[-1:]}")
