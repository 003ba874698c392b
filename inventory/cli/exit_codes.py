"""Every exit code ``tokenfleet`` returns, in one table.

The domain carries no exit codes: errors are classes of ``inventory.register.errors`` and an alert
run reports an outcome (``RunResult.outcome``). This module maps both to codes, and ``main`` and
the ``alerts`` commands are the only places that exit with them. The README shows these tables as
``markdown()`` renders them; a test keeps the two equal (and prints the table when they differ).

The codes above 63 are the BSD ``sysexits.h`` ones cron wrappers and monitoring already know.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from inventory.register.errors import (
    AlertRunLockedError,
    AuditChainBrokenError,
    CaFetchError,
    ConcurrentChangeError,
    ConfigurationError,
    DatabaseError,
    DuplicateError,
    FileOutputError,
    HardwareError,
    ImportFileError,
    MoveNotAllowedError,
    NotFoundError,
    PermissionDeniedError,
    StorageIOError,
    TokenfleetError,
    ValidationError,
)

OK = 0
FAILURE = 1  # a check that found a problem (``alerts status``); never an error class
USAGE = 2
NOT_FOUND = 3
DUPLICATE = 4
MOVE_NOT_ALLOWED = 5
AUDIT_CHAIN_BROKEN = 6
READER_PROBLEM = 7
ALERTS_SENT = 10
ALERTS_PARTIAL = 11
ALERTS_FAILED = 12
DATA_INVALID = 65  # EX_DATAERR
UNAVAILABLE = 69  # EX_UNAVAILABLE
CANT_CREATE = 73  # EX_CANTCREAT (reserved for output that cannot be created)
IO_ERROR = 74  # EX_IOERR (reserved for input/output failures)
TEMPORARY = 75  # EX_TEMPFAIL: try again (reload, or the next cron run)
NO_PERMISSION = 77  # EX_NOPERM
CONFIG = 78  # EX_CONFIG
INTERRUPTED = 130  # Ctrl-C or SIGTERM, as shells report SIGINT
BROKEN_PIPE = 141  # the reader of the output went away (``… | head``), as shells report SIGPIPE


@dataclass(frozen=True)
class ExitCode:
    code: int
    meaning: str


COMMON: tuple[ExitCode, ...] = (
    ExitCode(OK, "success"),
    ExitCode(USAGE, "usage: an unknown option, or a bad option value"),
    ExitCode(NOT_FOUND, "not found: no such serial, holder, agency, request … (or outside your "
                        "agency's scope)"),
    ExitCode(DUPLICATE, "duplicate: the serial, code or certificate is already there"),
    ExitCode(MOVE_NOT_ALLOWED, "move not allowed by the device's state"),
    ExitCode(AUDIT_CHAIN_BROKEN, "audit chain broken, or the register or a seal differs from it"),
    ExitCode(READER_PROBLEM, "reader problem"),
    ExitCode(DATA_INVALID, "invalid data (a value, a row of a file)"),
    ExitCode(UNAVAILABLE, "database unreachable"),
    ExitCode(CANT_CREATE, "can't create output: no such folder, permission denied, read-only "
                          "file system"),
    ExitCode(IO_ERROR, "I/O error: disk full, a device error, a change asked of a read-only "
                       "register"),
    ExitCode(TEMPORARY, "try again: changed by someone else (reload), or another alert run "
                        "holds the lock"),
    ExitCode(NO_PERMISSION, "not allowed for your role, or not you (`--actor` naming someone "
                            "else, a login refused)"),
    ExitCode(CONFIG, "configuration error (a bad TOKENFLEET_* value, a missing tool, a "
                     "register named with --db that does not exist)"),
    ExitCode(INTERRUPTED, "interrupted (Ctrl-C, SIGTERM): files being written are removed"),
    ExitCode(BROKEN_PIPE, "the output's reader went away (`… | head`)"),
)
"""What every command may exit with."""

ALERT_RUN: tuple[ExitCode, ...] = (
    ExitCode(OK, "nothing new to send (with --dry-run: nothing would be sent)"),
    ExitCode(ALERTS_SENT, "alerts sent (with --dry-run: there is something to send)"),
    ExitCode(ALERTS_PARTIAL, "partial failure: some digests failed (recorded as failed, "
                             "retried next run)"),
    ExitCode(ALERTS_FAILED, "every delivery failed, e.g. the mail server is down (retried "
                            "next run)"),
    ExitCode(UNAVAILABLE, "database unreachable"),
    ExitCode(TEMPORARY, "another run holds the lock: this one did nothing"),
    ExitCode(CONFIG, "configuration error (a bad TOKENFLEET_* value, SMTP settings missing)"),
)
"""``tokenfleet alerts run``, for cron wrappers and monitoring."""

ALERT_STATUS: tuple[ExitCode, ...] = (
    ExitCode(OK, "the last run succeeded and is not overdue"),
    ExitCode(FAILURE, "the job never ran, its last run failed, or no run succeeded within "
                      "TOKENFLEET_ALERT_OVERDUE_HOURS"),
)
"""``tokenfleet alerts status``."""

CA_CHECK: tuple[ExitCode, ...] = (
    ExitCode(OK, "the register matches the CA (or there is no trust anchor to check against)"),
    ExitCode(FAILURE, "mismatches listed"),
)
"""``tokenfleet ca check``; its errors exit as every command's do."""

