"""Benchmark: a CRL of 100,000 revoked serials against a 1,000,000-device register (issue 15).

- ``ca crl import``: the import (parse, signature over the TBS bytes, entries, one row) against
  cryptography's own parse of the same CRL (load it, read every entry's serial number and
  revocation date);
- ``ca check``: the reconciliation (cold: the CRL's entries are read and parsed each time, as
  in a fresh ``tokenfleet ca check`` process) against a bare pass — one SQL query of the active
  certificates (serial, issuer key) with sqlite3, in its fastest plan (a table scan), and a
  Python set lookup of each serial.

The CRL holds 5,000 serials of certificates on issued or locked devices (``revoked_at_ca_in_use``
mismatches), the serials of the certificates the register revoked that are still valid except
1,000 (``revoked_here_valid_at_ca``), and random serials up to the total. Its CA is named like
the demo's issuer and trusted, so the demo's typed certificates are matched by issuer name.

Run: ``.venv/bin/python -m tests.benchmarks.bench_ca [--register FILE] [--revoked N]``. The
register is ``bench_alerts``'s (built once into /tmp, ~12 min for 1M devices) or any SQLite
register FILE; the CA, its key and the CRL are made once beside it and reused.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from inventory.ca import crls
from inventory.ca import reconcile as reconciliation
from inventory.ca.anchors import add_anchors
from inventory.demo import city as demo
from inventory.register.db import Register
from inventory.register.models import RevocationList, TrustAnchor
from tests.benchmarks.bench_alerts import build

IN_USE = 5_000
NOT_CARRIED_OUT = 1_000


def median_time(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def bench_ca(folder: Path) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """A CA named like the demo's issuer (made once, kept beside the register)."""
    folder.mkdir(exist_ok=True)
    key_path, cert_path = folder / "ca.key", folder / "ca.pem"
    if key_path.exists() and cert_path.exists():
        key = serialization.load_pem_private_key(key_path.read_bytes(), None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        return key, x509.load_pem_x509_certificate(cert_path.read_bytes())
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name.from_rfc4514_string(demo.CA_ISSUER)
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=3650))
            .not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key, cert


def make_crl(path: Path, raw: sqlite3.Connection, key: ec.EllipticCurvePrivateKey,
             cert: x509.Certificate, total: int) -> bytes:
    """The CRL (built with asn1crypto: cryptography's builder is quadratic in the entries)."""
    if path.exists():
        return path.read_bytes()
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    in_use = [int(s, 16) for (s,) in raw.execute(
        "SELECT c.serial FROM certificates c JOIN devices d ON d.id = c.device_id "
        "WHERE c.status = 'active' AND d.status IN ('issued', 'locked') "
        "ORDER BY c.id LIMIT ?", (IN_USE,))]
    revoked_here = [int(s, 16) for (s,) in raw.execute(
        "SELECT serial FROM certificates WHERE status = 'revoked' AND not_after > ?",
        (now.strftime("%Y-%m-%d %H:%M:%S"),))][NOT_CARRIED_OUT:]
    serials = in_use + revoked_here
    rng = random.Random(15)
    while len(serials) < total:
        serials.append(rng.getrandbits(120))
    when = now - dt.timedelta(days=1)
    tbs = asn1_crl.TbsCertList({
        "version": "v2",
        "signature": {"algorithm": "sha256_ecdsa"},
        "issuer": asn1_x509.Name.load(cert.subject.public_bytes()),
        "this_update": asn1_x509.Time({"utc_time": now - dt.timedelta(hours=1)}),
        "next_update": asn1_x509.Time({"utc_time": now + dt.timedelta(days=30)}),
        "revoked_certificates": [{"user_certificate": s,
                                  "revocation_date": asn1_x509.Time({"utc_time": when})}
                                 for s in serials[:total]],
        "crl_extensions": [{"extn_id": "crl_number", "critical": False, "extn_value": 1}],
    })
    signature = key.sign(tbs.dump(), ec.ECDSA(hashes.SHA256()))
    der = asn1_crl.CertificateList({"tbs_cert_list": tbs,
                                    "signature_algorithm": {"algorithm": "sha256_ecdsa"},
                                    "signature": signature}).dump()
    path.write_bytes(der)
    return der


