"""``tokenfleet import`` and ``tokenfleet export``."""

from __future__ import annotations

from pathlib import Path

import click

from inventory.cli.context import AppContext, pass_app
from inventory.fleet import importing


def register(cli: click.Group) -> None:
    cli.add_command(import_cmd)
    cli.add_command(export_cmd)


@click.command("import")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the whole file and report; write nothing.")
@click.option("--skip-invalid", is_flag=True,
              help="Import the valid rows and report the others (default: all or nothing).")
@pass_app
def import_cmd(app: AppContext, path: Path, dry_run: bool, skip_invalid: bool) -> None:
    """Import devices from .xlsx or .csv (our export, or agencies' own sheets)."""
    result = importing.import_file(app.register(), path, actor=app.actor, dry_run=dry_run,
                                   skip_invalid=skip_invalid)
    for problem in result.problems:
        click.echo(f"{path}: {problem} (skipped)", err=True)
    verb = "would import" if dry_run else "imported"
    click.echo(f"{path}: {verb} {result.rows} rows: {result.created} new devices, "
               f"{result.updated} updated, {result.unchanged} unchanged"
               + (f", {len(result.problems)} skipped" if result.problems else ""))


@click.command("export")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--show-id-numbers", is_flag=True,
              help="Write national ID numbers unmasked (personal data).")
@pass_app
def export_cmd(app: AppContext, path: Path, show_id_numbers: bool) -> None:
    """Export the whole register to .xlsx or .csv (re-importable with `import`)."""
    from reports.register_export import export_register

    n = export_register(app.register(), path, include_personal_data=show_id_numbers)
    click.echo(f"{path}: {n} devices exported")
