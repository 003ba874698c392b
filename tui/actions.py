"""The lifecycle actions the UI offers for a device, in menu order, and which need confirming.

Which are allowed comes from ``inventory.fleet.lifecycle.allowed_moves`` (the one state machine);
the UI only adds the two that are not status moves (renew, edit holder) and the keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from inventory.register.domain import DEVICE_STATUSES

if TYPE_CHECKING:
    from inventory.services.devices import DeviceRef

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
    from inventory.fleet import lifecycle

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
    from inventory.fleet import lifecycle

    sources = lifecycle.action_sources(action)
    if sources is None or status in sources:
        return None
    allowed = [s for s in DEVICE_STATUSES if s in sources]
    return str(labels.message("move_not_allowed", {"serial": serial, "status": status,
                                                   "action": action, "allowed": allowed}))


@dataclass(frozen=True)
class DeviceTarget:
    """The device an action is for (plain data: forms never hold ORM rows)."""

    id: int
    serial: str
    status: str
    holder_id: int | None
    kind: str | None = None
    version: int | None = None  # what the screen showed: a newer one means someone else moved it

    @property
    def ref(self) -> DeviceRef:
        from inventory.services.devices import DeviceRef

        return DeviceRef(self.serial, self.kind, self.version)
