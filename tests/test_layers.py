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
