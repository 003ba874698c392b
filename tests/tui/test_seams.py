"""The TUI's seams are visible: it imports the modules it uses (no ``find_spec`` guards that hide
them from mypy), and never the CLI or click."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_tui_needs_no_cli_and_no_click() -> None:
    """The alerts pane borrowed the CLI's date parser (and click) before."""
    offenders = [path.relative_to(ROOT).as_posix() for path in (ROOT / "tui").rglob("*.py")
                 if "import click" in (text := path.read_text(encoding="utf-8"))
                 or "inventory.cli" in text]
    assert offenders == []


def test_no_find_spec_guards_for_modules_that_always_exist() -> None:
    """``find_spec`` + ``getattr`` returned ``Any`` and hid these seams from mypy."""
    offenders = {path.relative_to(ROOT).as_posix() for path in (ROOT / "tui").rglob("*.py")
                 if "find_spec" in path.read_text(encoding="utf-8")}
    # the readers panel is the reader pipeline's (issue 11, item 2, second part)
    assert offenders <= {"tui/widgets/readers_panel.py"}
