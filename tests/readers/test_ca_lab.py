"""Certificates the poller reads from SoftHSM tokens (the reader lab), reconciled with the CA:
the whole certificate is kept, so its path is validated and its serial found on the CA's CRL."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from sqlalchemy import select

from inventory.cli import cli
from inventory.fleet import lifecycle
from inventory.register.db import Register
from inventory.register.models import Certificate
from tests.ca.conftest import run
from tests.ca.pki import make_pki
from tests.lab.softhsm import SOFTHSM_LIB, SoftHsmLab, TestCa, TokenSpec

pytestmark = pytest.mark.lab


def poll(url: str) -> None:
    result = CliRunner().invoke(cli, ["--db", url, "poll", "--once", "--desk", "desk1",
                                      "--no-pcsc", "--pkcs11-module", SOFTHSM_LIB,
                                      "--format", "json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output


def kinds(url: str) -> set[tuple[str, str]]:
    result = run(url, "ca", "check", "--format", "json")
    assert result.code in (0, 1), result.err
    return {(r["kind"], r["serial"]) for r in json.loads(result.out)}


def test_token_certificates_against_the_ca(register: Register, db_url: str, tmp_path: Path,
                                           softhsm: tuple[SoftHsmLab, list[TokenSpec]],
                                           test_ca: TestCa) -> None:
    _lab, specs = softhsm
    tokens = [s.serial.lower() for s in specs[:4]]
    with register.session() as s:
        agency = lifecycle.add_agency(s, code="HN-STP", name="Sở Tư pháp", actor="t")
        holder = lifecycle.add_holder(s, full_name="Nguyễn Văn An", agency=agency, actor="t")
        for serial in tokens:
            d = lifecycle.add_device(s, kind="usb_token", serial=serial, actor="t")
            lifecycle.issue(s, d, holder, method="in_person", actor="t")
    poll(db_url)
    with register.read() as s:
        certs = list(s.scalars(select(Certificate).order_by(Certificate.id)))
        assert len(certs) == 4
        assert all(c.der is not None and c.chain == "pending" for c in certs)
        by_der = {c.der: c for c in certs}
        for spec in specs[:4]:
            cert = by_der[spec.cert_der]
            parsed = x509.load_der_x509_certificate(spec.cert_der)
            assert cert.serial == f"{parsed.serial_number:X}"
            assert cert.issuer_der == parsed.issuer.public_bytes()

    # the office trusts another CA only: every token's certificate has an unknown issuer
    other = make_pki()
    (tmp_path / "other.pem").write_bytes(other.root.pem)
    assert run(db_url, "ca", "trust", "add", str(tmp_path / "other.pem")).code == 0
    assert kinds(db_url) == {("unknown_issuer", t) for t in tokens}

    # now the lab's CA too; it revokes token 1's certificate
    (tmp_path / "lab.pem").write_bytes(test_ca.cert.public_bytes(serialization.Encoding.PEM))
    assert run(db_url, "ca", "trust", "add", str(tmp_path / "lab.pem")).code == 0
    assert kinds(db_url) == set()
    revoked = x509.load_der_x509_certificate(specs[0].cert_der).serial_number
    now = dt.datetime.now(dt.UTC)
    crl = (x509.CertificateRevocationListBuilder().issuer_name(test_ca.name)
           .last_update(now - dt.timedelta(minutes=5)).next_update(now + dt.timedelta(days=1))
           .add_extension(x509.CRLNumber(1), critical=False)
           .add_revoked_certificate(x509.RevokedCertificateBuilder()
                                    .serial_number(revoked).revocation_date(now).build())
           .sign(test_ca.key, hashes.SHA256()))
    (tmp_path / "lab.crl").write_bytes(crl.public_bytes(serialization.Encoding.DER))
    imported = run(db_url, "ca", "crl", "import", str(tmp_path / "lab.crl"))
    assert imported.code == 0, imported.err
    assert kinds(db_url) == {("revoked_at_ca_in_use", tokens[0])}
