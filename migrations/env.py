"""Alembic environment: the URL comes from tokenfleet's settings, or a connection is passed in
``config.attributes["connection"]`` so that the CLI and the tests upgrade the same way."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from inventory.config import Settings
from inventory.db import make_engine
from inventory.models import Base

config = context.config
target_metadata = Base.metadata

# Search indexes are created by hand in a migration (FTS5 / pg_trgm): autogenerate ignores them.
SEARCH_OBJECTS = ("holder_search", "agency_search", "ix_search_")


def include_object(obj, name, type_, reflected, compare_to):  # type: ignore[no-untyped-def]
    return not (name and name.startswith(SEARCH_OBJECTS))


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        include_object=include_object,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url") or Settings.from_env().database_url
    engine = make_engine(url)
    with engine.connect() as conn:
        _run(conn)
        conn.commit()


if context.is_offline_mode():
    raise SystemExit("offline SQL generation is not supported: run `tokenfleet db upgrade`")
run_migrations_online()
