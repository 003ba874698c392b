"""The top line: the app's screens by number, the current one marked (as lazygit's panels).

It replaces the header and keeps the footer free for the keys of the screen at hand: the screen
keys ``1``–``6`` are shown here once, not in every footer (at 80 columns the footer was cut at
"5 Nhậ"). A click on a name opens that screen.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import Static

from ..context import ctx


class NavBar(Static):
    """``current`` is the mode this bar stands on (each mode screen has its own bar)."""

    def __init__(self, current: str | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.current = current

    def on_mount(self) -> None:
        self.update(self.line())

    def line(self) -> Text:
        t = ctx(self).labels
        text = Text(no_wrap=True, overflow="ellipsis")
        for n, mode in enumerate(getattr(self.app, "MODES", {}), start=1):
            here = mode == self.current
            text.append(f" {n} ", style="bold reverse" if here else "bold")
            text.append(f"{t(f'tab.{mode}')} ", style="reverse" if here else "")
            text.append(" ")
        if who := getattr(self.app, "who", None):  # PostgreSQL: the login, its role and scope
            text.append(f" {who}", style="dim")
        return text

    async def on_click(self, event: Any) -> None:
        """The screen whose name is under the pointer."""
        x, offset = event.x, 0
        t = ctx(self).labels
        for n, mode in enumerate(getattr(self.app, "MODES", {}), start=1):
            width = len(f" {n} {t(f'tab.{mode}')}  ")
            if offset <= x < offset + width:
                await self.app.run_action(f"switch_mode('{mode}')")
                return
            offset += width
