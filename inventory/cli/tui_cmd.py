"""``tokenfleet tui``: the fleet manager's terminal UI (Textual, imported only here, lazily)."""

from __future__ import annotations

import click

from inventory.cli.context import AppContext, pass_app
from tui.modes import SCREENS  # the app's screens; no Textual (imported by the command below)


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
    from tui import early

    identity = app.identity()
    register = app.register()
    first_read = early.begin(register, start)  # while Textual is imported and the screen built

    from tui.app import TokenfleetApp

    TokenfleetApp(register, actor=identity.name, lang=lang or app.settings.lang,
                  start=start, theme="textual-light" if light else "textual-dark",
                  host=app.settings.host, settings=app.settings,
                  reports_dir=app.settings.reports_dir,
                  who=identity.describe() if identity.enforced else None,
                  observation_retention_days=app.settings.observation_retention_days,
                  early=first_read).run()
