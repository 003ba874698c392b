"""Who is acting, and what their role lets them do: the one place for identity and roles.

Identity
    **PostgreSQL**: the authenticated login, ``session_user``. PostgreSQL authenticates it
    (SCRAM password, peer, client certificate — see the README's "Security model"); nothing a
    caller types can change it. ``--actor``/``TOKENFLEET_ACTOR`` may only repeat it: naming
    someone else is refused (:func:`check_claim`).
    **SQLite** (the embedded register): one desk; the actor is the OS user, and the file's
    permissions are the boundary — anyone who can write the file can change anything.

Roles (PostgreSQL; group roles made by migration ``0012_database_roles``)::

    viewer     reads only
    operator   lifecycle work, holders, requests, imports, alert acknowledgements
    admin      everything; alone retires devices, edits agencies, manages operators, chooses
               the CA trust anchors and imports the CA's revocation lists
    poller     records observations, last-seen and PIN state, and lock moves (a station)
    owner      the role that owns the schema (runs ``db upgrade``): acts as an admin, and its
               bulk paths (``demo``) may record events in other names

An operator or viewer may be *scoped* to an agency: row-level security then shows and lets it
change only that agency's subtree, so a device outside it is simply not found.

The database is the authority: its grants, triggers and policies refuse what a role may not do,
for tokenfleet and ``psql`` alike. :func:`require` mirrors them so that tokenfleet refuses
early with a sentence naming the person and the rule (a test keeps the two in step).
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from inventory.register.errors import PermissionDeniedError

ROLES = ("viewer", "operator", "admin", "poller")
OWNER = "owner"
GROUP_PREFIX = "tokenfleet_"
SCOPED_GROUP = "tokenfleet_scoped"

ADMIN_ONLY = ("device.retire", "agency.", "operator.", "ca.trust_", "ca.crl_")
POLLER_ACTIONS = ("device.lock", "device.pin_state", "certificate.seen", "unregistered.seen",
                  "unlock_case.open")
# A scoped operator works inside its agency: the city's stock (devices without an agency) is
# outside every scope, so putting a device into it or taking one from it is not theirs to do.
SCOPED_REFUSED = ("device.add", "device.return_to_stock", "unregistered.claim")
CACHE_KEY = "tokenfleet.identity"

_WHOAMI = text("""
    SELECT session_user::text AS name,
           tokenfleet_is_owner() AS owner,
           pg_has_role(session_user, 'tokenfleet_admin', 'USAGE') AS admin,
           pg_has_role(session_user, 'tokenfleet_operator', 'USAGE') AS operator,
           pg_has_role(session_user, 'tokenfleet_poller', 'USAGE') AS poller,
           pg_has_role(session_user, 'tokenfleet_viewer', 'USAGE') AS viewer,
           pg_has_role(session_user, 'tokenfleet_scoped', 'USAGE') AS scoped,
           (SELECT a.code FROM operators o JOIN agencies a ON a.id = o.agency_id
            WHERE o.name = session_user::text AND o.active) AS agency
