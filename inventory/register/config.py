"""Every setting read from the environment (``TOKENFLEET_*``), parsed in one place.

``VARIABLES`` lists them all (the README's configuration table shows the same list; a test keeps
them equal). A bad value raises ``ConfigurationError`` naming the variable and the value, which
the CLI prints as one line and exit 78. Three groups, each read when it is needed:

- ``Settings``: what every command needs (register, actor, language, desk, poller); read at start.
- ``AlertSettings``: the alert job's thresholds, recipients and digest language.
- ``SmtpSettings``: the mail server, read only when mail is about to be sent, so a missing SMTP
  setting never stops a command that sends no mail. SMTP credentials come only from the
  environment or a file, never from the command line (``ps``, shell history).

The CLI's options (``--db``, ``--actor``) override ``Settings``.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

from inventory.register.errors import ConfigurationError

ENV_PREFIX = "TOKENFLEET_"
LANGUAGES = ("vi", "en")
DEFAULT_THRESHOLDS = (60, 30, 14, 7, 1)
SMTP_SECURITY = ("none", "starttls", "ssl")
SMTP_PORTS = {"none": 25, "starttls": 587, "ssl": 465}

VARIABLES: dict[str, str] = {
    "DATABASE_URL": "the register",
    "ACTOR": "who you say you are (checked: the trail names the login or OS user)",
    "LANG": "UI and digest language",
    "HOST": "this desk's name",
    "PKCS11_MODULES": "PKCS#11 modules the poller loads",
    "OBSERVATION_RETENTION_DAYS": "how long raw poll observations are kept",
    "REPORTS_DIR": "where reports are written unless a path is given",
    "ALERT_THRESHOLDS": "days before a certificate ends to warn",
    "ALERT_LOCKED_DAYS": "warn when a device stays locked longer",
    "ALERT_UNSEEN_DAYS": "warn when a device is not seen this long",
    "ALERT_PENDING_DAYS": "warn when a request stays submitted this long",
    "ALERT_OVERDUE_HOURS": "when `alerts status` reports overdue",
    "MANAGERS_EMAIL": "fleet managers who get the summary digest",
    "SMTP_HOST": "mail server",
    "SMTP_PORT": "mail server port",
    "SMTP_SECURITY": "none, starttls or ssl",
    "SMTP_USER": "mail server user",
    "SMTP_PASSWORD": "mail server password",
    "SMTP_PASSWORD_FILE": "a file holding the mail server password",
    "SMTP_FROM": "sender address",
    "SEAL_KEY": "an Ed25519 private key that signs the audit seals",
    "CA_GRACE_DAYS": "days the CA has to carry out a revocation",
    "OCSP_URL": "the OCSP responder to ask instead of the certificate's",
    "CA_TIMEOUT": "seconds a CRL download or an OCSP answer may take",
}
"""Every ``TOKENFLEET_*`` variable (without the prefix) and what it is for."""


def default_database_url() -> str:
    """The embedded register: a SQLite file in the user's data directory."""
    data_dir = Path(platformdirs.user_data_dir("tokenfleet", appauthor=False))
    return f"sqlite:///{data_dir / 'register.sqlite3'}"


def default_reports_dir() -> Path:
    """Reports go to the user's documents folder (``~/Documents/tokenfleet``), not to whatever
    directory the program was started from."""
    return Path(platformdirs.user_documents_dir()) / "tokenfleet"


# --- the parser: one function per kind of value ---------------------------------------------

