"""A register with a real test CA (root + intermediate) and devices whose certificates cover every
kind of mismatch — and the cases that must not be one — on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from inventory.fleet import lifecycle
from inventory.fleet.certificates import CertificateData
from inventory.register.db import Register
from tests.ca.pki import NOW, Pki, der, make_pki
from tests.conftest import CliResult, run_tokenfleet


def run(url: str, *args: str, actor: str | None = None) -> CliResult:
    """``tokenfleet --db URL [--actor ACTOR] ARGS`` through the suite's one CLI runner (the
    actor is named only by tests of who may do what)."""
    return run_tokenfleet("--db", url, *(("--actor", actor) if actor else ()), *args)


@pytest.fixture(scope="session")
def pki() -> Pki:
    return make_pki()


@dataclass
class Fleet:
    """Devices by role in the scenario, and the certificates they carry."""

    register: Register
    url: str
    pki: Pki
    folder: Path
    serials: dict[str, int] = field(default_factory=dict)  # device serial → certificate serial
    holder_id: int = 0

    def add(self, device: str, cert: CertificateData | None = None, *, status: str = "issued",
            revoked_days_ago: int | None = None, holder_id: int | None = None) -> None:
        with self.register.session() as s:
            d = lifecycle.add_device(s, kind="usb_token", serial=device, actor="setup",
                                     at=NOW - dt.timedelta(days=60))
            if cert is not None:
                lifecycle.attach_certificate(s, d, cert, actor="setup",
                                             at=NOW - dt.timedelta(days=59))
            if status != "in_stock":
                from inventory.register.models import Holder

                holder = s.get(Holder, holder_id or self.holder_id)
                assert holder is not None
                lifecycle.issue(s, d, holder, method="in_person", actor="setup",
                                at=NOW - dt.timedelta(days=58))
            if status == "locked":
                lifecycle.lock(s, d, actor="setup", at=NOW - dt.timedelta(days=5))
            if status == "lost":
                lifecycle.report_lost(s, d, actor="setup", at=NOW - dt.timedelta(days=20))
            if status == "revoked":
                assert revoked_days_ago is not None
                lifecycle.revoke(s, d, actor="setup",
                                 at=NOW - dt.timedelta(days=revoked_days_ago))
        if cert is not None and cert.der is not None:
            from inventory.fleet.certificates import load

            self.serials[device] = load(cert.der).serial_number

    def file_cert(self, cn: str, *, untrusted: bool = False, days: int = 730,
                  not_before: dt.datetime | None = None) -> CertificateData:
        ca = self.pki.other if untrusted else self.pki.ca
        return CertificateData.from_der(der(ca.issue(cn, days=days, not_before=not_before)))

    def write(self, name: str, data: bytes) -> Path:
        path = self.folder / name
        path.write_bytes(data)
        return path


def make_fleet(register: Register, url: str, pki: Pki, folder: Path) -> Fleet:
    with register.session() as s:
        agency = lifecycle.add_agency(s, code="STTTT", name="Sở Thông tin và Truyền thông",
                                      actor="setup", contact_email="stttt@danang.gov.vn")
        holder = lifecycle.add_holder(s, full_name="Nguyễn Văn An", agency=agency,
                                      actor="setup")
        holder_id = holder.id
    return Fleet(register, url, pki, folder, holder_id=holder_id)


@pytest.fixture
def fleet(register: Register, db_url: str, pki: Pki, tmp_path: Path) -> Iterator[Fleet]:
    yield make_fleet(register, db_url, pki, tmp_path)


def trust(fleet: Fleet) -> None:
    """The office trusts the root and the intermediate (as `ca trust add` would)."""
    root = fleet.write("root.pem", fleet.pki.root.pem)
    inter = fleet.write("intermediate.der", fleet.pki.ca.der)
    for path in (root, inter):
        result = run(fleet.url, "ca", "trust", "add", str(path))
        assert result.code == 0, result.err
