"""The lifecycle actions the UI offers for a device, in menu order, and which need confirming.

Which are allowed comes from ``inventory.fleet.lifecycle.allowed_moves`` (the one state machine);
the UI only adds the two that are not status moves (renew, edit holder) and the keys.
"""

from __future__ import annotations

from inventory.fleet import lifecycle

# action → key on the devices table and the detail screen
ACTION_KEYS: dict[str, str] = {
    "issue": "i",
    "lock": "k",
    "unlock": "u",
    "report_lost": "l",
    "revoke": "x",
    "return_to_stock": "b",
    "retire": "t",
    "renew": "n",
    "edit_holder": "e",
}
DESTRUCTIVE = frozenset({"report_lost", "revoke", "retire"})


def offered_actions(status: str, has_holder: bool) -> list[str]:
    """The actions to offer for a device in ``status`` (the others are refused anyway)."""
    moves = set(lifecycle.allowed_moves(status))
    if status == "issued":
        moves.add("renew")
    if has_holder:
        moves.add("edit_holder")
    return [a for a in ACTION_KEYS if a in moves]
