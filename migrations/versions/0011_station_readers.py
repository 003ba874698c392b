"""Poller stations: ``desk_readers`` becomes ``station_readers`` and its ``desk`` column ``station``.

"Desk" now means only the service desk; a PC with readers and a poller is a station. The rows
are kept (a rename, not a copy), so every station's readers and heartbeat survive the upgrade.

Revision ID: 0011_station_readers
Revises: 0010_devices_kind_status
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_station_readers"
down_revision: str | None = "0010_devices_kind_status"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _rename(old_table: str, new_table: str, old_column: str, new_column: str) -> None:
    op.rename_table(old_table, new_table)
    if op.get_bind().dialect.name == "postgresql":  # SQLite's batch copy names them anew
        op.execute(f"ALTER SEQUENCE {old_table}_id_seq RENAME TO {new_table}_id_seq")
    with op.batch_alter_table(new_table, schema=None) as batch_op:
        batch_op.drop_constraint(f"uq_{old_table}_{old_column}_reader", type_="unique")
        batch_op.drop_constraint(f"pk_{old_table}", type_="primary")
        batch_op.alter_column(old_column, new_column_name=new_column,
                              existing_type=sa.String(length=120), existing_nullable=False)
        batch_op.create_primary_key(f"pk_{new_table}", ["id"])
    with op.batch_alter_table(new_table, schema=None) as batch_op:  # on the renamed column
        batch_op.create_unique_constraint(f"uq_{new_table}_{new_column}_reader",
                                          [new_column, "reader"])


def upgrade() -> None:
    _rename("desk_readers", "station_readers", "desk", "station")


def downgrade() -> None:
    _rename("station_readers", "desk_readers", "station", "desk")
