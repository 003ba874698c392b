"""An option list with ``j``/``k`` (menus, pickers)."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import BindingType
from textual.widgets import OptionList

from .vim_keys import VIM_KEYS


class PickList(OptionList):
    BINDINGS: ClassVar[list[BindingType]] = VIM_KEYS
