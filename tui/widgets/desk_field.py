"""A text field on the desk: ``[`` and ``]`` switch the desk's tabs even while typing here.

The desk's fields hold names and dates, never brackets, so the tab keys work "from anywhere on
the desk" without a Tab press to leave the field first (Textual drops even a priority binding
whose key the focused field would type).
"""

from __future__ import annotations

from textual.widgets import Input

TAB_KEYS = frozenset({"left_square_bracket", "right_square_bracket"})


class DeskField(Input):
    def check_consume_key(self, key: str, character: str | None) -> bool:
        return key not in TAB_KEYS and super().check_consume_key(key, character)
