"""Shared fixtures: a fresh register on a SQLite file and on a real PostgreSQL server, the CLI
runner, and the rule for tests that need a tool this machine may lack.

PostgreSQL comes from ``TOKENFLEET_TEST_PG_URL`` (``.ci/postgres.sh start`` prints one; ``sudo
./dev test`` starts one). A test whose tool is missing (PostgreSQL, the reader lab, LibreOffice,
tmux) skips with the reason on a laptop and fails under ``TOKENFLEET_REQUIRE_<TOOL>=1`` (CI,
``.ci/run``); the run ends by saying how many skipped and the command that runs them all. Each
PostgreSQL test gets its own database, cloned from a template migrated once per session.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple, NoReturn

import pytest
from sqlalchemy import Connection, Engine, create_engine, make_url, text

from inventory.cli import main
from inventory.register import db as dbmod
from inventory.register.db import Register
from inventory.register.models import Device

PG_URL = os.environ.get("TOKENFLEET_TEST_PG_URL")
REQUIRE_PG = os.environ.get("TOKENFLEET_REQUIRE_PG") == "1"
TEMPLATE_DB = f"tokenfleet_template_{os.getpid()}"  # test runs may share one server
FIXED_NOW = datetime(2026, 11, 15, 9, 0, tzinfo=UTC)


def _pg_admin_engine():
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


def missing_tool(flag: str, what: str) -> NoReturn:
    """A test needs something this machine lacks: fail in CI (``TOKENFLEET_REQUIRE_<FLAG>=1``),
    otherwise skip with the reason (the end-of-run summary counts these skips)."""
    if os.environ.get(f"TOKENFLEET_REQUIRE_{flag}") == "1":
        pytest.fail(f"TOKENFLEET_REQUIRE_{flag}=1 but {what}", pytrace=False)
    pytest.skip(what)


def _need_pg() -> None:
    if not PG_URL:
        missing_tool("PG", "no PostgreSQL: TOKENFLEET_TEST_PG_URL is not set (see .ci/postgres.sh)")


@pytest.fixture(scope="session")
def soffice() -> str:
    """LibreOffice's ``soffice`` (for PDF conversion and round-tripping workbooks)."""
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found is None:
        missing_tool("LIBREOFFICE", "LibreOffice (soffice) is not installed "
                                    "(apt-get install libreoffice-calc-nogui)")
    return found


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say how many tests skipped for a missing tool, and the one command that runs them."""
    skipped = terminalreporter.stats.get("skipped", [])
    if not skipped:
        return
    reasons: Counter[str] = Counter()
    for report in skipped:
        longrepr = getattr(report, "longrepr", None)
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        reasons[reason.removeprefix("Skipped: ")] += 1
    terminalreporter.section("skipped")
    for reason, n in reasons.most_common():
        terminalreporter.write_line(f"{n:5} {reason}")
    terminalreporter.write_line(f"{len(skipped)} test(s) skipped; `sudo ./dev test` installs and "
                                "starts what they need (PostgreSQL, the reader lab, LibreOffice, "
                                "tmux) and runs them all.")


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
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'register.sqlite3'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database (no schema at all) on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.sqlite3'}"
        return
    _need_pg()
    admin = _pg_admin_engine()
    name = f"tf_old_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    yield admin.url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request) -> str:
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


class CliResult(NamedTuple):
    """What ``tokenfleet ARGS`` did: exit code, standard output, standard error."""

    code: int
    out: str
    err: str


def run_tokenfleet(*args: str) -> CliResult:
    """``tokenfleet ARGS`` in-process, as a user or cron runs it (errors mapped by ``main``)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = int(main(list(args)) or 0)
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    # pass the output on, so that pytest shows it and ``capsys`` still sees it
    sys.stdout.write(out.getvalue())
    sys.stderr.write(err.getvalue())
    return CliResult(code, out.getvalue(), err.getvalue())


class Tokenfleet:
    """The one CLI runner of the suite: ``code, out, err = tokenfleet("--db", url, "devices")``;
    ``tokenfleet.on(url)`` gives a runner that names the register (and an actor) every time."""

    def __init__(self, *prefix: str) -> None:
        self.prefix = prefix

    def __call__(self, *args: str) -> CliResult:
        return run_tokenfleet(*self.prefix, *args)

    def on(self, url: str, *, actor: str | None = None) -> Tokenfleet:
        return Tokenfleet(*self.prefix, "--db", url, *(("--actor", actor) if actor else ()))


@pytest.fixture
def tokenfleet() -> Tokenfleet:
    return Tokenfleet()


# Typed reads of a device's optional relations: a None fails the test with the serial named.
def holder_name(device: Device) -> str:
    assert device.holder is not None, f"{device.serial} has no holder"
    return device.holder.full_name


def agency_code(device: Device) -> str:
    assert device.agency is not None, f"{device.serial} has no agency"
    return device.agency.code


def cert_serial(device: Device) -> str:
    assert device.active_certificate is not None, f"{device.serial} has no active certificate"
    return device.active_certificate.serial


def cert_not_after(device: Device) -> datetime:
    assert device.active_certificate is not None, f"{device.serial} has no active certificate"
    return device.active_certificate.not_after


def station_actor(register: Register, station: str) -> str:
    """Who a poller station's changes are recorded as: ``poller@STATION`` on the embedded
    register, the station's database login on PostgreSQL (here the test server's superuser)."""
    if register.engine.dialect.name == "sqlite":
        return f"poller@{station}"
    return str(register.engine.url.username)


@contextmanager
def trail_unlocked(engine: Engine) -> Iterator[Connection]:
    """A transaction as the schema owner with the trail's triggers off (PostgreSQL): how someone
    holding the owner's rights could rewrite history — what only a seal then reveals."""
    postgres = engine.dialect.name == "postgresql"
    with engine.begin() as conn:
        if postgres:
            for table in ("events", "audit_head"):
                conn.exec_driver_sql(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        yield conn
        if postgres:
            for table in ("events", "audit_head"):
                conn.exec_driver_sql(f"ALTER TABLE {table} ENABLE TRIGGER USER")


class PgLogins:
    """Login roles for one test's PostgreSQL register, made as its owner would make them.

    Roles belong to the whole server, which several test runs share: every name gets a unique
    suffix, and the roles are dropped when the test ends.
    """

    def __init__(self, url: str):
        self.url = url
        self.names: list[str] = []

    def make(self, base: str, role: str, *, agency: str | None = None,
             password: str | None = None) -> str:
        from inventory.register import operators

        name = f"{base}_{uuid.uuid4().hex[:6]}"
        self.names.append(name)
        reg = Register.open(self.url)
        try:
            with reg.session() as s:
                operators.set_operator(s, name, role, actor=str(make_url(self.url).username),
                                       agency_code=agency, password=password)
        finally:
            reg.dispose()
        return name

    def url_of(self, name: str) -> str:
        return make_url(self.url).set(username=name, password=None).render_as_string(
            hide_password=False)

    def drop(self) -> None:
        if not self.names:
            return
        admin = _pg_admin_engine()
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE usename = ANY(:names)"), {"names": self.names})
            for name in self.names:
                conn.execute(text(f'DROP ROLE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture
def pg_logins(pg_url: str) -> Iterator[PgLogins]:
    """Make PostgreSQL login roles (viewer, operator, admin, poller, scoped) for a test."""
    logins = PgLogins(pg_url)
    yield logins
    logins.drop()
