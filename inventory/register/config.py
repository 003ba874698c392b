"""Settings read from the environment (``TOKENFLEET_*``); the CLI's options override them.

One dataclass so every layer reads the same names; the README's configuration table lists them.
"""

from __future__ import annotations

import getpass
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

ENV_PREFIX = "TOKENFLEET_"


def default_database_url() -> str:
    """The embedded register: a SQLite file in the user's data directory."""
    data_dir = Path(platformdirs.user_data_dir("tokenfleet", appauthor=False))
    return f"sqlite:///{data_dir / 'register.sqlite3'}"


def default_actor() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        return f"uid{os.getuid()}"


def _env(name: str, default: str = "") -> str:
    return os.environ.get(ENV_PREFIX + name, default)


def _split(value: str) -> tuple[str, ...]:
    return tuple(part for part in value.replace(";", ",").split(",") if part.strip())


@dataclass(frozen=True)
class Settings:
    database_url: str = field(default_factory=default_database_url)
    """SQLAlchemy URL of the register (``TOKENFLEET_DATABASE_URL``)."""
    actor: str = field(default_factory=default_actor)
    """Who the audit trail names for changes made by this process (``TOKENFLEET_ACTOR``)."""
    lang: str = "en"
    """Labels: ``vi`` or ``en`` (``TOKENFLEET_LANG``; else ``vi`` when the locale is Vietnamese)."""
    pkcs11_modules: tuple[str, ...] = ()
    """PKCS#11 module paths the poller loads (``TOKENFLEET_PKCS11_MODULES``, comma-separated)."""
    observation_retention_days: int = 90
    """How long raw poll observations are kept (``TOKENFLEET_OBSERVATION_RETENTION_DAYS``)."""
    host: str = field(default_factory=socket.gethostname)
    """This poller station's name, as pollers record it (``TOKENFLEET_HOST``)."""

    @classmethod
    def from_env(cls) -> Settings:
        lang = _env("LANG") or ("vi" if os.environ.get("LANG", "").startswith("vi") else "")
        kwargs: dict[str, object] = {}
        if url := _env("DATABASE_URL"):
            kwargs["database_url"] = url
        if actor := _env("ACTOR"):
            kwargs["actor"] = actor
        if lang:
            kwargs["lang"] = lang
        if modules := _env("PKCS11_MODULES"):
            kwargs["pkcs11_modules"] = _split(modules)
        if days := _env("OBSERVATION_RETENTION_DAYS"):
            kwargs["observation_retention_days"] = int(days)
        if host := _env("HOST"):
            kwargs["host"] = host
        return cls(**kwargs)  # type: ignore[arg-type]
