"""``tokenfleet``: the composition root.

Each feature adds its command group in a module of this package and names it in ``COMMANDS``
(the module is imported only when one of its commands runs). Errors are turned into one clear
line and an exit code here, in ``main``, and nowhere else; the TUI and reports are imported
lazily by their commands.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from inventory.cli import exit_codes
from inventory.cli.context import AppContext, pass_app
from inventory.register.errors import TokenfleetError
from inventory.register.files import os_error
from inventory.register.text import terminal_safe

# command → the module of this package that defines it (``register(cli)`` adds its commands).
# A module is imported when one of its commands runs (or for ``--help``): ``tokenfleet tui``
# does not pay for the poller, the alert channels or the request desk before its first screen.
COMMANDS: dict[str, str] = {
    "db": "db_cmd", "demo": "db_cmd",
    "devices": "devices", "device": "devices",
    "holder": "holders", "agency": "holders",
    "import": "io_cmd", "export": "io_cmd",
    "audit": "audit_cmd",
    "request": "requests_cmd", "handover": "requests_cmd", "unlock": "requests_cmd",
    "alerts": "alerts_cmd",
    "report": "report_cmd",
    "poll": "poll_cmd", "stocktake": "poll_cmd", "unregistered": "poll_cmd",
    "tui": "tui_cmd",
    "operator": "access_cmd",
    "ca": "ca_cmd",
}


class LazyGroup(click.Group):
    """The command group that imports a command's module when the command is asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.commands and name in COMMANDS:
            importlib.import_module(f"{__name__}.{COMMANDS[name]}").register(self)
        return self.commands.get(name)


@click.group(cls=LazyGroup,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
             epilog=exit_codes.help_text(exit_codes.COMMON))
@click.option("--db", "db_url", metavar="URL",
              help="Database URL (sqlite:///FILE or postgresql://…). Default: "
                   "TOKENFLEET_DATABASE_URL, else the embedded register in your data directory.")
@click.option("--actor", metavar="NAME",
              help="Who you are, as a check (default: TOKENFLEET_ACTOR): the audit trail names "
                   "the database login (PostgreSQL) or your OS user (SQLite), and a NAME that "
                   "is someone else is refused (exit 77).")
@click.option("-v", "--verbose", count=True, help="More logging (repeat for debug).")
@click.version_option(package_name="tokenfleet")
@click.pass_context
def cli(ctx: click.Context, db_url: str | None, actor: str | None, verbose: int) -> None:
    """tokenfleet — the register of a city's PKI signing devices (USB tokens and PKI SIMs)."""
    logging.basicConfig(level=logging.WARNING - 10 * min(verbose, 2),
                        format="%(levelname)s %(name)s: %(message)s")
    ctx.obj = AppContext.create(db_url=db_url, actor=actor)
    ctx.call_on_close(ctx.obj.close)


class _TerminalSafe:
    """A terminal's text stream that shows control characters as escapes instead of obeying
    them: a holder named with ANSI sequences or a bidi override cannot repaint the screen."""

    def __init__(self, stream: Any):
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(terminal_safe(text))
        return len(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@contextmanager
def _terminal_safe_output() -> Iterator[None]:
    saved = sys.stdout, sys.stderr
    if sys.stdout.isatty():
        sys.stdout = _TerminalSafe(sys.stdout)
    if sys.stderr.isatty():
        sys.stderr = _TerminalSafe(sys.stderr)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved


def _stopped(signum: int, _frame: Any) -> None:
    """SIGTERM ends a command the way Ctrl-C does: temporary files are removed on the way."""
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> Any:
    """Entry point: run the CLI, mapping tokenfleet errors to one line and an exit code
    (``inventory.cli.exit_codes``)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _stopped)
    try:
        with _terminal_safe_output():
            return cli.main(args=argv, prog_name="tokenfleet", standalone_mode=False)
    except TokenfleetError as err:
        click.echo(terminal_safe(f"tokenfleet: {err.title.lower()}: {err}"), err=True)
        sys.exit(exit_codes.for_error(err))
    except BrokenPipeError:
        # The reader went away (``… | head``): nothing more to say, and nobody to say it to.
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(exit_codes.BROKEN_PIPE)
    except OSError as err:  # standard output on a full disk, a file the command could not write
        mapped = os_error(err, err.filename or "standard output")
        click.echo(terminal_safe(f"tokenfleet: {mapped.title.lower()}: {mapped}"), err=True)
        sys.exit(exit_codes.for_error(mapped))
    except click.exceptions.Abort:
        click.echo("tokenfleet: aborted", err=True)
        sys.exit(exit_codes.INTERRUPTED)
    except click.ClickException as err:
        err.show()
        sys.exit(err.exit_code)
    except KeyboardInterrupt:
        sys.exit(exit_codes.INTERRUPTED)


__all__ = ["AppContext", "cli", "main", "pass_app"]
