"""Commands are imported when they run: ``tokenfleet tui`` does not load the poller, the alert
channels or the request desk before its first screen (issue 14: first screen ≤ 0.7× the old)."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys

import click

import inventory.cli
from inventory.cli import COMMANDS


def test_every_command_module_is_named_in_the_table() -> None:
    registered: dict[str, str] = {}
    for info in pkgutil.iter_modules(inventory.cli.__path__):
        module = importlib.import_module(f"inventory.cli.{info.name}")
        if not callable(getattr(module, "register", None)):
            continue
        scratch = click.Group("scratch")
        module.register(scratch)
        registered |= dict.fromkeys(scratch.commands, info.name)
    assert registered == COMMANDS


def test_the_tui_command_loads_only_what_it_needs() -> None:
    probe = ("import sys\n"
             "from inventory.cli import main\n"
             "try:\n    main(['tui', '--help'])\nexcept SystemExit:\n    pass\n"
             "heavy = ['inventory.cli.poll_cmd', 'inventory.cli.requests_cmd',\n"
             "         'inventory.cli.alerts_cmd', 'inventory.alerts.channels']\n"
             "print(sorted(m for m in heavy if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True,
                         text=True).stdout
    assert out.strip().splitlines()[-1] == "[]"
