"""A realistic demo city fleet, generated fast enough for 1,000,000 devices.

Rows are written with Core ``insert()`` executemany in chunks, with ids assigned here so no row
needs a round trip. Every device's history (added, issued, certificates, locked, unlocked, lost,
revoked, retired) goes through the register's own rules and trail on their bulk paths: each move
is :func:`inventory.fleet.lifecycle.next_state` of the ``MOVES`` table applied to the row, each
event is the one the lifecycle writes (``device_event``, ``certificate_event``), and a chunk's
events are appended to the hash chain by :func:`inventory.register.audit.append_many` with one
head claim. So point-in-time reports and ``inventory.fleet.replay`` read the demo as they read a
register worked by hand. Everything derives from ``seed`` and ``now``: the same arguments give
the same fleet.
"""

from __future__ import annotations

import functools
import hashlib
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, insert, select
from sqlalchemy.orm import Session

from inventory.demo.unlock_cases import demo_cases
from inventory.fleet import lifecycle
from inventory.register import audit
from inventory.register.db import SQLITE_BULK_CACHE_KIB
from inventory.register.errors import ValidationError
from inventory.register.models import (
    Agency,
    Certificate,
    Device,
    Handover,
    Holder,
    ServiceRequest,
    ServiceRequestItem,
    utcnow,
)
from inventory.register.text import fold

SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi",
            "Đỗ", "Hồ", "Ngô", "Dương", "Lý", "Đinh", "Trương", "Đoàn", "Lương"]
MIDDLE = ["Văn", "Thị", "Hữu", "Đức", "Minh", "Thanh", "Quốc", "Ngọc", "Xuân", "Thu", "Kim",
          "Công", "Đình", "Hoài", "Bảo", "Anh"]
GIVEN = ["An", "Bình", "Châu", "Dũng", "Đạt", "Giang", "Hà", "Hải", "Hạnh", "Hiếu", "Hoa",
         "Hùng", "Hương", "Khánh", "Lan", "Linh", "Long", "Mai", "Nam", "Nga", "Nhung", "Phong",
         "Phúc", "Quân", "Quang", "Sơn", "Tâm", "Thảo", "Thắng", "Trang", "Trung", "Tuấn", "Uyên",
         "Việt", "Vy", "Yến", "Đông", "Đào"]
TITLES = ["Giám đốc", "Phó Giám đốc", "Chánh Văn phòng", "Trưởng phòng", "Phó Trưởng phòng",
          "Chuyên viên", "Kế toán trưởng", "Chủ tịch", "Phó Chủ tịch", "Văn thư"]
DEPARTMENTS = [
    ("STTTT", "Sở Thông tin và Truyền thông"), ("STC", "Sở Tài chính"), ("SYT", "Sở Y tế"),
    ("SGDDT", "Sở Giáo dục và Đào tạo"), ("SNV", "Sở Nội vụ"), ("STP", "Sở Tư pháp"),
    ("SKHDT", "Sở Kế hoạch và Đầu tư"), ("SXD", "Sở Xây dựng"), ("SGTVT", "Sở Giao thông vận tải"),
    ("STNMT", "Sở Tài nguyên và Môi trường"), ("SCT", "Sở Công Thương"),
    ("SNNPTNT", "Sở Nông nghiệp và Phát triển nông thôn"), ("SLDTBXH", "Sở Lao động - Thương binh và Xã hội"),  # noqa: E501
    ("SVHTT", "Sở Văn hóa và Thể thao"), ("VPUBND", "Văn phòng Ủy ban nhân dân thành phố"),
]
DISTRICTS = [("HC", "Quận Hải Châu"), ("TK", "Quận Thanh Khê"), ("ST", "Quận Sơn Trà"),
             ("NHS", "Quận Ngũ Hành Sơn"), ("LC", "Quận Liên Chiểu"), ("CL", "Quận Cẩm Lệ"),
             ("HV", "Huyện Hòa Vang")]
WARDS = ["Phước Ninh", "Hòa Thuận Tây", "Thạch Thang", "Bình Hiên", "Hòa Cường Bắc", "An Khê",
         "Thạc Gián", "Mân Thái", "An Hải Bắc", "Khuê Mỹ", "Hòa Minh", "Hòa Xuân", "Hòa Phước"]
TOKEN_MODELS = [("Bit4id", "miniLector EVO"), ("SafeNet", "eToken 5110"), ("Feitian", "ePass2003"),
                ("Viettel-CA", "VTC-Token 5")]
