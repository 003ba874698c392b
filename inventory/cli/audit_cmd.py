"""``tokenfleet audit …``: verify the hash chain, read the trail."""

from __future__ import annotations

import click
from sqlalchemy import select

from inventory.cli.context import FORMATS, AppContext, emit, pass_app
from inventory.register import audit
from inventory.register.models import Event


def register(cli: click.Group) -> None:
    cli.add_command(audit_group)


@click.group("audit")
def audit_group() -> None:
    """The tamper-evident audit trail."""


@audit_group.command("verify")
@pass_app
def audit_verify(app: AppContext) -> None:
    """Recompute the whole hash chain; exit non-zero naming the first broken event."""
    with app.register().read() as session:
        result = audit.verify(session)
    click.echo(f"audit trail intact: {result.events} events, last hash {result.last_hash[:16]}…")


@audit_group.command("log")
@click.option("--device", "serial", help="Only this device's events.")
@click.option("--limit", type=int, default=50, show_default=True)
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@pass_app
def audit_log(app: AppContext, serial: str | None, limit: int, fmt: str) -> None:
    """The newest audit events (of one device with --device)."""
    from inventory.fleet.queries import get_device

    with app.register().read() as session:
        stmt = select(Event).order_by(Event.seq.desc()).limit(limit)
        if serial:
            stmt = stmt.where(Event.device_id == get_device(session, serial).id)
        events = session.scalars(stmt).all()
        emit(({"seq": e.seq, "when": e.occurred_at, "actor": e.actor, "action": e.action,
               "entity": f"{e.entity_type}:{e.entity_id}", "summary": e.summary or ""}
              for e in events), fmt)
