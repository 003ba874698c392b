"""Alert settings from the environment: bad values are configuration errors (exit 78)."""

from __future__ import annotations

import pytest

from inventory.alerts import AlertSettings, SmtpSettings
from inventory.register.errors import ConfigurationError


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("SMTP_HOST", "SMTP_PORT", "SMTP_SECURITY", "SMTP_FROM", "SMTP_USER",
                 "SMTP_PASSWORD", "SMTP_PASSWORD_FILE", "ALERT_THRESHOLDS", "MANAGERS_EMAIL",
                 "LANG", "ALERT_LOCKED_DAYS"):
        monkeypatch.delenv(f"TOKENFLEET_{name}", raising=False)
    return monkeypatch


def test_defaults(env):
    s = AlertSettings.from_env()
    assert s.thresholds == (60, 30, 14, 7, 1) and s.lang == "vi" and s.managers == ()


def test_thresholds_and_managers(env):
    env.setenv("TOKENFLEET_ALERT_THRESHOLDS", "7, 90;30")
    env.setenv("TOKENFLEET_MANAGERS_EMAIL", "a@x.vn; b@x.vn")
    s = AlertSettings.from_env()
    assert s.thresholds == (90, 30, 7) and s.managers == ("a@x.vn", "b@x.vn")


@pytest.mark.parametrize(("name", "value", "named"), [
    ("ALERT_THRESHOLDS", "30,0", "TOKENFLEET_ALERT_THRESHOLDS"),
    ("ALERT_LOCKED_DAYS", "three", "TOKENFLEET_ALERT_LOCKED_DAYS"),
    ("MANAGERS_EMAIL", "boss", "TOKENFLEET_MANAGERS_EMAIL"),
    ("LANG", "fr", "TOKENFLEET_LANG"),
])
def test_bad_values_name_the_variable(env, name, value, named):
    env.setenv(f"TOKENFLEET_{name}", value)
    with pytest.raises(ConfigurationError, match=named):
        AlertSettings.from_env()


def test_smtp_password_from_file(env, tmp_path):
    secret = tmp_path / "smtp-password"
    secret.write_text("s3cret\n")
    env.setenv("TOKENFLEET_SMTP_HOST", "mail.city.test")
    env.setenv("TOKENFLEET_SMTP_FROM", "tokenfleet@city.test")
    env.setenv("TOKENFLEET_SMTP_USER", "tokenfleet")
    env.setenv("TOKENFLEET_SMTP_PASSWORD_FILE", str(secret))
    s = SmtpSettings.from_env()
    assert (s.port, s.security, s.password) == (587, "starttls", "s3cret")
    assert "s3cret" not in repr(s)
    env.setenv("TOKENFLEET_SMTP_PASSWORD_FILE", str(tmp_path / "missing"))
    with pytest.raises(ConfigurationError, match="TOKENFLEET_SMTP_PASSWORD_FILE"):
        SmtpSettings.from_env()


def test_smtp_needs_host_and_sender(env):
    with pytest.raises(ConfigurationError, match="TOKENFLEET_SMTP_HOST"):
        SmtpSettings.from_env()
    env.setenv("TOKENFLEET_SMTP_HOST", "mail.city.test")
    with pytest.raises(ConfigurationError, match="TOKENFLEET_SMTP_FROM"):
        SmtpSettings.from_env()
    env.setenv("TOKENFLEET_SMTP_FROM", "tokenfleet@city.test")
    env.setenv("TOKENFLEET_SMTP_SECURITY", "tls13")
    with pytest.raises(ConfigurationError, match="none, starttls, ssl"):
        SmtpSettings.from_env()