SIM_MODELS = [("Viettel", "PKI SIM 128K"), ("VNPT", "PKI SIM"), ("MobiFone", "mobiCA SIM")]
CA_ISSUER = "CN=Cục Chứng thực số và Bảo mật thông tin,O=Ban Cơ yếu Chính phủ,C=VN"
DEMO_ACTOR = "demo"
LOCKOUT_CHANCE_PER_QUARTER = 0.025


@dataclass
class _Ids:
    """Next id per table, so rows can reference each other before they are written."""

    next: dict[str, int] = field(default_factory=dict)

    def take(self, table: str) -> int:
        self.next[table] += 1
        return self.next[table]


@dataclass(frozen=True)
class DemoSummary:
    agencies: int
    holders: int
    devices: int
    certificates: int
    events: int
    requests: int


def _agency_tree(rng: random.Random) -> list[tuple[str, str, str, str | None]]:
    """(code, name, kind, parent code) for a city of departments, districts and wards."""
    rows: list[tuple[str, str, str, str | None]] = [
        ("DN", "Ủy ban nhân dân thành phố Đà Nẵng", "city", None),
        ("HDND-TP", "Hội đồng nhân dân thành phố Đà Nẵng", "people_council", "DN"),
    ]
    for code, name in DEPARTMENTS:
        rows.append((code, name, "department", "DN"))
        rows.append((f"{code}-TT", f"Trung tâm trực thuộc {name}", "public_service_unit", code))
    for code, name in DISTRICTS:
        rows.append((f"Q{code}", f"Ủy ban nhân dân {name}", "district", "DN"))
        rows.append((f"HDND-{code}", f"Hội đồng nhân dân {name}", "people_council", f"Q{code}"))
        rows.append((f"TTYT-{code}", f"Trung tâm Y tế {name}", "public_service_unit", f"Q{code}"))
        for i, ward in enumerate(rng.sample(WARDS, 4), start=1):
            rows.append((f"P{code}{i:02d}", f"Ủy ban nhân dân phường {ward} ({name})", "ward",
                         f"Q{code}"))
    return rows


def _chunks(n: int, size: int) -> Iterator[range]:
    for start in range(0, n, size):
        yield range(start, min(start + size, n))


def generate(
    conn: Connection,
    *,
    devices: int = 5000,
    seed: int = 1,
    now: datetime | None = None,
    chunk: int = 20_000,
    progress: Callable[[int, int], None] | None = None,
) -> DemoSummary:
    """Fill an empty register with a demo city fleet (one transaction on ``conn``)."""
    with Session(bind=conn) as session:  # joins conn's transaction: the trail's checks need one
        return _generate(session, conn, devices=devices, seed=seed, now=now, chunk=chunk,
                         progress=progress)


def _generate(session: Session, conn: Connection, *, devices: int, seed: int,
              now: datetime | None, chunk: int,
              progress: Callable[[int, int], None] | None) -> DemoSummary:
    if devices < 1:
        raise ValidationError("--devices must be at least 1")
    if conn.scalar(select(func.count()).select_from(Device)):
        raise ValidationError("the register already holds devices: the demo fills an empty one")
    if conn.dialect.name == "sqlite":  # PERF: a big page cache halves inserts into indexes
        conn.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_BULK_CACHE_KIB}")
    rng = random.Random(seed)
    now = (now or utcnow()).replace(microsecond=0)
    ids = _Ids({t: conn.scalar(select(func.coalesce(func.max(c), 0))) or 0 for t, c in (
        ("agency", Agency.id), ("holder", Holder.id), ("device", Device.id),
        ("cert", Certificate.id), ("handover", Handover.id), ("request", ServiceRequest.id),
        ("item", ServiceRequestItem.id))})
    chain = _Chain(session)

    # agencies
    agencies: list[dict[str, Any]] = []
    by_code: dict[str, dict[str, Any]] = {}
    start = now - timedelta(days=3 * 365 + 30)
    for code, name, kind, parent in _agency_tree(rng):
        aid = ids.take("agency")
        p = by_code.get(parent) if parent else None
        row = {"id": aid, "code": code, "name": name, "name_folded": fold(name), "kind": kind,
               "parent_id": p["id"] if p else None, "path": f"{p['path'] if p else '/'}{aid}/",
               "level": (p["level"] + 1) if p else 0, "active": True, "created_at": start,
               "contact_email": f"vanthu.{code.lower()}@danang.gov.vn", "merged_into_id": None}
        agencies.append(row)
        by_code[code] = row
    conn.execute(insert(Agency), agencies)
    chain.add([audit.EventDraft("agency.add", "agency", a["id"], DEMO_ACTOR,
                                after={"code": a["code"], "name": a["name"],
                                       "parent_id": a["parent_id"]}, occurred_at=start)
               for a in agencies])
    leaf_agencies = [a for a in agencies if a["kind"] != "city"]

    made = {"holders": 0, "certs": 0}
    for part in _chunks(devices, chunk):
        _device_chunk(conn, rng, ids, chain, part, leaf_agencies, now, made)
        if progress:
            progress(part.stop, devices)
    requests = _requests(conn, rng, ids, chain, now, leaf_agencies)
    demo_cases(conn, now=now, seed=seed)
    sync_sequences(conn)
    return DemoSummary(agencies=len(agencies), holders=made["holders"], devices=devices,
                       certificates=made["certs"], events=chain.count, requests=requests)


