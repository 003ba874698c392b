"""Issue 13, "restore can wipe the register": ``db restore`` checks the backup (a tokenfleet
register of a known revision whose chain verifies) before it replaces anything, keeps the
register it replaces beside it, and is for admins (or the database owner)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from inventory.demo import city as demo
from inventory.fleet import lifecycle
from inventory.register.db import Register
from inventory.register.models import Device, Event
from tests.conftest import FIXED_NOW, PgLogins, Tokenfleet, trail_unlocked


def snapshot(register: Register) -> tuple[int, int, str]:
    with register.read() as s:
        return (s.scalar(select(func.count()).select_from(Device)) or 0,
                s.scalar(select(func.count()).select_from(Event)) or 0,
                s.scalar(select(Event.hash).order_by(Event.seq.desc()).limit(1)) or "")


def _backup(tokenfleet: Tokenfleet, db_url: str, path: Path) -> Path:
    assert tokenfleet("--db", db_url, "db", "backup", str(path))[0] == 0
    return path


def _kept_files(db_url: str, register: Register, tmp_path: Path) -> list[Path]:
    if register.engine.dialect.name == "sqlite":
        return sorted(tmp_path.glob("register.before-restore-*"))
    return sorted(tmp_path.glob("*.before-restore-*"))


def test_restore_cannot_wipe_the_register_foreign_sqlite_file(
        demo_register: Register, db_url: str, tmp_path: Path,
        tokenfleet: Tokenfleet) -> None:
    foreign = tmp_path / "f.sqlite3"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    before = snapshot(demo_register)
    code, _, err = tokenfleet("--db", db_url, "db", "restore", str(foreign), "--yes")
    assert code == 65, err
    assert "nothing was restored" in err and str(foreign) in err and err.count("\n") == 1
    assert snapshot(demo_register) == before
    assert _kept_files(db_url, demo_register, tmp_path) == []


def test_restore_cannot_wipe_the_register_csv_file_is_a_message(
        demo_register: Register, db_url: str, tmp_path: Path,
        tokenfleet: Tokenfleet) -> None:
    good_csv = tmp_path / "good.csv"
    good_csv.write_text("serial,kind\nT1,usb_token\n", encoding="utf-8")
    before = snapshot(demo_register)
    code, _, err = tokenfleet("--db", db_url, "db", "restore", str(good_csv), "--yes")
    assert code == 65 and "Traceback" not in err and "good.csv" in err, err
    assert snapshot(demo_register) == before
    code, _, err = tokenfleet("--db", db_url, "db", "restore", str(tmp_path / "none"), "--yes")
    assert code == 65 and "no such file" in err


def test_restore_cannot_wipe_the_register_tampered_backup(
        demo_register: Register, db_url: str, tmp_path: Path,
        tokenfleet: Tokenfleet) -> None:
    # A backup of a register whose trail was edited; the register itself is then repaired.
    with trail_unlocked(demo_register.engine) as conn:
        actor = conn.execute(text("SELECT actor FROM events WHERE seq = 5")).scalar()
        conn.execute(text("UPDATE events SET actor = 'intruder' WHERE seq = 5"))
    tampered = _backup(tokenfleet, db_url, tmp_path / "tampered.backup")
    with trail_unlocked(demo_register.engine) as conn:
        conn.execute(text("UPDATE events SET actor = :a WHERE seq = 5"), {"a": actor})
    with demo_register.session() as s:
        lifecycle.add_device(s, kind="usb_token", serial="AFTER-1", actor="t")
    before = snapshot(demo_register)
    code, _, err = tokenfleet("--db", db_url, "db", "restore", str(tampered), "--yes")
    assert code == 6 and "its content was changed" in err and "nothing was restored" in err
    assert snapshot(demo_register) == before  # AFTER-1 is still there
    assert _kept_files(db_url, demo_register, tmp_path) == []


def test_restore_cannot_wipe_the_register_keeps_the_replaced_one(
        demo_register: Register, db_url: str, tmp_path: Path,
        tokenfleet: Tokenfleet) -> None:
    good = _backup(tokenfleet, db_url, tmp_path / "good.backup")
    with demo_register.session() as s:
        lifecycle.add_device(s, kind="usb_token", serial="AFTER-1", actor="t")
    code, out, err = tokenfleet("--db", db_url, "db", "restore", str(good), "--yes")
    assert code == 0, err
    assert "chain intact" in out and "kept in" in out
    with demo_register.read() as s:
        assert s.scalar(select(Device.id).where(Device.serial == "AFTER-1")) is None
    (kept,) = _kept_files(db_url, demo_register, tmp_path)
    assert str(kept) in out
    # the kept copy is itself a good backup: restoring it brings AFTER-1 back
    code, out, err = tokenfleet("--db", db_url, "db", "restore", str(kept), "--yes")
    assert code == 0, err
    with demo_register.read() as s:
        assert s.scalar(select(Device.id).where(Device.serial == "AFTER-1")) is not None


@pytest.mark.parametrize("role", ["viewer", "operator", "admin"])
def test_restore_cannot_wipe_the_register_only_the_owner_restores(
        pg_url: str, pg_logins: PgLogins, tmp_path: Path, role: str,
        tokenfleet: Tokenfleet) -> None:
    """On PostgreSQL a restore replaces every table, which only their owner may drop: every
    other login is refused before anything happens (on SQLite the one desk restores)."""
    register = Register.open(pg_url)
    with register.session() as s:
        demo.generate(s.connection(), devices=50, seed=2, now=FIXED_NOW)
    good = _backup(tokenfleet, pg_url, tmp_path / "good.backup")
    someone = pg_logins.make("someone", role)
    before = snapshot(register)
    register.dispose()
    code, _, err = tokenfleet("--db", pg_logins.url_of(someone), "db", "restore", str(good),
                       "--yes")
    assert code == 77 and someone in err and "the database owner only" in err, err
    register = Register.open(pg_url)
    assert snapshot(register) == before
    register.dispose()
    code, _, err = tokenfleet("--db", pg_url, "db", "restore", str(good), "--yes")
    assert code == 0, err
