"""`ca trust add|list|remove`: CA certificates from PEM (bundles too) or DER, only CAs, admins."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from inventory.register.models import Event, TrustAnchor
from tests.ca.conftest import Fleet, run
from tests.ca.pki import der, pem


def anchors(fleet: Fleet) -> int:
    with fleet.register.read() as s:
        return s.scalar(select(func.count()).select_from(TrustAnchor)) or 0


def test_bundle_list_duplicate_remove(fleet: Fleet) -> None:
    bundle = fleet.write("bundle.pem", fleet.pki.root.pem + b"\n" + fleet.pki.ca.pem)
    added = run(fleet.url, "ca", "trust", "add", str(bundle))
    assert added.code == 0, added.err
    assert added.out.count("trusted #") == 2
    listing = json.loads(run(fleet.url, "ca", "trust", "list", "--format", "json").out)
    assert [a["root"] for a in listing] == [True, False]
    assert listing[1]["subject"] == fleet.pki.ca.cert.subject.rfc4514_string()
    again = run(fleet.url, "ca", "trust", "add", str(fleet.write("ca.der", fleet.pki.ca.der)))
    assert again.code == 4 and "already a trust anchor" in again.err
    table = run(fleet.url, "ca", "trust", "list")
    assert "CN=CA phục vụ các cơ quan" in table.out
    removed = run(fleet.url, "ca", "trust", "remove", str(listing[1]["id"]))
    assert removed.code == 0 and "no longer trusted" in removed.out
    assert anchors(fleet) == 1
    assert run(fleet.url, "ca", "trust", "remove", "999").code == 3
    assert run(fleet.url, "ca", "trust", "remove", "abc").code == 65


def test_only_ca_certificates_and_readable_files(fleet: Fleet) -> None:
    leaf = fleet.write("leaf.der", der(fleet.pki.ca.issue("Nguyễn Văn An")))
    with fleet.register.read() as s:
        events = s.scalar(select(func.count()).select_from(Event))
    result = run(fleet.url, "ca", "trust", "add", str(leaf))
    assert result.code == 65 and "not a CA certificate" in result.err
    garbage = run(fleet.url, "ca", "trust", "add", str(fleet.write("x.pem", b"hello")))
    assert garbage.code == 65 and "not an X.509 certificate" in garbage.err
    missing = run(fleet.url, "ca", "trust", "add", str(fleet.folder / "nope.pem"))
    assert missing.code == 65 and "cannot read" in missing.err
    # a bundle with one leaf in it is refused whole
    mixed = fleet.write("mixed.pem", fleet.pki.root.pem + pem(fleet.pki.ca.issue("X")))
    assert run(fleet.url, "ca", "trust", "add", str(mixed)).code == 65
    assert anchors(fleet) == 0
    with fleet.register.read() as s:
        assert s.scalar(select(func.count()).select_from(Event)) == events
