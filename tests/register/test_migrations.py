"""Models and migrations agree on both backends; schema revisions are checked."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, bindparam, text

from inventory.cli import exit_codes, main
from inventory.readers.hardware.observation import ReaderState
from inventory.readers.sync import record_station_readers, station_readers
from inventory.register import db as dbmod
from inventory.register.db import Register, include_object
from inventory.register.errors import SchemaTooNewError
from inventory.register.models import Base, UTCDateTime
from tests.conftest import run_tokenfleet


def test_autogenerate_finds_nothing(db_url):
    engine = dbmod.make_engine(db_url)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={
            "include_object": include_object, "compare_type": True,
            "render_as_batch": conn.dialect.name == "sqlite"})
        diff = compare_metadata(ctx, Base.metadata)
    engine.dispose()
    assert diff == []


def test_embedded_register_is_created_on_first_use(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The default register (none named) is made on first use, in the user's data folder."""
    monkeypatch.delenv("TOKENFLEET_DATABASE_URL", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    result = run_tokenfleet("devices")
    assert result.code == 0, result.err
    url = f"sqlite:///{tmp_path / 'data' / 'tokenfleet' / 'register.sqlite3'}"
    engine = dbmod.make_engine(url, create=False)
    assert dbmod.current_revision(engine) == dbmod.head_revision()
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    engine.dispose()


def test_db_upgrade_and_current(tmp_path):
    url = f"sqlite:///{tmp_path / 'r.sqlite3'}"
    first = run_tokenfleet("--db", url, "db", "upgrade")
    assert first.code == 0 and "upgraded" in first.out
    again = run_tokenfleet("--db", url, "db", "upgrade")
    assert "already at" in again.out
    current = run_tokenfleet("--db", url, "db", "current")
    assert "up to date" in current.out


def test_postgres_is_not_upgraded_silently(pg_url, capsys):
    """A PostgreSQL register is shared: only `db upgrade` changes its schema."""
    from tests.conftest import _pg_admin_engine

    admin = _pg_admin_engine()
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS tf_empty WITH (FORCE)"))
        conn.execute(text("CREATE DATABASE tf_empty"))
    url = admin.url.set(database="tf_empty").render_as_string(hide_password=False)
    with pytest.raises(SystemExit) as exit_:
        main(["--db", url, "devices"])
    assert exit_.value.code != 0
    assert "tokenfleet db upgrade" in capsys.readouterr().err
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE tf_empty WITH (FORCE)"))
    admin.dispose()


def test_database_newer_than_code_is_refused(db_url, capsys):
    engine = dbmod.make_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    with pytest.raises(SchemaTooNewError, match="9999_future"):
        dbmod.check_revision(engine)
    engine.dispose()
    with pytest.raises(SystemExit) as exit_:
        main(["--db", db_url, "devices"])
    assert exit_.value.code == exit_codes.for_error(SchemaTooNewError)
    err = capsys.readouterr().err
    assert "9999_future" in err and err.count("\n") == 1


def test_schema_head_constant_is_alembics_head():
    """``Register.open`` trusts ``SCHEMA_HEAD`` to skip Alembic: it must name the newest one."""
    assert dbmod.head_revision() == dbmod.SCHEMA_HEAD


def test_station_readers_upgrade_keeps_every_station_row(empty_url: str) -> None:
    """0011 renames desk_readers/desk to station_readers/station: rows survive, ids go on."""
    engine = dbmod.make_engine(empty_url)
    try:
        dbmod.upgrade(engine, "0010_devices_kind_status")
        at = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
        with engine.begin() as conn:
            for desk, reader, present in (("ict-desk-1", "Reader 00", True),
                                          ("ict-desk-1", "Reader 01", False),
                                          ("ward-3", "(no readers)", False)):
                conn.execute(text(
                    "INSERT INTO desk_readers (desk, reader, card_present, serial, updated_at, "
                    "heartbeat_at) VALUES (:d, :r, :p, :s, :t, :t)").bindparams(
                        bindparam("t", type_=UTCDateTime())),
                    {"d": desk, "r": reader, "p": present, "s": "84001" if present else None,
                     "t": at})
        dbmod.upgrade(engine)
        assert dbmod.current_revision(engine) == dbmod.SCHEMA_HEAD
        register = Register(engine)
        with register.session() as s:
            rows = station_readers(s, now=at)
            assert [(r.station, r.reader, r.card_present, r.serial, r.heartbeat_at)
                    for r in rows] == [
                ("ict-desk-1", "Reader 00", True, "84001", at),
                ("ict-desk-1", "Reader 01", False, None, at),
                ("ward-3", "(no readers)", False, None, at)]
            # the id sequence and the (station, reader) key were renamed along
            record_station_readers(s, "ward-3", [ReaderState("Reader 00", True, serial="x")], at)
        with register.read() as s:
            assert [r.reader for r in station_readers(s, "ward-3")] == ["Reader 00"]
        _downgrade(engine, "0010_devices_kind_status")  # and back: the rows stay
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM desk_readers")).scalar() == 3
    finally:
        engine.dispose()


def _downgrade(engine: Engine, revision: str) -> None:
    cfg = dbmod.alembic_config(engine)
    with engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)
        conn.commit()
