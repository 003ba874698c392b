"""``tokenfleet import`` and ``tokenfleet export``."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from inventory.cli.context import AppContext, pass_app
from inventory.fleet import importing
from inventory.services import transfers


def register(cli: click.Group) -> None:
    cli.add_command(import_cmd)
    cli.add_command(export_cmd)


@click.command("import")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the whole file and report which column "
              "feeds which field and what would change; write nothing.")
@click.option("--skip-invalid", is_flag=True,
              help="Import the valid rows and report the others (default: all or nothing).")
@pass_app
def import_cmd(app: AppContext, path: Path, dry_run: bool, skip_invalid: bool) -> None:
    """Import devices from .xlsx or .csv (our export, or agencies' own sheets)."""
    with _progress() as progress:
        result = transfers.import_sheet(app.register(), path, actor=app.actor,
                                        dry_run=dry_run, skip_invalid=skip_invalid,
                                        progress=progress)
    if dry_run:
        for use in result.columns:
            click.echo(f"{path}: {use}")
    for warning in result.warnings:
        click.echo(f"{path}: {warning} (warning)", err=True)
    for problem in result.problems:
        click.echo(f"{path}: {problem} (skipped)", err=True)
    verb = "would import" if dry_run else "imported"
    others = [f"{n} {what}" for n, what in (
        (result.holders_created, "new holders"), (result.holders_updated, "holders updated"),
        (result.agencies_created, "new agencies"), (len(result.problems), "skipped")) if n]
    click.echo(f"{path}: {verb} {result.rows} rows: {result.created} new devices, "
               f"{result.updated} updated, {result.unchanged} unchanged"
               + "".join(f", {o}" for o in others))


@contextmanager
def _progress() -> Iterator[importing.Progress | None]:
    """A progress bar on standard error while it is a terminal; nothing otherwise (cron, pipes,
    tests keep their output clean)."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    bar = Progress(TextColumn("{task.description:>10}"), BarColumn(), MofNCompleteColumn(),
                   console=Console(stderr=True), transient=True)
    tasks: dict[str, Any] = {}

    def update(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = bar.add_task(stage, total=max(total, 1))
        bar.update(tasks[stage], completed=done, total=max(total, 1))

    with bar:
        yield update


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
