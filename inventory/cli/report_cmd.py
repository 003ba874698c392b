"""``tokenfleet report monthly``: the leadership workbook; ``reports`` is imported lazily."""

from __future__ import annotations

from pathlib import Path

import click

from inventory.cli.context import AppContext, pass_app


def register(cli: click.Group) -> None:
    cli.add_command(report)


@click.group("report")
def report() -> None:
    """Reports for leadership (Excel workbooks, CSV files)."""


@report.command("monthly")
@click.option("--month", metavar="YYYY-MM",
              help="The month to report on (default: the last complete month).")
@click.option("--output", "-o", type=click.Path(path_type=Path),
              help="The .xlsx file (or, with --format csv, the folder) to write "
                   "(default: fleet-YYYY-MM.xlsx here).")
@click.option("--format", "fmt", type=click.Choice(["xlsx", "csv"]), default="xlsx",
              show_default=True, help="A workbook, or one CSV file per table in a folder.")
@click.option("--agency-level", type=click.IntRange(min=0),
              help="Tree level of the By-agency rows (0 the city, 1 departments/districts "
                   "(the default), 2 their units).")
@click.option("--lang", type=click.Choice(["vi", "en"]),
              help="Language of the labels (default: Vietnamese, whatever TOKENFLEET_LANG is: "
                   "the report is for leadership).")
@click.option("--include-personal-data", is_flag=True,
              help="Write national ID numbers unmasked (personal data).")
@pass_app
def monthly(app: AppContext, month: str | None, output: Path | None, fmt: str,
            agency_level: int | None, lang: str | None, include_personal_data: bool) -> None:
    """The monthly fleet report: summary, by agency, expiring, activity, locked & lost,
    and the register as of the month's end."""
    from reports.monthly import write_monthly

    result = write_monthly(app.register(), month=month, output=output, fmt=fmt,
                           agency_level=agency_level, lang=lang,
                           include_personal_data=include_personal_data,
                           ca_grace_days=app.settings.ca_grace_days)
    rows = ", ".join(f"{k} {n}" for k, n in result.rows.items())
    click.echo(f"{result.path}: report for {result.period.label()} written ({rows})")
