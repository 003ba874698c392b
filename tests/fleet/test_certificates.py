"""Certificates read from the certificate itself: serial as the integer's hex, the issuer kept
DER-exact and compared canonically (RFC 5280: case, spacing, string types)."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import NameOID

from inventory.fleet.certificates import (
    CertificateData,
    issuer_der_of,
    name_key,
    name_key_of_text,
    normalise_serial,
    read_certificate_file,
)
from inventory.register.errors import ValidationError
from tests.ca.pki import der, make_pki, pem


@pytest.mark.parametrize(("typed", "stored"), [
    ("0a:1b:2c", "A1B2C"), ("00 00 ff", "FF"), ("abcdef", "ABCDEF"), ("0", "0"),
    ("  7F 00 ", "7F00"), ("C-1", "C-1"), ("VT-0001", "VT-0001"), ("Số 12", "Số 12")])
def test_typed_serials(typed: str, stored: str) -> None:
    assert normalise_serial(typed) == stored


def test_names_compare_canonically() -> None:
    utf8 = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                      x509.NameAttribute(NameOID.COMMON_NAME, "Cục Chứng thực số")])
    other_spelling = x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "vn"),
        x509.NameAttribute(NameOID.COMMON_NAME, "  CỤC  CHỨNG THỰC SỐ ", _ASN1Type.BMPString)])
    different = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                           x509.NameAttribute(NameOID.COMMON_NAME, "Cục Chứng thực")])
    assert utf8.public_bytes() != other_spelling.public_bytes()
    assert name_key(utf8.public_bytes()) == name_key(other_spelling.public_bytes())
    assert name_key(utf8.public_bytes()) != name_key(different.public_bytes())
    assert name_key_of_text(utf8.rfc4514_string()) == name_key(utf8.public_bytes())
    assert name_key_of_text("not a name") is None and name_key_of_text(None) is None


def test_a_certificate_file_gives_every_field(tmp_path: Path) -> None:
    pki = make_pki()
    cert = pki.ca.issue("Nguyễn Văn An", serial=0x0ABCDEF)
    path = tmp_path / "c.pem"
    path.write_bytes(pem(cert))
    data = CertificateData.from_file(path)
    assert data.serial == "ABCDEF"
    assert data.der == der(cert)
    assert data.issuer_der == issuer_der_of(der(cert))
    assert data.issuer_der is not None and data.issuer_der in der(cert)  # byte-exact
    assert data.issuer_key == name_key(pki.ca.cert.subject.public_bytes())
    assert data.not_after == cert.not_valid_after_utc
    assert data.subject_cn == "Nguyễn Văn An"
    assert len(data.fingerprint_sha256 or "") == 64


def test_bad_certificate_files(tmp_path: Path) -> None:
    pki = make_pki()
    two = tmp_path / "two.pem"
    two.write_bytes(pem(pki.ca.issue("A")) + pem(pki.ca.issue("B")))
    with pytest.raises(ValidationError, match="2 certificates"):
        read_certificate_file(two)
    junk = tmp_path / "junk.cer"
    junk.write_bytes(b"\x30\x03\x02\x01\x01")
    with pytest.raises(ValidationError, match=r"junk\.cer: not an X.509 certificate"):
        read_certificate_file(junk)
    with pytest.raises(ValidationError, match="cannot read"):
        read_certificate_file(tmp_path / "missing.pem")
