"""Digests: one message per recipient, alerts grouped by rule and sorted by urgency.

Vietnamese by default (``TOKENFLEET_LANG=en`` for English); text/plain plus text/html, with every
value (holder names above all) HTML-escaped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape

from inventory.alerts.rules import RULE_ORDER, AgencyInfo, Alert

LABELS = {
    "vi": {
        "cert_expired": "Chứng thư số đã hết hạn",
        "cert_expiring": "Chứng thư số sắp hết hạn",
        "device_locked": "Thiết bị bị khóa quá {n} ngày",
        "request_pending": "Yêu cầu chờ xử lý quá {n} ngày",
        "device_unseen": "Thiết bị không được nhìn thấy quá {n} ngày",
        "subject": "[tokenfleet] {count} cảnh báo thiết bị ký số — {who}",
        "managers": "tổng hợp toàn thành phố",
        "intro": "Các cảnh báo mới về thiết bị lưu khóa bí mật (token, SIM PKI) của {who}:",
        "days_left": "còn {n} ngày",
        "days_ago": "{n} ngày trước",
        "serial": "Số serial", "holder": "Người giữ", "agency": "Cơ quan", "when": "Thời hạn",
        "detail": "Chi tiết",
        "footer": "Thư tự động từ tokenfleet. Mỗi cảnh báo chỉ được gửi một lần cho mỗi mốc.",
    },
    "en": {
        "cert_expired": "Certificate expired",
        "cert_expiring": "Certificate expiring",
        "device_locked": "Device locked for more than {n} days",
        "request_pending": "Request pending for more than {n} days",
        "device_unseen": "Device not seen for more than {n} days",
        "subject": "[tokenfleet] {count} signing-device alert(s) — {who}",
        "managers": "city-wide summary",
        "intro": "New alerts about the signing devices (tokens, PKI SIMs) of {who}:",
        "days_left": "{n} days left",
        "days_ago": "{n} days ago",
        "serial": "Serial", "holder": "Holder", "agency": "Agency", "when": "When",
        "detail": "Detail",
        "footer": "Sent automatically by tokenfleet. Each alert is sent once per threshold.",
    },
}


@dataclass(frozen=True)
class Digest:
    recipient: str
    subject: str
    text: str
    html: str
    alerts: Sequence[Alert]


def rule_title(alert: Alert, lang: str) -> str:
    return LABELS[lang][alert.rule].format(n=alert.threshold)


def when(alert: Alert, lang: str) -> str:
    labels = LABELS[lang]
    day = alert.since.strftime("%d/%m/%Y" if lang == "vi" else "%Y-%m-%d")
    if alert.rule == "cert_expiring":
        return f"{day} ({labels['days_left'].format(n=alert.days)})"
    return f"{day} ({labels['days_ago'].format(n=alert.days)})"


def grouped(alerts: Sequence[Alert]) -> list[tuple[str, list[Alert]]]:
    """Alerts by rule, most urgent rule first; inside a rule, most urgent alert first."""
    ordered = sorted(alerts, key=Alert.urgency)
    groups: dict[str, list[Alert]] = {}
    for a in ordered:
        groups.setdefault(a.rule, []).append(a)
    return [(rule, groups[rule]) for rule in RULE_ORDER if rule in groups]


def render(recipient: str, alerts: Sequence[Alert], agencies: Mapping[int, AgencyInfo],
           lang: str, *, managers: bool = False) -> Digest:
    labels = LABELS[lang]
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
                when(a, lang), a.detail or ""]

    text_lines = [labels["intro"].format(who=who), ""]
    html_parts = [f"<p>{escape(labels['intro'].format(who=who))}</p>"]
    for _rule, items in grouped(alerts):
        title = f"{rule_title(items[0], lang)} ({len(items)})"
        text_lines += [title, "-" * len(title)]
        text_lines += ["  " + " | ".join(c for c in cells(a) if c) for a in items]
        text_lines.append("")
        head = "".join(f"<th>{escape(labels[c])}</th>" for c in columns)
        body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in cells(a)) + "</tr>"
                       for a in items)
        html_parts.append(f"<h3>{escape(title)}</h3><table border=\"1\" cellpadding=\"4\" "
                          f"style=\"border-collapse:collapse\"><tr>{head}</tr>{body}</table>")
    text_lines.append(labels["footer"])
    html_parts.append(f"<p><small>{escape(labels['footer'])}</small></p>")
    html = ("<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head><body>"
            + "".join(html_parts) + "</body></html>")
    subject = labels["subject"].format(count=len(alerts), who=who)
    if len(subject) > 200:
        subject = subject[:197] + "…"
    return Digest(recipient=recipient, subject=subject, text="\n".join(text_lines), html=html,
                  alerts=list(alerts))
