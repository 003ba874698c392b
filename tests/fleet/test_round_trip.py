"""Issue 13, "the default export does not round-trip": exporting a register and importing the
file again changes nothing — same-name holders in one agency, masked ID numbers, line breaks,
quotes, formula-like text and Vietnamese names included — as .xlsx and as .csv."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text

from inventory.fleet import importing, lifecycle
from inventory.fleet.importing import move_path
from inventory.register.db import Register
from inventory.register.models import Event, Holder
from reports.register_export import export_register
from tests.conftest import Tokenfleet, run_tokenfleet

NAMES = ["Nguyễn Văn An", "Đặng Thị Bình", 'Lê "Bé" Ba', "O'Neil Tâm", "=1+1", "Phạm Văn Cường"]
TEXTS = [None, "Chuyên viên", 'Trưởng phòng "Kế hoạch", Tài vụ', "-chief", "@SUM(1)",
         "+84 905 000 111"]
NOTES = [None, "dòng 1\ndòng 2", 'có "ngoặc kép", dấu phẩy; chấm phẩy', '=HYPERLINK("x")',
         "tab\there", "'=already quoted"]
STATUSES = ["in_stock", "issued", "locked", "lost", "revoked", "retired"]
BASE = datetime(2025, 3, 4, 5, 6, 7, 891011, tzinfo=UTC)


@dataclass(frozen=True)
class HolderSpec:
    name: str
    agency: int
    national_id: bool
    title: str | None
    email: str | None


@dataclass(frozen=True)
class DeviceSpec:
    sim: bool
    holder: int
    status: str
    certificate_days: int | None
    notes: str | None
    extra_locks: int


holders = st.lists(st.builds(HolderSpec, name=st.sampled_from(NAMES[:3]),
                             agency=st.integers(0, 1), national_id=st.booleans(),
                             title=st.sampled_from(TEXTS), email=st.sampled_from(TEXTS)),
                   min_size=1, max_size=5)
devices = st.lists(st.builds(DeviceSpec, sim=st.booleans(), holder=st.integers(0, 4),
                             status=st.sampled_from(STATUSES),
                             certificate_days=st.one_of(st.none(), st.integers(-400, 900)),
                             notes=st.sampled_from(NOTES), extra_locks=st.integers(0, 2)),
                   min_size=1, max_size=8)


def build(register: Register, hs: list[HolderSpec], ds: list[DeviceSpec]) -> None:
    with register.session() as s:
        agencies = [lifecycle.add_agency(s, code=code, name=name, actor="t")
                    for code, name in (("STC", "Sở Tài chính"), ("SYT", 'Sở "Y tế", TP'))]
        made = [lifecycle.add_holder(s, full_name=h.name, agency=agencies[h.agency], actor="t",
                                     title=h.title, email=h.email,
                                     national_id=f"0012030{i:05d}" if h.national_id else None)
                for i, h in enumerate(hs)]
        for i, d in enumerate(ds):
            serial = f"89840400000000{i:05d}" if d.sim else f"0T{i:04d}"
            device = lifecycle.add_device(s, kind="pki_sim" if d.sim else "usb_token",
                                          serial=serial, actor="t", notes=d.notes,
                                          manufacturer="Feitian" if i % 2 else None)
            if d.status == "in_stock" and d.certificate_days is None:
                continue
            holder = made[d.holder % len(made)]
            lifecycle.issue(s, device, holder, method="in_person", actor="t")
            if d.certificate_days is not None:
                end = BASE + timedelta(days=d.certificate_days + 400)
                lifecycle.attach_certificate(s, device, lifecycle.CertificateData(
                    serial=f"C{i}", not_before=end - timedelta(days=730), not_after=end),
                    actor="t")
            for move in move_path("issued", d.status) or []:
                lifecycle.apply_move(s, device, move, actor="t")
            device.lock_count += d.extra_locks


def snapshot(url: str) -> str:
    code, out, _ = run_tokenfleet("--db", url, "devices", "--format", "csv")
    assert code == 0
    return out


def events(register: Register) -> int:
    with register.read() as s:
        return s.scalar(select(func.count()).select_from(Event)) or 0


@pytest.fixture(scope="module")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "register.sqlite3"
    Register.open(f"sqlite:///{path}").dispose()
    return path


@contextmanager
def fresh_register(backend: str, template: Path, tmp_path: Path, pg: str | None
                   ) -> Iterator[str]:
    if backend == "sqlite":
        path = tmp_path / f"r-{uuid.uuid4().hex[:8]}.sqlite3"
        shutil.copy(template, path)
        yield f"sqlite:///{path}"
        return
    from tests.conftest import _pg_admin_engine

    admin = _pg_admin_engine()
    name = f"tf_rt_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name} TEMPLATE {pg}"))
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql",
                                                            marks=pytest.mark.postgres)])
@settings(max_examples=12, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(hs=holders, ds=devices)
def test_default_export_round_trips_exactly(
        backend: str, hs: list[HolderSpec], ds: list[DeviceSpec], sqlite_template: Path,
        tmp_path: Path, request: pytest.FixtureRequest
        ) -> None:
    pg = None
    if backend == "postgresql":
        from tests.conftest import _need_pg

        _need_pg()
        pg = request.getfixturevalue("pg_template")
    with fresh_register(backend, sqlite_template, tmp_path, pg) as url:
        register = Register.open(url)
        try:
            build(register, hs, ds)
            before, chain = snapshot(url), events(register)
            for suffix in (".xlsx", ".csv"):
                path = tmp_path / f"export-{uuid.uuid4().hex[:8]}{suffix}"
                export_register(register, path)  # ID numbers masked: the default
                result = importing.import_file(register, path, actor="t")
                changed = (result.created, result.updated, result.holders_created,
                           result.holders_updated, result.agencies_created, result.problems)
                assert changed == (0, 0, 0, 0, 0, []), (suffix, changed)
                assert result.unchanged == len(ds)
                assert events(register) == chain, suffix
                assert snapshot(url) == before, suffix
        finally:
            register.dispose()


def test_default_export_round_trips_same_name_holders(register: Register, tmp_path: Path,
                                                      db_url: str, tokenfleet: Tokenfleet
                                                      ) -> None:
    """The case the issue met: two "Nguyễn Văn An" of one agency, IDs masked, different
    titles and phones — the import neither swaps their devices nor their details."""
    with register.session() as s:
        agency = lifecycle.add_agency(s, code="STC", name="Sở Tài chính", actor="t")
        for i, (title, phone) in enumerate((("Chuyên viên", "0905000001"),
                                            ("Kế toán", "0905000002"))):
            holder = lifecycle.add_holder(s, full_name="Nguyễn Văn An", agency=agency,
                                          actor="t", title=title, phone=phone,
                                          national_id=f"00120300456{i}")
            device = lifecycle.add_device(s, kind="usb_token", serial=f"SN-{i}", actor="t")
            lifecycle.issue(s, device, holder, method="in_person", actor="t")
    before, chain = snapshot(db_url), events(register)
    path = tmp_path / "r.xlsx"
    assert tokenfleet("--db", db_url, "export", str(path)).code == 0
    code, out, _ = tokenfleet("--db", db_url, "import", str(path))
    assert code == 0
    assert "0 new devices, 0 updated, 2 unchanged" in out
    assert snapshot(db_url) == before and events(register) == chain
    with register.read() as s:
        assert sorted(t or "" for t in s.scalars(select(Holder.title))) == ["Chuyên viên",
                                                                            "Kế toán"]


def test_default_export_round_trips_holder_key_names_the_holder(
        register: Register, tmp_path: Path) -> None:
    """Two holders share a name and an agency: a row with the second one's key issues the
    device to the second one (by name alone it could only be refused as ambiguous)."""
    with register.session() as s:
        agency = lifecycle.add_agency(s, code="STC", name="Sở Tài chính", actor="t")
        first = lifecycle.add_holder(s, full_name="Nguyễn Văn An", agency=agency, actor="t")
        second = lifecycle.add_holder(s, full_name="Nguyễn Văn An", agency=agency, actor="t")
        lifecycle.add_device(s, kind="usb_token", serial="K-1", actor="t")
        keys = (first.key, second.key)
    path = tmp_path / "k.csv"
    path.write_text(f"serial,holder,holder_key,agency_code\nK-1,Nguyễn Văn An,{keys[1]},STC\n",
                    encoding="utf-8")
    assert importing.import_file(register, path, actor="t").updated == 1
    with register.read() as s:
        device = s.scalar(select(lifecycle.Device).where(lifecycle.Device.serial == "K-1"))
        assert device is not None and device.holder_id == second.id
    ambiguous = tmp_path / "a.csv"
    ambiguous.write_text("serial,holder,agency_code\nK-2,Nguyễn Văn An,STC\n", encoding="utf-8")
    with pytest.raises(importing.ImportFileError, match="2 holders are named Nguyễn Văn An"):
        importing.import_file(register, ambiguous, actor="t")


def test_default_export_round_trips_into_another_register(
        register: Register, tmp_path: Path) -> None:
    """Keys are not ids: a register filled from another's export names holders the same."""
    with register.session() as s:
        agency = lifecycle.add_agency(s, code="STC", name="Sở Tài chính", actor="t")
        holder = lifecycle.add_holder(s, full_name="Lê Thu", agency=agency, actor="t")
        device = lifecycle.add_device(s, kind="usb_token", serial="X-1", actor="t")
        lifecycle.issue(s, device, holder, method="in_person", actor="t")
        key = holder.key
    path = tmp_path / "a.xlsx"
    export_register(register, path)
    other = Register.open(f"sqlite:///{tmp_path / 'other.sqlite3'}")
    try:
        assert importing.import_file(other, path, actor="t").created == 1
        with other.read() as s:
            assert s.scalar(select(Holder.key)) == key
        again = tmp_path / "b.csv"
        export_register(other, again)
        result = importing.import_file(register, again, actor="t")
        assert (result.created, result.updated, result.holders_created) == (0, 0, 0)
    finally:
        other.dispose()
