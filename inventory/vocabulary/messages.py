"""Sentences the core says to a person — refusals above all — in both languages.

An error that names one of these (``error.key``, with its facts in ``error.facts``) is said in
the reader's language by ``Vocabulary.explain``; the CLI keeps the error's English text. In a
template ``{status:device_status}`` is a code shown as its label, ``{allowed:device_status+}`` a
list of them, ``{n:n}`` a number and ``{until:date}`` a date in the language's format.
"""

from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
    # devices
    "move_not_allowed": (
        "Thiết bị {serial} đang ở trạng thái «{status:device_status}»: không thể "
        "{action:device_action} (chỉ được khi thiết bị ở trạng thái: {allowed:device_status+}).",
        "Device {serial} is {status:device_status}: cannot {action:device_action} "
        "(allowed from: {allowed:device_status+})."),
    "changed_by_someone_else": (
        "Thiết bị {serial} vừa được người khác thay đổi (nay ở trạng thái "
        "«{status:device_status}»): hãy tải lại rồi làm lại.",
        "Device {serial} was changed by someone else (now {status:device_status}): reload and "
        "try again."),
    "no_device": (
        "Không có thiết bị nào có số serial {serial}.",
        "No device has the serial {serial}."),
    "device_gone": (
        "Thiết bị #{id} không còn trong sổ.",
        "Device #{id} is no longer in the register."),
    "serial_needed": (
        "Thiết bị cần có số serial (số serial của token, hoặc ICCID của SIM).",
        "A device needs a serial (the token's serial, or the SIM's ICCID)."),
    "device_exists": (
        "{kind:device_kind} {serial} đã có trong sổ.",
        "{kind:device_kind} {serial} is already in the register."),
    "tracking_needed": (
        "Thiết bị {serial}: gửi qua bưu chính cần có số vận đơn.",
        "Device {serial}: a postal handover needs a tracking number."),
    # certificates
    "certificate_ends_before_start": (
        "Thiết bị {serial}: chứng thư số {certificate} hết hạn trước ngày bắt đầu hiệu lực.",
        "Device {serial}: certificate {certificate} ends before it starts."),
    "certificate_exists": (
        "Chứng thư số {certificate} đã có trong sổ.",
        "Certificate {certificate} is already in the register."),
    # holders
    "national_id_invalid": (
        "Số định danh «{value}» không phải 12 chữ số (CCCD) hay 9 chữ số (CMND).",
        "National ID number «{value}» is not 12 digits (CCCD) or 9 digits (CMND)."),
    "holder_exists": (
        "Đã có người dùng mang số định danh {national_id}.",
        "A holder with national ID {national_id} already exists."),
    "holder_gone": (
        "Người dùng #{id} không còn trong sổ.",
        "Holder #{id} is no longer in the register."),
    "full_name_needed": (
        "Người dùng cần có họ và tên.",
        "A holder needs a full name."),
    # the unlock desk
    "brought_by_needed": (
        "Thiết bị {serial}: hãy ghi ai mang thiết bị đến.",
        "Device {serial}: say who brought it in."),
    "no_open_unlock_case": (
        "Thiết bị {serial} đang ở trạng thái «{status:device_status}» và không có vụ việc mở "
        "khóa nào đang mở: chỉ thiết bị bị khóa mới được mang đến bàn xử lý.",
        "Device {serial} is {status:device_status} and has no open unlock case: only a locked "
        "device is brought to the desk."),
    # alerts
    "no_alert": (
        "Không có cảnh báo #{id}.",
        "No alert #{id}."),
    "snooze_not_in_future": (
        "Tạm hoãn đến {until:date}: ngày này không ở tương lai.",
        "Snooze until {until:date}: that is not in the future."),
    # requests
    "request_step_refused": (
        "Hồ sơ #{id} đang ở trạng thái «{state:request_state}»: không thể {step:request_step} "
        "(chỉ được khi hồ sơ ở trạng thái: {allowed:request_state+}).",
        "Request #{id} is {state:request_state}: cannot {step:request_step} "
        "(allowed from: {allowed:request_state+})."),
    "dossier_closed": (
        "Hồ sơ #{id} đang ở trạng thái «{state:request_state}»: thành phần hồ sơ đã khóa.",
        "Request #{id} is {state:request_state}: its dossier is closed."),
    "dossier_incomplete": (
        "Hồ sơ #{id} ({kind:request_kind}) còn thiếu: {missing:document+}.",
        "Request #{id} ({kind:request_kind}): the dossier is missing {missing:document+}."),
    "reject_reason_needed": (
        "Hồ sơ #{id}: hãy ghi lý do từ chối.",
        "Request #{id}: say why it is rejected."),
    "ca_certificate_missing": (
        "Hồ sơ #{id}, thuê bao {n} ({name}): chưa có chứng thư số CA cấp (nhập kết quả trả lời "
        "của CA trước).",
        "Request #{id}, subscriber {n} ({name}): the CA's certificate is missing (import the "
        "CA's answer first)."),
    "line_serial_missing": (
        "Hồ sơ #{id}, thuê bao {n} ({name}): chưa có số serial thiết bị.",
        "Request #{id}, subscriber {n} ({name}): the device serial is missing."),
    # inventory.ca.reconcile: what a mismatch means, for one certificate
    "ca_mismatch.revoked_at_ca_in_use": (
        "CA đã thu hồi ngày {date}, nhưng thiết bị đang ở trạng thái «{status:device_status}»",
        "revoked by the CA on {date}, but the device is {status:device_status}"),
    "ca_mismatch.revoked_here_valid_at_ca": (
        "đã thu hồi tại đây ngày {date}, nhưng chưa có trong CRL ngày {crl_date} của CA",
        "revoked here on {date}, but not on the CA's CRL of {crl_date}"),
    "ca_mismatch.unknown_issuer": (
        "tổ chức cấp {issuer} không thuộc chuỗi tin cậy nào: {note}",
        "issuer {issuer} does not chain to a trust anchor: {note}"),
    "ca_mismatch.unknown_issuer.no_file": (
        "không có tệp chứng thư, và tổ chức cấp {issuer} không phải chứng thư CA tin cậy",
        "no certificate file, and its issuer {issuer} is no trust anchor"),
    "ca_mismatch.unknown_issuer.no_issuer": (
        "không có tệp chứng thư và không ghi tổ chức cấp",
        "no certificate file and no issuer recorded"),
    "ca_mismatch.crl_stale": (
        "CRL của {issuer} lẽ ra phải được cập nhật ngày {date}",
        "the CRL of {issuer} was due to be replaced on {date}"),
}
