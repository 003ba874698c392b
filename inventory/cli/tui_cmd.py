"""``tokenfleet tui``: the fleet manager's terminal UI (Textual, imported only here, lazily)."""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING

import click

from inventory.cli.context import AppContext, pass_app
from tui.modes import SCREENS  # the app's screens; no Textual (imported by the command below)

if TYPE_CHECKING:
    from inventory.register.db import Register


def register(cli: click.Group) -> None:
    cli.add_command(tui)


@click.command("tui")
@click.option("--start", type=click.Choice(SCREENS), default="dashboard",
              show_default=True, help="The screen to open first.")
@click.option("--lang", type=click.Choice(["vi", "en"]),
              help="Labels (default: TOKENFLEET_LANG, else Vietnamese when the locale is vi).")
@click.option("--light", is_flag=True, help="Start with the light theme (ctrl+t toggles).")
@pass_app
def tui(app: AppContext, start: str, lang: str | None, light: bool) -> None:
    """Open the terminal UI on the register (keyboard-first; press ? for the keys)."""
    gc.disable()  # no collection while starting up: the app resumes it once it has settled
    from tui import early
    from tui.context import Connected

    def connect() -> Connected:
        identity = app.identity()  # opens the register (creating or upgrading the default)
        return Connected(app.register(), identity.name,
                         identity.describe() if identity.enforced else None)

    def existing_register() -> Register:  # the early reader's: nothing created or upgraded
        app.register(existing=True)
        return connect().register

    # forked before anything is imported or connected: it reads while Textual is imported
    first_reads = early.begin(existing_register, start)

    from tui.app import TokenfleetApp

    ui = TokenfleetApp(connect=connect, lang=lang or app.settings.lang,
                       start=start, theme="textual-light" if light else "textual-dark",
                       host=app.settings.host, settings=app.settings,
                       reports_dir=app.settings.reports_dir,
                       observation_retention_days=app.settings.observation_retention_days,
                       early=first_reads)
    ui.run()
    if ui.failed is not None:
        raise ui.failed
