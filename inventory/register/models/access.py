"""Operators: who may work on the register, with a role and, optionally, an agency scope.

On PostgreSQL each operator is a LOGIN role of the same name, member of the group role of its
role (``tokenfleet_viewer`` …); this table keeps what the database roles do not: the agency a
scoped operator is limited to (read by the row-level security policies), and when and by whom
the operator was set. On the embedded SQLite register it is not used (one desk).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from inventory.register.dates import utcnow
from inventory.register.models.base import Base

ROLES = ("viewer", "operator", "admin", "poller")


class Operator(Base):
    """A named operator (on PostgreSQL: a login role; ``agency_id`` set: a scoped one)."""

    __tablename__ = "operators"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(120))
