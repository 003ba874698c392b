"""Unlock cases say how they ended; cases left open by a lost or revoked device are closed.

Until now a locked device reported lost or revoked kept its unlock case open, so the desk counted
more open cases than locked devices and ``unlock list --open`` hid the difference by joining on
the device's status. The lifecycle now closes the case in the move's transaction, with an
``outcome`` (unlocked | lost | revoked). This migration adds the column, marks every case closed
so far as ``unlocked``, and closes the orphans: each at the first event that took its device out
of ``locked`` after the case opened (its time and actor), as ``lost`` or ``revoked`` by that
event, or — with no such event — by the device's status now, at its last status change.

No audit events are written: the moves that ended these cases are already in the trail.

Revision ID: 0014_close_orphan_unlock_cases
Revises: 0011_station_readers
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_close_orphan_unlock_cases"
down_revision: str | None = "0011_station_readers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEAVING = "('device.report_lost', 'device.revoke', 'device.unlock')"
FIRST_LEAVING = (
    "SELECT e.{col} FROM events e WHERE e.device_id = unlock_cases.device_id "
    f"AND e.action IN {LEAVING} AND e.occurred_at >= unlock_cases.opened_at "
    "ORDER BY e.seq LIMIT 1")
DEVICE = "SELECT d.{col} FROM devices d WHERE d.id = unlock_cases.device_id"
ORPHAN = ("closed_at IS NULL AND device_id IN "
          "(SELECT id FROM devices WHERE status <> 'locked')")


def upgrade() -> None:
    with op.batch_alter_table("unlock_cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("outcome", sa.String(length=20), nullable=True))
    op.execute("UPDATE unlock_cases SET outcome = 'unlocked' "
               "WHERE closed_at IS NOT NULL AND outcome IS NULL")
    # set-based: one statement for every orphan, whatever their number
    op.execute(
        "UPDATE unlock_cases SET "
        f"outcome = CASE ({FIRST_LEAVING.format(col='action')}) "
        "  WHEN 'device.report_lost' THEN 'lost' WHEN 'device.revoke' THEN 'revoked' "
        "  WHEN 'device.unlock' THEN 'unlocked' "
        f"  ELSE CASE ({DEVICE.format(col='status')}) WHEN 'lost' THEN 'lost' "
        "            WHEN 'revoked' THEN 'revoked' WHEN 'retired' THEN 'revoked' "
        "            ELSE 'unlocked' END END, "
        f"closed_at = COALESCE(({FIRST_LEAVING.format(col='occurred_at')}), "
        f"                     ({DEVICE.format(col='status_changed_at')}), opened_at), "
        f"closed_by = COALESCE(({FIRST_LEAVING.format(col='actor')}), "
        "                     '0014_close_orphan_unlock_cases') "
        f"WHERE {ORPHAN}")


def downgrade() -> None:
    with op.batch_alter_table("unlock_cases", schema=None) as batch_op:
        batch_op.drop_column("outcome")
