"""Delivery channels: SMTP digests, and JSON lines on stdout for other systems.

Library errors (``smtplib``, sockets, TLS) become a failed delivery carrying the message at this
boundary, so the runner records it as failed (never as sent) and the next run retries it.
"""

from __future__ import annotations

import json
import smtplib
import ssl
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formatdate, make_msgid
from typing import IO, Any

from inventory.alerts.digest import Digest, rule_title
from inventory.alerts.rules import AgencyInfo, Alert
from inventory.register.config import SmtpSettings

SMTP_TIMEOUT_S = 30
JSONL_RECIPIENT = "jsonl"  # the ledger's recipient for the JSON lines channel


def build_message(digest: Digest, sender: str) -> MIMEMultipart:
    """text/plain and text/html alternatives. The subject is an ``email.header.Header``: the
    modern ``EmailMessage`` folder of Python 3.11 drops the space between two encoded words
    when a fold falls on it (a subject read "thiết bị kýsố")."""
    msg = MIMEMultipart("alternative")
    msg["From"] = sender
    msg["To"] = digest.recipient
    msg["Subject"] = Header(digest.subject, "utf-8")  # type: ignore[assignment]  # compat32 takes one
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    msg["Auto-Submitted"] = "auto-generated"
    msg.attach(MIMEText(digest.text, "plain", "utf-8"))
    msg.attach(MIMEText(digest.html, "html", "utf-8"))
    return msg


class SmtpChannel:
    """One connection per run; each digest is one message to one recipient."""

    def __init__(self, settings: SmtpSettings):
        self.settings = settings

    @contextmanager
    def _connect(self) -> Iterator[smtplib.SMTP]:
        s = self.settings
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if s.security == "ssl":
            smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=SMTP_TIMEOUT_S, context=context)
        else:
            smtp = smtplib.SMTP(s.host, s.port, timeout=SMTP_TIMEOUT_S)
        try:
            if s.security == "starttls":
                smtp.starttls(context=context)
            if s.user and s.password:
                smtp.login(s.user, s.password)
            yield smtp
        finally:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()

    def send(self, digests: Sequence[Digest],
             on_result: Callable[[Digest, str | None], None]) -> None:
        """Send every digest; ``on_result(digest, error)`` runs right after each one (error is
        None when the server accepted it), so the ledger is written message by message."""
        where = f"SMTP {self.settings.host}:{self.settings.port}"
        pending = list(digests)
        try:
            with self._connect() as smtp:
                while pending:
                    digest = pending[0]
                    try:
                        smtp.send_message(build_message(digest, self.settings.sender))
                        error = None
                    except smtplib.SMTPRecipientsRefused as err:
                        error = f"{where} refused {digest.recipient}: {err.recipients}"
                    except smtplib.SMTPResponseException as err:
                        error = f"{where}: {err.smtp_code} {err.smtp_error!r}"
                    pending.pop(0)
                    on_result(digest, error)
        except (OSError, smtplib.SMTPException) as err:
            detail = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
            for digest in pending:
                on_result(digest, f"{where}: {detail or type(err).__name__}")


def alert_record(alert: Alert, agencies: Mapping[int, AgencyInfo], lang: str,
                 recipients: Sequence[str] = ()) -> dict[str, Any]:
    """One alert as plain data (the JSON lines channel and ``--dry-run --format json``)."""
    agency = agencies.get(alert.agency_id) if alert.agency_id is not None else None
    return {
        "rule": alert.rule, "title": rule_title(alert.rule, alert.threshold, lang),
        "threshold_days": alert.threshold,
        "days": alert.days, "since": alert.since.isoformat(), "subject_id": alert.subject_id,
        "serial": alert.serial, "holder": alert.holder,
        "agency_code": agency.code if agency else None,
        "agency": agency.name if agency else None,
        "detail": f"{alert.request_kind} {alert.detail}" if alert.request_kind else alert.detail,
        "request_kind": alert.request_kind,
        "recipients": list(recipients),
    }


class JsonLinesChannel:
    """One JSON object per alert, one per line, for other systems to pick up."""

    def __init__(self, out: IO[str]):
        self.out = out

    def send(self, records: Sequence[dict[str, Any]]) -> None:
        for record in records:
            self.out.write(json.dumps(record, ensure_ascii=False) + "\n")
        self.out.flush()