def sync_sequences(conn: Connection) -> None:
    """After rows were written with explicit ids, move PostgreSQL's id sequences past them."""
    if conn.dialect.name != "postgresql":
        return
    from inventory.register.models import Base

    for table in Base.metadata.sorted_tables:
        if "id" in table.c and table.c.id.primary_key and table.c.id.autoincrement:
            conn.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                f"COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM {table.name}")


class _Chain:
    """The demo's events, appended to the register's chain a batch at a time, in time order."""

    def __init__(self, session: Session):
        self.session, self.count = session, 0

    def add(self, drafts: list[audit.EventDraft]) -> None:
        self.count += audit.append_many(self.session, sorted(drafts, key=_when))


def _when(draft: audit.EventDraft) -> datetime:
    assert draft.occurred_at is not None  # the demo dates every event
    return draft.occurred_at


_fold = functools.lru_cache(maxsize=None)(fold)  # a city has a few thousand distinct names


def _name(rng: random.Random) -> str:
    return f"{rng.choice(SURNAMES)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"


def _device_chunk(conn: Connection, rng: random.Random, ids: _Ids, chain: _Chain, part: range,
                  agencies: list[dict[str, Any]], now: datetime, made: dict[str, int]) -> None:
    holders, devices, certs, handovers = [], [], [], []
    drafts: list[audit.EventDraft] = []
    for i in part:
        kind = "pki_sim" if rng.random() < 0.12 else "usb_token"
        agency = rng.choice(agencies)
        created = now - timedelta(days=rng.randint(21, 4 * 365), seconds=rng.randint(0, 86399))
        if kind == "usb_token":
            serial = f"54{i:014d}"
            manufacturer, model = rng.choice(TOKEN_MODELS)
            phone = None
        else:
            serial = f"898404{i:013d}"
            manufacturer, model = rng.choice(SIM_MODELS)
            phone = f"09{rng.randint(10_000_000, 99_999_999)}"
        final = rng.choices(["issued", "locked", "lost", "revoked", "retired", "in_stock"],
                            weights=[80, 3, 1, 5, 2, 9])[0]
        did = ids.take("device")
        dev = {"id": did, "kind": kind, "serial": serial, "status": "in_stock",
               "holder_id": None, "agency_id": None, "manufacturer": manufacturer,
               "model": model, "phone_number": phone, "lock_count": 0, "status_changed_at":
               created, "last_seen_at": None, "last_seen_reader": None, "last_seen_host": None,
               "pin_tries_left": None, "pin_blocked": None, "notes": None, "created_at": created,
               "version": 1}
        drafts.append(lifecycle.device_event(did, "add", None, lifecycle.device_state(dev),
                                             actor=DEMO_ACTOR, at=created))
        devices.append(dev)
        if final == "in_stock" or (final == "retired" and rng.random() < 0.5):
            if final == "retired":
                _move(dev, "retire", created + timedelta(days=10), drafts)
            continue
        # issued to a new holder of the agency
        hid = ids.take("holder")
        name = _name(rng)
        folded = _fold(name)
        holders.append({"id": hid, "full_name": name, "name_folded": folded,
                        "title": rng.choice(TITLES), "agency_id": agency["id"],
                        "email": f"{folded.replace(' ', '.')}.{hid}@danang.gov.vn",
                        "phone": f"09{rng.randint(10_000_000, 99_999_999)}",
                        "national_id": f"0{rng.randint(1, 96):02d}{rng.randint(0, 1)}"
                                       f"{hid:08d}", "created_at": created})
        issued_at = created + timedelta(days=rng.randint(1, 20), hours=rng.randint(1, 9))
        method = rng.choices(["in_person", "cipher_org", "postal"], weights=[60, 25, 15])[0]
        tracking = f"RR{rng.randint(100000000, 999999999)}VN" if method == "postal" else None
        _move(dev, "issue", issued_at, drafts, {"method": method, "tracking_no": tracking},
              holder_id=hid, agency_id=agency["id"])
        handovers.append({"id": ids.take("handover"), "device_id": did, "holder_id": hid,
                          "method": method, "tracking_no": tracking, "handed_at": issued_at,
                          "received_at": issued_at + timedelta(days=rng.randint(0, 5)),
                          "request_id": None, "actor": DEMO_ACTOR, "notes": None})
        # certificates: three-year validity, renewed when the previous one ran out
        # (each certificate is put on the device by an event, as lifecycle.attach_certificate
        # writes it, so the chain replays to the device's active certificate)
        nb = issued_at - timedelta(days=1)
        own_certs: list[dict[str, Any]] = []
        action, attached_at = "certificate.attach", issued_at
        while True:
            na = nb + timedelta(days=3 * 365)
            renewal = na < now and final == "issued" and rng.random() < 0.85
            cid = ids.take("cert")
            der_id = hashlib.sha256(f"{seed_key(did)}:{cid}".encode()).hexdigest()
            cert_serial = der_id[:32].upper()
            certs.append({"id": cid, "device_id": did, "serial": cert_serial,
                          "subject": f"CN={name},O={agency['name']},C=VN", "issuer": CA_ISSUER,
                          "not_before": nb, "not_after": na, "fingerprint_sha256": der_id,
                          "status": "active", "created_at": nb})
            drafts.append(lifecycle.certificate_event(
                did, cid, lifecycle.CertificateData(
                    serial=cert_serial, not_before=nb, not_after=na,
                    fingerprint_sha256=der_id),
                [own_certs[-1]["serial"]] if own_certs else [], actor=DEMO_ACTOR,
                action=action, at=attached_at))
            own_certs.append(certs[-1])
            if not renewal:
                break
            certs[-1]["status"] = "superseded"
            nb = na - timedelta(days=rng.randint(1, 20))
            action, attached_at = "certificate.renew", nb
        # history to the final state
        t = last = issued_at
        # Past lock-outs: about one in ten devices a year, each unlocked 1–30 days later, so
        # every month of the fleet's history sees a similar share (not a crowd near "now").
        quarter = timedelta(days=91)
        while t + quarter < now:
            if rng.random() < LOCKOUT_CHANCE_PER_QUARTER:
                locked_at = t + timedelta(seconds=rng.randint(0, int(quarter.total_seconds())))
                unlocked_at = locked_at + timedelta(days=rng.randint(1, 30),
                                                    hours=rng.randint(0, 8))
                if unlocked_at < now:
                    _move(dev, "lock", locked_at, drafts)
                    _move(dev, "unlock", unlocked_at, drafts)
                    t = last = unlocked_at
                    continue
            t += quarter
        t = last
        if final in ("locked", "lost", "revoked", "retired"):
            if final == "locked":  # waiting at the unlock desk: locked in the last two months
                t = max(t, now - timedelta(days=rng.randint(0, 45), hours=rng.randint(0, 23)))
                _move(dev, "lock", t, drafts)
            elif rng.random() < 0.3:
                t = _between(rng, t, now)
                _move(dev, "lock", t, drafts)
            if final == "lost" or (final in ("revoked", "retired") and rng.random() < 0.5):
                t = _after(rng, t, now, 30) if dev["status"] == "locked" else _between(rng, t, now)
                _move(dev, "report_lost", t, drafts)
            if final in ("revoked", "retired"):
                t = _after(rng, t, now, 60) if dev["status"] != "issued" else _between(rng, t, now)
                if _move(dev, "revoke", t, drafts).revokes_certificates:
                    for c in own_certs:
                        if c["status"] == "active":
                            c["status"] = "revoked"
            if final == "retired":
                t = _after(rng, t, now, 120)
                _move(dev, "retire", t, drafts)
        if final in ("issued", "locked") and rng.random() < 0.6:
            dev["last_seen_at"] = now - timedelta(days=rng.randint(0, 120),
                                                  seconds=rng.randint(0, 86399))
            dev["last_seen_reader"] = "Virtual PCD 00 00"
            dev["last_seen_host"] = "ban-mot-cua"
            dev["pin_tries_left"] = 0 if dev["status"] == "locked" else rng.choice([3, 3, 3, 2, 1])
            dev["pin_blocked"] = dev["status"] == "locked"
    conn.execute(insert(Holder), holders) if holders else None
    conn.execute(insert(Device), devices)
    conn.execute(insert(Certificate), certs) if certs else None
    conn.execute(insert(Handover), handovers) if handovers else None
    chain.add(drafts)
    made["holders"] += len(holders)
    made["certs"] += len(certs)


