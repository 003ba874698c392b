"""The unlock desk: one case per lock-out of a device (issue 7).

Revision ID: 0007_unlock_desk
Revises: 0002
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import inventory.register.models.base

revision: str = "0007_unlock_desk"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = inventory.register.models.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "unlock_cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=True),
        sa.Column("holder_id", sa.Integer(), nullable=True),
        sa.Column("opened_at", UTC_DATETIME, nullable=False),
        sa.Column("opened_by", sa.String(length=120), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("lock_reason", sa.Text(), nullable=True),
        sa.Column("brought_by", sa.String(length=200), nullable=True),
        sa.Column("brought_at", UTC_DATETIME, nullable=True),
        sa.Column("unlock_method", sa.String(length=120), nullable=True),
        sa.Column("closed_at", UTC_DATETIME, nullable=True),
        sa.Column("closed_by", sa.String(length=120), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["agency_id"], ["agencies.id"],
                                name=op.f("fk_unlock_cases_agency_id_agencies")),
        sa.ForeignKeyConstraint(["device_id"], ["devices.id"],
                                name=op.f("fk_unlock_cases_device_id_devices")),
        sa.ForeignKeyConstraint(["holder_id"], ["holders.id"],
                                name=op.f("fk_unlock_cases_holder_id_holders")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unlock_cases")),
    )
    with op.batch_alter_table("unlock_cases", schema=None) as batch_op:
        batch_op.create_index("ix_unlock_cases_agency_id", ["agency_id"], unique=False)
        batch_op.create_index("ix_unlock_cases_closed_at", ["closed_at"], unique=False)
        batch_op.create_index("ix_unlock_cases_device_id_closed_at", ["device_id", "closed_at"],
                              unique=False)
        batch_op.create_index("ix_unlock_cases_opened_at", ["opened_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("unlock_cases", schema=None) as batch_op:
        batch_op.drop_index("ix_unlock_cases_opened_at")
        batch_op.drop_index("ix_unlock_cases_device_id_closed_at")
        batch_op.drop_index("ix_unlock_cases_closed_at")
        batch_op.drop_index("ix_unlock_cases_agency_id")
    op.drop_table("unlock_cases")
