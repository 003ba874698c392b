"""Engines, sessions and schema upgrades for the SQLite (embedded) and PostgreSQL registers."""

from __future__ import annotations

import errno
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from sqlalchemy import Connection, Engine, create_engine, event, exc, make_url, text
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

if TYPE_CHECKING:
    from alembic.config import Config

from inventory.register.errors import (
    ConcurrentChangeError,
    ConfigurationError,
    DatabaseUnavailableError,
    PermissionDeniedError,
    ReadOnlyRegisterError,
    RegisterMissingError,
    SchemaTooNewError,
)
from inventory.register.files import os_error

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"
# The newest migration. Opening a register at this revision needs no Alembic (a third of a
# second of imports for every command); a test keeps it equal to Alembic's head.
SCHEMA_HEAD = "0015_ca_trust"
SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_CACHE_KIB = 16 * 1024  # per connection; bulk loads raise it (BULK_CACHE_KIB)
SQLITE_BULK_CACHE_KIB = 256 * 1024


# Search indexes are made by hand in a migration (FTS5 / pg_trgm): autogenerate leaves them be.
SEARCH_OBJECTS = ("holder_search", "agency_search", "ix_search_")


def include_object(obj: Any, name: str | None, type_: str, reflected: bool,
                   compare_to: Any) -> bool:
    """Alembic's filter: which database objects the models describe."""
    return not (name and name.startswith(SEARCH_OBJECTS))


def safe_url(url: str) -> str:
    """The URL with its password hidden, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except exc.ArgumentError:
        return "<unparseable URL>"


def _sqlite_pragmas(dbapi_conn: Any, _record: Any, read_only: bool = False) -> None:
    cur = dbapi_conn.cursor()
    if not read_only:  # a read-only register keeps the journal mode it has
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cur.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    cur.close()
    # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's implicit transactions start
    # late, after the first SELECT, which would let two writers read the same audit head).
    dbapi_conn.isolation_level = None


def _sqlite_begin(conn: Any) -> None:
    # Writers take the write lock up front (BEGIN IMMEDIATE), so a transaction never reads a
    # snapshot that another writer outdates before it writes; readers stay deferred in WAL.
    mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
    conn.exec_driver_sql(f"BEGIN {mode}")


def sqlite_file(url: str) -> Path | None:
    """The file of an embedded register's URL (None for PostgreSQL or an in-memory one)."""
    try:
        parsed = make_url(url)
    except exc.ArgumentError:
        return None
    if parsed.get_backend_name() != "sqlite" or not parsed.database or \
            parsed.database == ":memory:" or parsed.database.startswith("file:"):
        return None
    return Path(parsed.database).expanduser()


def _writable(path: Path) -> bool:
    return os.access(path, os.W_OK)


def make_engine(url: str, *, create: bool = True, **kwargs: Any) -> Engine:
    """An engine for ``url``. An embedded register's file that does not exist is created only
    when ``create`` (else ``RegisterMissingError``); one whose file or folder is not writable
    (a read-only file system, a copy on a CD, another user's file) is opened read-only."""
    try:
        parsed = make_url(url)
    except exc.ArgumentError as err:
        raise ConfigurationError(f"not a database URL: {url!r}") from err
    if parsed.get_backend_name() == "sqlite":
        path = sqlite_file(url)
        read_only = False
        if path is not None:
            if not path.exists():
                if not create:
                    raise RegisterMissingError(str(path))
                try:
                    path.parent.mkdir(parents=True, exist_ok=True)
                except OSError as err:
                    raise os_error(err, path.parent) from err
            elif not _writable(path) or not _writable(path.parent):
                read_only = True
                # No writable folder: SQLite cannot make its -shm file, so the register is
                # opened immutable (nobody can be writing to it from here either).
                mode = "ro" if _writable(path.parent) else "ro&immutable=1"
                parsed = parsed.set(database=f"file:{quote(str(path.resolve()))}?mode={mode}",
                                    query={"uri": "true"})
        engine = create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
                               **kwargs)
        event.listen(engine, "connect", partial(_sqlite_pragmas, read_only=read_only))
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if parsed.get_backend_name() == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        kwargs.setdefault("pool_pre_ping", True)
        kwargs.setdefault("pool_size", 5)
        kwargs.setdefault("max_overflow", 10)
        kwargs.setdefault("pool_timeout", 10)
        connect_args = {"connect_timeout": 5, "options": "-c statement_timeout=60000"}
        return create_engine(parsed, connect_args=connect_args, **kwargs)
    raise ConfigurationError(f"unsupported database {parsed.get_backend_name()!r}: use sqlite "
                             "or postgresql")