def seed_key(device_id: int) -> str:
    return f"demo-device-{device_id}"


def _between(rng: random.Random, start: datetime, end: datetime) -> datetime:
    span = max(int((end - start).total_seconds()), 60)
    return start + timedelta(seconds=rng.randint(0, span))


def _after(rng: random.Random, start: datetime, now: datetime, max_days: int) -> datetime:
    """A moment from an hour to ``max_days`` after ``start``, and never after ``now``."""
    latest = min(start + timedelta(days=max_days), now)
    span = max(int((latest - start).total_seconds()), 3600)
    return min(start + timedelta(seconds=rng.randint(min(3600, span), span)), now)


def _move(dev: dict[str, Any], move: str, at: datetime, drafts: list[audit.EventDraft],
          extra: dict[str, Any] | None = None, *, holder_id: int | None = None,
          agency_id: int | None = None) -> lifecycle.Move:
    """A move on a device row: the lifecycle's rule (``next_state``) and its event."""
    before = lifecycle.device_state(dev)
    after = lifecycle.next_state(before, move, holder_id=holder_id, agency_id=agency_id)
    dev.update(after)
    dev["status_changed_at"] = at
    drafts.append(lifecycle.device_event(dev["id"], move, before, after | (extra or {}),
                                         actor=DEMO_ACTOR, at=at))
    return lifecycle.MOVES[move]


