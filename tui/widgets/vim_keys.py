"""``j``/``k`` (and ``g``/``G``) on every list, as k9s and lazygit users expect; the arrows keep
working. Lists mix these bindings in; typing fields never get them."""

from __future__ import annotations

from textual.binding import Binding, BindingType

VIM_KEYS: list[BindingType] = [
    Binding("j", "cursor_down", "help.move_down", show=False),
    Binding("k", "cursor_up", "help.move_up", show=False),
]
