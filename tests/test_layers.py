"""The layers of DESIGN.md hold: the core imports no UI or spreadsheet library, and only
``inventory/hardware`` touches the reader libraries."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN_IN_CORE = {"textual", "openpyxl", "pandas", "xlsxwriter", "tui", "reports"}
HARDWARE_LIBS = {"smartcard", "pkcs11"}


def _imports(path: Path) -> set[str]:
    """Top-level module names imported anywhere in a file (module level or inside functions)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_core_files_import_nothing_from_upper_layers():
    offenders = {}
    for path in (ROOT / "inventory").rglob("*.py"):
        rel = path.relative_to(ROOT).as_posix()
        found = _imports(path)
        # the composition root (inventory/cli) imports them lazily, inside commands
        if not rel.startswith("inventory/cli/") and (bad := found & FORBIDDEN_IN_CORE):
            offenders[rel] = bad
        if not rel.startswith("inventory/readers/hardware/") and (bad := found & HARDWARE_LIBS):
            offenders[rel] = bad
    for top in ("reports", "tui"):
        for path in (ROOT / top).rglob("*.py"):
            if bad := _imports(path) & HARDWARE_LIBS:
                offenders[path.relative_to(ROOT).as_posix()] = bad
    assert offenders == {}


def test_importing_the_cli_loads_no_ui_or_spreadsheet_library():
    code = "import sys, inventory.cli\n"
    code += ("bad = sorted(m for m in sys.modules if m.split('.')[0] in "
             f"{sorted(FORBIDDEN_IN_CORE | HARDWARE_LIBS)!r})\nprint(','.join(bad))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT).stdout.strip()
    assert out == ""
