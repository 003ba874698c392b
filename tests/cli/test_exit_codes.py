"""One exit-code table: every error class has a documented code, the domain has none, and the
README and ``--help`` show the table as it is."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from inventory import alerts
from inventory.cli import exit_codes
from inventory.register import errors
from tests.conftest import Tokenfleet

ROOT = Path(__file__).resolve().parents[2]
ERROR_CLASSES = [c for _, c in inspect.getmembers(errors, inspect.isclass)
                 if issubclass(c, errors.TokenfleetError) and c is not errors.TokenfleetError]


def _source(*tops: str) -> dict[str, str]:
    return {p.relative_to(ROOT).as_posix(): p.read_text(encoding="utf-8")
            for top in tops for p in (ROOT / top).rglob("*.py")}


@pytest.mark.parametrize("error", ERROR_CLASSES, ids=lambda c: c.__name__)
def test_every_error_class_has_a_documented_code(error: type[errors.TokenfleetError]) -> None:
    code = exit_codes.for_error(error)
    assert code in {e.code for e in exit_codes.COMMON} - {exit_codes.OK}


@pytest.mark.parametrize("error", ERROR_CLASSES, ids=lambda c: c.__name__)
def test_every_error_class_is_raised_or_is_a_base(error: type[errors.TokenfleetError]) -> None:
    """A class nobody raises is a promise nobody keeps (AlertDeliveryError was one)."""
    is_base = any(c is not error and issubclass(c, error) for c in ERROR_CLASSES)
    raised = any(re.search(rf"\b{error.__name__}\(", text)
                 for path, text in _source("inventory", "reports", "tui").items()
                 if path != "inventory/register/errors.py")
    assert is_base or raised


def test_no_exit_codes_outside_the_cli() -> None:
    offenders = [path for path, text in _source("inventory", "reports", "tui").items()
                 if not path.startswith("inventory/cli/")
                 and re.search(r"\bexit_code\b|\bEXIT_[A-Z]+\b|sys\.exit\(", text)]
    assert offenders == []


def test_every_alert_outcome_has_a_code() -> None:
    assert set(exit_codes.ALERT_OUTCOMES) == set(alerts.OUTCOMES)
    documented = {e.code for e in exit_codes.ALERT_RUN}
    assert set(exit_codes.ALERT_OUTCOMES.values()) <= documented
    assert exit_codes.for_error(alerts.AlertRunLockedError) in documented
    assert exit_codes.CONFIG in documented and exit_codes.UNAVAILABLE in documented


@pytest.mark.parametrize("table", [exit_codes.COMMON, exit_codes.ALERT_RUN,
                                   exit_codes.ALERT_STATUS, exit_codes.CA_CHECK,
                                   exit_codes.CA_OCSP],
                         ids=["common", "run", "status", "ca-check", "ca-ocsp"])
def test_the_readme_shows_the_table(table: tuple[exit_codes.ExitCode, ...]) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    expected = exit_codes.markdown(table)
    assert expected in readme, f"paste this table into the README:\n{expected}"


def test_the_reserved_io_codes_are_in_the_table() -> None:
    codes = {e.code for e in exit_codes.COMMON}
    assert {exit_codes.CANT_CREATE, exit_codes.IO_ERROR} == {73, 74} and {73, 74} <= codes


def test_help_of_alerts_run_and_status_shows_their_tables(tokenfleet: Tokenfleet) -> None:
    for command, table in ((("alerts", "run"), exit_codes.ALERT_RUN),
                           (("alerts", "status"), exit_codes.ALERT_STATUS),
                           (("ca", "check"), exit_codes.CA_CHECK),
                           (("ca", "ocsp"), exit_codes.CA_OCSP)):
        code, out, _err = tokenfleet(*command, "--help")
        assert code == 0
        for e in table:
            assert re.search(rf"^\s+{e.code}\s+{re.escape(e.meaning)}$", out, re.M), e
