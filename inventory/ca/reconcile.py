"""Reconcile the register with the CA: the four kinds of mismatch.

- ``revoked_at_ca_in_use``: an active certificate is on its issuer's CRL, and the device is
  issued or locked;
- ``revoked_here_valid_at_ca``: the register revoked the certificate more than the grace period
  ago (``TOKENFLEET_CA_GRACE_DAYS``, 0 = at once), it has not expired, a CRL of its issuer is
  held, and the certificate is not on it: the revocation request was not carried out. (Without
  any CRL of the issuer the register cannot tell, and says nothing.)
- ``unknown_issuer``: an active certificate (of a device not retired) does not chain to a trust
  anchor. For a certificate file, path validation decides (``inventory.ca.chains``); a typed
  record has no file to validate, so its issuer name must be a trust anchor's subject.
- ``crl_stale``: the CRL held for a trust anchor is past its ``nextUpdate``.

With no trust anchor at all there is nothing to reconcile against: no mismatch, one warning.

One pass reads the active certificates' serial, issuer key and chain verdict (no join, no ORM
objects) and looks each up in the CRLs' serial sets; revoked certificates come from an indexed
query that already applies the grace period; only the mismatches found are joined to their
devices, holders and agencies.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory.ca import chains
from inventory.ca.crls import parse_entries, revocation_times
from inventory.ca.kinds import KIND_NUMBERS, KINDS
from inventory.register.models import (
    Agency,
    Certificate,
    Device,
    Holder,
    RevocationList,
    TrustAnchor,
    utcnow,
)
from inventory.vocabulary import Vocabulary

IN_USE = ("issued", "locked")
DEFAULT_GRACE = timedelta(days=7)
CHUNK = 900  # ids per IN (…) when reading the mismatches' devices

# The sentence of ``inventory.vocabulary.MESSAGES`` that says what a mismatch means, by kind
# (and, for a certificate without a file, why its issuer could not be validated).
SENTENCES: dict[tuple[str, str | None], str] = {
    ("revoked_at_ca_in_use", None): "ca_mismatch.revoked_at_ca_in_use",
    ("revoked_here_valid_at_ca", None): "ca_mismatch.revoked_here_valid_at_ca",
    ("unknown_issuer", None): "ca_mismatch.unknown_issuer",
    ("unknown_issuer", "no_file"): "ca_mismatch.unknown_issuer.no_file",
    ("unknown_issuer", "no_issuer"): "ca_mismatch.unknown_issuer.no_issuer",
    ("crl_stale", None): "ca_mismatch.crl_stale",
}


@lru_cache(maxsize=4)
def _vocabulary(lang: str) -> Vocabulary:
    return Vocabulary(lang)


@dataclass(frozen=True)
class Mismatch:
    """One mismatch. Certificate kinds name the certificate and its device; ``crl_stale``
    names the CRL (``crl_id``) and its issuer."""

    kind: str
    since: datetime | None  # CA revocation, register revocation, or the CRL's nextUpdate
    certificate_id: int | None = None
    certificate_serial: str | None = None
    device_id: int | None = None
    serial: str | None = None
    device_status: str | None = None
    holder: str | None = None
    agency_id: int | None = None
    agency_code: str | None = None
    agency: str | None = None
    issuer: str | None = None
    note: str | None = None  # why a path did not validate; the CRL's date for kind 2
    crl_id: int | None = None

    @property
    def subject_id(self) -> int:
        """What the alert ledger keys this mismatch on (once per certificate, or per CRL)."""
        return self.certificate_id if self.certificate_id is not None else self.crl_id or 0

    def describe(self, lang: str = "en") -> str:
        """What the mismatch means, in the reader's language (``inventory.vocabulary``)."""
        words = _vocabulary(lang)
        key = SENTENCES.get((self.kind, self.note), SENTENCES[(self.kind, None)])
        crl_date = self.note if self.kind == "revoked_here_valid_at_ca" else None
        said = words.message(key, {
            "date": words.date(self.since) if self.since else "?",
            "status": self.device_status, "issuer": self.issuer or "?",
            "note": self.note or "",
            "crl_date": words.date(date.fromisoformat(crl_date)) if crl_date else "?"})
        return said or self.kind

    def as_record(self, lang: str = "en") -> dict[str, Any]:
        return {"kind": self.kind, "serial": self.serial, "holder": self.holder,
                "agency_code": self.agency_code, "agency": self.agency,
                "certificate_serial": self.certificate_serial,
                "device_status": self.device_status, "since": self.since,
                "detail": self.describe(lang)}


