"""One dashboard figure: a number and a label; Enter (or a click) opens the matching list."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Static

from ..context import ctx


class Figure(Static, can_focus=True):
    """``target`` says what list it opens (the dashboard screen interprets it)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter,space", "open", "nav.open", show=False),
        Binding("left,h", "step(-1, 0)", "help.tiles", show=False),
        Binding("right,l", "step(1, 0)", "help.tiles", show=False),
        Binding("up,k", "step(0, -1)", "help.tiles", show=False),
        Binding("down,j", "step(0, 1)", "help.tiles", show=False),
    ]
    SWITCHING_ACTIONS: ClassVar[frozenset[str]] = frozenset({"open"})

    @dataclass
    class Opened(Message):
        target: dict[str, Any]

    def __init__(self, label: str, target: dict[str, Any], **kwargs: Any) -> None:
        super().__init__("…", **kwargs)
        self.caption, self.target = label, target
        self.figure_text = Text("…")
        self.value: int | str | None = None  # None: still being counted
        self.note = ""
        self.add_class("figure")

    @property
    def label(self) -> Text:
        return self.figure_text

    def show(self, value: int | str, note: str = "") -> None:
        self.value, self.note = value, note
        text = Text(justify="center")
        text.append(ctx(self).labels.number(value) if isinstance(value, int) else value,
                    style="bold")
        text.append(f"\n{self.caption}")
        if note:
            text.append(f"\n{note}", style="italic")
        self.figure_text = text
        self.update(text)

    def action_step(self, dx: int, dy: int) -> None:
        """The arrows move between tiles as they are laid out: to the nearest figure on the
        left/right in this row, or in the nearest row above/below (keeping the column)."""
        here = self.region
        best: tuple[float, Figure] | None = None
        for other in self.screen.query(Figure):
            there = other.region
            if other is self or not there.width:
                continue
            if dx:
                if there.y != here.y or (there.x - here.x) * dx <= 0:
                    continue
                distance = abs(there.x - here.x)
            else:
                if (there.y - here.y) * dy <= 0:
                    continue
                distance = abs(there.y - here.y) * 1000 + abs(there.x - here.x)
            if best is None or distance < best[0]:
                best = (distance, other)
        if best is not None:
            best[1].focus()
            best[1].scroll_visible(animate=False)

    def action_open(self) -> None:
        self.post_message(self.Opened(self.target))

    def on_click(self) -> None:
        self.action_open()
