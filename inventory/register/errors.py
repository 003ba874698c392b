"""The one error tree of tokenfleet.

Every error a person can meet carries the facts they need (serial, reader, row) in its message.
Errors carry no exit codes: the CLI maps these classes to messages and exit codes in one table
(``inventory.cli.exit_codes``); the TUI shows a heading and the message in the operator's
language. A refusal a person meets also names its sentence in ``inventory.vocabulary.messages``
(``key``) and the facts that fill it (``facts``), so it can be said in Vietnamese; the message
text stays English for the CLI and the logs.

    TokenfleetError                 base; ``title`` is a short user-facing heading
    ├── ConfigurationError          bad settings, unreachable database, unknown option values
    │   └── RegisterMissingError        a register named explicitly does not exist (not created)
    ├── DatabaseError
    │   ├── DatabaseUnavailableError    the database cannot be reached
    │   ├── SchemaTooNewError           the database is at a revision this code does not know
    │   └── ConcurrentChangeError       someone else changed the row: reload and retry
    ├── NotFoundError               unknown serial, holder, agency, request …
    ├── DuplicateError              a serial or fingerprint that already exists
    ├── ValidationError             a value that fails a check (ID number, date, e-mail …)
    │   └── NotARegisterError           a file given as a backup is no tokenfleet register
    ├── PermissionDeniedError       the operator's role does not allow the action
    ├── MoveNotAllowedError         a lifecycle move the state machine refuses
    ├── ImportFileError             an import file that cannot be read or has bad rows
    ├── AuditChainBrokenError       ``audit verify`` found a broken or edited event
    │   ├── SealMismatchError           the chain differs from a seal kept outside it
    │   └── RegisterDiffersError        device rows differ from what their events say
    ├── AlertRunLockedError         another ``alerts run`` holds the lock (this one did nothing)
    ├── FileOutputError             an output file cannot be created (permission, read-only FS)
    ├── StorageIOError              reading or writing a file failed midway (disk full, EIO)
    │   └── ReadOnlyRegisterError       a change asked of a register opened read-only
    ├── CaFetchError                a CRL URL or an OCSP responder did not answer in time
    └── HardwareError               reader, card and PKCS#11 trouble (inventory.readers.hardware)
        ├── PcscUnavailableError        pcscd is not running / no PC/SC service
        ├── ReaderError                 a reader failed or vanished (names the reader)
        │   └── CardRemovedError            the card was pulled mid-read (names the reader)
        ├── CardStatusError             a card answered a command with an error status word
        ├── PinTryRefusedError          a VERIFY with data (a PIN attempt) was about to be sent
        └── Pkcs11ModuleError           a PKCS#11 module failed to load or answer (names the path)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


class TokenfleetError(Exception):
    """Base of every error tokenfleet raises on purpose."""

    title = "Error"

    def __init__(self, *args: object, key: str | None = None, **facts: Any) -> None:
        super().__init__(*args)
        self.key = key
        self.facts: dict[str, Any] = facts


class ConfigurationError(TokenfleetError):
    title = "Configuration error"


class RegisterMissingError(ConfigurationError):
    """A register named with ``--db``/``TOKENFLEET_DATABASE_URL`` that does not exist: only
    ``db upgrade`` and ``demo`` create one (a typo must not become an empty register)."""

    title = "No register"

    def __init__(self, where: str):
        self.where = where
        super().__init__(f"no register at {where}; create it with `tokenfleet db upgrade`")


class DatabaseError(TokenfleetError):
    title = "Database error"


class DatabaseUnavailableError(DatabaseError):
    title = "Database unreachable"


class SchemaTooNewError(DatabaseError):
    title = "Database is newer than this program"


class ConcurrentChangeError(DatabaseError):
    title = "Changed by someone else"


class NotFoundError(TokenfleetError):
    title = "Not found"


class DuplicateError(TokenfleetError):
    title = "Already exists"


class ValidationError(TokenfleetError):
    title = "Invalid value"


class NotARegisterError(ValidationError):
    title = "Not a tokenfleet register"

    def __init__(self, path: str, reason: str):
        self.path = path
        super().__init__(f"{path}: {reason}")


class PermissionDeniedError(TokenfleetError):
    title = "Not allowed for your role"


class MoveNotAllowedError(TokenfleetError):
    """The state machine refused a move; nothing was changed."""

    title = "Move not allowed"

    def __init__(self, serial: str, status: str, move: str, allowed_from: Sequence[str] = (),
                 *, action: str | None = None):
        """``move`` says the move in words; ``action`` is its code (``device_action``)."""
        self.serial, self.status, self.move = serial, status, move
        hint = f" (allowed from: {', '.join(allowed_from)})" if allowed_from else ""
        super().__init__(f"device {serial} is {status}: cannot {move}{hint}",
                         key="move_not_allowed" if action else None, serial=serial,
                         status=status, action=action, allowed=list(allowed_from))


@dataclass(frozen=True)
class RowProblem:
    """One bad row of an import file (``row`` is the 1-based row number in the file)."""

    row: int
    reason: str

    def __str__(self) -> str:
        return f"row {self.row}: {self.reason}"


class ImportFileError(TokenfleetError):
    title = "Import refused"

    def __init__(self, path: str, message: str, problems: Sequence[RowProblem] = ()):
        self.path, self.problems = path, list(problems)
        lines = [f"{path}: {message}"] + [f"{path}: {p}" for p in self.problems]
        super().__init__("\n".join(lines))


class AuditChainBrokenError(TokenfleetError):
    title = "Audit trail broken"

    def __init__(self, event_id: int | None, reason: str, *, position: int | None = None):
        self.event_id, self.reason, self.position = event_id, reason, position
        where = (f"audit event {event_id}: " if event_id is not None
                 else f"chain position {position}: " if position is not None else "")
        super().__init__(f"{where}{reason}")


class SealMismatchError(AuditChainBrokenError):
    """The chain no longer matches a seal kept outside the database: rewritten or cut short."""

    title = "Audit trail differs from its seal"

    def __init__(self, position: int, reason: str):
        super().__init__(None, reason, position=position)


class RegisterDiffersError(AuditChainBrokenError):
    """Devices whose rows are not what their audit events say (changed without an event)."""

    title = "Register differs from its audit trail"

    def __init__(self, devices: Sequence[str], more: bool = False):
        self.devices = list(devices)
        lines = self.devices + (["… and more"] if more else [])
        super().__init__(None, "\n".join(lines))


class AlertRunLockedError(TokenfleetError):
    """Another alert run holds the lock; this one sent nothing (cron: a harmless overlap)."""

    title = "Another alert run is in progress"


class FileOutputError(TokenfleetError):
    """An output file or folder could not be created (sysexits EX_CANTCREAT)."""

    title = "Cannot create output"

    def __init__(self, path: str, reason: str):
        self.path, self.reason = path, reason
        super().__init__(f"{path}: {reason}")


class StorageIOError(TokenfleetError):
    """Reading or writing failed midway: disk full, device error (sysexits EX_IOERR)."""

    title = "I/O error"

    def __init__(self, path: str, reason: str):
        self.path, self.reason = path, reason
        super().__init__(f"{path}: {reason}")


class ReadOnlyRegisterError(StorageIOError):
    title = "Register is read-only"


class CaFetchError(TokenfleetError):
    """A CRL URL or OCSP responder could not be reached, or did not answer within the timeout."""

    title = "CA service unreachable"

    def __init__(self, url: str, message: str):
        self.url = url
        super().__init__(f"{url}: {message}")


class HardwareError(TokenfleetError):
    title = "Reader problem"


class PcscUnavailableError(HardwareError):
    title = "PC/SC not available"


class ReaderError(HardwareError):
    def __init__(self, reader: str, message: str):
        self.reader = reader
        super().__init__(f"reader {reader!r}: {message}")


class CardRemovedError(ReaderError):
    title = "Card removed"


class CardStatusError(HardwareError):
    """A card answered with a status word other than 9000 (``inventory.readers.hardware.apdu``);
    card profiles take it as "not my card edge" and try the next."""

    title = "Card refused a command"

    def __init__(self, command: str, sw: int, text: str):
        self.command, self.sw = command, sw
        super().__init__(f"card answered {command} with {text}")


class PinTryRefusedError(HardwareError):
    """The protocol layer refused to send a PIN attempt: reading state never spends a try."""

    title = "PIN attempt refused"


class Pkcs11ModuleError(HardwareError):
    title = "PKCS#11 module problem"

    def __init__(self, module: str, message: str):
        self.module = module
        super().__init__(f"PKCS#11 module {module}: {message}")
