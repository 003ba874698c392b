"""What the database itself enforces, for tokenfleet and ``psql`` alike (PostgreSQL), and the
seals that reveal a history rewritten by someone holding the owner's rights (both backends)."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from alembic import command
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, make_url, select, text

from inventory.cli import exit_codes
from inventory.demo import city as demo
from inventory.fleet import lifecycle
from inventory.register import audit, seal
from inventory.register import db as dbmod
from inventory.register.db import Register
from inventory.register.errors import (
    PermissionDeniedError,
    ValidationError,
)
from inventory.register.models import Base, Device, Event
from reports.monthly import monthly_report
from reports.pointintime import Period
from tests.conftest import FIXED_NOW, PgLogins, Tokenfleet, _pg_admin_engine, trail_unlocked


def raw(url: str) -> psycopg.Connection:
    """A plain psycopg connection, as ``psql`` would open (autocommit: one statement each)."""
    return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"),
                           autocommit=True)


@pytest.fixture
def city(pg_url: str) -> Iterator[Register]:
    reg = Register.open(pg_url)
    with reg.session() as s:
        demo.generate(s.connection(), devices=120, seed=3, now=FIXED_NOW)
    yield reg
    reg.dispose()


def _issued(reg: Register) -> tuple[int, str]:
    with reg.read() as s:
        row = s.execute(select(Device.id, Device.serial).where(Device.status == "issued")
                        .order_by(Device.id).limit(1)).one()
    return row.id, row.serial


# --- roles the database enforces ------------------------------------------------------------

def test_a_viewer_cannot_write_any_table(city: Register, pg_logins: PgLogins) -> None:
    viewer = pg_logins.make("vic", "viewer")
    with raw(pg_logins.url_of(viewer)) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")]
        assert set(tables) >= {t.name for t in Base.metadata.sorted_tables} | {"alembic_version"}
        for table in tables:
            column = conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
                "ORDER BY ordinal_position LIMIT 1", (table,)).fetchone()[0]  # type: ignore[index]
            assert conn.execute(f"SELECT count(*) FROM {table}").fetchone() is not None
            for statement in (f"INSERT INTO {table} DEFAULT VALUES",
                              f"UPDATE {table} SET {column} = {column}",
                              f"DELETE FROM {table}", f"TRUNCATE {table}"):
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    conn.execute(statement)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT tokenfleet_set_login(%s, 'admin', false, NULL)", (viewer,))


def test_the_trail_is_append_only_and_names_who_is_connected(city: Register,
                                                             pg_logins: PgLogins) -> None:
    olga = pg_logins.make("olga", "operator")
    with raw(pg_logins.url_of(olga)) as conn:
        for statement in ("UPDATE events SET summary = 'x'", "DELETE FROM events",
                          "TRUNCATE events", "DELETE FROM audit_head"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
        with pytest.raises(psycopg.errors.InsufficientPrivilege,
                           match=f"append-only: {olga} may not move its head back"):
            conn.execute("UPDATE audit_head SET last_seq = last_seq - 1")
        insert = ("INSERT INTO events (seq, occurred_at, actor, action, entity_type, prev_hash, "
                  "hash) VALUES (1000000, now(), %s, 'device.lock', 'device', 'x', 'y')")
        with pytest.raises(psycopg.errors.InsufficientPrivilege,
                           match=f"connected as {olga}: an audit event must name who is "
                                 "connected, not boss"):
            conn.execute(insert, ("boss",))
        with conn.transaction(force_rollback=True):
            conn.execute(insert, (olga,))  # in its own name, it may append
    # the trigger holds for the schema's owner too: only disabling it gets around it
    with raw(str(city.engine.url.render_as_string(hide_password=False))) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege,
                           match="append-only: postgres may not update events"):
            conn.execute("UPDATE events SET summary = 'x'")
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="may not delete"):
            conn.execute("DELETE FROM events")


def test_only_admins_retire_and_edit_agencies_and_pollers_only_lock(city: Register,
                                                                    pg_logins: PgLogins) -> None:
    device_id, _ = _issued(city)
    olga, station = pg_logins.make("olga", "operator"), pg_logins.make("station", "poller")
    admin = pg_logins.make("boss", "admin")
    with raw(pg_logins.url_of(olga)) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege,
                           match=f"{olga} may not retire device .*: admins only"):
            conn.execute("UPDATE devices SET status = 'retired' WHERE id = %s", (device_id,))
        for statement in ("UPDATE agencies SET name = name", "INSERT INTO operators "
                          "(name, role, active, created_at, created_by) VALUES "
                          "('x', 'admin', true, now(), 'x')", "DELETE FROM devices"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
        with conn.transaction(force_rollback=True):
            conn.execute("UPDATE devices SET status = 'lost' WHERE id = %s", (device_id,))
    with raw(pg_logins.url_of(station)) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege,
                           match=f"{station} may only mark a device locked"):
            conn.execute("UPDATE devices SET status = 'in_stock' WHERE id = %s", (device_id,))
        for statement in ("UPDATE devices SET notes = 'x'", "UPDATE holders SET title = 'x'",
                          "INSERT INTO service_requests DEFAULT VALUES"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
        with conn.transaction(force_rollback=True):
            conn.execute("UPDATE devices SET status = 'locked', lock_count = lock_count + 1, "
                         "pin_tries_left = 0 WHERE id = %s", (device_id,))
    with raw(pg_logins.url_of(admin)) as conn, conn.transaction(force_rollback=True):
        conn.execute("UPDATE agencies SET name = name || ' (mới)'")


def test_a_row_changed_by_the_owner_without_an_event_is_named(city: Register,
                                                              tokenfleet: Tokenfleet
                                                              ) -> None:
    url = city.engine.url.render_as_string(hide_password=False)
    assert tokenfleet("--db", url, "audit", "verify")[0] == 0
    device_id, serial = _issued(city)
    with city.engine.begin() as conn:
        conn.execute(text("UPDATE devices SET status = 'retired' WHERE id = :id"),
                     {"id": device_id})
    code, _, err = tokenfleet("--db", url, "audit", "verify")
    assert code == exit_codes.AUDIT_CHAIN_BROKEN
    assert (f"device {serial}: status is retired in the register, but issued by the audit "
            "trail") in err and "changed without an event" in err
    code, _, err = tokenfleet("--db", url, "db", "check")
    assert code == exit_codes.AUDIT_CHAIN_BROKEN and serial in err


# --- the upgrade path -----------------------------------------------------------------------

def test_todays_operators_become_login_roles_with_the_same_roles(
        tokenfleet: Tokenfleet, pg_template: str | None) -> None:
    from tests.conftest import _need_pg

    _need_pg()
    admin = _pg_admin_engine()
    db_name = f"tf_upgrade_{uuid.uuid4().hex[:8]}"
    suffix = uuid.uuid4().hex[:6]
    names = {f"an_{suffix}": "admin", f"olga_{suffix}": "operator", f"vic_{suffix}": "viewer"}
    gone = f"gone_{suffix}"
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {db_name}"))
    url = admin.url.set(database=db_name).render_as_string(hide_password=False)
    engine = dbmod.make_engine(url)
    try:
        cfg = dbmod.alembic_config(engine)
        with engine.connect() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0011_station_readers")  # today's schema, before the roles
            conn.commit()
        with engine.begin() as conn:
            for name, role in [*names.items(), (gone, "viewer"), ("postgres", "admin")]:
                conn.execute(text("INSERT INTO operators (name, role, active, created_at, "
                                  "created_by) VALUES (:n, :r, :a, now(), 'boot')"),
                             {"n": name, "r": role, "a": name != gone})
        dbmod.upgrade(engine)  # what `tokenfleet db upgrade` does
        with engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT u.rolname, u.rolcanlogin, g.rolname FROM pg_roles u JOIN pg_auth_members"
                " m ON m.member = u.oid JOIN pg_roles g ON g.oid = m.roleid WHERE u.rolname = "
                "ANY(:n) AND g.rolname LIKE 'tokenfleet%'"), {"n": [*names, gone]}).all()
            postgres = conn.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = "
                                         "'postgres'")).scalar()
        assert {(n, login, group) for n, login, group in rows} == {
            (n, True, f"tokenfleet_{r}") for n, r in names.items()}
        assert postgres  # a superuser's name among the operators is left alone
        for name, role in names.items():
            who = make_url(url).set(username=name).render_as_string(hide_password=False)
            code, out, err = tokenfleet("--db", who, "operator", "whoami")
            assert (code, out.strip()) == (0, f"{name} ({role})"), err
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {db_name} WITH (FORCE)"))
            for name in [*names, gone]:
                conn.execute(text(f'DROP ROLE IF EXISTS "{name}"'))
        admin.dispose()


# --- seals (both backends) ------------------------------------------------------------------

def _copy(reg: Register, tmp_path: Path, name: str) -> str:
    """A copy of the register (another database / file), as a tamperer's copy would be."""
    url = reg.engine.url
    if url.get_backend_name() == "sqlite":
        target = tmp_path / f"{name}.sqlite3"
        src, dest = sqlite3.connect(str(url.database)), sqlite3.connect(target)
        src.backup(dest)
        src.close()
        dest.close()
        return f"sqlite:///{target}"
    reg.dispose()
    admin = _pg_admin_engine()
    copy = f"{url.database}_{name}"
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {copy} TEMPLATE {url.database}"))
    admin.dispose()
    return url.set(database=copy).render_as_string(hide_password=False)


