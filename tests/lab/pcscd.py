"""A private pcscd for the tests: ``pcscd -f -c <tmp reader.conf.d>`` with the 15-reader vpcd.

One pcscd per machine (its socket /run/pcscd/pcscd.comm is compiled in), so PC/SC tests run
serially. Waiting is done in SCardGetStatusChange, never by sleep-polling the card state.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

BASE_PORT = 35963
LAB_DIR = Path(os.environ.get("TOKENFLEET_LAB_DIR", "/opt/tokenfleet-lab"))
RUN_DIR = Path("/run/pcscd")
SOFTHSM_LIB = "/usr/lib/softhsm/libsofthsm2.so"
OPENSC_LIB = "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so"


def find_driver() -> tuple[Path, int] | None:
    """The vpcd driver built by .ci/lab-provision.sh (15 readers), else its stock fallback (2)."""
    override = os.environ.get("TOKENFLEET_VPCD_DRIVER")
    if override:
        return Path(override), int(os.environ.get("TOKENFLEET_VPCD_SLOTS", "15"))
    for name, slots in (("libifdvpcd15.so", 15), ("libifdvpcd.so", 2)):
        p = LAB_DIR / name
        if p.exists():
            return p, slots
    return None


def lab_problems() -> list[str]:
    """Why the reader lab cannot run here (empty list: it can)."""
    problems = []
    if os.geteuid() != 0:
        problems.append("not root (pcscd's socket lives in /run/pcscd)")
    if shutil.which("pcscd") is None and not Path("/usr/sbin/pcscd").exists():
        problems.append("pcscd not installed (run .ci/lab-provision.sh)")
    found = find_driver()
    if found is None or not found[0].exists():
        problems.append(f"no vpcd driver in {LAB_DIR} (run .ci/lab-provision.sh)")
    if not Path(SOFTHSM_LIB).exists():
        problems.append(f"{SOFTHSM_LIB} missing (softhsm2)")
    try:
        import smartcard.scard  # noqa: F401
    except ImportError as exc:
        problems.append(f"pyscard not importable: {exc}")
    return problems


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def _kill_orphaned_lab_daemons() -> None:
    """A lab pcscd whose test run died (parent gone) still holds the vpcd ports, so the next
    lab's readers would never appear: kill such orphans. Only lab daemons (``-c`` pointing into a
    pytest temp directory) are touched, never a system pcscd."""
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
            ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if (ppid == 1 and argv and argv[0].endswith(b"pcscd") and b"-c" in argv
                and b"/pytest-of-" in b" ".join(argv)):
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(proc.name), signal.SIGKILL)


class Pcscd:
    """Start/stop/kill our own pcscd; refuses to fight a live foreign one."""

    def __init__(self, workdir: Path) -> None:
        found = find_driver()
        if found is None:
            raise RuntimeError("vpcd driver not found")
        self.driver, self.slots = found
        self.conf_dir = workdir / "reader.conf.d"
        self.conf_dir.mkdir(parents=True, exist_ok=True)
        # one entry only: the driver keeps per-slot state in a global array
        (self.conf_dir / "vpcd").write_text(
            f'FRIENDLYNAME "Virtual PCD"\nDEVICENAME /dev/null:{BASE_PORT}\n'
            f"LIBPATH {self.driver}\nCHANNELID {BASE_PORT}\n"
        )
        self.log_path = workdir / "pcscd.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def readers(self) -> list[str]:
        return [f"Virtual PCD 00 {i:02X}" for i in range(self.slots)]

    def _clear_stale(self) -> None:
        _kill_orphaned_lab_daemons()
        pidfile = RUN_DIR / "pcscd.pid"
        if pidfile.exists():
            try:
                pid = int(pidfile.read_text().strip() or 0)
            except ValueError:
                pid = 0
            if pid and _running(pid):
                raise RuntimeError(
                    f"another pcscd (pid {pid}) owns {RUN_DIR}; stop it first "
                    "(systemctl stop pcscd.socket pcscd)"
                )
        for name in ("pcscd.comm", "pcscd.pid"):
            with contextlib.suppress(FileNotFoundError):
                (RUN_DIR / name).unlink()

    def start(self, attempts: int = 3) -> None:
        """Start pcscd and wait for its readers. A vpcd port held by a client socket (the
        ports are in the ephemeral range unless .ci/lab-provision.sh could reserve them, as
        root) is "Address already in use": start again, a short-lived socket is gone soon."""
        for attempt in range(1, attempts + 1):
            self._clear_stale()
            log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child
            start = log.tell()
            self.proc = subprocess.Popen(
                ["pcscd", "-f", "-c", str(self.conf_dir)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            log.close()
            try:
                self.wait_readers()
                return
            except BaseException:
                self.kill()  # never leave a daemon behind: it would hold the vpcd ports
                if attempt == attempts or b"Address already in use" not in \
                        self.log_path.read_bytes()[start:]:
                    raise
            time.sleep(2.0)

    def wait_readers(self, timeout: float = 15.0) -> list[str]:
        """Until pcscd lists all our readers (the daemon is up within ~15 ms)."""
        from smartcard import scard

        deadline = time.monotonic() + timeout
        while True:
            rc, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
            if rc == 0:
                rc, names = scard.SCardListReaders(ctx, [])
                scard.SCardReleaseContext(ctx)
                if rc == 0 and len(names) >= self.slots:
                    return list(names)
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"pcscd exited: {self.log_path.read_text()[-2000:]}")
            if time.monotonic() > deadline:
                raise TimeoutError("pcscd readers did not appear")
            time.sleep(0.02)  # daemon start-up: no PC/SC to block on yet

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None
        for name in ("pcscd.comm", "pcscd.pid"):  # left behind after SIGKILL
            with contextlib.suppress(FileNotFoundError):
                (RUN_DIR / name).unlink()

    def kill(self) -> None:
        self.stop(signal.SIGKILL)

    def restart(self) -> None:
        self.stop()
        self.start()


def wait_reader(reader: str, present: bool, timeout: float = 5.0) -> None:
    """Block in SCardGetStatusChange until ``reader`` is (not) holding a card."""
    from smartcard import scard

    rc, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if rc != 0:
        raise RuntimeError("PC/SC not available")
    try:
        states = [(reader, scard.SCARD_STATE_UNAWARE)]
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{reader}: present={present} not reached")
            rc, out = scard.SCardGetStatusChange(ctx, int(left * 1000), states)
            if rc == scard.SCARD_E_TIMEOUT:
                continue
            if rc != 0:
                raise RuntimeError(scard.SCardGetErrorMessage(rc))
            name, state, _atr = out[0]
            if bool(state & scard.SCARD_STATE_PRESENT) == present:
                return
            states = [(name, state & ~scard.SCARD_STATE_CHANGED)]
    finally:
        scard.SCardReleaseContext(ctx)


def opensc_conf(path: Path) -> Path:
    """An OPENSC_CONF giving PKCS#11 one slot per reader for all 15 readers (default: 4)."""
    path.write_text(
        "app default {\n  debug = 0;\n}\n"
        "app opensc-pkcs11 {\n  pkcs11 {\n    max_virtual_slots = 64;\n"
        "    slots_per_card = 1;\n  }\n}\n"
    )
    return path
