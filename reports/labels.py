"""The monthly report's own words (sheet names, titles, figures, column heads), in Vietnamese
(the default) and English.

Domain words — device kinds, statuses, audit actions — and the way numbers and dates read come
from ``inventory.vocabulary`` (``Labels`` is a ``Vocabulary``), so the workbook names things as
the TUI and the digests do. A key missing from one language fails a test rather than showing an
English word in a Vietnamese workbook.
"""

from __future__ import annotations

from typing import Any

from inventory.vocabulary import LANGUAGES, Vocabulary

__all__ = ["LANGUAGES", "Labels"]

VI: dict[str, str] = {
    # sheets (Excel allows 31 characters, no []:*?/\)
    "sheet.summary": "Tổng hợp",
    "sheet.by_agency": "Theo đơn vị",
    "sheet.expiring": "Sắp hết hạn",
    "sheet.activity": "Hoạt động",
    "sheet.locked_lost": "Bị khóa - mất",
    "sheet.register": "Danh sách thiết bị",
    "sheet.ca": "Đối chiếu CA",
    # titles
    "title.report": "Báo cáo tháng về thiết bị ký số",
    "title.summary": "Số liệu tổng hợp",
    "title.by_agency": "Thiết bị theo đơn vị",
    "title.expiring": "Chứng thư số hết hạn trong 90 ngày tới",
    "title.activity": "Các thao tác trong tháng",
    "title.locked_lost": "Thiết bị đang bị khóa hoặc bị mất",
    "title.register": "Danh sách thiết bị tại thời điểm cuối tháng",
    "title.ca": "Sai lệch giữa sổ quản lý và CA (CRL, chuỗi tin cậy) lúc lập báo cáo",
    "title.trend": "Cấp mới và gia hạn 12 tháng gần nhất",
    "chart.by_status": "Thiết bị theo trạng thái và đơn vị",
    "chart.trend": "Cấp mới và gia hạn theo tháng",
    "period": "Kỳ báo cáo: tháng {month} (tình trạng đến hết ngày {end})",
    "generated": "Lập lúc {at} UTC",
    "seal": "Dấu niêm phong nhật ký kiểm toán cuối tháng (kiểm tra: tokenfleet audit verify "
            "--seal TỆP.xlsx)",
    "masked_note": "Số định danh cá nhân đã được che.",
    "scope_note": "Chỉ gồm {agency} và các đơn vị trực thuộc (tài khoản {login}).",
    # summary
    "col.figure": "Chỉ tiêu",
    "col.this_month": "Tháng {month}",
    "col.prev_month": "Tháng {month}",
    "col.change": "Thay đổi",
    "fig.in_use.kind": "Thiết bị đang sử dụng: {kind}",
    "fig.in_use.total": "Thiết bị đang sử dụng: tổng",
    "fig.issued": "Cấp mới (bàn giao) trong tháng",
    "fig.renewed": "Gia hạn chứng thư trong tháng",
    "fig.revoked": "Thu hồi trong tháng",
    "fig.locked": "Bị khóa trong tháng",
    "fig.unlocked": "Khôi phục (mở khóa) trong tháng",
    "fig.lost": "Báo mất trong tháng",
    "fig.expiring_30": "Chứng thư hết hạn trong 30 ngày tới",
    "fig.expiring_60": "Chứng thư hết hạn trong 60 ngày tới",
    "fig.expiring_90": "Chứng thư hết hạn trong 90 ngày tới",
    "fig.locked_now": "Đang bị khóa cuối tháng",
    "fig.lost_now": "Đang bị mất cuối tháng",
    "fig.median_unlock_days": "Trung vị số ngày từ khóa đến mở khóa",
    "col.month": "Tháng",
    "col.issued": "Cấp mới",
    "col.renewed": "Gia hạn",
    # by agency
    "col.agency_code": "Mã đơn vị",
    "col.agency": "Đơn vị",
    "col.total": "Tổng",
    "col.expiring_30": "Hết hạn ≤ 30 ngày",
    "col.expiring_90": "Hết hạn ≤ 90 ngày",
    "col.locked": "Đang khóa",
    "subtotal": "Cộng {name}",
    "grand_total": "Tổng cộng",
    "no_agency": "(Trong kho, chưa thuộc đơn vị)",
    # lists
    "col.not_after": "Ngày hết hạn",
    "col.days_left": "Số ngày còn lại",
    "col.holder": "Họ và tên",
    "col.title": "Chức vụ",
    "col.serial": "Số serial",
    "col.kind": "Loại thiết bị",
    "col.status": "Trạng thái",
    "col.certificate_serial": "Serial chứng thư",
    "col.not_before": "Ngày hiệu lực",
    "col.occurred_at": "Thời điểm",
    "col.action": "Thao tác",
    "col.actor": "Người thực hiện",
    "col.summary": "Nội dung",
    "col.since": "Từ ngày",
    "col.age_days": "Số ngày",
    "col.lock_count": "Số lần khóa",
    "col.national_id": "Số CCCD",
    "col.email": "Email",
    "col.phone": "Điện thoại",
    "col.manufacturer": "Hãng sản xuất",
    "col.model": "Dòng thiết bị",
    "col.phone_number": "Số thuê bao",
    "col.status_since": "Trạng thái từ ngày",
    "col.ca_kind": "Loại sai lệch",
    "col.detail": "Chi tiết",
}

