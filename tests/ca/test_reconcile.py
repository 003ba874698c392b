"""`ca check`: each kind of mismatch exactly where expected, and nowhere else."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from sqlalchemy import select

from inventory.ca import chains
from inventory.fleet import lifecycle
from inventory.fleet.certificates import CertificateData
from inventory.register.models import Certificate
from tests.ca.conftest import Fleet, run, trust
from tests.ca.pki import NOW, der


def scenario(fleet: Fleet) -> None:
    """Devices for every case; the intermediate's CRL revokes CA-*, BOTH and LOST, LOCKED."""
    trust(fleet)
    f = fleet
    f.add("CA-REVOKED", f.file_cert("Người dùng 1"))  # on the CRL, issued → kind 1
    f.add("CA-LOCKED", f.file_cert("Người dùng 2"), status="locked")  # on the CRL → kind 1
    f.add("CA-LOST", f.file_cert("Người dùng 3"), status="lost")  # on the CRL, lost → no
    f.add("CA-STOCK", f.file_cert("Người dùng 4"), status="in_stock")  # on the CRL, stock → no
    f.add("OK", f.file_cert("Người dùng 5"))  # nothing
    f.add("HERE-OLD", f.file_cert("Người dùng 6"), status="revoked",
          revoked_days_ago=10)  # revoked here, not on the CRL → kind 2
    f.add("HERE-BOTH", f.file_cert("Người dùng 7"), status="revoked",
          revoked_days_ago=10)  # revoked here and on the CRL → no
    f.add("HERE-RECENT", f.file_cert("Người dùng 8"), status="revoked",
          revoked_days_ago=2)  # within the grace period → no (yes with grace 0)
    f.add("HERE-EXPIRED", f.file_cert("Người dùng 9", days=40,
                                      not_before=NOW - dt.timedelta(days=50)),
          status="revoked", revoked_days_ago=20)  # expired: a CRL may drop it → no
    f.add("UNKNOWN", f.file_cert("Người lạ", untrusted=True))  # kind 3
    f.add("TYPED-OK", CertificateData(serial="0a:bc:de", not_before=NOW - dt.timedelta(days=9),
                                      not_after=NOW + dt.timedelta(days=700),
                                      issuer=f.pki.ca.cert.subject.rfc4514_string().upper()))
    f.add("TYPED-NONE", CertificateData(serial="ABCDF", not_before=NOW - dt.timedelta(days=9),
                                        not_after=NOW + dt.timedelta(days=700)))  # kind 3
    f.add("NO-CERT")  # nothing to reconcile
    s = f.serials
    revoked = [(s[d], NOW - dt.timedelta(days=3))
               for d in ("CA-REVOKED", "CA-LOCKED", "CA-LOST", "CA-STOCK", "HERE-BOTH")]
    revoked += [(n, NOW - dt.timedelta(days=30)) for n in range(1000, 1100)]
    crl = f.write("ca.crl", f.pki.ca.crl(revoked, number=7))
    result = run(f.url, "ca", "crl", "import", str(crl))
    assert result.code == 0, result.err


EXPECTED = {("revoked_at_ca_in_use", "CA-REVOKED"), ("revoked_at_ca_in_use", "CA-LOCKED"),
            ("revoked_here_valid_at_ca", "HERE-OLD"), ("unknown_issuer", "UNKNOWN"),
            ("unknown_issuer", "TYPED-NONE")}


def found(out: str) -> set[tuple[str, str]]:
    return {(r["kind"], r["serial"]) for r in json.loads(out)}


def test_each_kind_exactly_where_expected(fleet: Fleet) -> None:
    scenario(fleet)
    result = run(fleet.url, "ca", "check", "--format", "json")
    assert result.code == 1, result.err
    assert found(result.out) == EXPECTED
    records = {r["serial"]: r for r in json.loads(result.out)}
    assert records["CA-REVOKED"]["holder"] == "Nguyễn Văn An"
    assert records["CA-REVOKED"]["agency_code"] == "STTTT"
    assert records["CA-REVOKED"]["certificate_serial"] == f"{fleet.serials['CA-REVOKED']:X}"
    assert "signature" in records["UNKNOWN"]["detail"] or "issuer" in records["UNKNOWN"]["detail"]


