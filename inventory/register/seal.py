"""Seals: the audit chain's head, written down outside the database.

Anyone who can write the database could rewrite the chain and recompute every later hash, and
the chain would still link. A seal — one line with a chain position, the hash there and a time
— kept elsewhere (mailed, printed, in a file on another machine, on every monthly report and in
the managers' alert digest) makes that visible: if the history up to the seal changed, the hash
at its position differs; if the chain was cut short, the position is gone.

    tokenfleet-seal v1 position=812 hash=3f5a…(64 hex) time=2026-11-28T07:00:00Z

Optionally signed with an Ed25519 key the office keeps (``… sig=ed25519:BASE64``), over the
text before `` sig=``; a seal that does not verify with the office's public key is no evidence.
Seals are read from a line, from a text file (one or many lines), or from a report workbook's
document properties (an ``.xlsx`` is a zip: read with the standard library here).
"""

from __future__ import annotations

import base64
import binascii
import re
import zipfile
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from inventory.register.errors import ConfigurationError, ValidationError
from inventory.register.models import AuditHead, Event, utcnow

PREFIX = "tokenfleet-seal"
VERSION = "v1"
GENESIS_HASH = "0" * 64
PROPERTY = "tokenfleet seal"  # the workbook's custom document property
_LINE = re.compile(
    rf"{PREFIX} {VERSION} position=(?P<position>\d+) hash=(?P<hash>[0-9a-f]{{64}}) "
    r"time=(?P<time>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)(?: sig=ed25519:(?P<sig>[A-Za-z0-9+/=]+))?")


@dataclass(frozen=True)
class Seal:
    position: int  # the chain position sealed (0: an empty chain)
    hash: str  # the event hash at that position
    time: datetime
    signature: bytes | None = None
    source: str = ""  # where it was read from, for messages

    @property
    def text(self) -> str:
        """What is signed: everything but the signature."""
        return (f"{PREFIX} {VERSION} position={self.position} hash={self.hash} "
                f"time={self.time.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}")

    @property
    def line(self) -> str:
        if self.signature is None:
            return self.text
        return f"{self.text} sig=ed25519:{base64.b64encode(self.signature).decode()}"

    def __str__(self) -> str:
        return self.line