def cryptography_parse(der: bytes) -> int:
    crl = x509.load_der_x509_crl(der)
    return len([(r.serial_number, r.revocation_date_utc) for r in crl])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--devices", type=int, default=1_000_000)
    parser.add_argument("--register", type=Path, help="an existing SQLite register file")
    parser.add_argument("--revoked", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    path = args.register or Path(f"/tmp/tokenfleet_bench_{args.devices}.sqlite3")
    url = f"sqlite:///{path}" if args.register else build(path, args.devices)
    register = Register.open(url)  # upgrades a reused file to the current schema
    folder = path.with_name(path.name + ".ca")
    key, cert = bench_ca(folder)
    raw = sqlite3.connect(str(path))
    der = make_crl(folder / f"crl-{args.revoked}.der", raw, key, cert, args.revoked)
    with register.session() as session:
        fp = cert.fingerprint(hashes.SHA256()).hex()
        if session.scalar(select(TrustAnchor.id).where(TrustAnchor.fingerprint_sha256 == fp)) \
                is None:
            add_anchors(session, [cert], actor="bench", source="bench")
    with register.session() as session:
        crls.import_crl(session, der, source="bench", actor="bench")  # held for the check
    load = os.getloadavg()

    parse_s, entries = median_time(lambda: cryptography_parse(der), args.repeat)

    def import_once() -> str:
        with Session(register.engine) as session:
            session.execute(delete(RevocationList))
            started = time.perf_counter()
            result = crls.import_crl(session, der, source="bench", actor="bench")
            took = time.perf_counter() - started
            session.rollback()
        times.append(took)
        return result.outcome

    times: list[float] = []
    for _ in range(args.repeat):
        import_once()
    import_s = statistics.median(times)

    revoked_set = {f"{s:X}" for s in (r.serial_number for r in x509.load_der_x509_crl(der))}

    def bare_pass() -> int:
        rows = raw.execute("SELECT serial, issuer_key FROM certificates "
                           "WHERE +status = 'active'").fetchall()  # a table scan: its best plan
        return sum(1 for serial, _key in rows if serial in revoked_set)

    bare_s, hits = median_time(bare_pass, args.repeat)

    def check() -> reconciliation.Reconciliation:
        reconciliation._ENTRIES.clear()  # cold, as a fresh `tokenfleet ca check` process is
        with register.read() as session:
            return reconciliation.reconcile(session)

    check_s, result = median_time(check, args.repeat)
    tokenfleet = str(Path(sys.executable).with_name("tokenfleet"))
    env = dict(os.environ, TOKENFLEET_DATABASE_URL=url)

    def command() -> int:
        return subprocess.run([tokenfleet, "ca", "check", "--format", "csv"], env=env,
                              stdout=subprocess.DEVNULL, check=False).returncode

    cmd_s, code = median_time(command, max(3, args.repeat // 2))
    after = os.getloadavg()
    counts = result.counts()
    print(f"register: {path} ({result.certificates} active certificates scanned)")
    print(f"load average: {load[0]:.2f} before, {after[0]:.2f} after")
    print(f"CRL: {entries} revoked serials, {len(der) / 1e6:.1f} MB")
    print(f"cryptography's parse (load + every serial and date): {parse_s * 1000:.0f} ms")
    print(f"ca crl import (in-process, rolled back): {import_s * 1000:.0f} ms "
          f"({import_s / parse_s:.2f}x cryptography's parse)")
    print(f"bare pass (sqlite3 query of active certificates + set lookup): "
          f"{bare_s * 1000:.0f} ms, {hits} on the CRL")
    print(f"ca check, reconcile (cold): {check_s * 1000:.0f} ms ({check_s / bare_s:.2f}x bare) "
          f"— {counts}")
    print(f"`tokenfleet ca check --format csv` command: {cmd_s * 1000:.0f} ms "
          f"({cmd_s / bare_s:.2f}x bare, exit {code})")
    register.dispose()


if __name__ == "__main__":
    main()