def test_grace_period_from_the_environment(fleet: Fleet,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    scenario(fleet)
    monkeypatch.setenv("TOKENFLEET_CA_GRACE_DAYS", "0")
    result = run(fleet.url, "ca", "check", "--format", "json")
    assert found(result.out) == EXPECTED | {("revoked_here_valid_at_ca", "HERE-RECENT")}
    monkeypatch.setenv("TOKENFLEET_CA_GRACE_DAYS", "30")
    result = run(fleet.url, "ca", "check", "--format", "json", "--kind",
                 "revoked_here_valid_at_ca")
    assert result.code == 0 and json.loads(result.out) == []
    monkeypatch.setenv("TOKENFLEET_CA_GRACE_DAYS", "a week")
    result = run(fleet.url, "ca", "check")
    assert result.code == 78 and "TOKENFLEET_CA_GRACE_DAYS" in result.err


def test_stale_crl_and_clean_register(fleet: Fleet) -> None:
    trust(fleet)
    fleet.add("OK", fleet.file_cert("Người dùng"))
    result = run(fleet.url, "ca", "check")
    assert result.code == 0 and "(nothing)" in result.out
    expired = fleet.pki.ca.crl([], number=3, this_update=NOW - dt.timedelta(days=10),
                               next_update=NOW - dt.timedelta(days=3))
    imported = run(fleet.url, "ca", "crl", "import", str(fleet.write("old.crl", expired)))
    assert imported.code == 0 and "past its next update" in imported.err
    result = run(fleet.url, "ca", "check", "--format", "json")
    assert result.code == 1
    rows = json.loads(result.out)
    assert [(r["kind"], r["serial"]) for r in rows] == [("crl_stale", None)]
    assert "G2 (TEST)" in rows[0]["detail"]
    fresh = fleet.pki.ca.crl([], number=4)
    assert run(fleet.url, "ca", "crl", "import", str(fleet.write("new.crl", fresh))).code == 0
    assert run(fleet.url, "ca", "check").code == 0


def test_no_trust_anchors_means_nothing_to_reconcile(fleet: Fleet) -> None:
    fleet.add("UNKNOWN", fleet.file_cert("Người lạ", untrusted=True))
    result = run(fleet.url, "ca", "check")
    assert result.code == 0
    assert "no trust anchors" in result.err


def test_formats(fleet: Fleet) -> None:
    scenario(fleet)
    table = run(fleet.url, "ca", "check")
    assert table.code == 1
    assert table.out.splitlines()[0].split() == ["kind", "serial", "holder", "agency_code",
                                                 "certificate_serial", "detail"]
    assert "CA-REVOKED" in table.out and "HERE-OLD" in table.out
    rows = list(csv.DictReader(io.StringIO(run(fleet.url, "ca", "check", "--format",
                                               "csv").out)))
    assert {(r["kind"], r["serial"]) for r in rows} == EXPECTED


def test_pending_verdicts_are_settled_and_kept(fleet: Fleet) -> None:
    """A certificate a reader attached arrives unvalidated; the first check validates it and
    keeps the verdict, so later checks read one column."""
    trust(fleet)
    fleet.add("POLLED", CertificateData.from_der(der(fleet.pki.other.issue("Người lạ"))))
    with fleet.register.read() as s:
        assert s.scalar(select(Certificate.chain)) == "pending"
    assert found(run(fleet.url, "ca", "check", "--format", "json").out) == {
        ("unknown_issuer", "POLLED")}
    with fleet.register.read() as s:
        chain, note = s.execute(select(Certificate.chain, Certificate.chain_note)).one()
    assert chain == "untrusted" and note == chains.NO_PATH


def test_trust_changes_revalidate(fleet: Fleet) -> None:
    """Removing the anchor a certificate chains to makes it unknown; adding it back, known."""
    trust(fleet)
    fleet.add("OK", fleet.file_cert("Người dùng"))
    assert run(fleet.url, "ca", "check").code == 0
    listing = run(fleet.url, "ca", "trust", "list", "--format", "json")
    anchors = json.loads(listing.out)
    inter = next(a for a in anchors if not a["root"])
    removed = run(fleet.url, "ca", "trust", "remove", inter["fingerprint_sha256"][:12])
    assert removed.code == 0, removed.err
    # the root alone is enough: the certificate file names no other path, so it is unknown
    assert found(run(fleet.url, "ca", "check", "--format", "json").out) == {
        ("unknown_issuer", "OK")}
    readd = run(fleet.url, "ca", "trust", "add", str(fleet.write("i.pem", fleet.pki.ca.pem)))
    assert readd.code == 0
    assert run(fleet.url, "ca", "check").code == 0


def test_revocation_time_is_kept(fleet: Fleet) -> None:
    trust(fleet)
    fleet.add("D", fleet.file_cert("Người dùng"), status="revoked", revoked_days_ago=3)
    with fleet.register.read() as s:
        revoked_at = s.scalar(select(Certificate.revoked_at))
    assert revoked_at is not None
    assert abs(revoked_at - (NOW - dt.timedelta(days=3))) < dt.timedelta(seconds=1)


def test_typed_serials_are_kept_as_the_integers_hex(fleet: Fleet) -> None:
    fleet.add("T", CertificateData(serial=" 00:0a:bc:de ", not_before=NOW,
                                   not_after=NOW + dt.timedelta(days=1)))
    with fleet.register.read() as s:
        assert s.scalar(select(Certificate.serial)) == "ABCDE"
    assert lifecycle.normalise_serial("VT-01") == "VT-01"