def _drop_copies(urls: list[str]) -> None:
    admin = None
    for url in urls:
        parsed = make_url(url)
        if parsed.get_backend_name() == "postgresql":
            admin = admin or _pg_admin_engine()
            with admin.connect() as conn:
                conn.execute(text(f"DROP DATABASE IF EXISTS {parsed.database} WITH (FORCE)"))
    if admin is not None:
        admin.dispose()


def _non_device_events(reg: Register, n: int) -> None:
    """Appends that change no device (new holders): the tail a tamperer could cut unseen."""
    with reg.session() as s:
        from inventory.fleet.queries import agency_by_code

        agency = agency_by_code(s, "STC")
        for i in range(n):
            lifecycle.add_holder(s, full_name=f"Người Mới {i}", agency=agency,
                                 actor=str(reg.engine.url.username or "t"))


def _rewrite_from(url: str, position: int) -> None:
    """As the schema owner: change the event at ``position`` and recompute every hash after
    it with the project's own ``event_hash``, moving the head along — a careful forgery."""
    reg = Register.open(url)
    try:
        with reg.read() as s:
            events = s.scalars(select(Event).where(Event.seq >= position)
                               .order_by(Event.seq)).all()
            prev = events[0].prev_hash
            rows = []
            for ev in events:
                summary = "sửa lại" if ev.seq == position else ev.summary
                digest = audit.event_hash(seq=ev.seq, occurred_at=ev.occurred_at,
                                          actor=ev.actor, action=ev.action,
                                          entity_type=ev.entity_type, entity_id=ev.entity_id,
                                          device_id=ev.device_id, summary=summary,
                                          before=ev.before, after=ev.after, prev_hash=prev)
                rows.append({"id": ev.id, "summary": summary, "prev": prev, "hash": digest})
                prev = digest
        with trail_unlocked(reg.engine) as conn:
            conn.execute(text("UPDATE events SET summary = :summary, prev_hash = :prev, "
                              "hash = :hash WHERE id = :id"), rows)
            conn.execute(text("UPDATE audit_head SET last_hash = :h"), {"h": prev})
    finally:
        reg.dispose()


