"""What every screen of the number keys shares: the navigation bar on top, and coming back into
sight current (what changed while it was away) with the keys typed meanwhile delivered to it."""

from __future__ import annotations

from typing import ClassVar

from textual.screen import Screen

from ..widgets.nav_bar import NavBar


class ModeScreen(Screen[None]):
    MODE: ClassVar[str] = ""

    def nav_bar(self) -> NavBar:
        return NavBar(self.MODE, id="nav-bar")

    def on_screen_resume(self) -> None:
        self.app.screen_resumed(self)  # type: ignore[attr-defined]
