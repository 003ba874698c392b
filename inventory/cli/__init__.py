"""``tokenfleet``: the composition root.

Each feature adds its command group in a module of this package and registers it in
``_register_commands``. Errors are turned into one clear line and an exit code here, in
``main``, and nowhere else; the TUI and reports are imported lazily by their commands.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import click

from inventory.cli import exit_codes
from inventory.cli.context import AppContext, pass_app
from inventory.register.errors import TokenfleetError


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
             epilog=exit_codes.help_text(exit_codes.COMMON))
@click.option("--db", "db_url", metavar="URL",
              help="Database URL (sqlite:///FILE or postgresql://…). Default: "
                   "TOKENFLEET_DATABASE_URL, else the embedded register in your data directory.")
@click.option("--actor", metavar="NAME",
              help="Who the audit trail names for changes (default: TOKENFLEET_ACTOR, else "
                   "your OS user).")
@click.option("-v", "--verbose", count=True, help="More logging (repeat for debug).")
@click.version_option(package_name="tokenfleet")
@click.pass_context
def cli(ctx: click.Context, db_url: str | None, actor: str | None, verbose: int) -> None:
    """tokenfleet — the register of a city's PKI signing devices (USB tokens and PKI SIMs)."""
    logging.basicConfig(level=logging.WARNING - 10 * min(verbose, 2),
                        format="%(levelname)s %(name)s: %(message)s")
    ctx.obj = AppContext.create(db_url=db_url, actor=actor)
    ctx.call_on_close(ctx.obj.close)


def _register_commands() -> None:
    from inventory.cli import (
        access_cmd,
        alerts_cmd,
        audit_cmd,
        db_cmd,
        devices,
        holders,
        io_cmd,
        poll_cmd,
        report_cmd,
        requests_cmd,
        tui_cmd,
    )

    for module in (db_cmd, devices, holders, io_cmd, audit_cmd, requests_cmd, alerts_cmd,
                   report_cmd, poll_cmd, tui_cmd, access_cmd):
        module.register(cli)


_register_commands()


def main(argv: list[str] | None = None) -> Any:
    """Entry point: run the CLI, mapping tokenfleet errors to one line and an exit code
    (``inventory.cli.exit_codes``)."""
    try:
        return cli.main(args=argv, prog_name="tokenfleet", standalone_mode=False)
    except TokenfleetError as err:
        click.echo(f"tokenfleet: {err.title.lower()}: {err}", err=True)
        sys.exit(exit_codes.for_error(err))
    except click.exceptions.Abort:
        click.echo("tokenfleet: aborted", err=True)
        sys.exit(exit_codes.INTERRUPTED)
    except click.ClickException as err:
        err.show()
        sys.exit(err.exit_code)
    except KeyboardInterrupt:
        sys.exit(exit_codes.INTERRUPTED)


__all__ = ["AppContext", "cli", "main", "pass_app"]
