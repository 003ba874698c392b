"""Managing operators (admins and the database owner): set one, disable one; each is audited.

On PostgreSQL an operator is a LOGIN role of the same name and a member of exactly one group
role (``tokenfleet_viewer`` …); ``tokenfleet_set_login``/``tokenfleet_disable_login`` (SECURITY
DEFINER functions of the schema's owner, executable by admins only) make the role changes, so an
admin needs no CREATEROLE. A password, when given, leaves this process only as a SCRAM-SHA-256
verifier: the server (and its statement log) never sees it.

The embedded SQLite register has no operators: it is one desk, and whoever can write its file
can change anything (:class:`~inventory.register.errors.ConfigurationError` says so).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from inventory.register import access, audit
from inventory.register.errors import ConfigurationError, NotFoundError, ValidationError
from inventory.register.models import Agency, Operator

SCRAM_ITERATIONS = 4096  # PostgreSQL's default (scram_iterations)
SINGLE_DESK = ("the embedded SQLite register is one desk: the actor is your OS user and the "
               "file's permissions decide who may change it; operators and roles need a "
               "PostgreSQL register")


@dataclass(frozen=True)
class OperatorRow:
    """One line of ``operator list``: what the database says, with the register's notes."""

    name: str
    role: str | None
    agency: str | None
    can_log_in: bool
    since: datetime | None
    set_by: str | None


def scram_verifier(password: str, *, salt: bytes | None = None,
                   iterations: int = SCRAM_ITERATIONS) -> str:
    """The SCRAM-SHA-256 verifier PostgreSQL stores for ``password`` (RFC 5802/7677)."""
    salt = salt or os.urandom(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    b64 = lambda raw: base64.b64encode(raw).decode()  # noqa: E731
    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


def _postgres_only(session: Session) -> None:
    if session.get_bind().dialect.name != "postgresql":
        raise ConfigurationError(SINGLE_DESK)


def set_operator(session: Session, name: str, role: str, *, actor: str,
                 agency_code: str | None = None, password: str | None = None) -> Operator:
    """Create or alter the login role ``name`` with ``role`` (and scope it to ``agency_code``'s
    subtree); an admin's or the owner's work."""
    _postgres_only(session)
    if role not in access.ROLES:
        raise ValidationError(f"role {role!r} is not one of {', '.join(access.ROLES)}")
    name = name.strip()
    if not name:
        raise ValidationError("an operator needs a name (the database login)")
    if agency_code and role not in ("viewer", "operator"):
        raise ValidationError(f"--agency scopes viewers and operators; a{'n' * (role == 'admin')}"
                              f" {role} works on the whole register")
    access.require(session, actor, "operator.set")
    agency = None
    if agency_code:
        agency = session.scalar(select(Agency).where(Agency.code == agency_code))
        if agency is None:
            raise NotFoundError(f"no agency with code {agency_code!r}")
    existing = session.scalar(select(Operator).where(Operator.name == name))
    before = ({"role": existing.role, "active": existing.active, "agency_id": existing.agency_id}
              if existing else None)
    session.execute(text("SELECT tokenfleet_set_login(:name, :role, :scoped, :verifier)"),
                    {"name": name, "role": role, "scoped": agency is not None,
                     "verifier": scram_verifier(password) if password else None})
    if existing is None:
        existing = Operator(name=name, role=role, active=True, created_by=actor)
        session.add(existing)
    existing.role, existing.active = role, True
    existing.agency_id = agency.id if agency else None
    session.flush()
    after = {"role": role, "active": True, "agency_id": existing.agency_id}
    audit.record(session, actor=actor, action="operator.set", entity_type="operator",
                 entity_id=existing.id,
                 summary=f"{name}: {role}" + (f", agency {agency.code}" if agency else "")
                 + (", password set" if password else ""),
                 before=before, after=after)
    return existing


def disable_operator(session: Session, name: str, *, actor: str) -> None:
    """Take a login away: it can no longer connect, and its open sessions lose every
    tokenfleet privilege (its past actions stay in the audit trail)."""
    _postgres_only(session)
    access.require(session, actor, "operator.disable")
    op = session.scalar(select(Operator).where(Operator.name == name))
    is_role = session.scalar(text("SELECT 1 FROM pg_roles WHERE rolname = :n"), {"n": name})
    if op is None and not is_role:
        raise NotFoundError(f"no operator named {name!r}")
    session.execute(text("SELECT tokenfleet_disable_login(:name)"), {"name": name})
    if op is not None:
        op.active = False
        session.flush()
    audit.record(session, actor=actor, action="operator.disable", entity_type="operator",
                 entity_id=op.id if op else None, summary=name, before={"active": True},
                 after={"active": False})


_LIST = text("""
    SELECT r.rolname AS name, r.rolcanlogin AS can_log_in,
           (SELECT substr(g.rolname, 12) FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
            WHERE m.member = r.oid AND g.rolname IN ('tokenfleet_viewer', 'tokenfleet_operator',
                                                     'tokenfleet_admin', 'tokenfleet_poller')
            ORDER BY g.rolname LIMIT 1) AS role,
           EXISTS (SELECT 1 FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
                   WHERE m.member = r.oid AND g.rolname = 'tokenfleet_scoped') AS scoped
    FROM pg_roles r
    WHERE r.rolname NOT LIKE 'tokenfleet\\_%' AND EXISTS (
        SELECT 1 FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
        WHERE m.member = r.oid AND g.rolname LIKE 'tokenfleet\\_%')
""")


def list_operators(session: Session) -> list[OperatorRow]:
    """Every login a tokenfleet group includes (the database's truth), and every operator the
    register remembers (disabled ones too), by name."""
    _postgres_only(session)
    notes = {o.name: o for o in session.scalars(select(Operator))}
    codes = dict(session.execute(select(Agency.id, Agency.code)
                                 .where(Agency.id.in_({o.agency_id for o in notes.values()
                                                       if o.agency_id}))).all())
    rows: dict[str, OperatorRow] = {}
    for r in session.execute(_LIST):
        note = notes.get(r.name)
        agency = codes.get(note.agency_id) if note and note.agency_id else None
        rows[r.name] = OperatorRow(r.name, r.role, agency if r.scoped else None, r.can_log_in,
                                   note.created_at if note else None,
                                   note.created_by if note else None)
    for name, note in notes.items():
        if name not in rows:
            rows[name] = OperatorRow(name, None, None, False, note.created_at, note.created_by)
    return [rows[n] for n in sorted(rows)]