def parse(line: str, source: str = "") -> Seal:
    found = _LINE.search(line)
    if found is None:
        raise ValidationError(f"{source or 'seal'}: not a tokenfleet seal (expected "
                              f"'{PREFIX} {VERSION} position=N hash=… time=…')")
    signature = None
    if found["sig"]:
        try:
            signature = base64.b64decode(found["sig"], validate=True)
        except binascii.Error as err:
            raise ValidationError(f"{source or 'seal'}: its signature is not base64") from err
    time = datetime.strptime(found["time"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    return Seal(int(found["position"]), found["hash"], time, signature, source)


def at_position(session: Session, position: int, time: datetime | None = None) -> Seal:
    """The seal of the chain at ``position`` (its event's hash)."""
    digest = GENESIS_HASH if position == 0 else session.scalar(
        select(Event.hash).where(Event.seq == position))
    if digest is None:
        raise ValidationError(f"the audit trail has no chain position {position}")
    return Seal(position, digest, (time or utcnow()).replace(microsecond=0))


def current(session: Session, time: datetime | None = None) -> Seal:
    """The seal of the chain's head now (read from the head row: no scan)."""
    head = session.execute(select(AuditHead.last_seq, AuditHead.last_hash)
                           .where(AuditHead.id == 1)).one_or_none()
    position, digest = (head.last_seq, head.last_hash) if head else (0, GENESIS_HASH)
    return Seal(position, digest, (time or utcnow()).replace(microsecond=0))


def as_of(session: Session, instant: datetime) -> Seal:
    """The seal of the chain as it stood at ``instant`` (a month's end): its last event that
    occurred before then, labelled with that instant. On PostgreSQL it is read through
    ``tokenfleet_chain_before`` (migration 0012), which sees the whole chain: a scoped login's
    row-level security hides most events, and its report must carry the city's seal."""
    if session.get_bind().dialect.name == "postgresql":
        row = session.execute(text("SELECT seq, hash FROM tokenfleet_chain_before(:instant)"),
                              {"instant": instant}).one_or_none()
        position, digest = (row.seq, row.hash) if row else (0, GENESIS_HASH)
        return Seal(position, digest, instant.replace(microsecond=0))
    position = session.scalar(select(func.max(Event.seq)).where(Event.occurred_at < instant))
    return at_position(session, position or 0, instant)


# --- signatures ------------------------------------------------------------------------------

def _read_key(path: str | Path, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as err:
        raise ConfigurationError(f"cannot read the seal's {what} key {path}: "
                                 f"{err.strerror or err}") from err


def sign(seal: Seal, private_key: str | Path) -> Seal:
    """The seal signed with an Ed25519 private key (PEM, unencrypted: keep the file 0600)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        key = load_pem_private_key(_read_key(private_key, "signing"), password=None)
    except (ValueError, TypeError) as err:
        raise ConfigurationError(f"{private_key}: not an unencrypted PEM private key "
                                 f"({err})") from err
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigurationError(f"{private_key}: seals are signed with Ed25519 keys "
                                 "(openssl genpkey -algorithm ed25519)")
    return replace(seal, signature=key.sign(seal.text.encode()))


def check_signature(seal: Seal, public_key: str | Path) -> None:
    """Refuse a seal that is unsigned or whose signature the office's public key rejects."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    try:
        key = load_pem_public_key(_read_key(public_key, "verification"))
    except (ValueError, TypeError) as err:
        raise ConfigurationError(f"{public_key}: not a PEM public key ({err})") from err
    if not isinstance(key, Ed25519PublicKey):
        raise ConfigurationError(f"{public_key}: seals are signed with Ed25519 keys")
    where = seal.source or f"the seal at position {seal.position}"
    if seal.signature is None:
        raise ValidationError(f"{where}: the seal is not signed, and a key was given to check it")
    try:
        key.verify(seal.signature, seal.text.encode())
    except InvalidSignature as err:
        raise ValidationError(f"{where}: the seal's signature does not verify with "
                              f"{public_key}: it was not made with the office's key, or it was "
                              "altered") from err


# --- reading seals ---------------------------------------------------------------------------

def _from_workbook(path: Path) -> list[str]:
    """Seal lines in a workbook's document properties (custom, then core) and Summary sheet."""
    try:
        with zipfile.ZipFile(path) as book:
            names = [n for n in book.namelist() if n.startswith(("docProps/", "xl/"))
                     and n.endswith(".xml")]
            names.sort(key=lambda n: (not n.startswith("docProps/custom"),
                                      not n.startswith("docProps/"), n))
            for name in names:
                found = _LINE.search(book.read(name).decode("utf-8", "replace"))
                if found:
                    return [found.group(0)]
    except (OSError, zipfile.BadZipFile) as err:
        raise ValidationError(f"{path}: cannot read the workbook ({err})") from err
    return []


def read(argument: str) -> list[Seal]:
    """The seals named by ``--seal``: a seal line itself, a text file of seal lines, or a
    report workbook (.xlsx) that carries one."""
    if argument.lstrip().startswith(PREFIX):
        return [parse(argument.strip(), "the seal given")]
    path = Path(argument)
    if not path.is_file():
        raise ValidationError(f"--seal {argument}: neither a seal line nor a readable file")
    if zipfile.is_zipfile(path):
        lines = _from_workbook(path)
    else:
        try:
            content = path.read_text(encoding="utf-8", errors="replace")
        except OSError as err:
            raise ValidationError(f"{path}: {err.strerror or err}") from err
        lines = [m.group(0) for m in _LINE.finditer(content)]
    if not lines:
        raise ValidationError(f"{path}: holds no tokenfleet seal")
    return [parse(line, f"{path}" + (f" (seal {i})" if len(lines) > 1 else ""))
            for i, line in enumerate(lines, start=1)]
