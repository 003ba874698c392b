"""``tokenfleet alerts run`` against a real SMTP server on loopback, on both backends."""

from __future__ import annotations

import io
import json
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from inventory import alerts
from inventory.cli import exit_codes
from inventory.fleet import lifecycle
from inventory.fleet.lifecycle import CertificateData
from inventory.fleet.queries import get_device
from inventory.register import audit, seal
from inventory.register.db import Register
from inventory.register.models import AlertLedgerEntry, AlertRun, Event
from tests.conftest import PgLogins

from .conftest import ACTOR, NOW, City, Mailbox, at, free_port, run_cli


def ledger(register: Register) -> list[AlertLedgerEntry]:
    with register.read() as s:
        rows = list(s.scalars(select(AlertLedgerEntry).order_by(AlertLedgerEntry.id)))
        s.expunge_all()  # keep them readable after the read transaction ends
        return rows


def test_two_runs_send_each_alert_once(alert_env, smtp_server, register, city: City):
    mailbox, _ = smtp_server
    assert run_cli("alerts", "run", "--now", at(0)) == exit_codes.ALERTS_SENT
    assert sorted(m["To"] for m in mailbox.messages) == ["a@city.test", "b@city.test",
                                                         "boss@city.test"]
    assert run_cli("alerts", "run", "--now", at(0)) == exit_codes.OK
    assert run_cli("alerts", "run", "--now", at(0.5)) == exit_codes.OK
    assert len(mailbox.messages) == 3
    rows = ledger(register)
    assert {(r.recipient, r.rule, r.threshold, r.state) for r in rows} == {
        ("a@city.test", "cert_expiring", 30, "sent"), ("b@city.test", "cert_expiring", 7, "sent"),
        ("boss@city.test", "cert_expiring", 30, "sent"),
        ("boss@city.test", "cert_expiring", 7, "sent")}


def test_threshold_crossing_with_frozen_clock(alert_env, smtp_server, register, city: City):
    mailbox, _ = smtp_server
    assert run_cli("alerts", "run", "--now", at(0), "--no-managers") == exit_codes.ALERTS_SENT
    assert "còn 20 ngày" in Mailbox.parts(mailbox.to("a@city.test")[0])[0]
    # 13 days left: the 14-day threshold is crossed → sent again; the 30 is not repeated
    assert run_cli("alerts", "run", "--now", at(7), "--no-managers") == exit_codes.ALERTS_SENT
    a_mail = mailbox.to("a@city.test")
    assert len(a_mail) == 2
    assert "TOKEN-A1" in Mailbox.parts(a_mail[1])[0]
    assert run_cli("alerts", "run", "--now", at(8), "--no-managers") == exit_codes.OK
    # skipping straight from 14 to 1 day left sends only the tightest threshold
    assert run_cli("alerts", "run", "--now", at(19.5), "--no-managers") == exit_codes.ALERTS_SENT
    thresholds = sorted(r.threshold for r in ledger(register)
                        if r.recipient == "a@city.test")
    assert thresholds == [1, 14, 30]
    # expired: its own rule, sent once
    assert run_cli("alerts", "run", "--now", at(21), "--no-managers") == exit_codes.ALERTS_SENT
    assert run_cli("alerts", "run", "--now", at(30), "--no-managers") == exit_codes.OK
    expired = [r for r in ledger(register) if r.rule == "cert_expired"]
    assert sorted(r.recipient for r in expired) == ["a@city.test", "b@city.test"]


def test_renewal_stops_alerts(alert_env, smtp_server, register, city: City):
    mailbox, _ = smtp_server
    run_cli("alerts", "run", "--now", at(0), "--no-managers")
    with register.session() as s:
        device = get_device(s, city.dev_a)
        lifecycle.renew(s, device, CertificateData(
            serial="CERT-NEW", not_before=NOW, not_after=NOW + timedelta(days=3 * 365)),
            actor=ACTOR, at=NOW + timedelta(days=1))
    before = len(mailbox.messages)
    run_cli("alerts", "run", "--now", at(7), "--no-managers")
    run_cli("alerts", "run", "--now", at(25), "--no-managers")
    later = mailbox.messages[before:]
    assert later and all(m["To"] == "b@city.test" for m in later)


def test_revoked_certificate_stops_alerts(alert_env, smtp_server, register, city: City):
    mailbox, _ = smtp_server
    with register.session() as s:
        lifecycle.revoke(s, get_device(s, city.dev_a), actor=ACTOR, reason="lost key")
    assert run_cli("alerts", "run", "--now", at(0)) == exit_codes.ALERTS_SENT
    for m in mailbox.messages:
        assert city.dev_a not in Mailbox.parts(m)[0]
    assert not mailbox.to("a@city.test")


