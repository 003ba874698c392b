"""A checkbox that looks unticked when it is: Textual's draws its "X" in both states (only the
colour changes), which on many terminals reads as ticked."""

from __future__ import annotations

from textual.content import Content
from textual.style import Style
from textual.widgets import Checkbox


class TickBox(Checkbox):
    TICK = "✓"

    @property
    def _button(self) -> Content:
        button_style = self.get_visual_style("toggle--button")
        side_style = Style(foreground=button_style.background,
                           background=self.background_colors[1])
        return Content.assemble((self.BUTTON_LEFT, side_style),
                                (self.TICK if self.value else " ", button_style),
                                (self.BUTTON_RIGHT, side_style))
