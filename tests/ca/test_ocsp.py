"""`ca ocsp SERIAL` against a real OCSP responder on loopback (built with cryptography's OCSP
builder), and against `openssl ocsp` from Debian; offline and slow responders fail clearly."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from inventory.fleet.certificates import CertificateData
from tests.ca.conftest import Fleet, run, trust
from tests.ca.pki import NOW, Authority, OcspResponder, der, make_root


def test_good_revoked_unknown(fleet: Fleet) -> None:
    trust(fleet)
    responder = OcspResponder(fleet.pki.ca)
    with responder.serving() as url:
        for device in ("GOOD", "REVOKED", "UNKNOWN"):
            cert = fleet.pki.ca.issue(f"Chủ {device}", ocsp_url=url)
            fleet.add(device, CertificateData.from_der(der(cert)))
        fleet.pki.ca.revoked[fleet.serials["REVOKED"]] = NOW - dt.timedelta(days=2)
        responder.unknown.add(fleet.serials["UNKNOWN"])
        good = run(fleet.url, "ca", "ocsp", "GOOD")
        assert good.code == 0, good.err
        assert "GOOD" in good.out and url in good.out
        assert "this update" in good.out and "next update" in good.out
        revoked = run(fleet.url, "ca", "ocsp", "REVOKED", "--format", "json")
        assert revoked.code == 1
        answer = json.loads(revoked.out)
        assert answer["status"] == "revoked"
        assert answer["revocation_reason"] == "key_compromise"
        assert answer["revocation_time"].startswith(
            (NOW - dt.timedelta(days=2)).date().isoformat())
        unknown = run(fleet.url, "ca", "ocsp", "UNKNOWN")
        assert unknown.code == 1 and "UNKNOWN" in unknown.out
    assert responder.requests == 3


def test_delegated_responder_and_typed_record_through_the_configured_url(
        fleet: Fleet, monkeypatch: pytest.MonkeyPatch) -> None:
    """A typed record (no file) is asked about by serial and issuer; TOKENFLEET_OCSP_URL names
    the responder; the answer is signed by a responder certificate the CA issued."""
    trust(fleet)
    responder = OcspResponder(fleet.pki.ca, delegate=True)
    fleet.add("TYPED", CertificateData(
        serial="0:1a:2b", not_before=NOW - dt.timedelta(days=1),
        not_after=NOW + dt.timedelta(days=300),
        issuer=fleet.pki.ca.cert.subject.rfc4514_string()))
    assert run(fleet.url, "ca", "ocsp", "TYPED").code == 78  # names no responder
    with responder.serving() as url:
        monkeypatch.setenv("TOKENFLEET_OCSP_URL", url)
        result = run(fleet.url, "ca", "ocsp", "TYPED")
    assert result.code == 0, result.err
    assert "1A2B is GOOD" in result.out


def test_answer_from_an_unauthorised_signer_is_refused(fleet: Fleet) -> None:
    trust(fleet)
    impostor = make_root("CA phục vụ các cơ quan Nhà nước G2 (TEST)")  # same name, other key
    assert impostor.name == fleet.pki.ca.name
    responder = OcspResponder(impostor, delegate=True)  # even with a "delegated" certificate
    with responder.serving() as url:
        fleet.add("D", CertificateData.from_der(der(fleet.pki.ca.issue("A", ocsp_url=url))))
        result = run(fleet.url, "ca", "ocsp", "D")
    assert result.code == 65, result.err
    assert "not authorise" in result.err or "signature" in result.err


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_offline_and_slow_responders(fleet: Fleet, monkeypatch: pytest.MonkeyPatch) -> None:
    trust(fleet)
    offline = f"http://127.0.0.1:{free_port()}/ocsp"
    fleet.add("OFF", CertificateData.from_der(der(fleet.pki.ca.issue("A", ocsp_url=offline))))
    result = run(fleet.url, "ca", "ocsp", "OFF")
    assert result.code == 74 and "connection refused" in result.err
    assert len(result.err.strip().splitlines()) == 1
    monkeypatch.setenv("TOKENFLEET_CA_TIMEOUT", "0.5")
    responder = OcspResponder(fleet.pki.ca, delay=60)
    with responder.serving() as url:
        fleet.add("SLOW", CertificateData.from_der(der(fleet.pki.ca.issue("B", ocsp_url=url))))
        started = time.monotonic()
        slow = run(fleet.url, "ca", "ocsp", "SLOW")
        waited = time.monotonic() - started
    assert slow.code == 74 and "within 0.5 s" in slow.err
    assert waited < 30  # a deadline, not a hang (generous: the machine is shared)


def test_device_without_certificate_or_trusted_issuer(fleet: Fleet) -> None:
    trust(fleet)
    fleet.add("BARE")
    assert run(fleet.url, "ca", "ocsp", "BARE").code == 3
    fleet.add("STRANGER", CertificateData.from_der(der(fleet.pki.other.issue("X"))))
    result = run(fleet.url, "ca", "ocsp", "STRANGER")
    assert result.code == 65 and "not a trust anchor" in result.err
    assert run(fleet.url, "ca", "ocsp", "NOPE").code == 3


# --- Debian's `openssl ocsp` as the responder -----------------------------------------------

@contextmanager
def openssl_responder(folder: Path, ca: Authority, valid: list[int],
                      revoked: list[int]) -> Iterator[str]:
    """``openssl ocsp -index … -port`` with the CA's own key (it answers "unknown" for a serial
    its index does not list)."""
    if shutil.which("openssl") is None:
        pytest.fail("the openssl command (Debian package openssl) is needed for this test")
    index = folder / "index.txt"
    lines = [f"V\t300101000000Z\t\t{serial:X}\tunknown\t/CN=valid{serial:X}"
             for serial in valid]
    lines += [f"R\t300101000000Z\t{(NOW - dt.timedelta(days=1)):%y%m%d%H%M%SZ},"
              f"keyCompromise\t{serial:X}\tunknown\t/CN=revoked{serial:X}"
              for serial in revoked]
    index.write_text("\n".join(lines) + ("\n" if lines else ""))
    (folder / "ca.pem").write_bytes(ca.pem)
    (folder / "ca.key").write_bytes(ca.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    port = free_port()
    proc = subprocess.Popen(
        ["openssl", "ocsp", "-index", str(index), "-port", str(port),
         "-rsigner", str(folder / "ca.pem"), "-rkey", str(folder / "ca.key"),
         "-CA", str(folder / "ca.pem"), "-ndays", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()  # "ACCEPT [::]:PORT PID=…" once it listens
        if not first.startswith(b"ACCEPT"):
            raise AssertionError(f"openssl ocsp did not start: {first!r}")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.communicate(timeout=10)


def test_against_openssl_ocsp(fleet: Fleet) -> None:
    trust(fleet)
    good = fleet.pki.ca.issue("Tốt")
    bad = fleet.pki.ca.issue("Thu hồi")
    unlisted = fleet.pki.ca.issue("Lạ")
    with openssl_responder(fleet.folder, fleet.pki.ca, [good.serial_number],
                           [bad.serial_number]) as url:
        for device, cert in (("OS-GOOD", good), ("OS-BAD", bad), ("OS-UNLISTED", unlisted)):
            fleet.add(device, CertificateData.from_der(der(cert)))
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("TOKENFLEET_OCSP_URL", url)
            ok = run(fleet.url, "ca", "ocsp", "OS-GOOD")
            revoked = run(fleet.url, "ca", "ocsp", "OS-BAD", "--format", "json")
            unknown = run(fleet.url, "ca", "ocsp", "OS-UNLISTED")
    assert ok.code == 0 and "GOOD" in ok.out, ok.err
    assert revoked.code == 1, revoked.err
    assert json.loads(revoked.out)["revocation_reason"] == "key_compromise"
    assert unknown.code == 1 and "UNKNOWN" in unknown.out