EN: dict[str, str] = {
    "sheet.summary": "Summary",
    "sheet.by_agency": "By agency",
    "sheet.expiring": "Expiring",
    "sheet.activity": "Activity",
    "sheet.locked_lost": "Locked & lost",
    "sheet.register": "Register",
    "sheet.ca": "CA check",
    "title.report": "Monthly report on signing devices",
    "title.summary": "Summary",
    "title.by_agency": "Devices by agency",
    "title.expiring": "Certificates expiring in the next 90 days",
    "title.activity": "Lifecycle events of the month",
    "title.locked_lost": "Devices locked or lost",
    "title.register": "Device register as of the month's end",
    "title.ca": "Mismatches between the register and the CA (CRLs, trust) when generated",
    "title.trend": "Issuance and renewal, last 12 months",
    "chart.by_status": "Devices by status and agency",
    "chart.trend": "Issuance and renewal by month",
    "period": "Period: {month} (state at the end of {end})",
    "generated": "Generated {at} UTC",
    "seal": "Audit trail seal at the month's end (check: tokenfleet audit verify --seal "
            "FILE.xlsx)",
    "masked_note": "National ID numbers are masked.",
    "scope_note": "Covers only {agency} and the agencies under it (login {login}).",
    "col.figure": "Figure",
    "col.this_month": "{month}",
    "col.prev_month": "{month}",
    "col.change": "Change",
    "fig.in_use.kind": "Devices in use: {kind}",
    "fig.in_use.total": "Devices in use: total",
    "fig.issued": "Issued (handed over) in the month",
    "fig.renewed": "Certificates renewed in the month",
    "fig.revoked": "Revoked in the month",
    "fig.locked": "Locked in the month",
    "fig.unlocked": "Unlocked in the month",
    "fig.lost": "Reported lost in the month",
    "fig.expiring_30": "Certificates expiring in the next 30 days",
    "fig.expiring_60": "Certificates expiring in the next 60 days",
    "fig.expiring_90": "Certificates expiring in the next 90 days",
    "fig.locked_now": "Locked at the month's end",
    "fig.lost_now": "Lost at the month's end",
    "fig.median_unlock_days": "Median days from lock to unlock",
    "col.month": "Month",
    "col.issued": "Issued",
    "col.renewed": "Renewed",
    "col.agency_code": "Agency code",
    "col.agency": "Agency",
    "col.total": "Total",
    "col.expiring_30": "Expiring ≤ 30 days",
    "col.expiring_90": "Expiring ≤ 90 days",
    "col.locked": "Locked",
    "subtotal": "Subtotal {name}",
    "grand_total": "Grand total",
    "no_agency": "(In stock, no agency)",
    "col.not_after": "Not after",
    "col.days_left": "Days left",
    "col.holder": "Holder",
    "col.title": "Title",
    "col.serial": "Serial",
    "col.kind": "Kind",
    "col.status": "Status",
    "col.certificate_serial": "Certificate serial",
    "col.not_before": "Not before",
    "col.occurred_at": "When",
    "col.action": "Action",
    "col.actor": "Actor",
    "col.summary": "Summary",
    "col.since": "Since",
    "col.age_days": "Age (days)",
    "col.lock_count": "Lock count",
    "col.national_id": "National ID",
    "col.email": "Email",
    "col.phone": "Phone",
    "col.manufacturer": "Manufacturer",
    "col.model": "Model",
    "col.phone_number": "Phone number",
    "col.status_since": "Status since",
    "col.ca_kind": "Mismatch",
    "col.detail": "Detail",
}

TABLES = {"vi": VI, "en": EN}


class Labels(Vocabulary):
    """The report's words in one language, and the vocabulary's (``term``, ``date`` …)."""

    def __init__(self, lang: str = "vi"):
        super().__init__(lang)
        self.table = TABLES[lang]

    def __call__(self, key: str, **fmt: Any) -> str:
        text = self.table[key]
        return text.format(**fmt) if fmt else text