@dataclass
class Reconciliation:
    mismatches: list[Mismatch] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    verdicts: list[chains.Verdict] = field(default_factory=list)  # pending ones settled now
    anchors: int = 0
    crls: int = 0
    certificates: int = 0

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(KINDS, 0)
        for m in self.mismatches:
            out[m.kind] += 1
        return out

    def device_ids(self, kind: str | None = None) -> set[int]:
        return {m.device_id for m in self.mismatches
                if m.device_id is not None and (kind is None or m.kind == kind)}


# --- CRL entries, parsed once per CRL content per process (the TUI asks per device) ----------

_ENTRIES: dict[int, tuple[str, dict[str, int]]] = {}
_ENTRIES_LOCK = threading.Lock()


def _entries(session: Session, crl_id: int, fp: str) -> dict[str, int]:
    cached = _ENTRIES.get(crl_id)
    if cached is not None and cached[0] == fp:
        return cached[1]
    text = session.scalar(select(RevocationList.entries).where(RevocationList.id == crl_id))
    parsed = parse_entries(text or "")
    with _ENTRIES_LOCK:
        _ENTRIES[crl_id] = (fp, parsed)
    return parsed


@dataclass(frozen=True)
class _Crl:
    id: int
    issuer: str
    this_update: datetime
    next_update: datetime | None
    entries: dict[str, int]  # serial → position in the CRL


def reconcile(session: Session, *, now: datetime | None = None,
              grace: timedelta = DEFAULT_GRACE, device_ids: Sequence[int] | None = None,
              kinds: Iterable[str] = KINDS) -> Reconciliation:
    """Every mismatch of ``kinds`` (or only those of these devices), as of ``now``."""
    now = now or utcnow()
    wanted = set(kinds)
    result = Reconciliation()
    anchor_keys = set(session.scalars(select(TrustAnchor.subject_key)))
    result.anchors = len(anchor_keys)
    if not anchor_keys:
        result.warnings.append("no trust anchors: nothing to reconcile against (add the CA's "
                               "certificates with `tokenfleet ca trust add`)")
        return result
    crls: dict[str | None, _Crl] = {}
    for crl_id, key, issuer, this_update, next_update, fp in session.execute(
            select(RevocationList.id, RevocationList.issuer_key, RevocationList.issuer,
                   RevocationList.this_update, RevocationList.next_update,
                   RevocationList.fingerprint_sha256)):
        crls[key] = _Crl(crl_id, issuer, this_update, next_update,
                         _entries(session, crl_id, fp))
    result.crls = len(crls)
    found: list[tuple[str, int, Any]] = []  # (kind, certificate id, extra)
    pending: list[int] = []
    conn = session.connection()

    # active certificates: on a CRL? chains to an anchor? The database gives each row its
    # issuer as a small number and what path validation (or the issuer's name) says as a flag
    # (see _active_rows); Python only looks serials up in the CRLs.
    known = sorted(anchor_keys | {k for k in crls if k is not None})
    want_unknown = "unknown_issuer" in wanted
    rows = _active_rows(conn, known, anchor_keys, device_ids)
    if "revoked_at_ca_in_use" in wanted:
        for code, key in enumerate(known, start=2):
            if key in crls:
                entries = crls[key].entries
                found += [("revoked_at_ca_in_use", r[0], (key, entries[r[1]]))
                          for r in rows if r[1] in entries and r[2] == code]
    if want_unknown:
        for cert_id, _serial, code, flag in (r for r in rows if r[3]):
            if flag == FLAG_PENDING:
                pending.append(cert_id)
            elif flag == FLAG_UNTRUSTED:
                found.append(("unknown_issuer", cert_id, None))
            else:  # no certificate file, and the issuer's name is no trust anchor's
                found.append(("unknown_issuer", cert_id, "no_issuer" if code == 0 else "no_file"))
    result.certificates = len(rows)
    if pending and want_unknown:
        verdicts = chains.settle_in_memory(session, pending, now)
        result.verdicts = verdicts
        found += [("unknown_issuer", v.certificate_id, v.note or "not trusted")
                  for v in verdicts if v.chain == "untrusted"]

    # certificates the register revoked long enough ago, still valid, missing from the CRL
    if "revoked_here_valid_at_ca" in wanted and crls:
        revoked = (select(Certificate.id, Certificate.serial, Certificate.issuer_key,
                          Certificate.revoked_at)
                   .where(Certificate.status == "revoked", Certificate.not_after > now,
                          Certificate.revoked_at <= now - grace))
        if device_ids is not None:
            revoked = revoked.where(Certificate.device_id.in_(list(device_ids)))
        for cert_id, serial, issuer_key, revoked_at in conn.execute(revoked).all():
            crl = crls.get(issuer_key)
            if crl is not None and serial not in crl.entries:
                found.append(("revoked_here_valid_at_ca", cert_id, (revoked_at, crl)))

    result.mismatches = _with_devices(session, found, _revocation_times(session, crls, found))
    if "crl_stale" in wanted:
        result.mismatches += _stale_crls(session, crls, now, device_ids)
    result.mismatches.sort(key=lambda m: (KIND_NUMBERS[m.kind], m.serial or "",
                                          m.certificate_serial or "", m.issuer or ""))
    return result


