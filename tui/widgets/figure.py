"""One dashboard figure: a number and a label; Enter (or a click) opens the matching list."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.message import Message
from textual.widgets import Button


class Figure(Button):
    """``target`` says what list it opens (the dashboard screen interprets it)."""

    @dataclass
    class Opened(Message):
        target: dict[str, Any]

    def __init__(self, label: str, target: dict[str, Any], **kwargs: Any) -> None:
        super().__init__("…", **kwargs)
        self.caption, self.target = label, target
        self.add_class("figure")

    def show(self, value: int | str, note: str = "") -> None:
        text = Text()
        text.append(f"{value:,}" if isinstance(value, int) else value, style="bold")
        text.append(f"\n{self.caption}")
        if note:
            text.append(f"\n{note}", style="italic")
        self.label = text

    def press(self) -> Figure:
        self.post_message(self.Opened(self.target))
        return self
