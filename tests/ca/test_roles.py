"""What the register believes of the CA under the database's roles (PostgreSQL): only admins
choose trust anchors and import CRLs, viewers may check, and a login scoped to an agency sees
the mismatches of its subtree only."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import select

from inventory.fleet import lifecycle
from inventory.register.db import Register
from inventory.register.models import Certificate
from tests.ca.conftest import Fleet, make_fleet, trust
from tests.ca.pki import NOW, Pki
from tests.conftest import PgLogins, run_tokenfleet


@pytest.fixture
def pg_fleet(pg_url: str, pki: Pki, tmp_path: Path) -> Iterator[Fleet]:
    register = Register.open(pg_url)
    yield make_fleet(register, pg_url, pki, tmp_path)
    register.dispose()


def as_login(logins: PgLogins, name: str, *args: str) -> tuple[int, str, str]:
    result = run_tokenfleet("--db", logins.url_of(name), *args)
    return result.code, result.out, result.err


def kinds(out: str) -> set[tuple[str, str | None]]:
    return {(r["kind"], r["serial"]) for r in json.loads(out)}


def test_admins_choose_the_anchors_and_import_crls(pg_fleet: Fleet,
                                                   pg_logins: PgLogins) -> None:
    f = pg_fleet
    admin, clerk = pg_logins.make("ca_admin", "admin"), pg_logins.make("ca_clerk", "operator")
    root = f.write("root.pem", f.pki.root.pem)
    crl = f.write("root.crl", f.pki.root.crl([]))
    code, _, err = as_login(pg_logins, clerk, "ca", "trust", "add", str(root))
    assert code == 77 and "admins only" in err
    assert as_login(pg_logins, admin, "ca", "trust", "add", str(root))[0] == 0
    code, _, err = as_login(pg_logins, clerk, "ca", "crl", "import", str(crl))
    assert code == 77 and "admins only" in err
    assert as_login(pg_logins, admin, "ca", "crl", "import", str(crl))[0] == 0
    assert as_login(pg_logins, clerk, "ca", "trust", "list")[0] == 0
    # the database itself refuses an operator, for psql as for tokenfleet
    url = pg_logins.url_of(clerk).replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url, autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM ca_crls").fetchone() == (1,)
        for statement in ("UPDATE ca_trust_anchors SET subject = subject",
                          "DELETE FROM ca_crls", "UPDATE ca_crls SET entries = ''",
                          "INSERT INTO ca_trust_anchors DEFAULT VALUES"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)


def test_viewers_check_and_scoped_logins_see_their_subtree(pg_fleet: Fleet,
                                                           pg_logins: PgLogins) -> None:
    f = pg_fleet
    trust(f)
    with f.register.session() as s:
        other = lifecycle.add_agency(s, code="SYT", name="Sở Y tế", actor="setup")
        nurse = lifecycle.add_holder(s, full_name="Lê Thị Hoa", agency=other, actor="setup")
        other_holder = nurse.id
    f.add("MINE-REVOKED", f.file_cert("Người dùng 1"))
    f.add("MINE-UNKNOWN", f.file_cert("Người lạ", untrusted=True))
    f.add("THEIRS-REVOKED", f.file_cert("Người dùng 2"), holder_id=other_holder)
    f.add("THEIRS-UNKNOWN", f.file_cert("Người lạ 2", untrusted=True), holder_id=other_holder)
    when = NOW - dt.timedelta(days=3)
    crl = f.write("ca.crl", f.pki.ca.crl([(f.serials["MINE-REVOKED"], when),
                                          (f.serials["THEIRS-REVOKED"], when)],
                                         this_update=NOW - dt.timedelta(days=20),
                                         next_update=NOW - dt.timedelta(days=13)))
    assert run_tokenfleet("--db", f.url, "ca", "crl", "import", str(crl)).code == 0
    everything = {("revoked_at_ca_in_use", "MINE-REVOKED"), ("unknown_issuer", "MINE-UNKNOWN"),
                  ("revoked_at_ca_in_use", "THEIRS-REVOKED"),
                  ("unknown_issuer", "THEIRS-UNKNOWN"), ("crl_stale", None)}

    viewer = pg_logins.make("ca_viewer", "viewer")
    code, out, err = as_login(pg_logins, viewer, "ca", "check", "--format", "json")
    assert code == 1, err
    assert kinds(out) == everything
    with f.register.read() as s:  # a viewer writes nothing, not even the verdicts' cache
        assert set(s.scalars(select(Certificate.chain))) == {"pending"}

    scoped = pg_logins.make("ca_scoped", "operator", agency="STTTT")
    code, out, err = as_login(pg_logins, scoped, "ca", "check", "--format", "json")
    assert code == 1, err
    assert kinds(out) == {("revoked_at_ca_in_use", "MINE-REVOKED"),
                          ("unknown_issuer", "MINE-UNKNOWN"), ("crl_stale", None)}
    code, out, _ = as_login(pg_logins, scoped, "devices", "--ca-mismatch", "any",
                            "--format", "json")
    assert code == 0
    assert {d["serial"] for d in json.loads(out)} == {"MINE-REVOKED", "MINE-UNKNOWN"}
