"""Alembic environment: the URL comes from tokenfleet's settings, or a connection is passed in
``config.attributes["connection"]`` so that the CLI and the tests upgrade the same way."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from inventory.register.config import Settings
from inventory.register.db import include_object, make_engine
from inventory.register.models import Base

config = context.config
target_metadata = Base.metadata

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
