"""``tokenfleet operator …``: application users and their roles."""

from __future__ import annotations

import click
from sqlalchemy import select

from inventory.cli.context import FORMATS, AppContext, emit, pass_app
from inventory.register import operators
from inventory.register.models import ROLES, Operator


def register(cli: click.Group) -> None:
    cli.add_command(operator_group)


@click.group("operator")
def operator_group() -> None:
    """Operators and roles (viewer, operator, admin). No operators = access control off."""


@operator_group.command("set")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True)
@pass_app
def operator_set(app: AppContext, name: str, role: str) -> None:
    """Add an operator or change their role (admins only, once any operator exists)."""
    with app.register().session() as session:
        operators.set_operator(session, name, role, actor=app.actor)
    click.echo(f"operator {name}: {role}")


@operator_group.command("disable")
@click.argument("name")
@pass_app
def operator_disable(app: AppContext, name: str) -> None:
    """Take an operator's access away (their past actions stay in the audit trail)."""
    with app.register().session() as session:
        operators.disable_operator(session, name, actor=app.actor)
    click.echo(f"operator {name} disabled")


@operator_group.command("list")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@pass_app
def operator_list(app: AppContext, fmt: str) -> None:
    """Every operator with role and state."""
    with app.register().read() as session:
        emit(({"name": o.name, "role": o.role, "active": o.active, "since": o.created_at}
              for o in session.scalars(select(Operator).order_by(Operator.name))), fmt)
