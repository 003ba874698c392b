"""The layers themselves are import-linter contracts (``pyproject.toml``, run by ``./dev test``);
this checks what a static graph cannot: starting the CLI loads no UI, spreadsheet or reader
library (the composition root imports them lazily, inside the commands that need them)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("textual", "openpyxl", "pandas", "xlsxwriter", "tui", "reports", "smartcard", "pkcs11")


def test_importing_the_cli_loads_no_ui_spreadsheet_or_reader_library() -> None:
    code = ("import sys, inventory.cli\n"
            f"print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT).stdout.strip()
    assert out == ""


def test_the_tuis_first_frame_needs_no_sqlalchemy() -> None:
    """``tokenfleet tui`` lays out its start screen while its early reader (a forked process,
    ``tui.early``) opens the register: the command, the app and both start screens import no
    SQLAlchemy and none of the register's models, so the two proceed side by side."""
    code = ("import sys, inventory.cli, inventory.cli.tui_cmd, tui.early, tui.app, "
            "tui.screens.dashboard, tui.screens.devices\n"
            "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] == 'sqlalchemy'"
            " or m.startswith('inventory.register.models'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT).stdout.strip()
    assert out == ""