def _truncate_after(url: str, position: int) -> None:
    reg = Register.open(url)
    try:
        with trail_unlocked(reg.engine) as conn:
            last = conn.scalar(select(Event.hash).where(Event.seq == position))
            conn.execute(text("DELETE FROM events WHERE seq > :p"), {"p": position})
            conn.execute(text("UPDATE audit_head SET last_seq = :p, last_hash = :h"),
                         {"p": position, "h": last})
    finally:
        reg.dispose()


def test_a_seal_reveals_a_rewritten_or_truncated_history(demo_register: Register, db_url: str,
                                                         tmp_path: Path,
                                                         tokenfleet: Tokenfleet
                                                         ) -> None:
    code, old_seal, _ = tokenfleet("--db", db_url, "audit", "seal")
    assert code == 0 and old_seal.startswith("tokenfleet-seal v1 position=")
    old = seal.parse(old_seal)
    report = tmp_path / "fleet-2026-10.xlsx"
    monthly_report(demo_register, period=Period(2026, 10), output=report, now=FIXED_NOW)
    _non_device_events(demo_register, 3)
    new_line = tokenfleet("--db", db_url, "audit", "seal")[1].strip()
    new = seal.parse(new_line)
    assert new.position == old.position + 3
    seals = tmp_path / "seals.txt"
    seals.write_text(f"{old_seal}{new_line}\n", encoding="utf-8")
    # an untouched register verifies against an old seal, a newer one and a report's
    for argument in (old_seal.strip(), str(seals), str(report)):
        code, out, err = tokenfleet("--db", db_url, "audit", "verify", "--seal", argument)
        assert code == 0, err
        assert "matches" in out
    copies: list[str] = []
    try:
        rewritten = _copy(demo_register, tmp_path, "rewritten")
        copies.append(rewritten)
        truncated = _copy(demo_register, tmp_path, "truncated")
        copies.append(truncated)
        _rewrite_from(rewritten, old.position + 2)
        _truncate_after(truncated, old.position + 1)
        for url in (rewritten, truncated):  # the chain alone cannot tell
            code, _, err = tokenfleet("--db", url, "audit", "verify")
            assert code == 0, err
        code, _, err = tokenfleet("--db", rewritten, "audit", "verify", "--seal", str(seals))
        assert code == exit_codes.AUDIT_CHAIN_BROKEN
        assert f"chain position {new.position}: the audit trail no longer matches" in err
        assert (f"the change lies in positions {old.position + 1}–{new.position}: it still "
                f"matches the seal at {old.position}") in err
        code, _, err = tokenfleet("--db", truncated, "audit", "verify", "--seal", new_line)
        assert code == exit_codes.AUDIT_CHAIN_BROKEN
        assert (f"chain position {old.position + 2}: the audit trail ends at position "
                f"{old.position + 1}, but the seal given") in err
        assert f"events {old.position + 2}–{new.position} were removed" in err
        # the report's seal (the month's end, before all of this) still holds on both
        for url in (rewritten, truncated):
            assert tokenfleet("--db", url, "audit", "verify", "--seal", str(report))[0] == 0
    finally:
        _drop_copies(copies)


