"""A scoped login's report and export (PostgreSQL row-level security): its agency's subtree
only, said on every sheet, and still the whole chain's seal of the month's end."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select, text

from inventory.cli import exit_codes
from inventory.demo import city as demo
from inventory.register import seal
from inventory.register.db import Register
from inventory.register.models import Device
from tests.conftest import FIXED_NOW, PgLogins, Tokenfleet

from .conftest import MONTH, sheet_rows

SUBTREE = "QHC"


@pytest.fixture
def city(pg_url: str) -> Iterator[Register]:
    reg = Register.open(pg_url)
    with reg.session() as s:
        demo.generate(s.connection(), devices=300, seed=7, now=FIXED_NOW)
    yield reg
    reg.dispose()


def _subtree_serials(reg: Register) -> set[str]:
    with reg.read() as s:
        subtree = list(s.scalars(text(
            "SELECT a.id FROM agencies a JOIN agencies t ON a.path LIKE t.path || '%' "
            "WHERE t.code = :c"), {"c": SUBTREE}))
        return set(s.scalars(select(Device.serial).where(Device.agency_id.in_(subtree))))


def _summary_top(path: Path) -> list[str]:
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        ws = book[book.sheetnames[0]]
        return [str(r[0]) for r in ws.iter_rows(max_row=3, values_only=True) if r and r[0]]
    finally:
        book.close()


def test_a_scoped_report_covers_its_subtree_and_carries_the_city_seal(
        city: Register, pg_logins: PgLogins, tokenfleet: Tokenfleet, tmp_path: Path) -> None:
    owner = city.engine.url.render_as_string(hide_password=False)
    olga = pg_logins.make("olga", "operator", agency=SUBTREE)
    mine = pg_logins.url_of(olga)
    theirs_file, mine_file = tmp_path / "city.xlsx", tmp_path / "mine.xlsx"
    for url, path in ((owner, theirs_file), (mine, mine_file)):
        code, _, err = tokenfleet("--db", url, "report", "monthly", "--month", MONTH.label(),
                                  "--lang", "en", "-o", str(path))
        assert code == 0, err
    subtree = _subtree_serials(city)
    city_rows = {r[0] for r in sheet_rows(theirs_file, "Register") if r[0]}
    mine_rows = {r[0] for r in sheet_rows(mine_file, "Register") if r[0]}
    assert mine_rows == city_rows & subtree and 0 < len(mine_rows) < len(city_rows)
    # the seal is the whole chain's at the month's end, though the login sees part of it
    (city_seal,) = seal.read(str(theirs_file))
    (my_seal,) = seal.read(str(mine_file))
    assert (my_seal.position, my_seal.hash) == (city_seal.position, city_seal.hash)
    with city.read() as s:
        assert my_seal.position == seal.as_of(s, MONTH.end).position > 0
    assert tokenfleet("--db", owner, "audit", "verify", "--seal", str(mine_file))[0] == 0
    # and it says whose part it is
    assert any(f"Covers only {SUBTREE}" in line and olga in line
               for line in _summary_top(mine_file))
    assert not any("Covers only" in line for line in _summary_top(theirs_file))


def test_a_scoped_export_holds_its_subtree_only(city: Register, pg_logins: PgLogins,
                                               tokenfleet: Tokenfleet, tmp_path: Path) -> None:
    viewer = pg_logins.make("vy", "viewer", agency=SUBTREE)
    out = tmp_path / "mine.xlsx"
    code, said, err = tokenfleet("--db", pg_logins.url_of(viewer), "export", str(out))
    assert code == 0, err
    book = openpyxl.load_workbook(out, read_only=True)
    try:
        rows = list(book["register"].iter_rows(values_only=True))
    finally:
        book.close()
    header, body = rows[0], rows[1:]
    serials = {r[header.index("serial")] for r in body}
    assert serials == _subtree_serials(city) and f"{len(serials)} devices exported" in said
    # and a viewer, scoped or not, cannot import what it exported
    code, _, err = tokenfleet("--db", pg_logins.url_of(viewer), "import", str(out))
    assert code == exit_codes.NO_PERMISSION, err
