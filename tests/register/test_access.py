"""Roles: viewers change nothing, operators do lifecycle work, admins alone retire and edit
agencies; the audit trail names the real operator."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from inventory.cli import exit_codes, main
from inventory.fleet import lifecycle
from inventory.fleet.queries import agency_by_code, get_device
from inventory.register import operators
from inventory.register.errors import PermissionDeniedError, ValidationError
from inventory.register.models import Event


@pytest.fixture
def desk(register):
    with register.session() as s:
        agency = lifecycle.add_agency(s, code="A", name="Sở A", actor="boot")
        holder = lifecycle.add_holder(s, full_name="Vũ Thị Lan", agency=agency, actor="boot")
        device = lifecycle.add_device(s, kind="usb_token", serial="R1", actor="boot")
        lifecycle.issue(s, device, holder, method="in_person", actor="boot")
        operators.set_operator(s, "an.admin", "admin", actor="boot")
    with register.session() as s:
        operators.set_operator(s, "olga", "operator", actor="an.admin")
        operators.set_operator(s, "vic", "viewer", actor="an.admin")
    return register


def test_access_is_off_until_the_first_operator(register):
    with register.session() as s:
        lifecycle.add_agency(s, code="X", name="X", actor="anyone")
    with pytest.raises(ValidationError, match="first operator must be an admin"), \
            register.session() as s:
        operators.set_operator(s, "olga", "operator", actor="anyone")


def test_viewer_changes_nothing(desk):
    with pytest.raises(PermissionDeniedError, match="vic"), desk.session() as s:
        lifecycle.lock(s, get_device(s, "R1"), actor="vic")
    with desk.read() as s:
        device = get_device(s, "R1")
        assert (device.status, device.lock_count) == ("issued", 0)


def test_operator_works_but_only_admin_retires_and_edits_agencies(desk):
    with desk.session() as s:
        device = get_device(s, "R1")
        lifecycle.revoke(s, device, actor="olga")
    with pytest.raises(PermissionDeniedError, match="admins only"), desk.session() as s:
        lifecycle.retire(s, get_device(s, "R1"), actor="olga")
    with pytest.raises(PermissionDeniedError), desk.session() as s:
        lifecycle.rename_agency(s, agency_by_code(s, "A"), "Sở B", actor="olga")
    with desk.session() as s:
        lifecycle.retire(s, get_device(s, "R1"), actor="an.admin")
    with desk.read() as s:
        actors = [e.actor for e in s.scalars(select(Event).where(Event.device_id.is_not(None))
                                             .order_by(Event.seq))][-2:]
        assert actors == ["olga", "an.admin"]


def test_unknown_actor_and_poller(desk):
    with pytest.raises(PermissionDeniedError, match="not a tokenfleet operator"), \
            desk.session() as s:
        lifecycle.lock(s, get_device(s, "R1"), actor="mallory")
    with desk.session() as s:  # a poller may record the lock it saw
        lifecycle.lock(s, get_device(s, "R1"), actor="poller@desk-1")
    with pytest.raises(PermissionDeniedError), desk.session() as s:
        lifecycle.unlock(s, get_device(s, "R1"), actor="poller@desk-1")


def test_cli_refusal_exit_code(desk, db_url, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--db", db_url, "--actor", "vic", "device", "lock", "R1"])
    assert exit_.value.code == exit_codes.for_error(PermissionDeniedError)
    assert "vic" in capsys.readouterr().err
    main(["--db", db_url, "--actor", "an.admin", "operator", "list"])
    assert "olga" in capsys.readouterr().out