class Environment:
    """Reads ``TOKENFLEET_*`` values from ``os.environ`` (or a mapping, for tests)."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self.environ = os.environ if environ is None else environ

    def text(self, name: str) -> str:
        """The value, stripped; empty when unset."""
        if name not in VARIABLES:
            raise KeyError(f"{ENV_PREFIX}{name} is not a known setting: add it to VARIABLES")
        return self.environ.get(ENV_PREFIX + name, "").strip()

    def bad(self, name: str, value: str, expected: str) -> ConfigurationError:
        return ConfigurationError(f"{ENV_PREFIX}{name}={value!r}: expected {expected}")

    def whole_number(self, name: str, default: int, *, minimum: int = 1,
                     unit: str = "days") -> int:
        raw = self.text(name)
        if not raw:
            return default
        if not raw.isdigit() or int(raw) < minimum:
            raise self.bad(name, raw, f"a whole number of {unit} (at least {minimum})")
        return int(raw)

    def choice(self, name: str, choices: tuple[str, ...]) -> str | None:
        raw = self.text(name)
        if not raw:
            return None
        if raw.lower() not in choices:
            raise self.bad(name, raw, f"one of {', '.join(choices)}")
        return raw.lower()

    def items(self, name: str) -> tuple[str, ...]:
        """A comma- (or semicolon-) separated list."""
        return tuple(p.strip() for p in self.text(name).replace(";", ",").split(",")
                     if p.strip())

    def thresholds(self, name: str) -> tuple[int, ...] | None:
        """``"60,30,14,7,1"`` → (60, 30, 14, 7, 1), largest first; None when unset."""
        raw = self.text(name)
        if not raw:
            return None
        parts = self.items(name)
        if not parts or not all(p.isdigit() and int(p) >= 1 for p in parts):
            raise self.bad(name, raw, "days separated by commas, each at least 1 "
                                      "(e.g. 60,30,14,7,1)")
        return tuple(sorted({int(p) for p in parts}, reverse=True))

    def addresses(self, name: str) -> tuple[str, ...]:
        found = self.items(name)
        for a in found:
            if "@" not in a or " " in a:
                raise self.bad(name, self.text(name), f"e-mail addresses ({a!r} is not one)")
        return found

    def port(self, name: str, default: int) -> int:
        raw = self.text(name)
        if not raw:
            return default
        if not raw.isdigit() or not 0 < int(raw) < 65536:
            raise self.bad(name, raw, "a port number (1–65535)")
        return int(raw)

    def url(self, name: str) -> str | None:
        """An http(s) URL, or None when unset."""
        raw = self.text(name)
        if not raw:
            return None
        if not raw.startswith(("http://", "https://")):
            raise self.bad(name, raw, "an http:// or https:// URL")
        return raw

    def seconds(self, name: str, default: float, *, maximum: float) -> float:
        raw = self.text(name)
        if not raw:
            return default
        try:
            value = float(raw)
        except ValueError:
            value = -1.0
        if not 0 < value <= maximum:
            raise self.bad(name, raw, f"seconds, more than 0 and at most {maximum:g}")
        return value

    def folder(self, name: str) -> Path:
        """A folder to write into: ``~`` expanded; an existing file there is refused."""
        path = Path(self.text(name)).expanduser()
        if path.exists() and not path.is_dir():
            raise self.bad(name, self.text(name), "a folder (that path is a file)")
        return path

    def lang(self) -> str | None:
        """``TOKENFLEET_LANG`` if set (``vi`` or ``en``)."""
        return self.choice("LANG", LANGUAGES)


# --- the settings ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Settings:
    database_url: str = field(default_factory=default_database_url)
    """SQLAlchemy URL of the register (``TOKENFLEET_DATABASE_URL``)."""
    actor: str | None = None
    """Who you say you are (``TOKENFLEET_ACTOR``). Never trusted: the actor is the database login
    (PostgreSQL) or the OS user (SQLite), and a claim naming someone else is refused
    (``inventory.register.access``)."""
    seal_key: str | None = None
    """An Ed25519 private key (PEM) that signs the seals of reports and digests
    (``TOKENFLEET_SEAL_KEY``)."""
    lang: str = "en"
    """Labels: ``vi`` or ``en`` (``TOKENFLEET_LANG``; else ``vi`` when the locale is Vietnamese)."""
    pkcs11_modules: tuple[str, ...] = ()
    """PKCS#11 module paths the poller loads (``TOKENFLEET_PKCS11_MODULES``, comma-separated)."""
    observation_retention_days: int = 90
    """How long raw poll observations are kept (``TOKENFLEET_OBSERVATION_RETENTION_DAYS``)."""
    host: str = field(default_factory=socket.gethostname)
    """This poller station's name, as pollers record it (``TOKENFLEET_HOST``)."""
    ca_grace_days: int = 7
    """Days the CA has to carry out a revocation before ``ca check`` says it was not
    (``TOKENFLEET_CA_GRACE_DAYS``; 0 flags at once)."""
    ocsp_url: str | None = None
    """The OCSP responder to ask instead of the one a certificate names
    (``TOKENFLEET_OCSP_URL``)."""
    ca_timeout: float = 10.0
    """Seconds a CRL download or an OCSP answer may take (``TOKENFLEET_CA_TIMEOUT``)."""
    reports_dir: Path = field(default_factory=default_reports_dir)
    """Where reports are written when no path is given (``TOKENFLEET_REPORTS_DIR``; default
    ``~/Documents/tokenfleet``); created on first use."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = Environment(environ)
        locale = env.environ.get("LANG", "")
        kwargs: dict[str, object] = {
            "lang": env.lang() or ("vi" if locale.startswith("vi") else "en"),
            "pkcs11_modules": env.items("PKCS11_MODULES"),
            "observation_retention_days": env.whole_number("OBSERVATION_RETENTION_DAYS",
                                                           cls.observation_retention_days),
        }
        if url := env.text("DATABASE_URL"):
            kwargs["database_url"] = url
        if actor := env.text("ACTOR"):
            kwargs["actor"] = actor
        if seal_key := env.text("SEAL_KEY"):
            kwargs["seal_key"] = seal_key
        if host := env.text("HOST"):
            kwargs["host"] = host
        kwargs["ca_grace_days"] = env.whole_number("CA_GRACE_DAYS", cls.ca_grace_days,
                                                    minimum=0)
        kwargs["ocsp_url"] = env.url("OCSP_URL")
        kwargs["ca_timeout"] = env.seconds("CA_TIMEOUT", cls.ca_timeout, maximum=300)
        if env.text("REPORTS_DIR"):
            kwargs["reports_dir"] = env.folder("REPORTS_DIR")
        return cls(**kwargs)  # type: ignore[arg-type]


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
    """Digest language: ``vi`` (default: agencies read Vietnamese) or ``en``
    (``TOKENFLEET_LANG``)."""
    ca_grace_days: int = 7
    """Days the CA has to carry out a revocation (``TOKENFLEET_CA_GRACE_DAYS``), for the
    ``ca_mismatch`` rule."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> AlertSettings:
        env = Environment(environ)
        return cls(
            thresholds=env.thresholds("ALERT_THRESHOLDS") or DEFAULT_THRESHOLDS,
            locked_days=env.whole_number("ALERT_LOCKED_DAYS", cls.locked_days),
            unseen_days=env.whole_number("ALERT_UNSEEN_DAYS", cls.unseen_days),
            pending_days=env.whole_number("ALERT_PENDING_DAYS", cls.pending_days),
            managers=env.addresses("MANAGERS_EMAIL"),
            overdue_hours=env.whole_number("ALERT_OVERDUE_HOURS", cls.overdue_hours,
                                           unit="hours"),
            lang=env.lang() or cls.lang,
            ca_grace_days=env.whole_number("CA_GRACE_DAYS", cls.ca_grace_days, minimum=0),
        )


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: str
    sender: str
    user: str | None = None
    password: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SmtpSettings:
        env = Environment(environ)
        host = env.text("SMTP_HOST")
        if not host:
            raise ConfigurationError("TOKENFLEET_SMTP_HOST is not set: the smtp channel needs a "
                                     "mail server (or use --channel jsonl)")
        security = env.choice("SMTP_SECURITY", SMTP_SECURITY) or "starttls"
        port = env.port("SMTP_PORT", SMTP_PORTS[security])
        sender = env.text("SMTP_FROM")
        if "@" not in sender:
            raise ConfigurationError("TOKENFLEET_SMTP_FROM is not set to an e-mail address: "
                                     "digests need a sender")
        user = env.text("SMTP_USER") or None
        password = env.environ.get(ENV_PREFIX + "SMTP_PASSWORD") or None  # spaces count
        if path := env.text("SMTP_PASSWORD_FILE"):
            try:
                password = Path(path).read_text(encoding="utf-8").strip()
            except OSError as err:
                raise ConfigurationError(
                    f"TOKENFLEET_SMTP_PASSWORD_FILE={path}: cannot read it ({err.strerror})"
                ) from err
        if password and not user:
            raise ConfigurationError("an SMTP password is set but TOKENFLEET_SMTP_USER is not")
        return cls(host=host, port=port, security=security, sender=sender, user=user,
                   password=password)