def test_smtp_down_is_recorded_failed_and_resent(alert_env, smtp_server, register, city: City):
    mailbox, port = smtp_server
    alert_env.setenv("TOKENFLEET_SMTP_PORT", str(free_port()))  # nothing listens there
    assert run_cli("alerts", "run", "--now", at(0)) == exit_codes.ALERTS_FAILED
    rows = ledger(register)
    assert rows and all(r.state == "failed" and r.sent_at is None and r.attempts == 1
                        and "Connection refused" in (r.last_error or "") for r in rows)
    with register.read() as s:
        run = alerts.last_run(s)  # a plain dataclass: fine after the session
    assert run is not None and run.outcome == "failed" and not run.ok
    assert run_cli("alerts", "status") == 1
    alert_env.setenv("TOKENFLEET_SMTP_PORT", str(port))
    assert run_cli("alerts", "run", "--now", at(0.1)) == exit_codes.ALERTS_SENT
    assert len(mailbox.messages) == 3
    rows = ledger(register)
    assert all(r.state == "sent" and r.attempts == 2 for r in rows)
    assert run_cli("alerts", "run", "--now", at(0.2)) == exit_codes.OK


def test_partial_failure(alert_env, smtp_server, register, city: City):
    mailbox, _ = smtp_server
    mailbox.refuse.add("b@city.test")
    assert run_cli("alerts", "run", "--now", at(0)) == exit_codes.ALERTS_PARTIAL
    states = {r.recipient: r.state for r in ledger(register)}
    assert states == {"a@city.test": "sent", "b@city.test": "failed", "boss@city.test": "sent"}
    mailbox.refuse.clear()
    assert run_cli("alerts", "run", "--now", at(0.1)) == exit_codes.ALERTS_SENT
    assert [m["To"] for m in mailbox.messages].count("b@city.test") == 1