CA_OCSP: tuple[ExitCode, ...] = (
    ExitCode(OK, "the CA answered: good"),
    ExitCode(FAILURE, "the CA answered: revoked, or unknown"),
    ExitCode(IO_ERROR, "no answer within TOKENFLEET_CA_TIMEOUT (offline, or a slow responder)"),
)
"""``tokenfleet ca ocsp``; its other errors exit as every command's do."""

ERRORS: dict[type[TokenfleetError], int] = {
    ConfigurationError: CONFIG,
    DatabaseError: UNAVAILABLE,
    ConcurrentChangeError: TEMPORARY,
    NotFoundError: NOT_FOUND,
    DuplicateError: DUPLICATE,
    ValidationError: DATA_INVALID,
    PermissionDeniedError: NO_PERMISSION,
    MoveNotAllowedError: MOVE_NOT_ALLOWED,
    ImportFileError: DATA_INVALID,
    FileOutputError: CANT_CREATE,
    StorageIOError: IO_ERROR,
    AuditChainBrokenError: AUDIT_CHAIN_BROKEN,
    AlertRunLockedError: TEMPORARY,
    HardwareError: READER_PROBLEM,
    CaFetchError: IO_ERROR,
}
"""Error class → exit code; a subclass not listed takes its nearest listed base's code."""

ALERT_OUTCOMES: dict[str, int] = {
    "nothing": OK,
    "sent": ALERTS_SENT,
    "partial": ALERTS_PARTIAL,
    "failed": ALERTS_FAILED,
}
"""``alerts run`` outcome (``inventory.alerts.RunResult.outcome``) → exit code."""


def for_error(error: TokenfleetError | type[TokenfleetError]) -> int:
    """The exit code of an error (or error class): its own entry, else its nearest base's."""
    cls = error if isinstance(error, type) else type(error)
    for klass in cls.__mro__:
        if issubclass(klass, TokenfleetError) and klass in ERRORS:
            return ERRORS[klass]
    return FAILURE


def for_alert_outcome(outcome: str) -> int:
    return ALERT_OUTCOMES[outcome]


def markdown(table: Sequence[ExitCode]) -> str:
    """The table as the README shows it."""
    lines = ["| code | meaning |", "|---|---|"]
    lines += [f"| {e.code} | {e.meaning} |" for e in table]
    return "\n".join(lines)


def help_text(table: Sequence[ExitCode]) -> str:
    """The table for a command's ``--help`` (``\\b`` keeps click from rewrapping it)."""
    return "\b\nExit codes:\n" + "\n".join(f"  {e.code:<3} {e.meaning}" for e in table)

