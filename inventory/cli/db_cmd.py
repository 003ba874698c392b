"""``tokenfleet db …`` and ``tokenfleet demo``."""

from __future__ import annotations

from pathlib import Path

import click

from inventory.cli.context import AppContext, pass_app
from inventory.demo import city as demomod
from inventory.register import access
from inventory.register import db as dbmod
from inventory.register.db import Register
from inventory.register.errors import SchemaTooNewError


def register(cli: click.Group) -> None:
    cli.add_command(db_group)
    cli.add_command(demo)


@click.group("db")
def db_group() -> None:
    """Schema upgrades and database checks."""


@db_group.command("upgrade")
@pass_app
def db_upgrade(app: AppContext) -> None:
    """Create or upgrade the register's schema to this version's newest revision."""
    engine = app.engine(create=True)
    try:
        before = dbmod.current_revision(engine)
        dbmod.upgrade(engine)
        after = dbmod.current_revision(engine)
    finally:
        engine.dispose()
    click.echo(f"{dbmod.safe_url(app.settings.database_url)}: "
               + (f"upgraded {before or 'empty'} → {after}" if before != after
                  else f"already at {after}"))


@db_group.command("current")
@pass_app
def db_current(app: AppContext) -> None:
    """Print the register's schema revision and the newest this version knows."""
    engine = app.engine()
    try:
        current = dbmod.check_revision(engine)
    finally:
        engine.dispose()
    head = dbmod.head_revision()
    state = "up to date" if current == head else "needs `tokenfleet db upgrade`"
    click.echo(f"{dbmod.safe_url(app.settings.database_url)}: revision {current or '(empty)'} "
               f"(newest {head}): {state}")


@click.command()
@click.option("--devices", "n", type=click.IntRange(1), default=5000, show_default=True,
              help="How many devices the demo city holds.")
@click.option("--seed", type=int, default=1, show_default=True, help="Random seed.")
@click.option("--if-empty", is_flag=True, help="Do nothing (and succeed) if the register "
              "already holds devices.")
@pass_app
def demo(app: AppContext, n: int, seed: int, if_empty: bool) -> None:
    """Fill an empty register with a realistic demo city fleet."""
    reg: Register = app.register(create=True)
    with reg.engine.connect() as conn:
        from sqlalchemy import func, select

        from inventory.register.models import Device

        if if_empty and conn.scalar(select(func.count()).select_from(Device)):
            click.echo("the register already holds devices: demo skipped")
            return
    with reg.session() as session:
        access.require_role(session, doing="fill the register with a demo city (its audit "
                                           "events name the demo)")
        conn = session.connection()
        summary = demomod.generate(conn, devices=n, seed=seed,
                                   progress=lambda done, total: click.echo(
                                       f"  {done}/{total} devices", err=True)
                                   if total >= 50_000 else None)
    click.echo(f"demo register: {summary.agencies} agencies, {summary.holders} holders, "
               f"{summary.devices} devices, {summary.certificates} certificates, "
               f"{summary.requests} requests, {summary.events} audit events")


@db_group.command("check")
@pass_app
def db_check(app: AppContext) -> None:
    """Connectivity, schema revision and the audit chain; non-zero exit on any problem."""
    import time

    from inventory.fleet import replay

    engine = app.engine()
    try:
        t0 = time.perf_counter()
        with dbmod.connect(engine) as conn:
            conn.exec_driver_sql("SELECT 1")
        click.echo(f"connect   ok ({(time.perf_counter() - t0) * 1000:.0f} ms) "
                   f"{dbmod.safe_url(app.settings.database_url)}")
        current, head = dbmod.check_revision(engine), dbmod.head_revision()
        if current != head:
            raise SchemaTooNewError(f"schema at {current or '(empty)'}, this version needs "
                                    f"{head}: run `tokenfleet db upgrade`")
        click.echo(f"schema    ok (revision {current})")
        reg = Register(engine)
        with reg.read() as session:
            result = replay.check_register(session)
        click.echo(f"audit     ok ({result.events} events, chain intact, every device matches "
                   "its events)")
    finally:
        engine.dispose()


@db_group.command("backup")
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
@pass_app
def db_backup(app: AppContext, target: Path) -> None:
    """Back up the register while it is in use (SQLite: online backup API; PostgreSQL:
    pg_dump custom format)."""
    from inventory.services import transfers

    transfers.backup_register(app.register(), target)
    click.echo(f"backup written to {target}")


@db_group.command("restore")
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask: replace the register's contents.")
@pass_app
def db_restore(app: AppContext, source: Path, yes: bool) -> None:
    """Replace the register with a backup: the backup is checked first (a tokenfleet register
    of a known revision whose audit chain verifies), and the register it replaces is kept as
    a backup beside it. On PostgreSQL only the database owner may (it replaces every table)."""
    from inventory.services import transfers

    if not yes:
        click.confirm(f"Replace everything in {dbmod.safe_url(app.settings.database_url)} "
                      f"with {source}?", abort=True)
    engine = app.engine(create=True)  # restoring may create the register it restores into
    try:
        result = transfers.restore_register(engine, source)
    finally:
        engine.dispose()
    if result.kept:
        click.echo(f"the register as it was is kept in {result.kept}")
    click.echo(f"restored from {source} (revision {result.revision}): {result.events} audit "
               "events, chain intact")