def alembic_config(engine: Engine | None = None) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if engine is not None:
        cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False)
                            .replace("%", "%%"))
    return cfg


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with connect(engine) as conn:
        return MigrationContext.configure(conn).get_current_revision()


def stored_revision(engine: Engine) -> str | None:
    """The schema revision recorded in the database, read with one plain query."""
    with connect(engine) as conn:
        try:
            return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
        except exc.DBAPIError:  # no table yet: an empty database
            return None


# PostgreSQL's answers when it does not accept who you are (authentication, not reachability).
LOGIN_REFUSED = re.compile(r'authentication failed|not permitted to log in|'
                           r'no pg_hba\.conf entry|role ".*" does not exist')


@contextmanager
def connect(engine: Engine) -> Iterator[Any]:
    """A connection, with "cannot reach the database" turned into one clear error."""
    try:
        conn = engine.connect()
    except exc.OperationalError as err:
        reason = str(err.orig).strip().splitlines()[0] if err.orig else str(err)
        if LOGIN_REFUSED.search(reason):
            raise PermissionDeniedError(
                f"the register at {safe_url(str(engine.url))} did not let you in: "
                f"{reason.split('FATAL:', 1)[-1].strip()}") from err
        raise DatabaseUnavailableError(
            f"cannot open the register at {safe_url(str(engine.url))}: {reason}"
        ) from err
    with conn:
        yield conn


def check_revision(engine: Engine) -> str | None:
    """Refuse a database whose revision this code does not know (written by a newer version)."""
    from alembic.script import ScriptDirectory

    current = current_revision(engine)
    script = ScriptDirectory.from_config(alembic_config())
    if current is not None:
        try:
            script.get_revision(current)
        except Exception as err:
            raise SchemaTooNewError(
                f"the register at {safe_url(str(engine.url))} is at schema revision {current}, "
                f"which this version of tokenfleet does not know (newest known: "
                f"{script.get_current_head()}); upgrade tokenfleet"
            ) from err
    return current


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    check_revision(engine)
    cfg = alembic_config(engine)
    with connect(engine) as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
        conn.commit()


INSUFFICIENT_PRIVILEGE = "42501"  # also row-level security's "new row violates … policy"


def _sqlstate(err: exc.DBAPIError) -> str | None:
    return getattr(err.orig, "sqlstate", None)


def _refusal(err: exc.DBAPIError) -> PermissionDeniedError | None:
    """The database refused the statement for this login's role: say so in one line."""
    if _sqlstate(err) != INSUFFICIENT_PRIVILEGE:
        return None
    reason = (str(err.orig).strip().splitlines() or ["permission denied"])[0]
    if "row-level security" in reason:
        table = reason.rsplit(" for table ", 1)[-1]
        return PermissionDeniedError(f"the database refused it: that would put a row of {table} "
                                     "outside your agency's part of the register")
    return PermissionDeniedError(f"the database refused it: {reason}")


def _who(engine: Engine) -> str:
    """Who is connected, for a refusal (``vy (viewer)``), read on a connection of its own (the
    refused statement's transaction is aborted); "this login" if even that fails."""
    from inventory.register import access

    try:
        with Session(bind=engine) as session:
            return access.identify(session).describe()
    except exc.SQLAlchemyError:
        return "this login"


