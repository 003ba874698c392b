"""``tokenfleet audit …``: verify the hash chain, read the trail."""

from __future__ import annotations

import click
from sqlalchemy import select

from inventory.cli.context import FORMATS, AppContext, emit, pass_app
from inventory.fleet import replay
from inventory.register import seal as sealmod
from inventory.register.models import Event


def register(cli: click.Group) -> None:
    cli.add_command(audit_group)


@click.group("audit")
def audit_group() -> None:
    """The tamper-evident audit trail."""


@audit_group.command("verify")
@click.option("--seal", "seal_args", multiple=True, metavar="LINE|FILE|REPORT.xlsx",
              help="Also check the chain against seals kept outside the database: a seal line, "
                   "a file of seal lines, or a monthly report (repeatable).")
@click.option("--verify-key", type=click.Path(dir_okay=False), metavar="PUBLIC.pem",
              help="Accept only seals signed with the office's Ed25519 key.")
@pass_app
def audit_verify(app: AppContext, seal_args: tuple[str, ...], verify_key: str | None) -> None:
    """Recompute the hash chain, check it against seals, and replay it to every device's
    status, holder, lock count and active certificate; exit 6 naming the first broken event,
    the first position that differs from a seal, or the devices changed without an event."""
    seals = [s for arg in seal_args for s in sealmod.read(arg)]
    if verify_key:
        for s in seals:
            sealmod.check_signature(s, verify_key)
    with app.register().read() as session:
        result = replay.check_register(session, seals=seals)
    matched = f"; matches {len(seals)} seal{'s' * (len(seals) != 1)}" if seals else ""
    click.echo(f"audit trail intact: {result.events} events, last hash "
               f"{result.last_hash[:16]}…{matched}; every device matches its events")


@audit_group.command("seal")
@click.option("--sign-key", type=click.Path(dir_okay=False), metavar="PRIVATE.pem",
              help="Sign the seal with the office's Ed25519 key (default TOKENFLEET_SEAL_KEY).")
@pass_app
def audit_seal(app: AppContext, sign_key: str | None) -> None:
    """Print one line — chain position, head hash, time — to keep outside the database
    (mail it, print it, append it to a file elsewhere). `audit verify --seal` checks it."""
    sign_key = sign_key or app.settings.seal_key
    with app.register().read() as session:
        taken = sealmod.current(session)
    click.echo(sealmod.sign(taken, sign_key).line if sign_key else taken.line)


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
