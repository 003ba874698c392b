"""A CA made in the tests with ``cryptography``: a root, an intermediate that issues the holders'
signing certificates, CRLs signed by it, and an OCSP responder on loopback.

Nothing here is mocked: certificates, CRLs and OCSP answers are real DER, signed with real keys,
and the responder is a real HTTP server on 127.0.0.1 speaking RFC 6960 over POST.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
DER = serialization.Encoding.DER
PEM = serialization.Encoding.PEM


def name(cn: str, org: str = "Ban Cơ yếu Chính phủ (TEST)") -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _ku(ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=not ca, content_commitment=not ca,
                         key_encipherment=False, data_encipherment=False, key_agreement=False,
                         key_cert_sign=ca, crl_sign=ca, encipher_only=False, decipher_only=False)


@dataclass
class Authority:
    """One CA: its key and certificate; issues certificates and CRLs."""

    name: x509.Name
    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate
    ocsp_url: str | None = None
    revoked: dict[int, dt.datetime] = field(default_factory=dict)

    @property
    def der(self) -> bytes:
        return self.cert.public_bytes(DER)

    @property
    def pem(self) -> bytes:
        return self.cert.public_bytes(PEM)

    def issue(self, cn: str, *, org: str = "Sở Thông tin và Truyền thông Đà Nẵng",
              not_before: dt.datetime | None = None, days: int = 730,
              serial: int | None = None, ca: bool = False,
              key: ec.EllipticCurvePrivateKey | None = None,
              ocsp_url: str | None = None) -> x509.Certificate:
        key = key or _key()
        nb = not_before or NOW - dt.timedelta(days=30)
        builder = (
            x509.CertificateBuilder().subject_name(name(cn, org)).issuer_name(self.name)
            .public_key(key.public_key())
            .serial_number(serial if serial is not None else x509.random_serial_number())
            .not_valid_before(nb).not_valid_after(nb + dt.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None),
                           critical=True)
            .add_extension(_ku(ca), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                self.key.public_key()), critical=False))
        if not ca:
            builder = builder.add_extension(x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        url = ocsp_url or self.ocsp_url
        if url and not ca:
            builder = builder.add_extension(x509.AuthorityInformationAccess([
                x509.AccessDescription(x509.oid.AuthorityInformationAccessOID.OCSP,
                                       x509.UniformResourceIdentifier(url))]), critical=False)
        return builder.sign(self.key, hashes.SHA256())

    def subordinate(self, cn: str) -> Authority:
        key = _key()
        cert = self.issue(cn, org="Ban Cơ yếu Chính phủ (TEST)", ca=True, key=key,
                          not_before=NOW - dt.timedelta(days=365), days=3650)
        return Authority(cert.subject, key, cert)

    def crl(self, revoked: Iterable[tuple[int, dt.datetime]] = (), *, number: int = 1,
            this_update: dt.datetime | None = None, next_update: dt.datetime | None = None,
            signer: ec.EllipticCurvePrivateKey | None = None,
            issuer: x509.Name | None = None) -> bytes:
        """A DER CRL; ``signer``/``issuer`` forge a bad signature or a wrong issuer."""
        this_update = this_update or NOW - dt.timedelta(hours=1)
        builder = (x509.CertificateRevocationListBuilder().issuer_name(issuer or self.name)
                   .last_update(this_update)
                   .next_update(next_update or this_update + dt.timedelta(days=7))
                   .add_extension(x509.CRLNumber(number), critical=False))
        for serial, when in revoked:
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when)
                .build())
        return builder.sign(signer or self.key, hashes.SHA256()).public_bytes(DER)


def make_root(cn: str = "Root CA phục vụ các cơ quan Nhà nước (TEST)") -> Authority:
    key = _key()
    subject = name(cn)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(NOW - dt.timedelta(days=3650))
            .not_valid_after(NOW + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
            .add_extension(_ku(True), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .sign(key, hashes.SHA256()))
    return Authority(subject, key, cert)


@dataclass
class Pki:
    root: Authority
    ca: Authority  # the intermediate that issues signing certificates
    other: Authority  # a CA the office does not trust

    def write(self, folder: Path, name_: str, data: bytes) -> Path:
        path = folder / name_
        path.write_bytes(data)
        return path


def make_pki() -> Pki:
    root = make_root()
    return Pki(root, root.subordinate("CA phục vụ các cơ quan Nhà nước G2 (TEST)"),
               make_root("Unknown CA Ltd (TEST)"))


def der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(DER)


def pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(PEM)


# --- an OCSP responder on loopback -----------------------------------------------------------

class OcspResponder:
    """Answers for one CA from its ``revoked`` map; ``delay`` makes it slow, ``delegate`` signs
    with a responder certificate the CA issued for OCSP signing."""

    def __init__(self, ca: Authority, *, delay: float = 0.0, delegate: bool = False) -> None:
        self.ca, self.delay = ca, delay
        self.requests = 0
        self.unknown: set[int] = set()
        self.signer_key: ec.EllipticCurvePrivateKey = ca.key
        self.signer_cert: x509.Certificate = ca.cert
        self.extra: list[x509.Certificate] = []
        if delegate:
            key = _key()
            cert = (x509.CertificateBuilder().subject_name(name("OCSP responder (TEST)"))
                    .issuer_name(ca.name).public_key(key.public_key())
                    .serial_number(x509.random_serial_number())
                    .not_valid_before(NOW - dt.timedelta(days=1))
                    .not_valid_after(NOW + dt.timedelta(days=30))
                    .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.OCSP_SIGNING]),
                                   critical=False)
                    .sign(ca.key, hashes.SHA256()))
            self.signer_key, self.signer_cert, self.extra = key, cert, [cert]
        self.stop_event = threading.Event()

    def answer(self, body: bytes) -> bytes:
        req = ocsp.load_der_ocsp_request(body)
        self.requests += 1
        serial = req.serial_number
        if serial in self.ca.revoked:
            status, when = ocsp.OCSPCertStatus.REVOKED, self.ca.revoked[serial]
        elif serial in self.unknown:
            status, when = ocsp.OCSPCertStatus.UNKNOWN, None
        else:
            status, when = ocsp.OCSPCertStatus.GOOD, None
        builder = ocsp.OCSPResponseBuilder().add_response_by_hash(
            issuer_name_hash=req.issuer_name_hash, issuer_key_hash=req.issuer_key_hash,
            serial_number=serial, algorithm=req.hash_algorithm, cert_status=status,
            this_update=NOW - dt.timedelta(minutes=5),
            next_update=NOW + dt.timedelta(hours=12), revocation_time=when,
            revocation_reason=x509.ReasonFlags.key_compromise if when else None,
        ).responder_id(ocsp.OCSPResponderEncoding.HASH, self.signer_cert)
        if self.extra:
            builder = builder.certificates(self.extra)
        try:
            nonce = req.extensions.get_extension_for_class(x509.OCSPNonce).value
            builder = builder.add_extension(nonce, critical=False)
        except x509.ExtensionNotFound:
            pass
        return builder.sign(self.signer_key, hashes.SHA256()).public_bytes(DER)

    @contextmanager
    def serving(self) -> Iterator[str]:
        responder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if responder.delay and responder.stop_event.wait(responder.delay):
                    return
                data = responder.answer(body)
                self.send_response(200)
                self.send_header("Content-Type", "application/ocsp-response")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}/ocsp"
        finally:
            self.stop_event.set()
            server.shutdown()
            server.server_close()
            thread.join(5)


@contextmanager
def serving_files(files: dict[str, bytes]) -> Iterator[str]:
    """A plain HTTP server on loopback that serves ``files`` by path (CRL downloads)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            data = files.get(self.path)
            if data is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/pkix-crl")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
