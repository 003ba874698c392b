"""``tokenfleet holder …`` and ``tokenfleet agency …``."""

from __future__ import annotations

import click

from inventory.cli.context import FORMATS, AppContext, emit, pass_app
from inventory.register.models import AGENCY_KINDS
from inventory.services import holders


def register(cli: click.Group) -> None:
    cli.add_command(holder_group)
    cli.add_command(agency_group)


@click.group("holder")
def holder_group() -> None:
    """Subscribers: the officials who hold devices."""


@holder_group.command("find")
@click.argument("text")
@click.option("--show-id-numbers", is_flag=True, help="Show national ID numbers unmasked.")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@pass_app
def holder_find(app: AppContext, text: str, show_id_numbers: bool, fmt: str) -> None:
    """Find holders by name; accents and case are ignored ("nguyen van an")."""
    emit(({"id": h.id, "full_name": h.full_name, "title": h.title, "agency": h.agency_code,
           "email": h.email, "national_id": h.national_id}
          for h in holders.find_holders(app.register(), text,
                                        show_id_numbers=show_id_numbers)), fmt)


@holder_group.command("show")
@click.argument("ref", metavar="ID|CCCD|NAME")
@pass_app
def holder_show(app: AppContext, ref: str) -> None:
    """A holder and their devices."""
    h = holders.holder_detail(app.register(), ref)
    click.echo(f"{h.full_name} (id {h.id}) — {h.title or ''}")
    click.echo(f"  agency  {h.agency_code} {h.agency_name}")
    click.echo(f"  email   {h.email or ''}   phone {h.phone or ''}")
    click.echo(f"  ID      {h.national_id}")
    for row in h.devices:
        click.echo(f"  device  {row.serial} {row.kind} {row.status} "
                   f"until {row.not_after:%Y-%m-%d}" if row.not_after else
                   f"  device  {row.serial} {row.kind} {row.status}")


@holder_group.command("add")
@click.option("--name", "full_name", required=True)
@click.option("--agency", "agency_code", required=True, metavar="CODE")
@click.option("--title")
@click.option("--email")
@click.option("--phone")
@click.option("--national-id", metavar="CCCD")
@pass_app
def holder_add(app: AppContext, full_name: str, agency_code: str, title: str | None,
               email: str | None, phone: str | None, national_id: str | None) -> None:
    """Add a holder to an agency."""
    h = holders.add_holder(app.register(), actor=app.actor, full_name=full_name,
                           agency_code=agency_code, title=title, email=email, phone=phone,
                           national_id=national_id)
    click.echo(f"holder {h.id} added: {h.full_name}")


@holder_group.command("edit")
@click.argument("ref", metavar="ID|CCCD|NAME")
@click.option("--name", "full_name")
@click.option("--title")
@click.option("--email")
@click.option("--phone")
@click.option("--national-id", metavar="CCCD")
@click.option("--agency", "agency_code", metavar="CODE", help="Move the holder (and devices).")
@pass_app
def holder_edit(app: AppContext, ref: str, agency_code: str | None, **changes: str | None) -> None:
    """Change a holder's details (change of holder information)."""
    values = {k: v for k, v in changes.items() if v is not None}
    if not values and not agency_code:
        raise click.UsageError("nothing to change: give at least one option")
    h = holders.edit_holder(app.register(), ref, actor=app.actor, changes=values,
                            agency_code=agency_code)
    click.echo(f"holder {h.id} updated: {h.full_name}")


@click.group("agency")
def agency_group() -> None:
    """The agency tree: departments, districts, wards, People's Councils, units."""


@agency_group.command("list")
@click.option("--search", metavar="TEXT", help="Name (accents ignored) or code.")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@pass_app
def agency_list(app: AppContext, search: str | None, fmt: str) -> None:
    """The agency tree, indented, with device counts: ``devices`` held for the agency itself,
    ``devices_total`` with its sub-agencies' (the number the TUI's tree shows)."""
    emit(({"code": a.code, "name": ("  " * a.level) + a.name, "kind": a.kind,
           "devices": a.devices.own, "devices_total": a.devices.total, "active": a.active}
          for a in holders.agencies(app.register(), search)), fmt)


@agency_group.command("add")
@click.option("--code", required=True)
@click.option("--name", required=True)
@click.option("--kind", type=click.Choice(AGENCY_KINDS), default="other", show_default=True)
@click.option("--parent", "parent_code", metavar="CODE")
@click.option("--email", "contact_email", help="Where this agency's alert digests go.")
@pass_app
def agency_add(app: AppContext, code: str, name: str, kind: str, parent_code: str | None,
               contact_email: str | None) -> None:
    """Add an agency under a parent."""
    a = holders.add_agency(app.register(), actor=app.actor, code=code, name=name, kind=kind,
                           parent_code=parent_code, contact_email=contact_email)
    click.echo(f"agency {a.code} added: {a.name}")


@agency_group.command("rename")
@click.argument("code")
@click.argument("new_name")
@pass_app
def agency_rename(app: AppContext, code: str, new_name: str) -> None:
    """Rename an agency (the old name stays in its history)."""
    a = holders.rename_agency(app.register(), code, new_name, actor=app.actor)
    click.echo(f"agency {a.code} renamed: {a.name}")


@agency_group.command("merge")
@click.argument("code")
@click.option("--into", "into_code", required=True, metavar="CODE")
@pass_app
def agency_merge(app: AppContext, code: str, into_code: str) -> None:
    """Merge an agency into another: holders, devices and sub-agencies move."""
    into = holders.merge_agency(app.register(), code, into_code, actor=app.actor)
    click.echo(f"agency {code} merged into {into.code}")
