"""A stable key for every holder, so an export re-imports exactly (issue 13).

Exports carried the holder's name, and two holders of the same name in one agency were taken
for one. Every holder now has ``key`` (16 hex digits, random, unique): exports write it, imports
match on it first — across registers too, since a key is not an id that another register reuses.
Existing holders get random keys here; new ones from the model's default. The column is added
without a batch copy, which on SQLite would drop the holders' search triggers.

Revision ID: 0013_holder_keys
Revises: 0014_close_orphan_unlock_cases
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_holder_keys"
down_revision: str | None = "0014_close_orphan_unlock_cases"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("holders", sa.Column("key", sa.String(length=32), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute('UPDATE holders SET "key" = substr(md5(random()::text || clock_timestamp()'
                   '::text || id::text), 1, 16)')
    else:
        op.execute('UPDATE holders SET "key" = lower(hex(randomblob(8)))')
    op.create_index("ix_holders_key", "holders", ["key"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_holders_key", table_name="holders")
    # Not a batch copy (SQLite would drop and rebuild holders, which other tables reference):
    # both databases drop a column that no index or constraint uses.
    op.execute('ALTER TABLE holders DROP COLUMN "key"')
