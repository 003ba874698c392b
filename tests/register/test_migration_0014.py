"""Migration 0014 on a register with data, on both backends: orphaned unlock cases get closed.

The register is built at the head revision, then put back to what the old code left behind (a
locked device reported lost and one revoked, their cases still open, no ``outcome`` column),
and upgraded again.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from alembic import command
from sqlalchemy import text

from inventory.desk import unlock_desk as unlock
from inventory.fleet import lifecycle
from inventory.fleet.queries import get_device
from inventory.register import db as dbmod
from inventory.register.db import Register
from tests.desk.conftest import T0, office  # noqa: F401  (fixture)

BEFORE = "0011_station_readers"


def _migrate(engine: Any, revision: str, *, down: bool = False) -> None:
    cfg = dbmod.alembic_config(engine)
    with dbmod.connect(engine) as conn:
        cfg.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(cfg, revision)
        conn.commit()


def test_upgrade_closes_the_cases_the_old_code_left_open(register: Register,
                                                         office: dict[str, Any]) -> None:  # noqa: F811
    with register.session() as s:
        for serial in ("TOK001", "TOK002", "TOK003"):
            lifecycle.lock(s, get_device(s, serial), actor="op", at=T0)
        lifecycle.unlock(s, get_device(s, "TOK003"), actor="desk", how="so_pin_reset",
                         at=T0 + timedelta(days=1))
    with register.session() as s:
        lifecycle.report_lost(s, get_device(s, "TOK001"), actor="an",
                              at=T0 + timedelta(days=2))
        lifecycle.revoke(s, get_device(s, "TOK002"), actor="binh", at=T0 + timedelta(days=3))
    engine = register.engine
    with engine.begin() as conn:  # what the old code left: both cases still open
        conn.execute(text("UPDATE unlock_cases SET closed_at = NULL, closed_by = NULL "
                          "WHERE outcome IN ('lost', 'revoked')"))
    _migrate(engine, BEFORE, down=True)
    _migrate(engine, "head")
    assert dbmod.current_revision(engine) == dbmod.SCHEMA_HEAD
    with register.read() as s:
        cases = {c.serial: c for c in unlock.list_cases(s)}
        assert unlock.count_open_cases(s) == 0
    assert (cases["TOK001"].outcome, cases["TOK001"].closed_at) == \
        ("lost", T0 + timedelta(days=2))
    assert (cases["TOK002"].outcome, cases["TOK002"].closed_at) == \
        ("revoked", T0 + timedelta(days=3))
    assert (cases["TOK003"].outcome, cases["TOK003"].unlock_method) == \
        ("unlocked", "so_pin_reset")
    with engine.connect() as conn:
        closers: dict[str, str] = dict(conn.execute(text(
            "SELECT d.serial, c.closed_by FROM unlock_cases c JOIN devices d "
            "ON d.id = c.device_id")).all())
    assert closers == {"TOK001": "an", "TOK002": "binh", "TOK003": "desk"}
