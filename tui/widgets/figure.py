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
        Binding("enter,space", "open", "nav.open", show=False)]

    @dataclass
    class Opened(Message):
        target: dict[str, Any]

    def __init__(self, label: str, target: dict[str, Any], **kwargs: Any) -> None:
        super().__init__("…", **kwargs)
        self.caption, self.target = label, target
        self.figure_text = Text("…")
        self.add_class("figure")

    @property
    def label(self) -> Text:
        return self.figure_text

    def show(self, value: int | str, note: str = "") -> None:
        text = Text(justify="center")
        text.append(ctx(self).labels.number(value) if isinstance(value, int) else value,
                    style="bold")
        text.append(f"\n{self.caption}")
        if note:
            text.append(f"\n{note}", style="italic")
        self.figure_text = text
        self.update(text)

    def action_open(self) -> None:
        self.post_message(self.Opened(self.target))

    def on_click(self) -> None:
        self.action_open()
