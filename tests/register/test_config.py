"""One parser for every ``TOKENFLEET_*`` variable: a bad value is one line and exit 78."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from inventory.cli import exit_codes
from inventory.register.config import VARIABLES, AlertSettings, Settings
from inventory.register.errors import ConfigurationError
from tests.conftest import Tokenfleet

ROOT = Path(__file__).resolve().parents[2]


def test_a_bad_retention_is_one_line_and_exit_78(sqlite_url: str, monkeypatch: pytest.MonkeyPatch,
                                                 tokenfleet: Tokenfleet) -> None:
    """Was a ValueError traceback (a bare ``int()``)."""
    monkeypatch.setenv("TOKENFLEET_OBSERVATION_RETENTION_DAYS", "abc")
    code, _, err = tokenfleet("--db", sqlite_url, "devices")
    assert code == exit_codes.CONFIG == 78
    assert err.count("\n") == 1
    assert "TOKENFLEET_OBSERVATION_RETENTION_DAYS='abc'" in err and "whole number" in err


@pytest.mark.parametrize(("name", "value"), [
    ("OBSERVATION_RETENTION_DAYS", "abc"),
    ("OBSERVATION_RETENTION_DAYS", "0"),
    ("OBSERVATION_RETENTION_DAYS", "-5"),
    ("LANG", "fr"),
])
def test_settings_name_the_variable_and_the_value(name: str, value: str) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(f"TOKENFLEET_{name}={value!r}")):
        Settings.from_env({f"TOKENFLEET_{name}": value})


@pytest.mark.parametrize(("name", "value"), [
    ("ALERT_UNSEEN_DAYS", "soon"),
    ("ALERT_PENDING_DAYS", "0"),
    ("ALERT_OVERDUE_HOURS", "2h"),
    ("ALERT_THRESHOLDS", "30,abc"),
    ("MANAGERS_EMAIL", "boss"),
])
def test_alert_settings_name_the_variable_and_the_value(name: str, value: str) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(f"TOKENFLEET_{name}={value!r}")):
        AlertSettings.from_env({f"TOKENFLEET_{name}": value})


def test_values_and_defaults() -> None:
    s = Settings.from_env({"TOKENFLEET_OBSERVATION_RETENTION_DAYS": " 30 ",
                           "TOKENFLEET_PKCS11_MODULES": "/a.so; /b.so,",
                           "TOKENFLEET_HOST": "desk-2", "LANG": "vi_VN.UTF-8"})
    assert (s.observation_retention_days, s.pkcs11_modules, s.host, s.lang) == (
        30, ("/a.so", "/b.so"), "desk-2", "vi")
    assert Settings.from_env({"LANG": "C.UTF-8"}).lang == "en"
    assert Settings.from_env({"TOKENFLEET_LANG": "VI", "LANG": "C"}).lang == "vi"
    # digests stay Vietnamese unless asked: agencies read them, cron has no locale
    assert AlertSettings.from_env({}).lang == "vi"
    assert AlertSettings.from_env({"TOKENFLEET_LANG": "en"}).lang == "en"


def _readme_variables() -> set[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    names: set[str] = set()
    for line in section.splitlines():
        first = re.match(r"\| `TOKENFLEET_([A-Z0-9_]+)`", line)
        if not first:
            continue
        names.add(first.group(1))
        base = first.group(1).rsplit("_", 1)[0]
        names |= {f"{base}_{more}" for more in re.findall(r"/ `_([A-Z0-9_]+)`", line)}
    return names


def test_the_readme_lists_every_variable() -> None:
    assert _readme_variables() == set(VARIABLES)


def test_nothing_else_reads_tokenfleet_variables() -> None:
    """Every ``TOKENFLEET_*`` value goes through ``inventory.register.config``."""
    offenders = []
    for top in ("inventory", "tui", "reports", "migrations"):
        for path in (ROOT / top).rglob("*.py"):
            rel = path.relative_to(ROOT).as_posix()
            text = path.read_text(encoding="utf-8")
            if rel != "inventory/register/config.py" and re.search(
                    r"os\.environ|os\.getenv|envvar=", text):
                offenders.append(rel)
    assert offenders == []


def test_the_reports_folder(tmp_path: Path) -> None:
    assert Settings.from_env({}).reports_dir.name == "tokenfleet"
    assert Settings.from_env({"TOKENFLEET_REPORTS_DIR": str(tmp_path)}).reports_dir == tmp_path
    a_file = tmp_path / "not-a-folder.txt"
    a_file.write_text("x")
    with pytest.raises(ConfigurationError, match=r"TOKENFLEET_REPORTS_DIR=.*a folder"):
        Settings.from_env({"TOKENFLEET_REPORTS_DIR": str(a_file)})
