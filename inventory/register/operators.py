"""Managing operators (admins only): add one, change a role, disable one; each is audited."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory.register import access, audit
from inventory.register.errors import ValidationError
from inventory.register.models import ROLES, Operator


def set_operator(session: Session, name: str, role: str, *, actor: str) -> Operator:
    """Add an operator or change their role (the first operator must be an admin)."""
    if role not in ROLES:
        raise ValidationError(f"role {role!r} is not one of {', '.join(ROLES)}")
    name = name.strip()
    if not name:
        raise ValidationError("an operator needs a name")
    existing = session.scalar(select(Operator).where(Operator.name == name))
    if not access.operators(session) and role != "admin":
        raise ValidationError("the first operator must be an admin (or nobody could manage "
                              "the others)")
    before = {"role": existing.role, "active": existing.active} if existing else None
    if existing is None:
        existing = Operator(name=name, role=role, active=True, created_by=actor)
        session.add(existing)
    else:
        existing.role, existing.active = role, True
    audit.record(session, actor=actor, action="operator.set", entity_type="operator",
                 entity_id=None, summary=f"{name}: {role}", before=before,
                 after={"name": name, "role": role, "active": True})
    session.flush()
    session.info.pop(access.CACHE_KEY, None)
    return existing


def disable_operator(session: Session, name: str, *, actor: str) -> None:
    op = session.scalar(select(Operator).where(Operator.name == name))
    if op is None:
        raise ValidationError(f"no operator named {name!r}")
    audit.record(session, actor=actor, action="operator.disable", entity_type="operator",
                 entity_id=op.id, summary=name, before={"active": True},
                 after={"active": False})
    op.active = False
    session.flush()
    session.info.pop(access.CACHE_KEY, None)
