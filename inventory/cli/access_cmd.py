"""``tokenfleet operator …``: database logins and their roles (PostgreSQL)."""

from __future__ import annotations

import sys

import click

from inventory.cli.context import FORMATS, AppContext, emit, pass_app
from inventory.register import operators
from inventory.register.access import ROLES
from inventory.register.errors import ValidationError


def register(cli: click.Group) -> None:
    cli.add_command(operator_group)


@click.group("operator")
def operator_group() -> None:
    """Operators: PostgreSQL logins with a role (viewer, operator, admin, poller).

    The embedded SQLite register has no operators: it is one desk, the audit trail names your
    OS user, and the file's permissions decide who may change it."""


def _password(ask: bool, from_stdin: bool, name: str) -> str | None:
    if from_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise ValidationError("--password-stdin: no password on standard input")
        return line
    if ask:
        return str(click.prompt(f"password for {name}", hide_input=True,
                                confirmation_prompt=True))
    return None


@operator_group.command("set")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True,
              help="viewer reads; operator does lifecycle work; admin also retires devices, "
                   "edits agencies and manages operators; poller is a reader station.")
@click.option("--agency", "agency_code", metavar="CODE",
              help="Scope a viewer or operator to this agency and everything under it.")
@click.option("--password", "ask_password", is_flag=True,
              help="Ask for a password (stored as a SCRAM-SHA-256 verifier).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@pass_app
def operator_set(app: AppContext, name: str, role: str, agency_code: str | None,
                 ask_password: bool, password_stdin: bool) -> None:
    """Create or change the PostgreSQL login NAME with a ROLE (admins, or the database owner).

    The first admin is set by the database owner (the role that runs `db upgrade`):
    `tokenfleet --db OWNER_URL operator set NAME --role admin`. How NAME proves who it is
    (password, peer, client certificate) is PostgreSQL's pg_hba.conf: see the README.

    On the embedded SQLite register there are no operators: it is one desk, the audit trail
    names your OS user, and anyone who can write the file can change anything."""
    password = _password(ask_password, password_stdin, name)
    with app.register().session() as session:
        operators.set_operator(session, name, role, actor=app.actor, agency_code=agency_code,
                               password=password)
    scope = f", agency {agency_code} and below" if agency_code else ""
    click.echo(f"operator {name}: {role}{scope}" + (", password set" if password else ""))


@operator_group.command("disable")
@click.argument("name")
@pass_app
def operator_disable(app: AppContext, name: str) -> None:
    """Take a login away: it cannot connect, and its open sessions lose their privileges (its
    past actions stay in the audit trail)."""
    with app.register().session() as session:
        operators.disable_operator(session, name, actor=app.actor)
    click.echo(f"operator {name} disabled")


@operator_group.command("list")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@pass_app
def operator_list(app: AppContext, fmt: str) -> None:
    """Every login a tokenfleet role includes, with its scope, and disabled operators."""
    with app.register().read() as session:
        rows = operators.list_operators(session)
    emit(({"name": r.name, "role": r.role or "", "agency": r.agency or "",
           "login": "yes" if r.can_log_in else "no", "since": r.since, "set_by": r.set_by or ""}
          for r in rows), fmt)


@operator_group.command("whoami")
@pass_app
def operator_whoami(app: AppContext) -> None:
    """Who this connection acts as, with its role and scope."""
    click.echo(app.identity().describe())
