"""Many desks at once: conflicting moves from 8 threads give one success per conflict and a
clear refusal for the rest; the result is one serial order of the successful moves, and the
audit chain stays valid (appends are serialised on both backends)."""

from __future__ import annotations

import random
import threading
from collections import Counter

from sqlalchemy import select

from inventory.fleet import lifecycle
from inventory.fleet.queries import get_device
from inventory.register import audit
from inventory.register.db import Register
from inventory.register.errors import ConcurrentChangeError, MoveNotAllowedError
from inventory.register.models import Device, Event, Holder

MOVES = ("lock", "unlock", "return_to_stock", "issue")
THREADS, DEVICES, ROUNDS = 8, 6, 25


def _setup(register: Register) -> None:
    with register.session() as s:
        agency = lifecycle.add_agency(s, code="A", name="Sở A", actor="setup")
        holder = lifecycle.add_holder(s, full_name="Phan Văn Hòa", agency=agency,
                                      actor="setup")
        for i in range(DEVICES):
            device = lifecycle.add_device(s, kind="usb_token", serial=f"C{i}", actor="setup")
            lifecycle.issue(s, device, holder, method="in_person", actor="setup")


def test_conflicting_moves_from_eight_desks(db_url):
    setup = Register.open(db_url)
    _setup(setup)
    outcomes: Counter[str] = Counter()
    refusals: list[str] = []
    lock = threading.Lock()

    def desk(n: int) -> None:
        register = Register.open(db_url)  # its own engine and pool, like another process
        rng = random.Random(n)
        try:
            for _ in range(ROUNDS):
                serial, move = f"C{rng.randrange(DEVICES)}", rng.choice(MOVES)
                try:
                    with register.session() as s:
                        device = get_device(s, serial)
                        if move == "issue":
                            lifecycle.issue(s, device, s.get_one(Holder, 1), method="in_person",
                                            actor=f"desk{n}")
                        else:
                            lifecycle.apply_move(s, device, move, actor=f"desk{n}")
                    result = "done"
                except (MoveNotAllowedError, ConcurrentChangeError) as err:
                    result = type(err).__name__
                    with lock:
                        refusals.append(str(err))
                except Exception as err:  # anything else is a bug: report it, do not hang
                    result = f"unexpected {type(err).__name__}: {err}"
                with lock:
                    outcomes[result] += 1
        finally:
            register.dispose()

    threads = [threading.Thread(target=desk, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert sum(outcomes.values()) == THREADS * ROUNDS, outcomes
    assert set(outcomes) <= {"done", "MoveNotAllowedError", "ConcurrentChangeError"}, outcomes
    assert outcomes["done"] > 0 and all("C" in r for r in refusals)

    with setup.read() as s:
        audit.verify(s)
        events = s.scalars(select(Event).where(Event.action.like("device.%"),
                                               Event.actor.like("desk%"))
                           .order_by(Event.seq)).all()
        assert len(events) == outcomes["done"]  # every success has its event, nothing else
        # Replaying the successful moves in chain order gives exactly the final register.
        replay = {f"C{i}": ("issued", 0) for i in range(DEVICES)}
        for ev in events:
            assert ev.before is not None and ev.after is not None
            status, locks = replay[ev.after["serial"]]
            assert ev.before["status"] == status, f"event {ev.seq} acted on a stale state"
            move = ev.action.removeprefix("device.")
            assert ev.after["status"] == lifecycle.MOVES[move].target
            replay[ev.after["serial"]] = (ev.after["status"], locks + (move == "lock"))
        for device in s.scalars(select(Device)):
            assert (device.status, device.lock_count) == replay[device.serial]
    setup.dispose()
