"""CA reconciliation (issue 15): trust anchors, the newest CRL per issuer, and certificates kept
as the CA wrote them (DER, DER-exact issuer and its canonical key, when the register revoked them,
what path validation found).

Existing rows are brought along: typed serials are rewritten as the integer's upper-case hex
(``0a:1b`` → ``A1B``), the canonical key of each distinct issuer text is computed once, and a
revoked certificate's ``revoked_at`` is its device's revocation event (or status change).

Revision ID: 0015_ca_trust
Revises: 0012_database_roles
"""
import hashlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import inventory.register.models.base

revision: str = "0015_ca_trust"
down_revision: str | None = "0012_database_roles"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _name_key(text: str | None) -> str | None:
    """The canonical key of an RFC 4514 issuer text, as ``inventory.fleet.certificates`` makes
    it (kept here so that later changes to the code do not change this migration)."""
    from asn1crypto import x509 as asn1_x509
    from cryptography import x509

    if not text or not text.strip():
        return None
    try:
        der = x509.Name.from_rfc4514_string(text.strip()).public_bytes()
    except ValueError:
        return None
    return hashlib.sha256(asn1_x509.Name.load(der).hashable.encode("utf-8")).hexdigest()


def upgrade() -> None:
    op.create_table(
        "ca_trust_anchors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=600), nullable=False),
        sa.Column("subject_key", sa.String(length=64), nullable=False),
        sa.Column("fingerprint_sha256", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=128), nullable=True),
        sa.Column("not_before", inventory.register.models.base.UTCDateTime(timezone=True),
                  nullable=False),
        sa.Column("not_after", inventory.register.models.base.UTCDateTime(timezone=True),
                  nullable=False),
        sa.Column("self_signed", sa.Boolean(), nullable=False),
        sa.Column("der", sa.LargeBinary(), nullable=False),
        sa.Column("added_at", inventory.register.models.base.UTCDateTime(timezone=True),
                  nullable=False),
        sa.Column("added_by", sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ca_trust_anchors")),
        sa.UniqueConstraint("fingerprint_sha256",
                            name=op.f("uq_ca_trust_anchors_fingerprint_sha256")),
    )
    with op.batch_alter_table("ca_trust_anchors", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ca_trust_anchors_subject_key"), ["subject_key"],
                              unique=False)
    op.create_table(
        "ca_crls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issuer", sa.String(length=600), nullable=False),
        sa.Column("issuer_key", sa.String(length=64), nullable=False),
        sa.Column("anchor_id", sa.Integer(), nullable=False),
        sa.Column("crl_number", sa.String(length=60), nullable=True),
        sa.Column("this_update", inventory.register.models.base.UTCDateTime(timezone=True),
                  nullable=False),
        sa.Column("next_update", inventory.register.models.base.UTCDateTime(timezone=True),
                  nullable=True),
        sa.Column("entry_count", sa.Integer(), nullable=False),
        sa.Column("entries", sa.Text(), nullable=False),
        sa.Column("der", sa.LargeBinary(), nullable=False),
        sa.Column("fingerprint_sha256", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column("imported_at", inventory.register.models.base.UTCDateTime(timezone=True),
                  nullable=False),
        sa.Column("imported_by", sa.String(length=120), nullable=False),
        sa.ForeignKeyConstraint(["anchor_id"], ["ca_trust_anchors.id"],
                                name=op.f("fk_ca_crls_anchor_id_ca_trust_anchors"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ca_crls")),
        sa.UniqueConstraint("issuer_key", name=op.f("uq_ca_crls_issuer_key")),
    )
    with op.batch_alter_table("ca_crls", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ca_crls_anchor_id"), ["anchor_id"], unique=False)

    # New nullable columns: SQLite adds them in place (no copy of a million-row table).
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.add_column(sa.Column("issuer_der", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("issuer_key", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("der", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column(
            "revoked_at", inventory.register.models.base.UTCDateTime(timezone=True),
            nullable=True))
        batch_op.add_column(sa.Column("chain", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("chain_note", sa.String(length=300), nullable=True))

    conn = op.get_bind()
    # Serials as the integer's hex: separators and leading zeros dropped, upper case. Only
    # values made of hex digits are touched, and only rows that change are written.
    compact = "upper(replace(replace(serial, ':', ''), ' ', ''))"
    stripped = f"ltrim({compact}, '0')"
    normal = f"CASE WHEN {stripped} = '' THEN '0' ELSE {stripped} END"
    is_hex = (f"{compact} NOT GLOB '*[^0-9A-F]*'" if conn.dialect.name == "sqlite"
              else f"{compact} ~ '^[0-9A-F]+$'")
    conn.execute(sa.text(f"UPDATE certificates SET serial = {normal} "
                         f"WHERE {compact} <> '' AND {is_hex} AND serial <> {normal}"))
    # Canonical issuer keys: few distinct issuers, however many certificates.
    issuers = [row[0] for row in conn.execute(sa.text(
        "SELECT DISTINCT issuer FROM certificates WHERE issuer IS NOT NULL"))]
    for issuer in issuers:
        key = _name_key(issuer)
        if key is not None:
            conn.execute(sa.text("UPDATE certificates SET issuer_key = :k WHERE issuer = :i"),
                         {"k": key, "i": issuer})
    # When the register revoked each revoked certificate: its device's last revocation event
    # (one grouped read over the action index, then indexed updates by device).
    revocations = [{"d": d, "at": at} for d, at in conn.execute(sa.text(
        "SELECT device_id, max(occurred_at) FROM events WHERE action = 'device.revoke' "
        "AND device_id IS NOT NULL GROUP BY device_id"))]
    if revocations:
        conn.execute(sa.text("UPDATE certificates SET revoked_at = :at "
                             "WHERE device_id = :d AND status = 'revoked'"), revocations)
    conn.execute(sa.text(
        "UPDATE certificates SET revoked_at = (SELECT d.status_changed_at FROM devices d "
        "WHERE d.id = certificates.device_id) WHERE status = 'revoked' AND revoked_at IS NULL"))
    if conn.dialect.name == "postgresql":
        _grants()


def _grants() -> None:
    """Under the database roles (0012): the default privileges let every role read the new
    tables and operators and admins write them; what the register believes of the CA (its trust
    anchors and revocation lists) is an admin's alone. The tables hold no agency's rows: no
    row-level security. (A server without the group roles has nothing to revoke.)"""
    op.execute("""DO $$ BEGIN
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tokenfleet_operator') THEN
            REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON ca_trust_anchors, ca_crls
                FROM tokenfleet_operator, tokenfleet_poller;
        END IF;
    END $$""")


def downgrade() -> None:
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.drop_column("chain_note")
        batch_op.drop_column("chain")
        batch_op.drop_column("revoked_at")
        batch_op.drop_column("der")
        batch_op.drop_column("issuer_key")
        batch_op.drop_column("issuer_der")
    with op.batch_alter_table("ca_crls", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ca_crls_anchor_id"))
    op.drop_table("ca_crls")
    with op.batch_alter_table("ca_trust_anchors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ca_trust_anchors_subject_key"))
    op.drop_table("ca_trust_anchors")
