"""Index devices on (kind, status): the dashboard's and reports' counts read only the index.

Revision ID: 0010_devices_kind_status
Revises: 0009_stocktake
"""
from collections.abc import Sequence

from alembic import op

revision: str = "0010_devices_kind_status"
down_revision: str | None = "0009_stocktake"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.create_index("ix_devices_kind_status", ["kind", "status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.drop_index("ix_devices_kind_status")
