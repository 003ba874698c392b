"""Who may change what: operators are application users with a role.

Every change to the register writes an audit event, so the permission check sits where every
event is appended (``inventory.register.audit``): a refused action raises ``PermissionDeniedError``
inside the transaction, which is rolled back, so nothing is changed.

    viewer     reads only
    operator   lifecycle work, holders, requests, imports, alert acknowledgements
    admin      everything; alone may retire devices, edit agencies and manage operators

While no operator is defined, access control is off (a single desk on the embedded default).
Pollers act as ``poller@HOST`` and may only record what they observe.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory.register.errors import PermissionDeniedError
from inventory.register.models import Operator

ADMIN_ONLY = ("device.retire", "agency.", "operator.", "register.")
POLLER_ACTIONS = ("device.lock", "device.pin_state", "certificate.seen", "unregistered.",
                  "stocktake.", "unlock_case.")
CACHE_KEY = "tokenfleet.operators"


def operators(session: Session) -> dict[str, str]:
    """Active operators' roles, read once per transaction."""
    cached = session.info.get(CACHE_KEY)
    if cached is None:
        cached = dict(session.execute(select(Operator.name, Operator.role)
                                      .where(Operator.active.is_(True))).all())
        session.info[CACHE_KEY] = cached
    return cached


def role_of(session: Session, actor: str) -> str | None:
    """The actor's role; ``None`` while access control is off."""
    known = operators(session)
    if not known:
        return None
    if actor in known:
        return known[actor]
    if actor.startswith("poller@"):
        return "poller"
    raise PermissionDeniedError(f"{actor!r} is not a tokenfleet operator: ask an admin to run "
                                f"`tokenfleet operator add {actor} --role operator`")


def allowed(role: str | None, action: str) -> bool:
    if role is None or role == "admin":
        return True
    if role == "poller":
        return action.startswith(POLLER_ACTIONS)
    if role == "operator":
        return not action.startswith(ADMIN_ONLY)
    return False  # viewer


def require(session: Session, actor: str, action: str) -> None:
    role = role_of(session, actor)
    if not allowed(role, action):
        raise PermissionDeniedError(f"{actor} ({role}) may not {action.replace('.', ' ')}"
                                    + ("" if role != "operator" else ": admins only"))
