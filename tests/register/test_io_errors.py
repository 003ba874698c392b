"""Issue 13, "tracebacks instead of messages" and "silent no-ops": a full disk, a read-only file
system or a missing folder is one line naming the path and exit 73/74, with no temporary file
left; a register named explicitly is never created by accident; a read-only register reads."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from inventory.register.db import Register
from tests.conftest import FIXED_NOW, Tokenfleet

TOKENFLEET = str(Path(sys.executable).with_name("tokenfleet"))


def _mount(point: Path, size: str) -> None:
    point.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(point)],
                   check=True)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 8 KiB file system: writing more fails with ENOSPC, as a full disk does."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small file system needs root (CI runs as root)")
    point = tmp_path / "small"
    _mount(point, "8k")
    yield point
    subprocess.run(["umount", "-l", str(point)], check=False)


@pytest.fixture
def read_only_disk(tmp_path: Path) -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("mounting a read-only file system needs root (CI runs as root)")
    point = tmp_path / "ro"
    _mount(point, "16m")
    yield point
    subprocess.run(["umount", "-l", str(point)], check=False)


def _remount_read_only(point: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(point)], check=True)


def _one_line(err: str) -> None:
    assert err.count("\n") == 1 and "Traceback" not in err, err


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("name", ["e.xlsx", "e.csv"])
def test_tracebacks_instead_of_messages_export_on_a_full_disk(
        demo_register: Register, db_url: str, small_disk: Path, name: str,
        tokenfleet: Tokenfleet) -> None:
    code, _, err = tokenfleet("--db", db_url, "export", str(small_disk / name))
    assert code == 74 and f"{small_disk / name}: cannot write: no space left" in err
    _one_line(err)
    assert os.listdir(small_disk) == []  # no partial file, no hidden temporary file


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_tracebacks_instead_of_messages_report_on_a_full_disk(
        demo_register: Register, db_url: str, small_disk: Path, fmt: str,
        tokenfleet: Tokenfleet) -> None:
    target = small_disk / ("fleet.xlsx" if fmt == "xlsx" else "fleet")
    code, _, err = tokenfleet("--db", db_url, "report", "monthly", "--month",
                       f"{FIXED_NOW:%Y-%m}", "--format", fmt, "--output", str(target))
    assert code == 74 and "no space left" in err and str(target) in err
    _one_line(err)
    assert os.listdir(small_disk) == []


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_tracebacks_instead_of_messages_backup_on_a_full_disk(
        demo_register: Register, db_url: str, small_disk: Path,
        tokenfleet: Tokenfleet) -> None:
    target = small_disk / "r.backup"
    code, _, err = tokenfleet("--db", db_url, "db", "backup", str(target))
    assert code == 74 and f"{target}: cannot write: no space left" in err
    _one_line(err)
    assert os.listdir(small_disk) == []  # neither a partial backup nor its -journal


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_tracebacks_instead_of_messages_csv_to_a_full_stdout(demo_register: Register,
                                                             db_url: str) -> None:
    with open("/dev/full", "w") as full:
        proc = subprocess.run([TOKENFLEET, "--db", db_url, "devices", "--format", "csv"],
                              stdout=full, stderr=subprocess.PIPE, text=True, timeout=120,
                              check=False)
    assert proc.returncode == 74, proc.stderr
    assert "standard output: cannot write: no space left" in proc.stderr
    assert "invalid value" not in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_tracebacks_instead_of_messages_read_only_target(demo_register: Register, db_url: str,
                                                         read_only_disk: Path,
                                                         tokenfleet: Tokenfleet
                                                         ) -> None:
    _remount_read_only(read_only_disk)
    for args in (["export", str(read_only_disk / "e.xlsx")],
                 ["db", "backup", str(read_only_disk / "b.sqlite3")],
                 ["report", "monthly", "--output", str(read_only_disk / "r.xlsx")]):
        code, _, err = tokenfleet("--db", db_url, *args)
        assert code == 73 and "read-only" in err and str(read_only_disk) in err, err
        _one_line(err)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_tracebacks_instead_of_messages_interrupted_export_leaves_no_temp_file(
        register: Register, db_url: str, tmp_path: Path) -> None:
    from inventory.demo import city

    with register.session() as s:
        city.generate(s.connection(), devices=20_000, seed=3, now=FIXED_NOW)
    out = tmp_path / "out"
    out.mkdir()
    proc = subprocess.Popen([TOKENFLEET, "--db", db_url, "export", str(out / "e.xlsx")],
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not os.listdir(out) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    assert os.listdir(out), "the export never started writing"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "Traceback" not in err, err
    assert os.listdir(out) == []


def test_silent_no_ops_explicit_register_that_does_not_exist(
        tmp_path: Path, tokenfleet: Tokenfleet,
        monkeypatch: pytest.MonkeyPatch) -> None:
    typo = tmp_path / "typo" / "dir" / "x.sqlite3"
    url = f"sqlite:///{typo}"
    for args in (["--db", url, "alerts", "run"], ["--db", url, "devices"],
                 ["--db", url, "db", "check"], ["--db", url, "db", "current"],
                 ["--db", url, "db", "backup", str(tmp_path / "b")]):
        code, _, err = tokenfleet(*args)
        assert code == 78, (args, err)
        assert f"no register at {typo}; create it with `tokenfleet db upgrade`" in err
    monkeypatch.setenv("TOKENFLEET_DATABASE_URL", url)
    code, _, err = tokenfleet("audit", "verify")
    assert code == 78 and "no register at" in err
    assert not (tmp_path / "typo").exists()  # no folders, no empty register
    # an empty file is no register either
    empty = tmp_path / "empty.sqlite3"
    empty.touch()
    code, _, err = tokenfleet("--db", f"sqlite:///{empty}", "devices")
    assert code == 78 and "no register at" in err


@pytest.mark.parametrize("command", [["db", "upgrade"], ["demo", "--devices", "5"]])
def test_silent_no_ops_only_upgrade_and_demo_create_a_named_register(
        tmp_path: Path, tokenfleet: Tokenfleet, command: list[str]) -> None:
    url = f"sqlite:///{tmp_path / 'new' / 'r.sqlite3'}"
    assert tokenfleet("--db", url, *command)[0] == 0
    assert tokenfleet("--db", url, "devices")[0] == 0


def test_silent_no_ops_read_only_register_can_be_read(
        tmp_path: Path, read_only_disk: Path, tokenfleet: Tokenfleet) -> None:
    url = f"sqlite:///{read_only_disk / 'r.sqlite3'}"
    assert tokenfleet("--db", url, "demo", "--devices", "20")[0] == 0
    _remount_read_only(read_only_disk)
    code, out, err = tokenfleet("--db", url, "devices", "--format", "csv")
    assert code == 0 and len(out.splitlines()) == 21, err
    assert tokenfleet("--db", url, "audit", "verify")[0] == 0
    code, _, err = tokenfleet("--db", url, "device", "add", "NEW-1")
    assert code == 74 and "read-only" in err and str(read_only_disk / "r.sqlite3") in err
    _one_line(err)


def test_tracebacks_instead_of_messages_import_onto_a_full_disk(
        tmp_path: Path, tokenfleet: Tokenfleet) -> None:
    """A register on a nearly full disk: the import fails in one line naming the register,
    exit 74 (not "database unreachable"), and the register is as it was."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small file system needs root (CI runs as root)")
    point = tmp_path / "small"
    _mount(point, "1500k")
    try:
        url = f"sqlite:///{point / 'r.sqlite3'}"
        assert tokenfleet("--db", url, "db", "upgrade").code == 0
        sheet = tmp_path / "big.csv"
        sheet.write_text("serial,holder,agency\n" + "".join(
            f"T-{i:06d},Nguyễn Văn {i:06d},Sở {i % 40}\n" for i in range(20_000)),
            encoding="utf-8")
        code, _, err = tokenfleet("--db", url, "import", str(sheet))
        assert code == 74 and f"{point / 'r.sqlite3'}: cannot write: no space left" in err, err
        _one_line(err)
        code, out, _ = tokenfleet("--db", url, "devices", "--format", "csv")
        assert code == 0 and out.count("\n") <= 1  # the header only: nothing was imported
    finally:
        subprocess.run(["umount", "-l", str(point)], check=False)