def _requests(conn: Connection, rng: random.Random, ids: _Ids, chain: _Chain, now: datetime,
              agencies: list[dict[str, Any]]) -> int:
    """Requests of every kind and state, each a batch for a few holders of one agency."""
    holders_by_agency: dict[int, list[int]] = {}
    for hid, aid in conn.execute(select(Holder.id, Holder.agency_id).limit(2000)):
        holders_by_agency.setdefault(aid, []).append(hid)
    kinds = ["new_issuance", "renewal", "change_info", "revocation", "recovery"]
    states = ["draft", "submitted", "completed", "rejected", "cancelled"]
    reqs: list[dict[str, Any]] = []
    items: list[dict[str, Any]] = []
    drafts: list[audit.EventDraft] = []
    for n, (kind, state) in enumerate((k, s) for k in kinds for s in states for _ in range(2)):
        agency = rng.choice([a for a in agencies if a["id"] in holders_by_agency] or agencies)
        rid = ids.take("request")
        created = now - timedelta(days=rng.randint(5, 200))
        submitted = created + timedelta(days=rng.randint(0, 3)) if state != "draft" else None
        closed = (submitted or created) + timedelta(days=rng.randint(1, 20)) \
            if state in ("completed", "rejected", "cancelled") else None
        reqs.append({"id": rid, "kind": kind, "state": state, "agency_id": agency["id"],
                     "external_ref": f"{rng.randint(100, 999)}/STTTT-CNTT" if submitted else None,
                     "channel": rng.choice(["ca_portal", "document_system"]), "dossier": {},
                     "notes": None, "created_at": created, "created_by": DEMO_ACTOR,
                     "submitted_at": submitted, "submitted_by": DEMO_ACTOR if submitted else None,
                     "closed_at": closed, "closed_by": DEMO_ACTOR if closed else None,
                     "close_reason": "hồ sơ thiếu" if state == "rejected" else None})
        for hid in holders_by_agency.get(agency["id"], [])[: 1 + n % 3]:
            items.append({"id": ids.take("item"), "request_id": rid, "holder_id": hid,
                          "device_id": None, "certificate_id": None, "device_kind": "usb_token",
                          "details": {}})
        drafts.append(audit.EventDraft("request.new", "request", rid, DEMO_ACTOR,
                                       after={"kind": kind, "state": state},
                                       occurred_at=created))
    conn.execute(insert(ServiceRequest), reqs)
    if items:
        conn.execute(insert(ServiceRequestItem), items)
    chain.add(drafts)
    return len(reqs)
