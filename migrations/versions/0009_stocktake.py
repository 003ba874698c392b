"""stocktake and desk readers: stocktakes with their items (issue 3), each poller desk's readers
(issue 8)

Revision ID: 0009_stocktake
Revises: 0008_access_and_notify
Create Date: 2026-11-26 22:39:39.055758
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import inventory.register.models.base

revision: str = '0009_stocktake'
down_revision: str | None = '0008_access_and_notify'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('desk_readers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('desk', sa.String(length=120), nullable=False),
    sa.Column('reader', sa.String(length=300), nullable=False),
    sa.Column('card_present', sa.Boolean(), nullable=False),
    sa.Column('atr', sa.String(length=100), nullable=True),
    sa.Column('serial', sa.String(length=64), nullable=True),
    sa.Column('profile', sa.String(length=40), nullable=True),
    sa.Column('error', sa.String(length=300), nullable=True),
    sa.Column('updated_at', inventory.register.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('heartbeat_at', inventory.register.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_desk_readers')),
    sa.UniqueConstraint('desk', 'reader', name=op.f('uq_desk_readers_desk_reader'))
    )
    op.create_table('stocktakes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('started_at', inventory.register.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('started_by', sa.String(length=120), nullable=False),
    sa.Column('finished_at', inventory.register.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_by', sa.String(length=120), nullable=True),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_stocktakes_agency_id_agencies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stocktakes'))
    )
    with op.batch_alter_table('stocktakes', schema=None) as batch_op:
        batch_op.create_index('ix_stocktakes_state', ['state'], unique=False)

    op.create_table('stocktake_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('stocktake_id', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('serial', sa.String(length=64), nullable=False),
    sa.Column('expected', sa.Boolean(), nullable=False),
    sa.Column('status_at_start', sa.String(length=20), nullable=True),
    sa.Column('scans', sa.Integer(), nullable=False),
    sa.Column('first_seen_at', inventory.register.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_seen_at', inventory.register.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_seen_host', sa.String(length=120), nullable=True),
    sa.Column('last_seen_reader', sa.String(length=300), nullable=True),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id'], name=op.f('fk_stocktake_items_device_id_devices'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['stocktake_id'], ['stocktakes.id'], name=op.f('fk_stocktake_items_stocktake_id_stocktakes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stocktake_items')),
    sa.UniqueConstraint('stocktake_id', 'kind', 'serial', name=op.f('uq_stocktake_items_stocktake_id_kind_serial'))
    )
    with op.batch_alter_table('stocktake_items', schema=None) as batch_op:
        batch_op.create_index('ix_stocktake_items_device_id', ['device_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('stocktake_items', schema=None) as batch_op:
        batch_op.drop_index('ix_stocktake_items_device_id')

    op.drop_table('stocktake_items')
    with op.batch_alter_table('stocktakes', schema=None) as batch_op:
        batch_op.drop_index('ix_stocktakes_state')

    op.drop_table('stocktakes')
    op.drop_table('desk_readers')