def test_concurrent_runs_send_no_duplicates(alert_env, smtp_server, db_url, register,
                                            city: City):
    mailbox, _ = smtp_server
    settings = alerts.AlertSettings.from_env()
    smtp = alerts.SmtpSettings.from_env()
    outcomes: list[object] = []
    start = threading.Barrier(4)

    def one_run() -> None:
        reg = Register.open(db_url)
        try:
            start.wait()
            result = alerts.run_alerts(reg, settings, channels=("smtp",), host="t",
                                       out=io.StringIO(), smtp=smtp, now=NOW)
            outcomes.append(exit_codes.for_alert_outcome(result.outcome))
        except alerts.AlertRunLockedError as err:
            outcomes.append(exit_codes.for_error(err))
        finally:
            reg.dispose()

    threads = [threading.Thread(target=one_run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(m["To"] for m in mailbox.messages) == ["a@city.test", "b@city.test",
                                                         "boss@city.test"]
    assert outcomes.count(exit_codes.ALERTS_SENT) == 1
    assert set(outcomes) <= {exit_codes.ALERTS_SENT, exit_codes.OK, exit_codes.TEMPORARY}


def test_lock_held_means_exit_75_and_nothing_sent(alert_env, smtp_server, register,
                                                  city: City):
    mailbox, _ = smtp_server
    from inventory.alerts.runner import run_lock

    with run_lock(register) as got:
        assert got
        assert run_cli("alerts", "run", "--now", at(0)) == exit_codes.TEMPORARY
    assert not mailbox.messages
    assert run_cli("alerts", "run", "--now", at(0)) == exit_codes.ALERTS_SENT


def test_digest_grouping_per_agency(alert_env, smtp_server, register, city: City):
    mailbox, _ = smtp_server
    with register.session() as s:
        device = get_device(s, city.dev_a)
        lifecycle.lock(s, device, actor=ACTOR, at=NOW - timedelta(days=10))
    assert run_cli("alerts", "run", "--now", at(0)) == exit_codes.ALERTS_SENT
    (digest_a,) = mailbox.to("a@city.test")
    text, html = Mailbox.parts(digest_a)
    assert "Trung tâm Trợ giúp pháp lý" in text  # the sub-agency's device, to the parent
    assert "TOKEN-B" not in text
    # grouped by rule, most urgent first: the certificate before the lock-out
    assert text.index("Chứng thư số sắp hết hạn") < text.index("Thiết bị bị khóa")
    assert "Nguyễn &lt;b&gt;Văn&lt;/b&gt; Ánh" in html and "<b>Văn</b>" not in html
    assert "cảnh báo" in digest_a["Subject"]
    (summary,) = mailbox.to("boss@city.test")
    text, html = Mailbox.parts(summary)
    assert "TOKEN-A1" in text and "TOKEN-B" in text
    assert text.index("TOKEN-B") < text.index("TOKEN-A1")  # 5 days left before 20
    # the managers' summary carries the audit chain's current seal; the agencies' do not
    (line,) = [x for x in text.splitlines() if x.startswith(seal.PREFIX)]
    sealed = seal.parse(line)
    assert f"position={sealed.position} hash={sealed.hash}" in html
    with register.read() as s:
        # taken as the run began: the run's own alert.run event comes after it
        assert sealed.position == seal.current(s).position - 1
        assert seal.at_position(s, sealed.position).hash == sealed.hash
        assert audit.verify(s, seals=[sealed]).seals == 1
    assert "tokenfleet-seal" not in Mailbox.parts(digest_a)[0]


def test_english_digest(alert_env, smtp_server, register, city: City):
    mailbox, _ = smtp_server
    alert_env.setenv("TOKENFLEET_LANG", "en")
    run_cli("alerts", "run", "--now", at(0))
    text, _ = Mailbox.parts(mailbox.to("b@city.test")[0])
    assert "Certificate expiring" in text and "5 days left" in text


def test_exit_codes(alert_env, smtp_server, register):
    assert run_cli("alerts", "run", "--now", at(0)) == exit_codes.OK
    alert_env.setenv("TOKENFLEET_ALERT_THRESHOLDS", "30,abc")
    assert run_cli("alerts", "run") == exit_codes.CONFIG
    alert_env.delenv("TOKENFLEET_ALERT_THRESHOLDS")
    alert_env.delenv("TOKENFLEET_SMTP_HOST")
    assert run_cli("alerts", "run") == exit_codes.CONFIG
    with register.read() as s:
        run = alerts.last_run(s)  # a plain dataclass: fine after the session
    assert run is not None and run.outcome == "failed"
    assert "TOKENFLEET_SMTP_HOST" in (run.error or "")


def test_dry_run_records_nothing(alert_env, smtp_server, register, city: City, capsys):
    mailbox, _ = smtp_server
    assert run_cli("alerts", "run", "--dry-run", "--now", at(0)) == exit_codes.ALERTS_SENT
    out = capsys.readouterr().out
    for expected in (city.dev_a, city.dev_b, city.holder_a, "A1", "cert_expiring", "30",
                     "boss@city.test"):
        assert expected in out
    assert not mailbox.messages
    assert ledger(register) == []
    with register.read() as s:
        assert s.scalar(select(func.count()).select_from(AlertRun)) == 0


def test_jsonl_channel(alert_env, smtp_server, register, city: City, capsys):
    mailbox, _ = smtp_server
    capsys.readouterr()
    assert run_cli("alerts", "run", "--channel", "jsonl", "--now", at(0)) == exit_codes.ALERTS_SENT
    lines = capsys.readouterr().out.splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["serial"] for r in records] == [city.dev_b, city.dev_a]
    assert records[1]["recipients"] == ["a@city.test", "boss@city.test"]
    assert not mailbox.messages
    assert run_cli("alerts", "run", "--channel", "jsonl", "--now", at(0)) == exit_codes.OK
    assert capsys.readouterr().out == ""


def test_ack_and_snooze(alert_env, smtp_server, register, city: City):
    mailbox, _ = smtp_server
    run_cli("alerts", "run", "--now", at(0), "--no-managers")
    entry = next(r for r in ledger(register) if r.recipient == "a@city.test")
    assert run_cli("alerts", "ack", str(entry.id)) == 0
    run_cli("alerts", "snooze", "--device", city.dev_b, "--until",
            (NOW + timedelta(days=10)).strftime("%Y-%m-%d"))
    before = len(mailbox.messages)
    # A's certificate crosses 14 (acked: silent); B's expires (another rule: not snoozed)
    assert run_cli("alerts", "run", "--now", at(7), "--no-managers") == exit_codes.ALERTS_SENT
    assert [m["To"] for m in mailbox.messages[before:]] == ["b@city.test"]
    assert run_cli("alerts", "run", "--now", at(19.5), "--no-managers") == exit_codes.OK
    assert run_cli("alerts", "ack", "999999") != 0
    assert run_cli("alerts", "snooze", "--device", "NOPE", "--until", "2030-01-01") != 0


def test_snooze_then_due_again(alert_env, smtp_server, register, city: City):
    mailbox, _ = smtp_server
    run_cli("alerts", "run", "--now", at(0), "--no-managers")
    entry = next(r for r in ledger(register) if r.recipient == "a@city.test")
    with register.session() as s:
        alerts.snooze(s, actor=ACTOR, entry_id=entry.id, until=NOW + timedelta(days=10), at=NOW)
    before = len(mailbox.messages)
    run_cli("alerts", "run", "--now", at(7), "--no-managers")  # 14 crossed, but snoozed
    assert "a@city.test" not in [m["To"] for m in mailbox.messages[before:]]
    run_cli("alerts", "run", "--now", at(11), "--no-managers")  # snooze over: 14 is due
    assert len(mailbox.to("a@city.test")) == 2


def test_status_shows_heartbeat(alert_env, smtp_server, register, city: City, capsys):
    assert run_cli("alerts", "status") == 1  # never ran
    assert "never ran" in capsys.readouterr().out
    assert run_cli("alerts", "run") == exit_codes.ALERTS_SENT
    capsys.readouterr()
    assert run_cli("alerts", "status", "--format", "json") == 0
    (status,) = json.loads(capsys.readouterr().out)
    assert status["outcome"] == "sent" and status["overdue"] is False
    assert status["ledger_sent"] == 4
    with register.read() as s:
        run = alerts.last_run(s)  # a plain dataclass: fine after the session
    assert run is not None
    assert run.overdue(run.started_at + timedelta(hours=3), timedelta(hours=2))


@pytest.mark.parametrize(("days_left", "expected"), [
    (61, -1), (60, 60), (45, 60), (30, 30), (29.9, 30), (13, 14), (0.5, 1), (0, 0), (-3, 0)])
def test_crossed_threshold(days_left, expected):
    not_after = NOW + timedelta(days=days_left)
    assert alerts.crossed_threshold(not_after, NOW, (60, 30, 14, 7, 1)) == expected


def test_rule_filter_and_request_and_unseen_rules(alert_env, smtp_server, register,
                                                  city: City, capsys):
    from sqlalchemy import update

    from inventory.fleet.queries import agency_by_code
    from inventory.register.models import Device, ServiceRequest

    with register.session() as s:
        agency = agency_by_code(s, "B")
        s.add(ServiceRequest(kind="renewal", state="submitted", agency_id=agency.id,
                             external_ref="123/STTTT", created_by=ACTOR,
                             submitted_at=NOW - timedelta(days=9)))
        s.execute(update(Device).where(Device.serial == city.dev_a)
                  .values(last_seen_at=NOW - timedelta(days=100)))
    assert run_cli("alerts", "run", "--dry-run", "--rule", "request_pending",
                   "--rule", "device_unseen", "--format", "json", "--now", at(0)) == 10
    planned = json.loads(capsys.readouterr().out)
    assert sorted(p["rule"] for p in planned) == ["device_unseen", "request_pending"]
    pending = next(p for p in planned if p["rule"] == "request_pending")
    assert pending["detail"] == "renewal 123/STTTT" and pending["days"] == 9


def test_a_run_is_in_the_audit_trail_so_every_open_screen_learns_of_it(
        alert_env: object, smtp_server: object, register: Register, city: City) -> None:
    """Issue 14: the desk's Alerts tab still said "never run" after ``alerts run``: a run
    changed no audit head, so no screen's change watcher woke. Failed before: no event."""
    from inventory.register.changes import ChangeWatcher
    from inventory.register.models import Event

    watcher = ChangeWatcher(register)
    try:
        assert run_cli("alerts", "run") == exit_codes.ALERTS_SENT
        changes = watcher.wait(5)
    finally:
        watcher.close()
    assert changes is not None and "alert.run" in changes.actions
    with register.read() as s:
        (event,) = s.scalars(select(Event).where(Event.action == "alert.run")).all()
        assert event.after is not None and event.after["outcome"] == "sent"
    assert run_cli("alerts", "run", "--dry-run") in (exit_codes.ALERTS_SENT, 0)
    with register.read() as s:  # a dry run changes nothing, so it says nothing
        assert s.scalar(select(func.count()).select_from(Event)
                        .where(Event.action == "alert.run")) == 1


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_scoped_login_alerts_its_subtree_and_signs_the_run(alert_env: pytest.MonkeyPatch,
                                                             smtp_server: tuple[Mailbox, int],
                                                             register: Register, city: City,
                                                             pg_logins: PgLogins) -> None:
    mailbox, _ = smtp_server
    olga = pg_logins.make("olga", "operator", agency="A")
    alert_env.setenv("TOKENFLEET_DATABASE_URL", pg_logins.url_of(olga))
    assert run_cli("alerts", "run", "--now", at(0)) == exit_codes.ALERTS_SENT
    assert {m["To"] for m in mailbox.messages} == {"a@city.test", "boss@city.test"}
    (summary,) = mailbox.to("boss@city.test")
    text, _ = Mailbox.parts(summary)
    assert city.dev_a in text and city.dev_b not in text  # B is outside her agency
    assert seal.PREFIX in text
    with register.read() as s:
        run = s.scalar(select(Event).where(Event.action == "alert.run"))
        assert run is not None and run.actor == olga  # her login, not alerts@HOST
        assert audit.verify(s).events > 0