_HEX64 = re.compile(r"[0-9a-f]{64}")


FLAG_NAME, FLAG_PENDING, FLAG_UNTRUSTED = 1, 2, 3


def _active_rows(conn: Any, known: list[str], trusted: set[str],
                 device_ids: Sequence[int] | None) -> list[tuple[Any, ...]]:
    """(id, serial, issuer code, flag) of the active certificates, as plain tuples.

    The issuer code is 0 (none recorded), 1 (neither trusted nor with a CRL) or 2 + its index
    in ``known``; the flag is 0 (nothing to say), ``FLAG_NAME`` (no certificate file, and the
    issuer is no trust anchor), ``FLAG_PENDING`` (a file not validated yet) or
    ``FLAG_UNTRUSTED`` (its path did not validate).

    PERF (1M devices, SQLite): most certificates are active, so the table is read in its own
    order (SQLite's unary ``+`` keeps it off the status index, which visits the table at
    random: 7 s instead of 2 s; PostgreSQL's planner scans by itself); the 64-character issuer
    key and the chain verdict become small numbers in SQL (``CASE``), and the rows come
    straight from the driver without SQLAlchemy's row objects (1.5 s of 4.4 s). The keys are
    our own hex digests, written inline: no bound parameters to adapt per driver."""
    assert all(_HEX64.fullmatch(k) for k in known) and trusted <= set(known)
    whens = " ".join(f"WHEN '{k}' THEN {i}" for i, k in enumerate(known, start=2))
    code = (f"CASE WHEN issuer_key IS NULL THEN 0 ELSE CASE issuer_key {whens} ELSE 1 END END"
            if known else "CASE WHEN issuer_key IS NULL THEN 0 ELSE 1 END")
    names = ", ".join(f"'{k}'" for k in sorted(trusted)) or "''"
    flag = (f"CASE WHEN chain IS NULL THEN CASE WHEN issuer_key IN ({names}) THEN 0 "
            f"ELSE {FLAG_NAME} END WHEN chain = 'trusted' THEN 0 "
            f"WHEN chain = 'pending' THEN {FLAG_PENDING} ELSE {FLAG_UNTRUSTED} END")
    where = "+status = 'active'" if conn.dialect.name == "sqlite" else "status = 'active'"
    if device_ids is not None:
        where = ("status = 'active' AND device_id IN ("
                 + ",".join(str(int(d)) for d in device_ids) + ")")
    cursor = conn.connection.cursor()  # the DBAPI cursor of this transaction
    try:
        cursor.execute(f"SELECT id, serial, {code}, {flag} FROM certificates WHERE {where}")
        return list(cursor.fetchall())
    finally:
        cursor.close()


