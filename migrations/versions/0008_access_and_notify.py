"""Operators with roles; PostgreSQL announces every audit append (LISTEN/NOTIFY).

Revision ID: 0008_access_and_notify
Revises: 0006_alerts
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import inventory.register.models.base

revision: str = "0008_access_and_notify"
down_revision: str | None = "0006_alerts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# One notification per statement (not per row: a bulk import of a million events must not queue
# a million messages), carrying the newest chain position; listeners read what changed.
NOTIFY_FUNCTION = """
CREATE OR REPLACE FUNCTION tokenfleet_announce() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('tokenfleet_changes', (SELECT COALESCE(MAX(seq), 0)::text FROM new_events));
    RETURN NULL;
END $$ LANGUAGE plpgsql"""


def upgrade() -> None:
    op.create_table(
        "operators",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", inventory.register.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operators")),
        sa.UniqueConstraint("name", name=op.f("uq_operators_name")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(NOTIFY_FUNCTION)
        op.execute("CREATE TRIGGER events_announce AFTER INSERT ON events "
                   "REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT "
                   "EXECUTE FUNCTION tokenfleet_announce()")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS events_announce ON events")
        op.execute("DROP FUNCTION IF EXISTS tokenfleet_announce()")
    op.drop_table("operators")
