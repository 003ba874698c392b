"""The CLI as a user runs it: formats, lifecycle moves, and one clear line for bad input."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import make_url

from inventory.cli import exit_codes
from inventory.register.access import os_user
from inventory.register.errors import (
    DatabaseUnavailableError,
    MoveNotAllowedError,
    NotFoundError,
    ValidationError,
)


@pytest.fixture
def url(demo_register, db_url) -> str:
    return db_url


def test_devices_json_records(url, tokenfleet):
    code, out, _ = tokenfleet("--db", url, "devices", "--status", "issued", "--limit", "5",
                       "--format", "json")
    records = json.loads(out)
    assert code == 0 and len(records) == 5
    for key in ("serial", "kind", "status", "holder", "agency", "lock_count", "not_after",
                "last_seen_at"):
        assert key in records[0]
    assert {r["status"] for r in records} == {"issued"}


def test_devices_csv_and_filters(url, tokenfleet):
    code, out, _ = tokenfleet("--db", url, "devices", "--kind", "pki_sim", "--format", "csv")
    lines = out.strip().splitlines()
    assert code == 0 and lines[0].startswith("serial,kind,status")
    assert all(",pki_sim," in line for line in lines[1:]) and len(lines) > 2


def test_lifecycle_through_the_cli(url, tokenfleet):
    code, out, _ = tokenfleet("--db", url, "device", "add", "VT-NEW-1",
                       "--manufacturer", "Feitian")
    assert code == 0 and "in_stock" in out
    code, out, _ = tokenfleet("--db", url, "holder", "add", "--name", "Trần Thị Bích",
                       "--agency", "STTTT", "--national-id", "048190001234")
    assert code == 0
    code, out, err = tokenfleet("--db", url, "device", "issue", "VT-NEW-1",
                         "--holder", "tran thi bich", "--method", "postal", "--tracking-no",
                         "RR000111222VN")
    assert code == 0, err
    assert "in_stock → issued" in out
    for move, status in (("lock", "locked"), ("unlock", "issued"), ("lose", "lost"),
                         ("revoke", "revoked"), ("retire", "retired")):
        code, out, err = tokenfleet("--db", url, "device", move, "VT-NEW-1")
        assert code == 0, err
        assert f"→ {status}" in out
    code, out, _ = tokenfleet("--db", url, "device", "show", "VT-NEW-1", "--format", "json")
    detail = json.loads(out)
    assert detail["status"] == "retired" and detail["lock_count"] == 1
    assert [e["action"] for e in detail["history"] if e["action"].startswith("device.")] == [
        "device.add", "device.issue", "device.lock", "device.unlock", "device.report_lost",
        "device.revoke", "device.retire"]
    # the audit trail names who is connected: the OS user (SQLite) or the login (PostgreSQL)
    assert {e["actor"] for e in detail["history"][:2]} == {make_url(url).username or os_user()}
    assert detail["holder"]["national_id"] == "********1234"


def test_unknown_serial(url, tokenfleet):
    code, _, err = tokenfleet("--db", url, "device", "lock", "NO-SUCH-SERIAL")
    assert code == exit_codes.for_error(NotFoundError)
    assert "NO-SUCH-SERIAL" in err and err.count("\n") == 1


def test_illegal_move_names_device_and_status_and_changes_nothing(url, tokenfleet):
    code, out, _ = tokenfleet("--db", url, "devices", "--status", "in_stock", "--limit", "1",
                       "--format", "json")
    serial = json.loads(out)[0]["serial"]
    code, _, err = tokenfleet("--db", url, "device", "unlock", serial)
    assert code == exit_codes.for_error(MoveNotAllowedError)
    assert serial in err and "in_stock" in err and err.count("\n") == 1
    _, out, _ = tokenfleet("--db", url, "device", "show", serial, "--format", "json")
    assert json.loads(out)["status"] == "in_stock"
    assert len(json.loads(out)["history"]) == 1


def test_bad_values(url, tokenfleet):
    code, _, err = tokenfleet("--db", url, "holder", "add", "--name", "X", "--agency", "STTTT",
                       "--national-id", "12345")
    assert code == exit_codes.for_error(ValidationError) and "12345" in err
    code, _, err = tokenfleet("--db", url, "devices", "--agency", "NOPE")
    assert code == exit_codes.for_error(NotFoundError) and "NOPE" in err


def test_unreachable_postgres(tokenfleet):
    code, _, err = tokenfleet("--db", "postgresql://nobody@127.0.0.1:1/none", "devices")
    assert code == exit_codes.for_error(DatabaseUnavailableError)
    assert "127.0.0.1" in err and err.count("\n") == 1


def test_not_a_database_url(tokenfleet):
    code, _, err = tokenfleet("--db", "nonsense", "devices")
    assert code != 0 and "nonsense" in err