def _stale_crls(session: Session, crls: dict[str | None, _Crl], now: datetime,
                device_ids: Sequence[int] | None) -> list[Mismatch]:
    stale = [c for c in crls.values() if c.next_update is not None and c.next_update < now]
    if device_ids is not None and stale:
        # for one device: only the CRL that covers its certificates
        keys = set(session.scalars(select(Certificate.issuer_key).where(
            Certificate.device_id.in_(list(device_ids)),
            Certificate.status.in_(("active", "revoked")))))
        stale = [c for key, c in crls.items() if key in keys and c in stale]
    return [Mismatch("crl_stale", c.next_update, issuer=c.issuer, crl_id=c.id,
                     note=f"{c.this_update:%Y-%m-%d}") for c in stale]


def _revocation_times(session: Session, crls: dict[str | None, _Crl],
                      found: list[tuple[str, int, Any]]) -> dict[tuple[str | None, int], datetime]:
    """(issuer key, position) → the CA's revocation time, read from the CRLs that matched."""
    wanted: dict[str | None, set[int]] = {}
    for kind, _cert_id, extra in found:
        if kind == "revoked_at_ca_in_use":
            wanted.setdefault(extra[0], set()).add(extra[1])
    times: dict[tuple[str | None, int], datetime] = {}
    for key, positions in wanted.items():
        der = session.scalar(select(RevocationList.der).where(RevocationList.id == crls[key].id))
        if der is not None:
            for position, when in revocation_times(der, positions).items():
                times[(key, position)] = when
    return times


def _with_devices(session: Session, found: list[tuple[str, int, Any]],
                  times: dict[tuple[str | None, int], datetime]) -> list[Mismatch]:
    """Join the mismatched certificates to their devices, holders and agencies."""
    if not found:
        return []
    ids = sorted({cert_id for _, cert_id, _ in found})
    facts: dict[int, Any] = {}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        for row in session.connection().execute(
                select(Certificate.id, Certificate.serial, Certificate.issuer,
                       Certificate.created_at, Certificate.chain_note, Device.id,
                       Device.serial, Device.status, Device.agency_id, Holder.full_name,
                       Agency.code, Agency.name)
                .join(Device, Device.id == Certificate.device_id)
                .outerjoin(Holder, Holder.id == Device.holder_id)
                .outerjoin(Agency, Agency.id == Device.agency_id)
                .where(Certificate.id.in_(chunk))):
            facts[row[0]] = row
    out = []
    for kind, cert_id, extra in found:
        if cert_id not in facts:
            continue  # its device is outside what this login may see (an agency scope)
        (_, cert_serial, issuer, created_at, chain_note, device_id, serial, status, agency_id,
         holder, code, name) = facts[cert_id]
        since: datetime | None = None
        note: str | None = None
        if kind == "revoked_at_ca_in_use":
            if status not in IN_USE:
                continue
            since = times.get(extra)
        elif kind == "revoked_here_valid_at_ca":
            since, crl = extra
            note = f"{crl.this_update:%Y-%m-%d}"
        else:  # unknown_issuer: since it entered the register
            if status == "retired":
                continue
            since, note = created_at, extra or chain_note or "not trusted"
        out.append(Mismatch(kind, since, cert_id, cert_serial, device_id, serial, status,
                            holder, agency_id, code, name, issuer, note))
    return out