""")


@dataclass(frozen=True)
class Identity:
    """Who this process acts as. ``enforced`` is False on SQLite (one desk, no roles)."""

    name: str
    role: str | None  # one of ROLES, OWNER, or None (SQLite; or a login that is no operator)
    enforced: bool
    scoped: bool = False
    agency_code: str | None = None  # the scope's agency (None: unscoped, or scope unset)

    @property
    def is_owner(self) -> bool:
        return self.role == OWNER

    def describe(self) -> str:
        """``olga (operator, agency SYT)``, ``root (the embedded register's one desk)``."""
        if not self.enforced:
            return f"{self.name} (the embedded register's one desk)"
        if self.role is None:
            return f"{self.name} (not a tokenfleet operator)"
        scope = f", agency {self.agency_code or '(none set)'}" if self.scoped else ""
        return f"{self.name} ({self.role}{scope})"


def os_user() -> str:
    """The OS user: the actor on the embedded register."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        return f"uid{os.getuid()}"


def _enforced(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def identify(session: Session) -> Identity:
    """The identity of the session's connection (read once per database connection)."""
    conn = session.connection()
    cached = conn.info.get(CACHE_KEY)
    if cached is not None:
        return cached
    if not _enforced(session):
        identity = Identity(name=os_user(), role=None, enforced=False)
    else:
        row = conn.execute(_WHOAMI).one()
        role = OWNER if row.owner else next(
            (r for r in ("admin", "operator", "poller", "viewer") if getattr(row, r)), None)
        identity = Identity(name=row.name, role=role, enforced=True,
                            scoped=bool(row.scoped) and role in ("operator", "viewer"),
                            agency_code=row.agency)
    conn.info[CACHE_KEY] = identity
    return identity


def check_claim(identity: Identity, claimed: str | None, how: str = "--actor ") -> None:
    """Refuse a claimed actor that is not who is connected; ``how`` is how it was claimed
    (``"--actor "``, ``"TOKENFLEET_ACTOR="``), for the message."""
    if claimed is None or claimed.strip() == identity.name:
        return
    where = "connected as" if identity.enforced else "you are"
    raise PermissionDeniedError(f"{where} {identity.name}; {how}{claimed.strip()} is not you")


def service_actor(session: Session, name: str) -> str:
    """The actor of an unattended job's changes (``poller@STATION``, ``alerts@HOST``): its own
    login on PostgreSQL (each station and job logs in as its own role: the trail names who is
    connected), ``name`` on the embedded register."""
    identity = identify(session)
    return identity.name if identity.enforced else name


def station_actor(session: Session, station: str) -> str:
    """The actor of a poller station's changes (see :func:`service_actor`)."""
    return service_actor(session, f"poller@{station}")


def allowed(role: str | None, action: str) -> bool:
    if role in (OWNER, "admin"):
        return True
    if role == "poller":
        return action.startswith(POLLER_ACTIONS)
    if role == "operator":
        return not action.startswith(ADMIN_ONLY)
    return False  # viewer, or no role


def require(session: Session, actor: str, action: str) -> None:
    """Refuse, before anything is written, what the connected role may not do (the database
    would refuse it too); on the embedded register everything is allowed."""
    identity = identify(session)
    if not identity.enforced:
        return
    if actor != identity.name and not identity.is_owner:
        raise PermissionDeniedError(f"connected as {identity.name}; the audit trail cannot "
                                    f"name {actor} for what you do")
    if identity.role is None:
        raise PermissionDeniedError(f"{identity.name} is not a tokenfleet operator: ask an "
                                    f"admin to run `tokenfleet operator set {identity.name} "
                                    "--role …`")
    if not allowed(identity.role, action):
        hint = ": admins only" if identity.role == "operator" else ""
        raise PermissionDeniedError(f"{identity.describe()} may not "
                                    f"{action.replace('.', ' ').replace('_', ' ')}{hint}")
    if identity.scoped and action.startswith(SCOPED_REFUSED):
        raise PermissionDeniedError(f"{identity.describe()} works inside its agency: "
                                    f"{action.replace('.', ' ').replace('_', ' ')} touches the "
                                    "city's stock, which is for unscoped operators")


def require_role(session: Session, *roles: str, doing: str) -> Identity:
    """Refuse unless the connected role is one of ``roles`` (the owner always passes; the
    embedded register's one desk too). ``doing`` completes "… may not …"."""
    identity = identify(session)
    if identity.enforced and not identity.is_owner and identity.role not in roles:
        who = " or ".join((*(f"{r}s" for r in roles), "the database owner"))
        raise PermissionDeniedError(f"{identity.describe()} may not {doing}: {who} only")
    return identity


def require_whole_register(session: Session, doing: str) -> Identity:
    """Refuse a scoped login work that needs every row (verifying the whole audit trail)."""
    identity = identify(session)
    if identity.scoped:
        raise PermissionDeniedError(f"{identity.describe()} sees one agency's part of the "
                                    f"register: {doing} needs an unscoped login")
    return identity
