"""Migration 0015_ca_trust upgrades a register that holds data, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from inventory.demo import city as demo
from inventory.fleet.certificates import name_key_of_text
from inventory.register import db as dbmod


def before_ca() -> str:
    """The revision 0015_ca_trust upgrades from (whatever it is after a rebase)."""
    from alembic.script import ScriptDirectory

    down = ScriptDirectory.from_config(dbmod.alembic_config()).get_revision(
        "0015_ca_trust").down_revision
    assert isinstance(down, str)
    return down

NOW = datetime(2026, 11, 15, 9, 0, tzinfo=UTC)


def test_upgrade_brings_existing_certificates_along(empty_url: str,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    engine = dbmod.make_engine(empty_url)
    dbmod.upgrade(engine, before_ca())
    # the demo moves every model's id sequence; the tables of 0015 do not exist yet
    monkeypatch.setattr(demo, "sync_sequences", lambda conn: None)
    with engine.begin() as conn:
        demo.generate(conn, devices=200, seed=3, now=NOW)
        device_id = conn.scalar(text("SELECT min(id) FROM devices"))
        last = conn.scalar(text("SELECT max(id) FROM certificates"))
        for n, serial in enumerate(("00:0a:bc:de", " 0000FF ", "VT-0001", "0"), start=1):
            conn.execute(text(
                "INSERT INTO certificates (id, device_id, serial, not_before, not_after, "
                "status, created_at) VALUES (:id, :d, :s, :t, :t, 'superseded', :t)"),
                {"id": last + n, "d": device_id, "s": serial,
                 "t": NOW.replace(tzinfo=None) if conn.dialect.name == "sqlite" else NOW})
        revoked_before = conn.scalar(text(
            "SELECT count(*) FROM certificates WHERE status = 'revoked'"))
    assert revoked_before
    dbmod.upgrade(engine)
    assert dbmod.current_revision(engine) == dbmod.SCHEMA_HEAD
    with engine.connect() as conn:
        serials = set(conn.scalars(text(
            "SELECT serial FROM certificates WHERE device_id = (SELECT min(id) FROM devices)")))
        assert {"ABCDE", "FF", "VT-0001", "0"} <= serials
        keys = set(conn.scalars(text("SELECT DISTINCT issuer_key FROM certificates "
                                     "WHERE issuer IS NOT NULL")))
        assert keys == {name_key_of_text(demo.CA_ISSUER)}
        # every revoked certificate got its device's revocation time
        mismatched = conn.scalar(text(
            "SELECT count(*) FROM certificates c WHERE c.status = 'revoked' AND "
            "(c.revoked_at IS NULL OR c.revoked_at <> (SELECT max(e.occurred_at) FROM events e "
            "WHERE e.device_id = c.device_id AND e.action = 'device.revoke'))"))
        assert mismatched == 0
        assert conn.scalar(text("SELECT count(*) FROM certificates WHERE chain IS NOT NULL")) == 0
    engine.dispose()
