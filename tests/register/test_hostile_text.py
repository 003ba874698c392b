"""Issue 13, "lost or mangled values": every text that enters is checked once, in the core, so
the CLI, the TUI forms and imports refuse the same things with the same one line."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from inventory.fleet import lifecycle
from inventory.fleet.queries import agency_by_code
from inventory.register import checks
from inventory.register.db import Register
from inventory.register.errors import DuplicateError, ValidationError
from inventory.register.models import Certificate, Device, Event, Holder
from inventory.register.text import terminal_safe
from tests.conftest import Tokenfleet


def counts(register: Register) -> tuple[int, int, int]:
    with register.read() as s:
        return (s.scalar(select(func.count()).select_from(Device)) or 0,
                s.scalar(select(func.count()).select_from(Holder)) or 0,
                s.scalar(select(func.count()).select_from(Event)) or 0)


@pytest.fixture
def url(register: Register, db_url: str) -> str:
    with register.session() as s:
        lifecycle.add_agency(s, code="STC", name="Sở Tài chính", actor="t")
    return db_url


@pytest.mark.parametrize(("args", "message"), [
    (["device", "add", "T\x00NUL"], "U+0000"),
    (["device", "add", "T" * 100_000], "100000 characters long; at most 64 fit"),
    (["holder", "add", "--name", "Nguyễn \x1b[31mĐỏ\x1b[0m", "--agency", "STC"], "U+001B"),
    (["holder", "add", "--name", "Lê Văn \u202eAn", "--agency", "STC"],
     "U+202E RIGHT-TO-LEFT OVERRIDE"),
    (["holder", "add", "--name", "N" * 100_000, "--agency", "STC"], "at most 200 fit"),
    (["holder", "add", "--name", "Lê An", "--agency", "STC", "--national-id",
      "٠٠١٢٠٣٠٠٤٥٦٧"], "digits 0-9"),
    (["holder", "add", "--name", "Lê An", "--agency", "STC", "--national-id",
      "００１２０３００４５６７"], "digits 0-9"),
    (["--actor", "a" * 100_000, "device", "add", "T1"], "at most 120 fit"),
    (["--actor", "x\x1b]0;owned\x07", "device", "add", "T1"], "U+001B"),
    (["device", "add", "T2", "--manufacturer", "M" * 121], "at most 120 fit"),
])
def test_lost_or_mangled_values_hostile_text_refused(url: str, register: Register,
                                                      tokenfleet: Tokenfleet,
                                                      args: list[str], message: str) -> None:
    before = counts(register)
    code, _, err = tokenfleet("--db", url, *args)
    assert code == 65 and message in err and err.count("\n") == 1, err
    assert counts(register) == before  # the register unchanged


def test_lost_or_mangled_values_nfd_name_is_the_same_person(register: Register) -> None:
    nfc = "Nguyễn Thị Ánh"
    nfd = unicodedata.normalize("NFD", nfc)
    assert nfd != nfc
    with register.session() as s:
        agency = lifecycle.add_agency(s, code="STC", name=unicodedata.normalize("NFD",
                                                                                "Sở Tài chính"),
                                      actor="t")
        holder = lifecycle.add_holder(s, full_name=nfd, agency=agency, actor="t",
                                      title="Chuyên  viên\nchính")
        assert holder.full_name == nfc and agency.name == "Sở Tài chính"
        assert holder.title == "Chuyên viên chính"  # a wrapped cell is one line
        lifecycle.change_holder_details(s, holder, actor="t", full_name=nfd + " ")
        assert holder.full_name == nfc


@pytest.mark.parametrize(("word", "kind"), [
    ("SIM ký số", "pki_sim"), ("Sim ký số", "pki_sim"), ("sim ky so", "pki_sim"),
    ("SIM PKI", "pki_sim"), ("PKI SIM", "pki_sim"), ("Mobile PKI", "pki_sim"),
    ("pki_sim", "pki_sim"), ("USB Token", "usb_token"), ("Token ký số", "usb_token"),
    ("TOKEN KY SO", "usb_token"), ("USB ký số", "usb_token"), ("usb ky so", "usb_token"),
    ("usb_token", "usb_token"),
])
def test_lost_or_mangled_values_kind_vocabulary(word: str, kind: str) -> None:
    assert checks.kind(word) == kind


def test_lost_or_mangled_values_kind_unknown_is_refused() -> None:
    with pytest.raises(ValidationError, match="neither a USB token nor a PKI SIM"):
        checks.kind("Máy fax")


def test_lost_or_mangled_values_serial_unique_across_kinds(url: str, register: Register,
                                                          tokenfleet: Tokenfleet
                                                          ) -> None:
    assert tokenfleet("--db", url, "device", "add", "S-1")[0] == 0
    code, _, err = tokenfleet("--db", url, "device", "add", "S-1", "--kind", "pki_sim")
    assert code == 4 and "S-1 is already in the register (as a usb_token)" in err
    with register.read() as s:
        assert s.scalar(select(func.count()).select_from(Device)) == 1


def test_lost_or_mangled_values_fingerprint_is_64_hex_digits(url: str, register: Register,
                                                            tokenfleet: Tokenfleet
                                                            ) -> None:
    with register.session() as s:
        agency = agency_by_code(s, "STC")
        holder = lifecycle.add_holder(s, full_name="Lê An", agency=agency, actor="t")
        device = lifecycle.add_device(s, kind="usb_token", serial="FP-1", actor="t")
        lifecycle.issue(s, device, holder, method="in_person", actor="t")
    renew = ["--db", url, "device", "renew", "FP-1", "--cert-serial", "C2", "--not-before",
             "2026-01-01", "--not-after", "2029-01-01", "--fingerprint"]
    code, _, err = tokenfleet(*renew, "zz")
    assert code == 65 and "is not 64 hex digits" in err
    colon_hex = ":".join(["AB"] * 32)
    assert tokenfleet(*renew, colon_hex)[0] == 0
    with register.read() as s:
        stored = s.scalar(select(Certificate.fingerprint_sha256))
    assert stored == "ab" * 32


def test_lost_or_mangled_values_checks_reach_every_front_end(register: Register) -> None:
    """The core refuses, whoever calls: the TUI's forms and the desk call these functions."""
    with register.session() as s:
        agency = lifecycle.add_agency(s, code="STC", name="Sở Tài chính", actor="t")
        holder = lifecycle.add_holder(s, full_name="Lê An", agency=agency, actor="t")
    for call in (
        lambda s: lifecycle.add_device(s, kind="usb_token", serial="A\u202eB", actor="t"),
        lambda s: lifecycle.add_holder(s, full_name="Lê\x07An", agency=agency, actor="t"),
        lambda s: lifecycle.change_holder_details(s, s.get_one(Holder, holder.id), actor="t",
                                                  email="x\x00@y"),
        lambda s: lifecycle.add_agency(s, code="X\x1b", name="Sở X", actor="t"),
        lambda s: lifecycle.rename_agency(s, agency, "A" * 301, actor="t"),
        lambda s: lifecycle.add_device(s, kind="usb_token", serial="OK-1", actor="\x1b[2J"),
    ):
        with pytest.raises(ValidationError), register.session() as s:
            call(s)