def test_signed_seals(demo_register: Register, db_url: str, tmp_path: Path,
                      tokenfleet: Tokenfleet) -> None:
    keys = {}
    for who in ("office", "someone"):
        key = Ed25519PrivateKey.generate()
        private, public = tmp_path / f"{who}.key", tmp_path / f"{who}.pub"
        private.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                              serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption()))
        public.write_bytes(key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
        keys[who] = (str(private), str(public))
    code, signed, _ = tokenfleet("--db", db_url, "audit", "seal", "--sign-key",
                          keys["office"][0])
    assert code == 0 and " sig=ed25519:" in signed
    unsigned = tokenfleet("--db", db_url, "audit", "seal")[1].strip()
    ok = tokenfleet("--db", db_url, "audit", "verify", "--seal", signed.strip(),
             "--verify-key", keys["office"][1])
    assert ok[0] == 0, ok[2]
    code, _, err = tokenfleet("--db", db_url, "audit", "verify", "--seal", signed.strip(),
                       "--verify-key", keys["someone"][1])
    assert code == exit_codes.DATA_INVALID and "does not verify" in err
    code, _, err = tokenfleet("--db", db_url, "audit", "verify", "--seal", unsigned,
                       "--verify-key", keys["office"][1])
    assert code == exit_codes.DATA_INVALID and "not signed" in err
    forged = seal.parse(signed).line.replace("position=", "position=1")
    code, _, err = tokenfleet("--db", db_url, "audit", "verify", "--seal", forged,
                       "--verify-key", keys["office"][1])
    assert code == exit_codes.DATA_INVALID and "does not verify" in err
    out = tmp_path / "signed.xlsx"
    monthly_report(demo_register, period=Period(2026, 10), output=out, now=FIXED_NOW,
                   seal_key=keys["office"][0])
    assert tokenfleet("--db", db_url, "audit", "verify", "--seal", str(out), "--verify-key",
               keys["office"][1])[0] == 0


def test_seal_lines_parse_and_refuse_garbage(tmp_path: Path) -> None:
    line = ("tokenfleet-seal v1 position=12 hash=" + "ab" * 32 + " time=2026-11-01T00:00:00Z")
    s = seal.parse(f"kept in the safe: {line}")
    assert (s.position, s.hash, s.time) == (12, "ab" * 32, datetime(2026, 11, 1, tzinfo=UTC))
    assert s.line == line
    for bad in ("tokenfleet-seal v1 position=x", "nothing here"):
        with pytest.raises(ValidationError, match="not a tokenfleet seal"):
            seal.parse(bad)
    empty = tmp_path / "empty.txt"
    empty.write_text("no seal\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="holds no tokenfleet seal"):
        seal.read(str(empty))
    with pytest.raises(ValidationError, match="neither a seal line nor a readable file"):
        seal.read(str(tmp_path / "missing.txt"))


def test_a_seal_of_a_longer_chain_does_not_fit_a_shorter_one(register: Register, db_url: str,
                                                             tokenfleet: Tokenfleet
                                                             ) -> None:
    line = "tokenfleet-seal v1 position=5 hash=" + "0" * 64 + " time=2026-11-01T00:00:00Z"
    code, _, err = tokenfleet("--db", db_url, "audit", "verify", "--seal", line)
    assert code == exit_codes.AUDIT_CHAIN_BROKEN and "events 1–5 were removed" in err
    assert tokenfleet("--db", db_url, "audit", "verify", "--seal",
               "tokenfleet-seal v1 position=0 hash=" + "0" * 64 +
               " time=2026-11-01T00:00:00Z")[0] == 0
    with register.read() as s:
        assert s.scalar(select(func.count()).select_from(Event)) == 0


def test_refusals_are_permission_errors(city: Register, pg_logins: PgLogins) -> None:
    viewer = Register.open(pg_logins.url_of(pg_logins.make("vic", "viewer")))
    try:
        with pytest.raises(PermissionDeniedError, match="may only read"), viewer.session():
            pass
    finally:
        viewer.dispose()
