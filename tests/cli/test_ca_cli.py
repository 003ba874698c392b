"""`device add|renew --cert FILE` and `devices --ca-mismatch` (issue 15), on both backends."""

from __future__ import annotations

import json

from sqlalchemy import select

from inventory.fleet.certificates import name_key
from inventory.register.models import Certificate
from tests.ca.conftest import Fleet, fleet, pki, run, trust  # noqa: F401 - fixtures
from tests.ca.pki import der, pem
from tests.ca.test_reconcile import EXPECTED, scenario


def test_renew_reads_the_certificate_file(fleet: Fleet) -> None:  # noqa: F811
    fleet.add("TOK1", fleet.file_cert("Cũ"))
    new = fleet.pki.ca.issue("Nguyễn Văn An", serial=0x00FACE)
    path = fleet.write("new.pem", pem(new))
    result = run(fleet.url, "device", "renew", "TOK1", "--cert", str(path))
    assert result.code == 0, result.err
    assert f"certificate FACE valid until {new.not_valid_after_utc:%Y-%m-%d}" in result.out
    with fleet.register.read() as s:
        cert = s.scalars(select(Certificate).where(Certificate.status == "active")).one()
        assert cert.serial == "FACE" and cert.der == der(new)
        assert cert.issuer == fleet.pki.ca.cert.subject.rfc4514_string()
        assert cert.issuer_der == new.issuer.public_bytes()
        assert cert.issuer_key == name_key(fleet.pki.ca.cert.subject.public_bytes())
        assert cert.subject and "Nguyễn Văn An" in cert.subject
        assert cert.fingerprint_sha256 and len(cert.fingerprint_sha256) == 64
        old = s.scalars(select(Certificate).where(Certificate.status == "superseded")).one()
        assert old.serial != "FACE"
    # the same certificate again: a duplicate fingerprint
    assert run(fleet.url, "device", "renew", "TOK1", "--cert", str(path)).code == 4


def test_renew_refuses_mixed_or_bad_input(fleet: Fleet) -> None:  # noqa: F811
    fleet.add("TOK1", fleet.file_cert("Cũ"))
    path = fleet.write("c.der", der(fleet.pki.ca.issue("X")))
    mixed = run(fleet.url, "device", "renew", "TOK1", "--cert", str(path),
                "--cert-serial", "AB")
    assert mixed.code == 2
    neither = run(fleet.url, "device", "renew", "TOK1")
    assert neither.code == 2
    bad = run(fleet.url, "device", "renew", "TOK1", "--cert", str(fleet.write("b.pem", b"x")))
    assert bad.code == 65 and "b.pem" in bad.err
    typed = run(fleet.url, "device", "renew", "TOK1", "--cert-serial", "0a:bc",
                "--not-before", "2026-01-01", "--not-after", "2029-01-01")
    assert typed.code == 0 and "certificate ABC valid until 2029-01-01" in typed.out


def test_add_reads_the_certificate_file(fleet: Fleet) -> None:  # noqa: F811
    cert = fleet.pki.ca.issue("Trần Thị Bình", serial=0x0BEEF)
    path = fleet.write("tok2.der", der(cert))
    result = run(fleet.url, "device", "add", "TOK2", "--cert", str(path))
    assert result.code == 0, result.err
    assert (f"usb_token TOK2 added: in_stock, certificate BEEF valid until "
            f"{cert.not_valid_after_utc:%Y-%m-%d}") in result.out
    with fleet.register.read() as s:  # no trust anchor yet: validated once there is one
        held = s.scalars(select(Certificate)).one()
        assert (held.serial, held.der, held.status) == ("BEEF", der(cert), "active")
        assert held.issuer_der == cert.issuer.public_bytes() and held.chain == "pending"
    trust(fleet)
    with fleet.register.read() as s:
        assert s.scalars(select(Certificate.chain)).one() == "trusted"
    # a certificate from a CA the office does not trust: added, and the operator is told so
    stranger = fleet.write("tok5.pem", pem(fleet.pki.other.issue("Lạ")))
    result = run(fleet.url, "device", "add", "TOK5", "--cert", str(stranger))
    assert result.code == 0 and "TOK5: certificate" in result.err
    assert "does not chain to a trust anchor" in result.err
    # an unreadable file refuses the whole add: no device without its certificate
    bad = run(fleet.url, "device", "add", "TOK3", "--cert", str(fleet.write("b.der", b"x")))
    assert bad.code == 65 and "b.der" in bad.err and "\n" not in bad.err.strip()
    assert run(fleet.url, "device", "show", "TOK3").code == 3
    # the same certificate on a second new device: a duplicate, and that device is not added
    again = run(fleet.url, "device", "add", "TOK4", "--cert", str(path))
    assert again.code == 4
    assert run(fleet.url, "device", "show", "TOK4").code == 3


def test_untrusted_renewal_is_said_at_once(fleet: Fleet) -> None:  # noqa: F811
    assert run(fleet.url, "ca", "trust", "add",
               str(fleet.write("root.pem", fleet.pki.root.pem + fleet.pki.ca.pem))).code == 0
    fleet.add("TOK1", fleet.file_cert("Cũ"))
    path = fleet.write("x.der", der(fleet.pki.other.issue("Lạ")))
    result = run(fleet.url, "device", "renew", "TOK1", "--cert", str(path))
    assert result.code == 0
    assert "does not chain to a trust anchor" in result.err


def test_devices_filter_by_ca_mismatch(fleet: Fleet) -> None:  # noqa: F811
    scenario(fleet)
    rows = json.loads(run(fleet.url, "devices", "--ca-mismatch", "any", "--format",
                          "json").out)
    assert {r["serial"] for r in rows} == {serial for _, serial in EXPECTED}
    only = json.loads(run(fleet.url, "devices", "--ca-mismatch", "unknown_issuer",
                          "--status", "issued", "--format", "json").out)
    assert {r["serial"] for r in only} == {"UNKNOWN", "TYPED-NONE"}
