"""The lifecycle actions the UI offers for a device, in menu order, and which need confirming.

Which are allowed comes from ``inventory.fleet.lifecycle.allowed_moves`` (the one state machine);
the UI only adds the two that are not status moves (renew, edit holder) and the keys.
"""

from __future__ import annotations

from typing import Any

from inventory.fleet import lifecycle
from inventory.register.models import DEVICE_STATUSES

# action → key on the devices table and the detail screen (``j``/``k`` move, as in every list:
# "mark locked" is ``m``)
ACTION_KEYS: dict[str, str] = {
    "issue": "i",
    "lock": "m",
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


def refusal(action: str, serial: str, status: str, has_holder: bool, labels: Any) -> str | None:
    """Why ``action`` cannot be done on this device now — said when its key is pressed, before
    any form or confirmation, naming the states it is allowed from; None when it can."""
    if action == "edit_holder":
        return None if has_holder else str(labels("form.no_holder"))
    sources = lifecycle.action_sources(action)
    if sources is None or status in sources:
        return None
    allowed = [s for s in DEVICE_STATUSES if s in sources]
    return str(labels.message("move_not_allowed", {"serial": serial, "status": status,
                                                   "action": action, "allowed": allowed}))
