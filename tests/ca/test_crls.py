"""`ca crl import`: signature, issuer and age checked against the trust anchors; a refused CRL
stores nothing; URLs fetched with a deadline from a real HTTP server on loopback."""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import func, select

from inventory.register.models import Event, RevocationList
from tests.ca.conftest import Fleet, run, trust
from tests.ca.pki import NOW, serving_files


def held(fleet: Fleet) -> tuple[int, int, list[str | None]]:
    """(CRLs held, audit events, their numbers): what a refusal must leave unchanged."""
    with fleet.register.read() as s:
        crls = s.scalar(select(func.count()).select_from(RevocationList)) or 0
        events = s.scalar(select(func.count()).select_from(Event)) or 0
        numbers = list(s.scalars(select(RevocationList.crl_number)))
    return crls, events, numbers


def test_der_and_pem_and_newer_replaces(fleet: Fleet) -> None:
    trust(fleet)
    first = fleet.write("a.crl", fleet.pki.ca.crl([(77, NOW)], number=1))
    result = run(fleet.url, "ca", "crl", "import", str(first))
    assert result.code == 0, result.err
    assert "1 revoked" in result.out and "number 1" in result.out
    pem = x509.load_der_x509_crl(fleet.pki.ca.crl([(77, NOW), (78, NOW)], number=2)) \
        .public_bytes(serialization.Encoding.PEM)
    second = run(fleet.url, "ca", "crl", "import", str(fleet.write("b.pem", pem)))
    assert second.code == 0 and "replaces" in second.out
    assert held(fleet)[0] == 1 and held(fleet)[2] == ["2"]
    again = run(fleet.url, "ca", "crl", "import", str(fleet.write("b2.pem", pem)))
    assert again.code == 0 and "nothing changed" in again.out
    root_crl = run(fleet.url, "ca", "crl", "import",
                   str(fleet.write("root.crl", fleet.pki.root.crl([], number=1))))
    assert root_crl.code == 0  # one CRL per issuer: the root's is kept beside the G2's
    assert held(fleet)[0] == 2


@pytest.mark.parametrize("case", ["bad_signature", "wrong_issuer", "older", "same_number",
                                  "not_a_crl", "delta", "missing_file"])
def test_refused_crl_stores_nothing(fleet: Fleet, case: str) -> None:
    trust(fleet)
    assert run(fleet.url, "ca", "crl", "import",
               str(fleet.write("held.crl", fleet.pki.ca.crl([(5, NOW)], number=5)))).code == 0
    before = held(fleet)
    ca = fleet.pki.ca
    data = {
        "bad_signature": lambda: ca.crl([(6, NOW)], number=6,
                                        signer=ec.generate_private_key(ec.SECP256R1())),
        "wrong_issuer": lambda: fleet.pki.other.crl([(6, NOW)], number=6),
        "older": lambda: ca.crl([], number=4, this_update=NOW),
        "same_number": lambda: ca.crl([(9, NOW)], number=5),
        "not_a_crl": lambda: b"-----BEGIN X509 CRL-----\nbm90IGEgQ1JM\n-----END X509 CRL-----\n",
        "delta": lambda: delta_crl(fleet),
        "missing_file": lambda: b"",
    }[case]()
    path = fleet.folder / "missing.crl" if case == "missing_file" else fleet.write("x.crl", data)
    result = run(fleet.url, "ca", "crl", "import", str(path))
    assert result.code == 65, (result.out, result.err)
    assert len(result.err.strip().splitlines()) == 1
    assert str(path) in result.err
    expected = {"bad_signature": "bad signature", "wrong_issuer": "wrong issuer",
                "older": "not newer", "same_number": "not newer", "not_a_crl": "not a CRL",
                "delta": "delta CRL", "missing_file": "cannot read"}[case]
    assert expected in result.err
    assert held(fleet) == before


def delta_crl(fleet: Fleet) -> bytes:
    ca = fleet.pki.ca
    return (x509.CertificateRevocationListBuilder().issuer_name(ca.name)
            .last_update(NOW).next_update(NOW + dt.timedelta(days=1))
            .add_extension(x509.CRLNumber(8), critical=False)
            .add_extension(x509.DeltaCRLIndicator(5), critical=True)
            .sign(ca.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER))


def test_from_a_url(fleet: Fleet) -> None:
    trust(fleet)
    with serving_files({"/g2.crl": fleet.pki.ca.crl([(1, NOW)], number=3)}) as base:
        ok = run(fleet.url, "ca", "crl", "import", f"{base}/g2.crl")
        assert ok.code == 0, ok.err
        missing = run(fleet.url, "ca", "crl", "import", f"{base}/nothing.crl")
        assert missing.code == 74 and "HTTP 404" in missing.err
    assert held(fleet)[2] == ["3"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def silent_server() -> Iterator[int]:
    """Accepts connections and never answers: a CA server that hangs."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    conns: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                conns.append(sock.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield int(sock.getsockname()[1])
    finally:
        stop.set()
        thread.join(5)
        for c in conns:
            c.close()
        sock.close()


def test_offline_and_slow_urls_fail_clearly(fleet: Fleet,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    trust(fleet)
    before = held(fleet)
    refused = run(fleet.url, "ca", "crl", "import", f"http://127.0.0.1:{free_port()}/a.crl")
    assert refused.code == 74 and "connection refused" in refused.err
    monkeypatch.setenv("TOKENFLEET_CA_TIMEOUT", "0.5")
    with silent_server() as port:
        started = time.monotonic()
        slow = run(fleet.url, "ca", "crl", "import", f"http://127.0.0.1:{port}/a.crl")
        waited = time.monotonic() - started
    assert slow.code == 74 and "0.5 s" in slow.err
    assert waited < 30  # a deadline, not a hang (generous: the machine is shared)
    assert held(fleet) == before
