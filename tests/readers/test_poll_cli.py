"""``tokenfleet stocktake`` / ``unregistered`` / ``poll`` refusals: one clear line, an exit code,
nothing changed (both backends; no reader hardware needed)."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select

from inventory.fleet import lifecycle
from inventory.readers import sync
from inventory.register.db import Register
from inventory.register.models import Event, Stocktake
from tests.conftest import Tokenfleet
from tests.readers.test_sync import obs


def events(register: Register) -> int:
    with register.read() as s:
        return int(s.scalar(select(func.count()).select_from(Event)) or 0)


def test_stocktake_refusals(register: Register, db_url: str,
                            tokenfleet: Tokenfleet) -> None:
    manager = tokenfleet.on(db_url)
    with register.session() as s:
        lifecycle.add_agency(s, code="HN", name="Hà Nội", actor="t")
    before = events(register)
    code, _out, err = manager("stocktake", "status")
    assert code == 3 and "no stocktake yet" in err
    code, _out, err = manager("stocktake", "start", "--agency", "NOPE")
    assert code == 3 and "no agency with code 'NOPE'" in err
    code, _out, err = manager("stocktake", "finish")
    assert code == 3 and "no stocktake is open" in err
    assert events(register) == before
    assert manager("stocktake", "start", "--agency", "HN")[0] == 0
    code, _out, err = manager("stocktake", "start", "--agency", "HN")
    assert code == 65 and "is still open" in err
    with register.read() as s:
        assert s.scalar(select(func.count()).select_from(Stocktake)) == 1


def test_stocktake_csv_never_writes_a_formula(register: Register, db_url: str, tmp_path: Path,
                                              tokenfleet: Tokenfleet) -> None:
    manager = tokenfleet.on(db_url)
    with register.session() as s:
        lifecycle.add_agency(s, code="HN", name="Hà Nội", actor="t")
    manager("stocktake", "start", "--agency", "HN")
    with register.session() as s:
        sync.sync_observations(s, [obs("=HYPERLINK(1)")], host="station1")
    code, out, _err = manager("stocktake", "status", "--format", "json")
    assert code == 0 and json.loads(out)["unexpected"][0]["serial"] == "=HYPERLINK(1)"
    path = tmp_path / "stocktake.csv"
    code, _out, _err = manager("stocktake", "status", "--output", str(path))
    text = path.read_text(encoding="utf-8")
    assert code == 0 and "'=HYPERLINK(1)" in text and "\n=HYPERLINK" not in text


def test_claim_and_poll_refusals(register: Register, db_url: str,
                                 tokenfleet: Tokenfleet) -> None:
    manager = tokenfleet.on(db_url)
    before = events(register)
    code, _out, err = manager("unregistered", "claim", "zz404")
    assert code == 3 and "no unregistered device with serial 'zz404'" in err
    code, _out, err = manager("poll", "--once", "--no-pcsc", "--no-pkcs11")
    assert code == 78 and "nothing to poll" in err
    assert events(register) == before


def test_station_name_and_the_old_desk_alias(register: Register, db_url: str,
                                             tokenfleet: Tokenfleet) -> None:
    """``--station`` names the poller station; ``--desk`` (hidden) still works for old units."""
    manager = tokenfleet.on(db_url)
    missing = "/nonexistent/libvendor-pkcs11.so"
    for flag in ("--station", "--desk"):
        code, out, err = manager("poll", "--once", "--no-pcsc", "--pkcs11-module", missing, flag,
                                 f"name-from{flag}", "--format", "json")
        assert code == 0, err
        report = json.loads(out)
        assert report["host"] == f"name-from{flag}"
        assert any(missing in w for w in report["warnings"])
        with register.read() as s:  # no PC/SC readers: the station's heartbeat row
            assert [r.reader for r in sync.station_readers(s, f"name-from{flag}")] == [
                sync.NO_READERS]
    code, out, _err = manager("poll", "--help")
    assert code == 0 and "--station" in out and "--desk" not in out
