"""Alert settings from the environment; a bad value is a configuration error (exit 78).

SMTP credentials come only from the environment or a file, never from the command line, so they
never show up in ``ps`` or a shell history.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from inventory.register.errors import ConfigurationError

DEFAULT_THRESHOLDS = (60, 30, 14, 7, 1)
SMTP_SECURITY = ("none", "starttls", "ssl")


def _env(name: str) -> str:
    return os.environ.get(f"TOKENFLEET_{name}", "").strip()


def _days(name: str, default: int) -> int:
    raw = _env(name)
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise ConfigurationError(f"TOKENFLEET_{name}={raw!r}: expected a whole number of days "
                                 "(at least 1)")
    return int(raw)


def parse_thresholds(raw: str) -> tuple[int, ...]:
    """``"60,30,14,7,1"`` → (60, 30, 14, 7, 1), largest first."""
    parts = [p.strip() for p in raw.replace(";", ",").split(",") if p.strip()]
    if not parts or not all(p.isdigit() and int(p) >= 1 for p in parts):
        raise ConfigurationError(f"TOKENFLEET_ALERT_THRESHOLDS={raw!r}: expected days separated "
                                 "by commas, each at least 1 (e.g. 60,30,14,7,1)")
    return tuple(sorted({int(p) for p in parts}, reverse=True))


def _addresses(raw: str) -> tuple[str, ...]:
    found = tuple(a.strip() for a in raw.replace(";", ",").split(",") if a.strip())
    for a in found:
        if "@" not in a or " " in a:
            raise ConfigurationError(f"TOKENFLEET_MANAGERS_EMAIL: {a!r} is not an e-mail address")
    return found


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: str
    sender: str
    user: str | None = None
    password: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls) -> SmtpSettings:
        host = _env("SMTP_HOST")
        if not host:
            raise ConfigurationError("TOKENFLEET_SMTP_HOST is not set: the smtp channel needs a "
                                     "mail server (or use --channel jsonl)")
        security = (_env("SMTP_SECURITY") or "starttls").lower()
        if security not in SMTP_SECURITY:
            raise ConfigurationError(f"TOKENFLEET_SMTP_SECURITY={security!r}: expected one of "
                                     f"{', '.join(SMTP_SECURITY)}")
        raw_port = _env("SMTP_PORT") or {"none": "25", "starttls": "587", "ssl": "465"}[security]
        if not raw_port.isdigit() or not 0 < int(raw_port) < 65536:
            raise ConfigurationError(f"TOKENFLEET_SMTP_PORT={raw_port!r}: not a port number")
        sender = _env("SMTP_FROM")
        if "@" not in sender:
            raise ConfigurationError("TOKENFLEET_SMTP_FROM is not set to an e-mail address: "
                                     "digests need a sender")
        user = _env("SMTP_USER") or None
        password = os.environ.get("TOKENFLEET_SMTP_PASSWORD") or None
        if path := _env("SMTP_PASSWORD_FILE"):
            try:
                password = Path(path).read_text(encoding="utf-8").strip()
            except OSError as err:
                raise ConfigurationError(
                    f"TOKENFLEET_SMTP_PASSWORD_FILE={path}: cannot read it ({err.strerror})"
                ) from err
        if password and not user:
            raise ConfigurationError("an SMTP password is set but TOKENFLEET_SMTP_USER is not")
        return cls(host=host, port=int(raw_port), security=security, sender=sender, user=user,
                   password=password)


@dataclass(frozen=True)
class AlertSettings:
    thresholds: tuple[int, ...] = DEFAULT_THRESHOLDS
    """Days before a certificate's end at which to warn (``TOKENFLEET_ALERT_THRESHOLDS``)."""
    locked_days: int = 3
    """Warn when a device stays locked longer than this (``TOKENFLEET_ALERT_LOCKED_DAYS``)."""
    unseen_days: int = 90
    """Warn when a polled device is not seen for this long (``TOKENFLEET_ALERT_UNSEEN_DAYS``)."""
    pending_days: int = 7
    """Warn when a request stays submitted this long (``TOKENFLEET_ALERT_PENDING_DAYS``)."""
    managers: tuple[str, ...] = ()
    """Fleet managers who get the summary digest (``TOKENFLEET_MANAGERS_EMAIL``, comma list)."""
    overdue_hours: int = 2
    """Hours without a successful run before ``alerts status`` says overdue
    (``TOKENFLEET_ALERT_OVERDUE_HOURS``)."""
    lang: str = "vi"
    """Digest language: ``vi`` (default) or ``en`` (``TOKENFLEET_LANG``)."""

    @classmethod
    def from_env(cls) -> AlertSettings:
        lang = (_env("LANG") or "vi").lower()
        if lang not in ("vi", "en"):
            raise ConfigurationError(f"TOKENFLEET_LANG={lang!r}: expected vi or en")
        thresholds = _env("ALERT_THRESHOLDS")
        return cls(
            thresholds=parse_thresholds(thresholds) if thresholds else DEFAULT_THRESHOLDS,
            locked_days=_days("ALERT_LOCKED_DAYS", cls.locked_days),
            unseen_days=_days("ALERT_UNSEEN_DAYS", cls.unseen_days),
            pending_days=_days("ALERT_PENDING_DAYS", cls.pending_days),
            managers=_addresses(_env("MANAGERS_EMAIL")),
            overdue_hours=_days("ALERT_OVERDUE_HOURS", cls.overdue_hours),
            lang=lang,
        )
