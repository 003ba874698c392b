"""Digests: one message per recipient, alerts grouped by rule and sorted by urgency.

Vietnamese by default (``TOKENFLEET_LANG=en`` for English); text/plain plus text/html, with every
value (holder names above all) HTML-escaped. Rule names, request kinds, numbers and dates come
from ``inventory.vocabulary``, so a digest names things as the TUI and the report do; only the
digest's own sentences (greeting, footer, subject) are here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from html import escape

from inventory.alerts.rules import RULE_ORDER, AgencyInfo, Alert
from inventory.vocabulary import Vocabulary

TEXT = {
    "vi": {
        "over": "{rule} (quá {n} ngày)",
        "subject": "[tokenfleet] {count} cảnh báo thiết bị ký số — {who}",
        "managers": "tổng hợp toàn thành phố",
        "intro": "Các cảnh báo mới về thiết bị lưu khóa bí mật (USB Token, SIM PKI) của {who}:",
        "days_left": "còn {n} ngày",
        "days_ago": "{n} ngày trước",
        "serial": "Số serial", "holder": "Người dùng", "agency": "Cơ quan", "when": "Thời hạn",
        "detail": "Chi tiết",
        "footer": "Thư tự động từ tokenfleet. Mỗi cảnh báo chỉ được gửi một lần cho mỗi mốc.",
        "seal": "Dấu niêm phong nhật ký kiểm toán hiện tại (lưu lại; kiểm tra bằng "
                "tokenfleet audit verify --seal):",
    },
    "en": {
        "over": "{rule} (over {n} days)",
        "subject": "[tokenfleet] {count} signing-device alert(s) — {who}",
        "managers": "city-wide summary",
        "intro": "New alerts about the signing devices (USB tokens, PKI SIMs) of {who}:",
        "days_left": "{n} days left",
        "days_ago": "{n} days ago",
        "serial": "Serial", "holder": "Holder", "agency": "Agency", "when": "When",
        "detail": "Detail",
        "footer": "Sent automatically by tokenfleet. Each alert is sent once per threshold.",
        "seal": "The audit trail's current seal (keep it; check with tokenfleet audit verify "
                "--seal):",
    },
}
# rules whose threshold is a duration the condition has lasted ("over N days")
LASTING_RULES = frozenset({"device_locked", "request_pending", "device_unseen"})
SUBJECT_MAX = 200


@dataclass(frozen=True)
class Digest:
    recipient: str
    subject: str
    text: str
    html: str
    alerts: Sequence[Alert]


@lru_cache(maxsize=256)
def rule_title(rule: str, threshold: int, lang: str) -> str:
    """The heading of a rule's group: "Thiết bị bị khóa (quá 3 ngày)"."""
    words = Vocabulary(lang)
    title = words.term("alert_rule", rule)
    if rule in LASTING_RULES:
        return TEXT[lang]["over"].format(rule=title, n=words.number(threshold))
    return title


def when(alert: Alert, lang: str) -> str:
    words = Vocabulary(lang)
    day = words.date(alert.since)
    key = "days_left" if alert.rule == "cert_expiring" else "days_ago"
    return f"{day} ({TEXT[lang][key].format(n=words.number(alert.days))})"


def detail(alert: Alert, lang: str) -> str:
    """The certificate serial, or the request's kind (in words) and reference."""
    if alert.request_kind:
        return f"{Vocabulary(lang).term('request_kind', alert.request_kind)} {alert.detail or ''}"
    return alert.detail or ""


def grouped(alerts: Sequence[Alert]) -> list[tuple[str, list[Alert]]]:
    """Alerts by rule, most urgent rule first; inside a rule, most urgent alert first."""
    ordered = sorted(alerts, key=Alert.urgency)
    groups: dict[str, list[Alert]] = {}
    for a in ordered:
        groups.setdefault(a.rule, []).append(a)
    return [(rule, groups[rule]) for rule in RULE_ORDER if rule in groups]


def render(recipient: str, alerts: Sequence[Alert], agencies: Mapping[int, AgencyInfo],
           lang: str, *, managers: bool = False, seal: str | None = None) -> Digest:
    """One recipient's digest; ``seal`` (the managers') is written under the alerts, so a copy
    of the audit chain's head leaves the database with every daily summary."""
    labels, words = TEXT[lang], Vocabulary(lang)
    if managers:
        who = labels["managers"]
    else:
        names = sorted({agencies[a.agency_id].name for a in alerts
                        if a.agency_id is not None and a.agency_id in agencies})
        who = ", ".join(names) or recipient
    columns = ("serial", "holder", "agency", "when", "detail")

    def cells(a: Alert) -> list[str]:
        agency = agencies.get(a.agency_id) if a.agency_id is not None else None
        return [a.serial or "", a.holder or "", f"{agency.code} {agency.name}" if agency else "",
                when(a, lang), detail(a, lang)]

    text_lines = [labels["intro"].format(who=who), ""]
    html_parts = [f"<p>{escape(labels['intro'].format(who=who))}</p>"]
    for rule, items in grouped(alerts):
        title = f"{rule_title(rule, items[0].threshold, lang)} ({words.number(len(items))})"
        text_lines += [title, "-" * len(title)]
        text_lines += ["  " + " | ".join(c for c in cells(a) if c) for a in items]
        text_lines.append("")
        head = "".join(f"<th>{escape(labels[c])}</th>" for c in columns)
        body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in cells(a)) + "</tr>"
                       for a in items)
        html_parts.append(f"<h3>{escape(title)}</h3><table border=\"1\" cellpadding=\"4\" "
                          f"style=\"border-collapse:collapse\"><tr>{head}</tr>{body}</table>")
    if seal:
        text_lines += [labels["seal"], seal, ""]
        html_parts.append(f"<p>{escape(labels['seal'])}<br><code>{escape(seal)}</code></p>")
    text_lines.append(labels["footer"])
    html_parts.append(f"<p><small>{escape(labels['footer'])}</small></p>")
    html = ("<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head><body>"
            + "".join(html_parts) + "</body></html>")
    subject = labels["subject"].format(count=words.number(len(alerts)), who=who)
    if len(subject) > SUBJECT_MAX:
        subject = subject[:SUBJECT_MAX - 3] + "…"
    return Digest(recipient=recipient, subject=subject, text="\n".join(text_lines), html=html,
                  alerts=list(alerts))
