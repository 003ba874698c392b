"""A tree with ``j``/``k`` (the agency tree)."""

from __future__ import annotations

from typing import Any, ClassVar

from textual.binding import BindingType
from textual.widgets import Tree

from .vim_keys import VIM_KEYS


class NavTree(Tree[Any]):
    BINDINGS: ClassVar[list[BindingType]] = VIM_KEYS
