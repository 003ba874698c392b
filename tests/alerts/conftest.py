"""Alert fixtures: a real SMTP server on loopback (aiosmtpd), a small city, and a CLI runner."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import Message

import pytest
from aiosmtpd.controller import Controller

from inventory.fleet import lifecycle
from inventory.fleet.lifecycle import CertificateData
from inventory.register.db import Register
from tests.conftest import run_tokenfleet

NOW = datetime(2026, 11, 15, 9, 0, tzinfo=UTC)
ACTOR = "test"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Mailbox:
    """What the loopback SMTP server received; ``refuse`` lists recipients it rejects."""

    messages: list[Message] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content,
                                                       policy=email.policy.default))
        return "250 Message accepted"

    def to(self, address: str) -> list[Message]:
        return [m for m in self.messages if m["To"] == address]

    @staticmethod
    def parts(msg: Message) -> tuple[str, str]:
        """(plain text, html) of a digest."""
        text = html = ""
        for part in msg.walk():
            if part.get_content_type() == "text/plain":
                text = _decoded(part)
            elif part.get_content_type() == "text/html":
                html = _decoded(part)
        return text, html


@pytest.fixture
def smtp_server() -> Iterator[tuple[Mailbox, int]]:
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield mailbox, port
    controller.stop()


@pytest.fixture
def alert_env(monkeypatch: pytest.MonkeyPatch, smtp_server, db_url: str):
    """Environment of a cron job pointed at the loopback SMTP server and this test's register."""
    _, port = smtp_server
    for name, value in {"DATABASE_URL": db_url, "SMTP_HOST": "127.0.0.1",
                        "SMTP_PORT": str(port), "SMTP_SECURITY": "none",
                        "SMTP_FROM": "tokenfleet@city.test",
                        "MANAGERS_EMAIL": "boss@city.test"}.items():
        monkeypatch.setenv(f"TOKENFLEET_{name}", value)
    for name in ("LANG", "ALERT_THRESHOLDS", "SMTP_USER", "SMTP_PASSWORD",
                 "SMTP_PASSWORD_FILE", "ACTOR", "SEAL_KEY"):
        monkeypatch.delenv(f"TOKENFLEET_{name}", raising=False)
    return monkeypatch


def _decoded(part: Message) -> str:
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode(part.get_content_charset() or "utf-8")


def run_cli(*args: str) -> int:
    """``tokenfleet ARGS`` in-process, as cron would run it; returns the exit code."""
    return run_tokenfleet(*args).code


@dataclass
class City:
    """Agency A (contact a@) with sub-agency A1 (no contact: alerts climb to a@), agency B."""

    dev_a: str = "TOKEN-A1"  # in A1, certificate ends in 20 days
    dev_b: str = "TOKEN-B"  # in B, certificate ends in 5 days
    holder_a: str = "Nguyễn <b>Văn</b> Ánh"


def add_issued_device(register: Register, serial: str, agency_code: str, holder_name: str,
                      cert_ends: datetime) -> None:
    from inventory.fleet.queries import agency_by_code

    with register.session() as s:
        agency = agency_by_code(s, agency_code)
        holder = lifecycle.add_holder(s, full_name=holder_name, agency=agency, actor=ACTOR,
                                      at=NOW - timedelta(days=400))
        device = lifecycle.add_device(s, kind="usb_token", serial=serial, actor=ACTOR,
                                      at=NOW - timedelta(days=400))
        lifecycle.issue(s, device, holder, method="in_person", actor=ACTOR,
                        at=NOW - timedelta(days=399))
        lifecycle.attach_certificate(s, device, CertificateData(
            serial=f"CERT-{serial}", not_before=cert_ends - timedelta(days=3 * 365),
            not_after=cert_ends), actor=ACTOR, at=NOW - timedelta(days=399))


@pytest.fixture
def city(register: Register) -> City:
    c = City()
    with register.session() as s:
        a = lifecycle.add_agency(s, code="A", name="Sở Tư pháp", actor=ACTOR,
                                 contact_email="a@city.test")
        lifecycle.add_agency(s, code="A1", name="Trung tâm Trợ giúp pháp lý", actor=ACTOR,
                             parent=a)
        lifecycle.add_agency(s, code="B", name="Quận Hải Châu", actor=ACTOR,
                             contact_email="b@city.test")
    add_issued_device(register, c.dev_a, "A1", c.holder_a, NOW + timedelta(days=20))
    add_issued_device(register, c.dev_b, "B", "Trần Thị Bình", NOW + timedelta(days=5))
    return c


def at(days: float) -> str:
    return (NOW + timedelta(days=days)).isoformat()
