"""`alerts run --rule ca_mismatch`: the CA mismatch kinds as alerts, once per certificate, by
e-mail through a real SMTP server on loopback."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.alerts.conftest import Mailbox
from tests.ca.conftest import Fleet, fleet, pki, run  # noqa: F401 - fixtures
from tests.ca.test_reconcile import EXPECTED, scenario


def dry_run(fleet: Fleet, *rules: str) -> list[dict[str, Any]]:  # noqa: F811
    args = ["alerts", "run", "--dry-run", "--format", "json"]
    for rule in rules:
        args += ["--rule", rule]
    result = run(fleet.url, *args)
    assert result.code in (0, 10), result.err
    rows: list[dict[str, Any]] = json.loads(result.out)
    return rows


def test_the_kinds_become_alerts_once_per_certificate(
        fleet: Fleet, smtp_server: tuple[Mailbox, int],  # noqa: F811
        monkeypatch: pytest.MonkeyPatch) -> None:
    mailbox, port = smtp_server
    for name, value in {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port),
                        "SMTP_SECURITY": "none", "SMTP_FROM": "tokenfleet@city.test",
                        "MANAGERS_EMAIL": "boss@city.test", "LANG": "en"}.items():
        monkeypatch.setenv(f"TOKENFLEET_{name}", value)
    scenario(fleet)
    planned = dry_run(fleet, "ca_mismatch")
    assert {r["serial"] for r in planned if r["rule"] == "ca_mismatch"} == {
        serial for _, serial in EXPECTED}
    assert all(r["rule"] == "ca_mismatch" for r in planned)
    # each alert goes to the agency and the managers: two recipients, five certificates
    assert len(planned) == len(EXPECTED)
    assert all(sorted(r["recipients"]) == ["boss@city.test", "stttt@danang.gov.vn"]
               for r in planned)
    by_serial = {r["serial"]: r for r in planned}
    assert "revoked by the CA" in by_serial["CA-REVOKED"]["detail"]
    assert "not on the CA's CRL" in by_serial["HERE-OLD"]["detail"]
    first = run(fleet.url, "alerts", "run", "--rule", "ca_mismatch")
    assert first.code == 10, first.err
    agency_mail = mailbox.to("stttt@danang.gov.vn")
    assert len(agency_mail) == 1
    text, _html = Mailbox.parts(agency_mail[0])
    assert "Certificate does not match the CA (5)" in text
    assert "CA-LOCKED" in text and "UNKNOWN" in text
    again = run(fleet.url, "alerts", "run", "--rule", "ca_mismatch")
    assert again.code == 0  # once per certificate: nothing new
    assert dry_run(fleet, "ca_mismatch") == []
    # all rules together include the CA rule (already sent: not planned again)
    assert all(r["rule"] != "ca_mismatch" for r in dry_run(fleet))


def test_quiet_without_trust_anchors(fleet: Fleet) -> None:  # noqa: F811
    fleet.add("UNKNOWN", fleet.file_cert("Người lạ", untrusted=True))
    assert dry_run(fleet, "ca_mismatch") == []