def test_lost_or_mangled_values_duplicate_id_on_edit(register: Register) -> None:
    with register.session() as s:
        agency = lifecycle.add_agency(s, code="STC", name="Sở Tài chính", actor="t")
        lifecycle.add_holder(s, full_name="Lê An", agency=agency, actor="t",
                             national_id="001203004567")
        other = lifecycle.add_holder(s, full_name="Lê Bình", agency=agency, actor="t")
    with pytest.raises(DuplicateError, match=r"\*+4567"), register.session() as s:
        lifecycle.change_holder_details(s, s.get_one(Holder, other.id), actor="t",
                                        national_id="001203004567")


def test_lost_or_mangled_values_terminal_output_escapes_control_characters(
        register: Register, db_url: str, tmp_path: Path) -> None:
    """A name stored before these checks existed (or by a tool writing the database directly)
    is shown escaped on a terminal: ``holder show`` cannot repaint the screen."""
    with register.session() as s:
        agency = lifecycle.add_agency(s, code="STC", name="Sở Tài chính", actor="t")
        holder = lifecycle.add_holder(s, full_name="Lê An", agency=agency, actor="t")
        holder_id = holder.id
    with register.engine.begin() as conn:
        conn.execute(update(Holder).values(full_name="Lê \x1b[2J\x1b[31mAn\u202e\x9b"))
    main_pty, child_pty = pty.openpty()
    env = {**os.environ, "TOKENFLEET_DATABASE_URL": db_url, "COLUMNS": "200"}
    tokenfleet = str(Path(sys.executable).with_name("tokenfleet"))
    proc = subprocess.run([tokenfleet, "holder", "show", str(holder_id)], stdin=child_pty,
                          stdout=child_pty, stderr=child_pty, env=env, timeout=60, check=False)
    os.close(child_pty)
    shown = b""
    while True:
        try:
            chunk = os.read(main_pty, 4096)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
    os.close(main_pty)
    assert proc.returncode == 0, shown
    text = shown.decode()
    assert "\x1b" not in text and "\u202e" not in text and "\x9b" not in text
    assert "Lê \\x1b[2J\\x1b[31mAn\\u202e\\x9b" in text


def test_terminal_safe_keeps_vietnamese_and_layout() -> None:
    assert terminal_safe("Đặng Quốc Bảo\tSở Y tế\n") == "Đặng Quốc Bảo\tSở Y tế\n"
    assert terminal_safe("a\x1bb\x00c\u202e") == "a\\x1bb\\x00c\\u202e"
