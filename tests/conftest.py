"""Shared fixtures: a fresh register on a SQLite file and on a real PostgreSQL server.

PostgreSQL comes from ``TOKENFLEET_TEST_PG_URL`` (``.ci/postgres.sh start`` prints one). Without
it the PostgreSQL variants skip with a reason on a laptop; with ``TOKENFLEET_REQUIRE_PG=1`` (CI)
a missing server fails instead. Each PostgreSQL test gets its own database, cloned from a
template migrated once per session.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, text

from inventory.register import db as dbmod
from inventory.register.db import Register

PG_URL = os.environ.get("TOKENFLEET_TEST_PG_URL")
REQUIRE_PG = os.environ.get("TOKENFLEET_REQUIRE_PG") == "1"
TEMPLATE_DB = f"tokenfleet_template_{os.getpid()}"  # test runs may share one server
FIXED_NOW = datetime(2026, 11, 15, 9, 0, tzinfo=UTC)


def _pg_admin_engine():  # type: ignore[no-untyped-def]
    assert PG_URL
    url = dbmod.make_engine(PG_URL).url
    return create_engine(url, isolation_level="AUTOCOMMIT", pool_size=1)


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str | None]:
    """Migrate a template database once; tests clone it (fast, and every test starts clean)."""
    if not PG_URL:
        yield None
        return
    admin = _pg_admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {TEMPLATE_DB} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {TEMPLATE_DB}"))
    url = admin.url.set(database=TEMPLATE_DB).render_as_string(hide_password=False)
    engine = dbmod.make_engine(url)
    dbmod.upgrade(engine)
    engine.dispose()
    yield TEMPLATE_DB
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {TEMPLATE_DB} WITH (FORCE)"))
    admin.dispose()


def _need_pg() -> None:
    if not PG_URL:
        if REQUIRE_PG:
            pytest.fail("TOKENFLEET_REQUIRE_PG=1 but TOKENFLEET_TEST_PG_URL is not set")
        pytest.skip("no PostgreSQL: set TOKENFLEET_TEST_PG_URL (see .ci/postgres.sh)")


@pytest.fixture
def pg_url(pg_template: str | None) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for one test."""
    _need_pg()
    admin = _pg_admin_engine()
    name = f"tf_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name} TEMPLATE {pg_template}"))
    yield admin.url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path) -> str:  # type: ignore[no-untyped-def]
    return f"sqlite:///{tmp_path / 'register.sqlite3'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request) -> str:  # type: ignore[no-untyped-def]
    """The URL of an empty, migrated register on each backend."""
    if request.param == "sqlite":
        url = request.getfixturevalue("sqlite_url")
        Register.open(url).dispose()  # create + migrate
        return str(url)
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def register(db_url: str) -> Iterator[Register]:
    reg = Register.open(db_url, auto_upgrade=True)
    yield reg
    reg.dispose()


@pytest.fixture
def demo_register(register: Register) -> Register:
    """A small demo city (fixed seed and clock) on each backend."""
    from inventory.demo import city as demo

    with register.session() as session:
        demo.generate(session.connection(), devices=300, seed=7, now=FIXED_NOW)
    return register
