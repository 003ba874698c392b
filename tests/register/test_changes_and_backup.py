"""Other desks' work arrives without refresh; backups restore to a register whose audit chain
verifies; ``db check`` says what is wrong."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text

from inventory.cli import main
from inventory.fleet import lifecycle
from inventory.fleet.queries import get_device
from inventory.register.changes import ChangeWatcher
from inventory.register.db import Register
from tests.conftest import trail_unlocked


def _issued_device(register: Register) -> None:
    with register.session() as s:
        agency = lifecycle.add_agency(s, code="A", name="Sở A", actor="t")
        holder = lifecycle.add_holder(s, full_name="Hồ Văn Tâm", agency=agency, actor="t")
        device = lifecycle.add_device(s, kind="usb_token", serial="W1", actor="t")
        lifecycle.issue(s, device, holder, method="in_person", actor="t")


def test_watcher_sees_another_desks_move(db_url):
    mine, theirs = Register.open(db_url), Register.open(db_url)  # two processes' engines
    _issued_device(theirs)
    watcher = ChangeWatcher(mine)
    assert watcher.wait(timeout=0.2) is None  # nothing new yet

    def other_desk() -> None:
        time.sleep(0.3)
        with theirs.session() as s:
            lifecycle.lock(s, get_device(s, "W1"), actor="other-desk")

    threading.Thread(target=other_desk).start()
    t0 = time.monotonic()
    changes = watcher.wait(timeout=5)
    waited = time.monotonic() - t0
    assert changes is not None and "device.lock" in changes.actions
    with mine.read() as s:
        assert get_device(s, "W1").id in changes.device_ids
    assert waited < 5  # woke on the change, not on the timeout
    watcher.close()
    mine.dispose()
    theirs.dispose()


def test_backup_restore_verify(demo_register, db_url, tmp_path, capsys, request):
    backup = tmp_path / "register.backup"
    main(["--db", db_url, "db", "backup", str(backup)])
    assert backup.exists() and backup.stat().st_size > 0
    # The register goes on changing after the backup …
    with demo_register.session() as s:
        lifecycle.add_device(s, kind="usb_token", serial="AFTER-BACKUP", actor="t")
    # … and is restored into a fresh, empty register elsewhere.
    target = (f"sqlite:///{tmp_path / 'restored.sqlite3'}" if db_url.startswith("sqlite")
              else request.getfixturevalue("pg_url"))
    capsys.readouterr()
    main(["--db", target, "db", "restore", str(backup), "--yes"])
    assert "chain intact" in capsys.readouterr().out
    main(["--db", target, "db", "check"])
    out = capsys.readouterr().out
    assert "audit     ok" in out and "schema    ok" in out
    main(["--db", target, "devices", "--search", "AFTER-BACKUP", "--format", "json"])
    assert capsys.readouterr().out.strip() == "[]"


def test_db_check_fails_on_a_broken_chain(demo_register, db_url, capsys):
    with trail_unlocked(demo_register.engine) as conn:
        conn.execute(text("UPDATE events SET actor = 'x' WHERE seq = 5"))
    with pytest.raises(SystemExit) as exit_:
        main(["--db", db_url, "db", "check"])
    assert exit_.value.code != 0
    assert "audit event" in capsys.readouterr().err
