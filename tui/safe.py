"""Text from the register shown as it was written, never acted on.

Holder names, serials, notes, actors, reader names and error messages come from people and
devices: Textual reads a plain ``str`` in a table cell, an option or a markup-enabled widget as
markup (``[bold]`` styles, ``[/]`` can even fail to render), and a terminal acts on control
characters and escapes. Every such value reaches the screen through these: a Rich ``Text`` is
never parsed as markup, and ``terminal_safe`` (the core's one rule, the CLI's too) shows control
characters, escapes and bidi overrides as ``\\x1b``-style text.
"""

from __future__ import annotations

from rich.text import Text

from inventory.register.text import terminal_safe


def plain(value: object) -> str:
    """A value as text a terminal shows and does not act on (for widgets without markup)."""
    return terminal_safe("" if value is None else str(value))


def cell(value: object, style: str = "") -> Text:
    """A value for a table cell, an option or a label: never read as markup."""
    return Text(plain(value), style=style)


def cells(*values: object, style: str = "") -> tuple[Text, ...]:
    """A table row's values (``table.add_row(*cells(a, b, c))``)."""
    return tuple(cell(v, style) for v in values)
