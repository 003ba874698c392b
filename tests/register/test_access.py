"""Who acts is proven, not claimed: the database login on PostgreSQL, the OS user on SQLite.

Roles are PostgreSQL's (the group roles of migration 0012); these tests connect as real login
roles made for each test (``pg_logins``), the way a person or a poller station would.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, text

from inventory.cli import cli, exit_codes
from inventory.demo import city as demo
from inventory.fleet import lifecycle
from inventory.fleet.queries import get_device
from inventory.register import access, operators
from inventory.register.db import Register
from inventory.register.errors import (
    PermissionDeniedError,
)
from inventory.register.models import Device, Event, Holder, Operator
from tests.conftest import FIXED_NOW, PgLogins, Tokenfleet


@pytest.fixture
def desk(pg_url: str) -> Iterator[Register]:
    """A PostgreSQL register with one agency, holder and issued device (made by its owner)."""
    reg = Register.open(pg_url)
    with reg.session() as s:
        agency = lifecycle.add_agency(s, code="A", name="Sở A", actor="postgres")
        holder = lifecycle.add_holder(s, full_name="Vũ Thị Lan", agency=agency, actor="postgres")
        device = lifecycle.add_device(s, kind="usb_token", serial="R1", actor="postgres")
        lifecycle.issue(s, device, holder, method="in_person", actor="postgres")
    yield reg
    reg.dispose()


def _count_events(reg: Register) -> int:
    with reg.read() as s:
        return s.scalar(select(func.count()).select_from(Event)) or 0


# --- the embedded register: one desk -------------------------------------------------------

def test_sqlite_is_one_desk_whose_actor_is_the_os_user(sqlite_url: str,
                                                       tokenfleet: Tokenfleet
                                                       ) -> None:
    Register.open(sqlite_url).dispose()
    me = access.os_user()
    code, _, err = tokenfleet("--db", sqlite_url, "operator", "set", "boss", "--role", "admin")
    assert code == exit_codes.CONFIG
    assert "one desk" in err and len(err.strip().splitlines()) == 1
    code, _, err = tokenfleet("--db", sqlite_url, "--actor", "boss", "device", "add", "S1")
    assert code == exit_codes.NO_PERMISSION
    assert err.strip() == (f"tokenfleet: not allowed for your role: you are {me}; --actor boss "
                           "is not you")
    assert tokenfleet("--db", sqlite_url, "--actor", me, "device", "add", "S1")[0] == 0
    reg = Register.open(sqlite_url)
    with reg.read() as s:
        assert s.scalar(select(Event.actor).where(Event.action == "device.add")) == me
        assert access.identify(s).describe() == f"{me} (the embedded register's one desk)"
    reg.dispose()
    help_text = CliRunner().invoke(cli, ["operator", "set", "--help"]).output
    assert "SQLite" in help_text and "one desk" in help_text


# --- PostgreSQL: the login is the identity ------------------------------------------------

def test_actor_naming_someone_else_is_refused(desk: Register, pg_logins: PgLogins,
                                              tokenfleet: Tokenfleet,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    boss = pg_logins.make("boss", "admin")
    clerk = pg_logins.make("clerk", "operator")
    url = pg_logins.url_of(clerk)
    before = _count_events(desk)
    code, _, err = tokenfleet("--db", url, "--actor", boss, "device", "lose", "R1")
    assert code == exit_codes.NO_PERMISSION
    assert err.strip() == (f"tokenfleet: not allowed for your role: connected as {clerk}; "
                           f"--actor {boss} is not you")
    monkeypatch.setenv("TOKENFLEET_ACTOR", boss)
    code, _, err = tokenfleet("--db", url, "device", "lose", "R1")
    assert code == exit_codes.NO_PERMISSION
    assert f"TOKENFLEET_ACTOR={boss} is not you" in err
    monkeypatch.setenv("TOKENFLEET_ACTOR", clerk)  # naming yourself is fine
    code, _, err = tokenfleet("--db", url, "device", "lose", "R1")
    assert code == 0, err
    with desk.read() as s:
        assert get_device(s, "R1").status == "lost"
        last = s.execute(select(Event.action, Event.actor).order_by(Event.seq.desc())
                         .limit(1)).one()
    assert tuple(last) == ("device.report_lost", clerk)
    assert _count_events(desk) == before + 1


def test_a_poller_name_is_not_taken_from_a_flag(desk: Register, pg_logins: PgLogins,
                                                tokenfleet: Tokenfleet) -> None:
    viewer = pg_logins.make("vic", "viewer")
    code, _, err = tokenfleet("--db", pg_logins.url_of(viewer), "--actor", "poller@anything",
                       "device", "lock", "R1")
    assert code == exit_codes.NO_PERMISSION and "is not you" in err
    code, _, err = tokenfleet("--db", pg_logins.url_of(viewer), "device", "lock", "R1")
    assert code == exit_codes.NO_PERMISSION and "may only read" in err
    with desk.read() as s:
        assert get_device(s, "R1").status == "issued"


def test_the_app_refuses_what_the_role_may_not_do_and_names_the_login(
        desk: Register, pg_logins: PgLogins) -> None:
    olga = Register.open(pg_logins.url_of(pg_logins.make("olga", "operator")))
    poller = Register.open(pg_logins.url_of(pg_logins.make("station", "poller")))
    try:
        with pytest.raises(PermissionDeniedError, match="not name boss"), olga.session() as s:
            lifecycle.apply_move(s, get_device(s, "R1"), "report_lost", actor="boss")
        with olga.session() as s:
            me = access.identify(s).name
            lifecycle.revoke(s, get_device(s, "R1"), actor=me)
        with pytest.raises(PermissionDeniedError, match="admins only"), olga.session() as s:
            lifecycle.retire(s, get_device(s, "R1"), actor=me)
        with olga.read() as s:
            assert get_device(s, "R1").status == "revoked"
        with desk.session() as s:
            d = lifecycle.add_device(s, kind="pki_sim", serial="P1", actor="postgres")
            holder = s.scalars(select(Holder)).one()
            lifecycle.issue(s, d, holder, method="in_person", actor="postgres")
        with poller.session() as s:  # a station may record the lock-out it saw …
            station = access.station_actor(s, "ban-mot-cua")
            lifecycle.lock(s, get_device(s, "P1"), actor=station, reason="PIN blocked")
        with pytest.raises(PermissionDeniedError), poller.session() as s:  # … not unlock it
            lifecycle.unlock(s, get_device(s, "P1"), actor=station)
        with desk.read() as s:
            assert [e.actor for e in s.scalars(select(Event).where(
                Event.action == "device.lock"))] == [station]
            assert station.startswith("station_")
        viewer = Register.open(pg_logins.url_of(pg_logins.make("vy", "viewer")))
        try:  # a viewer's refusal names the login and its role
            with pytest.raises(PermissionDeniedError, match=r"^vy_\w+ \(viewer\) may only "
                               "read the register"), viewer.session() as s:
                lifecycle.lock(s, get_device(s, "P1"), actor="x")
        finally:
            viewer.dispose()
    finally:
        olga.dispose()
        poller.dispose()


def test_operators_are_logins_managed_by_admins(desk: Register, pg_logins: PgLogins,
                                                tokenfleet: Tokenfleet) -> None:
    owner = desk.engine.url.render_as_string(hide_password=False)
    admin = pg_logins.make("an_admin", "admin")  # bootstrapped by the database owner
    olga = pg_logins.make("olga", "operator")
    clerk = f"clerk_{uuid.uuid4().hex[:6]}"  # made below by the admin
    pg_logins.names.append(clerk)
    code, out, err = tokenfleet("--db", pg_logins.url_of(olga), "operator", "set", clerk,
                         "--role", "viewer")
    assert code == exit_codes.NO_PERMISSION and "admins only" in err
    code, out, err = tokenfleet("--db", pg_logins.url_of(admin), "operator", "set", clerk,
                         "--role", "viewer")
    assert code == 0, err
    code, out, _ = tokenfleet("--db", pg_logins.url_of(clerk), "operator", "whoami")
    assert out.strip() == f"{clerk} (viewer)"
    code, out, _ = tokenfleet("--db", owner, "operator", "list", "--format", "json")
    listed = {r["name"]: r for r in json.loads(out)}
    assert (listed[clerk]["role"], listed[clerk]["set_by"], listed[clerk]["login"]) == \
        ("viewer", admin, "yes")
    code, _, err = tokenfleet("--db", pg_logins.url_of(admin), "operator", "set", "postgres",
                       "--role", "viewer")
    assert code == exit_codes.NO_PERMISSION and "administers the database" in err
    code, _, err = tokenfleet("--db", pg_logins.url_of(admin), "operator", "set", clerk,
                       "--role", "admin", "--agency", "A")
    assert code == exit_codes.DATA_INVALID and "scopes viewers and operators" in err
    assert tokenfleet("--db", pg_logins.url_of(admin), "operator", "disable", clerk)[0] == 0
    code, _, err = tokenfleet("--db", pg_logins.url_of(clerk), "devices")
    assert code == exit_codes.NO_PERMISSION
    assert f"did not let you in: role \"{clerk}\" is not permitted to log in" in err
    with desk.read() as s:
        op = s.scalar(select(Operator).where(Operator.name == clerk))
        assert op is not None and not op.active
        assert [e.actor for e in s.scalars(select(Event).where(
            Event.action.like("operator.%")).order_by(Event.seq))][-2:] == [admin, admin]
        groups = s.scalar(text("SELECT count(*) FROM pg_auth_members m JOIN pg_roles u "
                               "ON u.oid = m.member WHERE u.rolname = :n"), {"n": clerk})
    assert groups == 0


def test_passwords_leave_only_as_a_scram_verifier(desk: Register, pg_logins: PgLogins,
                                                  tokenfleet: Tokenfleet,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import base64
    import io

    owner = desk.engine.url.render_as_string(hide_password=False)
    name = f"lan_{uuid.uuid4().hex[:6]}"
    pg_logins.names.append(name)
    monkeypatch.setattr("sys.stdin", io.StringIO("mật-khẩu đủ dài\n"))
    code, out, err = tokenfleet("--db", owner, "operator", "set", name, "--role", "operator",
                         "--password-stdin")
    assert code == 0 and "password set" in out, err
    with desk.read() as s:
        stored = s.scalar(text("SELECT rolpassword FROM pg_authid WHERE rolname = :n"),
                          {"n": name})
        # PostgreSQL's own SCRAM implementation, for a cross-check of ours:
        s.execute(text("SET LOCAL password_encryption = 'scram-sha-256'"))
        s.execute(text(f'ALTER ROLE "{name}" PASSWORD \'pencil\''))
        theirs = s.scalar(text("SELECT rolpassword FROM pg_authid WHERE rolname = :n"),
                          {"n": name})
    assert stored is not None and stored.startswith("SCRAM-SHA-256$4096:")
    iterations, salt = stored.split("$")[1].split(":")
    assert operators.scram_verifier("mật-khẩu đủ dài", salt=base64.b64decode(salt),
                                    iterations=int(iterations)) == stored
    iterations, salt = theirs.split("$")[1].split(":")
    assert operators.scram_verifier("pencil", salt=base64.b64decode(salt),
                                    iterations=int(iterations)) == theirs


def test_only_the_owner_fills_a_demo(pg_url: str, pg_logins: PgLogins,
                                     tokenfleet: Tokenfleet) -> None:
    admin = pg_logins.make("an_admin", "admin")
    code, _, err = tokenfleet("--db", pg_logins.url_of(admin), "demo", "--devices", "5")
    assert code == exit_codes.NO_PERMISSION and "the database owner only" in err
    assert tokenfleet("--db", pg_url, "demo", "--devices", "5")[0] == 0


# --- delegated agency scope -----------------------------------------------------------------

@pytest.fixture
def city(pg_url: str) -> Iterator[Register]:
    reg = Register.open(pg_url)
    with reg.session() as s:
        demo.generate(s.connection(), devices=300, seed=7, now=FIXED_NOW)
    yield reg
    reg.dispose()


SUBTREE = "QHC"  # Quận Hải Châu and its wards, council and health centre


def test_a_scoped_operator_sees_and_moves_only_its_subtree(city: Register, pg_logins: PgLogins,
                                                           tokenfleet: Tokenfleet
                                                           ) -> None:
    owner = city.engine.url.render_as_string(hide_password=False)
    olga = pg_logins.make("olga", "operator", agency=SUBTREE)
    mine = pg_logins.url_of(olga)
    code, theirs, _ = tokenfleet("--db", owner, "devices", "--agency", SUBTREE, "--format",
                          "json")
    code, seen, err = tokenfleet("--db", mine, "devices", "--format", "json")
    assert code == 0, err
    assert seen == theirs and theirs.count('"serial"') > 5
    with city.read() as s:
        subtree = list(s.scalars(text(
            "SELECT a.id FROM agencies a JOIN agencies t ON a.path LIKE t.path || '%' "
            "WHERE t.code = :c"), {"c": SUBTREE}))
        outside = s.scalar(select(Device.serial).where(Device.status == "issued",
                                                       Device.agency_id.not_in(subtree))
                           .order_by(Device.id).limit(1))
        inside = s.scalar(select(Device.serial).where(Device.status == "issued",
                                                      Device.agency_id.in_(subtree))
                          .order_by(Device.id).limit(1))
    before = _count_events(city)
    code, _, err = tokenfleet("--db", mine, "device", "lock", str(outside))
    assert code == exit_codes.NOT_FOUND and f"no device with serial '{outside}'" in err
    assert _count_events(city) == before
    assert tokenfleet("--db", mine, "device", "lock", str(inside))[0] == 0
    with city.read() as s:
        assert get_device(s, str(outside)).status == "issued"
        assert get_device(s, str(inside)).status == "locked"
    code, _, err = tokenfleet("--db", mine, "device", "add", "NEW-1")
    assert code == exit_codes.NO_PERMISSION
    assert "outside your agency's part of the register" in err
    code, _, err = tokenfleet("--db", mine, "audit", "verify")
    assert code == exit_codes.NO_PERMISSION and "needs an unscoped login" in err


SCOPED_COUNTS = {
    "devices": "SELECT count(*) FROM devices WHERE agency_id = ANY(:s)",
    "holders": "SELECT count(*) FROM holders WHERE agency_id = ANY(:s)",
    "service_requests": "SELECT count(*) FROM service_requests WHERE agency_id = ANY(:s)",
    "service_request_items": "SELECT count(*) FROM service_request_items WHERE request_id IN "
                             "(SELECT id FROM service_requests WHERE agency_id = ANY(:s))",
    "handovers": "SELECT count(*) FROM handovers WHERE device_id IN "
                 "(SELECT id FROM devices WHERE agency_id = ANY(:s))",
    "unlock_cases": "SELECT count(*) FROM unlock_cases WHERE agency_id = ANY(:s)",
    "events": "SELECT count(*) FROM events WHERE actor = :me OR device_id IN "
              "(SELECT id FROM devices WHERE agency_id = ANY(:s))",
}


def test_the_same_rows_through_raw_sql_as_that_role(city: Register, pg_logins: PgLogins) -> None:
    olga = pg_logins.make("olga", "operator", agency=SUBTREE)
    with city.read() as s:
        subtree = list(s.scalars(text(
            "SELECT a.id FROM agencies a JOIN agencies t ON a.path LIKE t.path || '%' "
            "WHERE t.code = :c"), {"c": SUBTREE}))
        expected = {t: s.scalar(text(q), {"s": subtree, "me": olga})
                    for t, q in SCOPED_COUNTS.items()}
        everything = {t: s.scalar(text(f"SELECT count(*) FROM {t}")) for t in SCOPED_COUNTS}
    with psycopg.connect(pg_logins.url_of(olga).replace("+psycopg", "")) as conn:
        seen = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # type: ignore[index]
                for t in SCOPED_COUNTS}
        plan = "\n".join(r[0] for r in conn.execute(
            "EXPLAIN (ANALYZE, COSTS OFF) SELECT id, serial FROM devices ORDER BY id LIMIT 50"))
    assert seen == expected
    assert all(0 < seen[t] < everything[t] for t in ("devices", "holders", "events"))
    # the scope is computed once per statement (an init plan), never per row
    assert "InitPlan" in plan and "SubPlan" not in plan, plan