def is_embedded(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def is_read_only(engine: Engine) -> bool:
    """Whether ``make_engine`` opened this embedded register read-only."""
    database = engine.url.database or ""
    return is_embedded(engine) and database.startswith("file:") and "mode=ro" in database


def _disk_full(error: BaseException | None) -> bool:
    """SQLite's SQLITE_FULL (13), PostgreSQL's disk_full (53100)."""
    return getattr(error, "sqlite_errorcode", None) == 13 \
        or getattr(error, "sqlstate", None) == "53100"


def where(engine: Engine) -> str:
    """The register's file (embedded) or its URL without password, for messages."""
    database = engine.url.database or ""
    if is_embedded(engine) and database.startswith("file:"):
        from urllib.parse import unquote

        return unquote(database[5:].split("?", 1)[0])
    return str(sqlite_file(str(engine.url)) or safe_url(str(engine.url)))


class Register:
    """An open register: the engine plus a session factory whose sessions are transactions."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.read_only = is_read_only(engine)
        writer = engine.execution_options(sqlite_begin="IMMEDIATE") if is_embedded(engine) \
            else engine
        self._sessions = sessionmaker(writer, expire_on_commit=False)
        self._readers = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def open(cls, url: str, *, auto_upgrade: bool | None = None, create: bool = True,
             **kwargs: Any) -> Register:
        """Open (and, for the embedded SQLite default, create or upgrade) the register.

        ``create=False`` (a register named explicitly) refuses a file that does not exist or
        holds no register yet: only ``db upgrade`` and ``demo`` create one."""
        engine = make_engine(url, create=create, **kwargs)
        try:
            stored = stored_revision(engine)
            if stored == SCHEMA_HEAD:
                return cls(engine)
            if stored is None and not create and sqlite_file(url) is not None:
                raise RegisterMissingError(str(sqlite_file(url)))
            current = check_revision(engine)
            if is_read_only(engine) and current != head_revision():
                raise ConfigurationError(
                    f"the register at {where(engine)} is read-only and at schema revision "
                    f"{current or '(empty)'}, not {head_revision()}: it cannot be upgraded here")
            if auto_upgrade is None:
                auto_upgrade = is_embedded(engine)
            if current != head_revision():
                if not auto_upgrade:
                    raise ConfigurationError(
                        f"the register at {safe_url(url)} is at schema revision "
                        f"{current or '(empty)'}, not {head_revision()}: run "
                        "`tokenfleet db upgrade`")
                upgrade(engine)
        except BaseException:
            engine.dispose()
            raise
        return cls(engine)

    @contextmanager
    def session(self, connection: Connection | None = None) -> Iterator[Session]:
        """One transaction: committed on success, rolled back (changing nothing) on any error.

        ``connection``: run it on this connection (a bulk import stages rows in temporary
        tables of its own connection first, then writes them in this transaction)."""
        if self.read_only:
            raise ReadOnlyRegisterError(where(self.engine), "the register is read-only here (its "
                                        "file or folder is not writable): it can be read, not "
                                        "changed")
        try:
            with self._begin(connection) as session:
                if self.engine.dialect.name == "postgresql":
                    # Writers queue here first, as SQLite's BEGIN IMMEDIATE makes them do: every
                    # change appends to the one audit chain anyway, and taking this lock before
                    # any row lock means two writers can never deadlock.
                    try:
                        session.execute(text("SELECT 1 FROM audit_head WHERE id = 1 FOR UPDATE"))
                    except exc.DBAPIError as err:
                        if _sqlstate(err) == INSUFFICIENT_PRIVILEGE:
                            raise PermissionDeniedError(
                                f"{_who(self.engine)} may only read the register (the database "
                                "refused to let it append to the audit trail)") from err
                        raise
                yield session
        except StaleDataError as err:
            raise ConcurrentChangeError(
                "the device was changed by someone else meanwhile: reload and try again"
            ) from err
        except exc.OperationalError as err:
            if "readonly database" in str(err.orig):
                raise ReadOnlyRegisterError(where(self.engine), "the register cannot be "
                                            "written (read-only file or file system)") from err
            if _disk_full(err.orig):  # nothing was written: the transaction is rolled back
                raise os_error(OSError(errno.ENOSPC, "disk full"), where(self.engine)) from err
            raise DatabaseUnavailableError(f"database error: {err.orig}") from err
        except exc.DBAPIError as err:
            refusal = _refusal(err)
            if refusal is None:
                raise
            raise refusal from err

    @contextmanager
    def _begin(self, connection: Connection | None) -> Iterator[Session]:
        if connection is None:
            with self._sessions.begin() as session:
                yield session
            return
        if is_embedded(self.engine):
            connection.execution_options(sqlite_begin="IMMEDIATE")
        with connection.begin(), Session(bind=connection, expire_on_commit=False) as session:
            yield session  # the session joins the connection's transaction, which commits
            session.flush()

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only transaction (never takes SQLite's write lock); rolled back at the end."""
        with self._readers() as session:
            try:
                yield session
            except exc.OperationalError as err:
                raise DatabaseUnavailableError(f"database error: {err.orig}") from err
            except exc.DBAPIError as err:
                refusal = _refusal(err)
                if refusal is None:
                    raise
                raise refusal from err
            finally:
                session.rollback()

    def dispose(self) -> None:
        self.engine.dispose()
