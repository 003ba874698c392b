"""The real ``tokenfleet tui`` command in a real terminal (tmux): start, search, read the screen.

Needs tmux (Debian package ``tmux``). Without it the test skips with a reason on a laptop; with
``TOKENFLEET_REQUIRE_TMUX=1`` (CI) a missing tmux fails instead.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from inventory.demo import city as demo
from inventory.register.db import Register
from tests.conftest import FIXED_NOW, missing_tool

TMUX = shutil.which("tmux")
SOCKET = "tokenfleet-tests"  # our own tmux server: its window size is ours, not a client's


@pytest.fixture
def tmux_session() -> Iterator[str]:
    if TMUX is None:
        missing_tool("TMUX", "tmux is not installed (apt-get install tmux)")
    name = f"tf-{uuid.uuid4().hex[:8]}"
    yield name
    subprocess.run([TMUX, "-L", SOCKET, "kill-session", "-t", name], check=False,
                   capture_output=True)


def screen(session: str) -> str:
    assert TMUX is not None
    return subprocess.run([TMUX, "-L", SOCKET, "capture-pane", "-p", "-t", session], check=True,
                          capture_output=True, text=True).stdout


def device_rows(shown: str) -> list[str]:
    return [line for line in shown.splitlines() if "USB token" in line or "PKI SIM" in line]


def wait_for(session: str, text: str, timeout: float = 60.0,
             ready: Callable[[str], bool] | None = None) -> str:
    """Poll the pane until ``text`` shows (a readiness wait, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while True:
        shown = screen(session)
        if text in shown and (ready is None or ready(shown)):
            return shown
        if time.monotonic() > deadline:
            raise AssertionError(f"{text!r} never appeared; the screen shows:\n{shown}")
        time.sleep(0.2)


def test_tokenfleet_tui_in_tmux_finds_a_holder_without_accents(tmp_path: Path,
                                                               tmux_session: str) -> None:
    url = f"sqlite:///{tmp_path / 'register.sqlite3'}"
    reg = Register.open(url)
    with reg.session() as session:
        demo.generate(session.connection(), devices=300, seed=7, now=FIXED_NOW)
    reg.dispose()
    command = Path(sys.executable).with_name("tokenfleet")
    env = f"TOKENFLEET_DATABASE_URL={url} TOKENFLEET_LANG=en"
    assert TMUX is not None
    subprocess.run([TMUX, "-L", SOCKET, "-f", "/dev/null", "new-session", "-d", "-s",
                    tmux_session, "-x", "160", "-y", "45",
                    f"env -u COLUMNS -u LINES {env} {command} tui --start devices"], check=True)
    wait_for(tmux_session, "of 300")
    # A key can land before the app has finished starting (or before "/" has moved the focus):
    # like a person, look at the search box and type again until it reads exactly "dang".
    def keys(*args: str) -> None:
        subprocess.run([TMUX, "-L", SOCKET, "send-keys", "-t", tmux_session, *args], check=True)

    typed = re.compile(r"▊  dang\s*▎")
    for _ in range(10):
        keys("Escape")  # out of the box (or any menu a stray key opened)
        keys("/")
        time.sleep(0.3)  # let the focus land before typing (not a timing assertion)
        keys("C-e", "C-u")  # cursor to the end, then clear the box
        keys("-l", "dang")
        try:
            wait_for(tmux_session, "dang", timeout=3, ready=lambda s: bool(typed.search(s)))
            break
        except AssertionError:
            continue
    def only_dang(shown: str) -> bool:  # the search has been applied to the table
        rows = device_rows(shown)
        return bool(rows) and all("Đặng" in line for line in rows)

    shown = wait_for(tmux_session, "Đặng", ready=only_dang)
    rows = device_rows(shown)
    assert rows and all("Đặng" in line for line in rows), shown
    assert "dang" in shown  # what was typed, in the search box
    subprocess.run([TMUX, "-L", SOCKET, "send-keys", "-t", tmux_session, "C-q"], check=True)


def test_a_scanned_serial_opens_its_device_in_a_small_terminal(tmp_path: Path,
                                                              tmux_session: str) -> None:
    """Issue 14, in the real ``tokenfleet tui`` at 80×24: ``/SERIAL`` and Enter sent in one
    burst (as a USB barcode scanner types) open that device. Failed before: the keys went to
    the dashboard and the search box stayed empty."""
    url = f"sqlite:///{tmp_path / 'register.sqlite3'}"
    reg = Register.open(url)
    with reg.session() as session:
        demo.generate(session.connection(), devices=300, seed=7, now=FIXED_NOW)
    with reg.read() as session:
        from sqlalchemy import select

        from inventory.register.models import Device

        serial = session.scalars(select(Device.serial).where(Device.status == "locked")
                                 .order_by(Device.id)).first()
    reg.dispose()
    assert serial
    command = Path(sys.executable).with_name("tokenfleet")
    env = f"TOKENFLEET_DATABASE_URL={url} TOKENFLEET_LANG=vi"
    assert TMUX is not None
    subprocess.run([TMUX, "-L", SOCKET, "-f", "/dev/null", "new-session", "-d", "-s",
                    tmux_session, "-x", "80", "-y", "24",
                    f"env -u COLUMNS -u LINES {env} {command} tui"], check=True)
    wait_for(tmux_session, "thiết bị trong sổ")  # the dashboard has its figures
    subprocess.run([TMUX, "-L", SOCKET, "send-keys", "-t", tmux_session, f"/{serial}",
                    "Enter"], check=True)
    shown = wait_for(tmux_session, serial, ready=lambda s: "Chứng thư số" in s)
    assert "Bị khóa" in shown  # its page: the device's status
    lines = shown.rstrip("\n").splitlines()
    assert len(lines) <= 24 and all(len(line) <= 80 for line in lines)
    subprocess.run([TMUX, "-L", SOCKET, "send-keys", "-t", tmux_session, "C-q"], check=True)


def test_tokenfleet_tui_creates_the_embedded_register_it_starts_on(tmp_path: Path,
                                                                 tmux_session: str) -> None:
    """The first start on a new machine: there is no register yet. The early reader
    (``tui.early``) opens only one that exists, so it answers nothing; the app creates the
    embedded register when it connects and the dashboard reads it itself."""
    command = Path(sys.executable).with_name("tokenfleet")
    env = (f"XDG_DATA_HOME={tmp_path / 'data'} XDG_CONFIG_HOME={tmp_path / 'config'} "
           "TOKENFLEET_LANG=en")
    assert TMUX is not None
    subprocess.run([TMUX, "-L", SOCKET, "-f", "/dev/null", "new-session", "-d", "-s",
                    tmux_session, "-x", "160", "-y", "45",
                    f"env -u COLUMNS -u LINES -u TOKENFLEET_DATABASE_URL {env} {command} tui"],
                   check=True)
    wait_for(tmux_session, "0 devices in the register")
    assert (tmp_path / "data" / "tokenfleet" / "register.sqlite3").is_file()
    subprocess.run([TMUX, "-L", SOCKET, "send-keys", "-t", tmux_session, "C-q"], check=True)
