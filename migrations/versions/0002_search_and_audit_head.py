"""Diacritic-insensitive search indexes and the audit chain's head row.

SQLite: FTS5 trigram tables over the folded names, kept in step by triggers.
PostgreSQL: pg_trgm GIN indexes over the folded names (``LIKE '%…%'`` uses them).

Revision ID: 0002
Revises: 0001
"""
from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEARCHED = (("holder_search", "holders"), ("agency_search", "agencies"))


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for fts, table in SEARCHED:
            op.execute(f"CREATE VIRTUAL TABLE {fts} USING fts5(name_folded, content='{table}', "
                       "content_rowid='id', tokenize='trigram')")
            op.execute(f"INSERT INTO {fts}(rowid, name_folded) SELECT id, name_folded FROM {table}")
            op.execute(f"""CREATE TRIGGER {fts}_ai AFTER INSERT ON {table} BEGIN
                INSERT INTO {fts}(rowid, name_folded) VALUES (new.id, new.name_folded); END""")
            op.execute(f"""CREATE TRIGGER {fts}_ad AFTER DELETE ON {table} BEGIN
                INSERT INTO {fts}({fts}, rowid, name_folded)
                VALUES ('delete', old.id, old.name_folded); END""")
            op.execute(f"""CREATE TRIGGER {fts}_au AFTER UPDATE OF name_folded ON {table} BEGIN
                INSERT INTO {fts}({fts}, rowid, name_folded)
                VALUES ('delete', old.id, old.name_folded);
                INSERT INTO {fts}(rowid, name_folded) VALUES (new.id, new.name_folded); END""")
    else:
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for _, table in SEARCHED:
            op.execute(f"CREATE INDEX ix_search_{table}_name_folded ON {table} "
                       "USING gin (name_folded gin_trgm_ops)")
    op.execute("INSERT INTO audit_head (id, last_seq, last_hash) VALUES (1, 0, '" + "0" * 64 + "')")


def downgrade() -> None:
    op.execute("DELETE FROM audit_head WHERE id = 1")
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for fts, _ in SEARCHED:
            for suffix in ("ai", "ad", "au"):
                op.execute(f"DROP TRIGGER IF EXISTS {fts}_{suffix}")
            op.execute(f"DROP TABLE IF EXISTS {fts}")
    else:
        for _, table in SEARCHED:
            op.execute(f"DROP INDEX IF EXISTS ix_search_{table}_name_folded")
