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
