"""The key map: shown by the help screen and copied into the README."""

from __future__ import annotations

from .actions import ACTION_KEYS

GLOBAL_KEYS: list[tuple[str, str]] = [
    ("1 / F2", "nav.dashboard"),
    ("2 / F3", "nav.devices"),
    ("3 / F4", "nav.holders"),
    ("4", "nav.readers"),
    ("5", "nav.transfers"),
    ("6", "nav.desk"),
    ("/", "tip.search"),
    ("Enter", "help.search_enter"),
    ("↑ ↓ j k", "help.lists"),
    ("← → ↑ ↓", "help.tiles"),
    ("Tab / shift+Tab", "help.focus"),
    ("ctrl+p", "help.palette"),
    ("ctrl+t", "tip.theme"),
    ("? / F1", "nav.help"),
    ("ctrl+q", "nav.quit"),
]
DESK_KEYS: list[tuple[str, str]] = [
    ("[ ]", "help.desk_tabs"),
    ("Enter", "help.desk_open"),
    ("s a c r x", "help.request_keys"),
    ("i", "desk.import_answer"),
    ("F5", "nav.refresh"),
    ("Escape", "nav.back"),
]
DEVICES_KEYS: list[tuple[str, str]] = [
    ("↑ ↓ j k PgUp PgDn", "help.move"),
    ("Home / End  g / G", "help.home_end"),
    ("Enter", "nav.open"),
    ("s", "tip.sort"),
    ("r", "tip.reverse"),
    ("c", "nav.clear_filters"),
    ("v", "tip.save_view"),
    ("a", "tip.actions"),
    *((key, f"device_action.{name}") for name, key in ACTION_KEYS.items()),
    ("o", "ca.ocsp_tip"),
    ("Escape", "nav.back"),
]
