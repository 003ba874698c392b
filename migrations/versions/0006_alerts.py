"""alerts: the alert ledger (once per threshold) and the alert job's heartbeat

Revision ID: 0006_alerts
Revises: 0007_unlock_desk
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import inventory.register.models.base

revision: str = "0006_alerts"
down_revision: str | None = "0007_unlock_desk"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, inventory.register.models.base.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "alert_ledger",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=30), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("threshold", sa.Integer(), nullable=False),
        sa.Column("episode", sa.Integer(), nullable=False),
        sa.Column("recipient", sa.String(length=200), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=True),
        sa.Column("agency_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        _when("created_at", nullable=False),
        _when("sent_at"),
        _when("snoozed_until"),
        _when("acked_at"),
        sa.Column("acked_by", sa.String(length=120), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_ledger")),
        sa.UniqueConstraint("rule", "subject_id", "threshold", "episode", "recipient",
                            name="uq_alert_ledger_once"),
    )
    op.create_index("ix_alert_ledger_device_id", "alert_ledger", ["device_id"])
    op.create_index("ix_alert_ledger_state", "alert_ledger", ["state"])
    op.create_table(
        "alert_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        _when("started_at", nullable=False),
        _when("finished_at"),
        sa.Column("host", sa.String(length=120), nullable=False),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_runs")),
    )
    op.create_index("ix_alert_runs_started_at", "alert_runs", ["started_at"])


def downgrade() -> None:
    op.drop_index("ix_alert_runs_started_at", table_name="alert_runs")
    op.drop_table("alert_runs")
    op.drop_index("ix_alert_ledger_state", table_name="alert_ledger")
    op.drop_index("ix_alert_ledger_device_id", table_name="alert_ledger")
    op.drop_table("alert_ledger")
