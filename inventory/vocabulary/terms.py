"""Every domain word of tokenfleet, in Vietnamese and English, side by side.

One entry per code: ``code: (vi, en)``. Labels are written as they stand alone — a table cell,
a menu entry, a heading — with a capital first letter; ``Vocabulary.inline`` lowers it for use
inside a sentence (acronyms such as "USB", "SIM", "CA" are kept). A translator edits this file
only; ``tests/vocabulary/test_catalogue.py`` fails when a code any module writes has no label.

Words that only one screen or one document uses (button captions, sheet titles, the digest's
greeting) stay with that front end; the words of the domain itself live here.
"""

from __future__ import annotations

Labels = dict[str, tuple[str, str]]

DEVICE_KIND: Labels = {
    "usb_token": ("USB Token", "USB token"),
    "pki_sim": ("SIM PKI", "PKI SIM"),
}

# What people write for a device kind in their own sheets and forms, beside the labels above
# (which are understood too). Matched folded: accents, case, "_" and "-" do not matter, so
# "Sim ký số", "SIM KY SO" and "sim-ky-so" are one word (``inventory.register.checks.kind``).
DEVICE_KIND_SYNONYMS: dict[str, tuple[str, ...]] = {
    "usb_token": ("USB Token", "Token", "USB", "PKI Token", "Token PKI", "USB PKI",
                  "Token ký số", "USB ký số", "USB Token ký số", "Thiết bị Token",
                  "Chữ ký số Token", "CA Token"),
    "pki_sim": ("SIM PKI", "PKI SIM", "SIM", "SIM ký số", "Sim ký số", "Mobile PKI",
                "Mobile CA", "SIM CA", "Mobile PKI SIM", "SIM chữ ký số", "PKI SIM card"),
}

DEVICE_STATUS: Labels = {
    "in_stock": ("Trong kho", "In stock"),
    "issued": ("Đang sử dụng", "Issued"),
    "locked": ("Bị khóa", "Locked"),
    "lost": ("Bị mất", "Lost"),
    "revoked": ("Đã thu hồi", "Revoked"),
    "retired": ("Đã thanh lý", "Retired"),
}

# What agencies write for a status in their sheets, beside the labels above.
DEVICE_STATUS_SYNONYMS: dict[str, tuple[str, ...]] = {
    "in_stock": ("In stock", "Trong kho", "Tồn kho", "Chưa cấp", "Chưa sử dụng"),
    "issued": ("Issued", "Đã cấp", "Đang sử dụng", "Đã bàn giao", "Hoạt động", "Active"),
    "locked": ("Locked", "Bị khóa", "Khóa", "Đã khóa", "Blocked"),
    "lost": ("Lost", "Mất", "Bị mất", "Thất lạc"),
    "revoked": ("Revoked", "Thu hồi", "Đã thu hồi"),
    "retired": ("Retired", "Thanh lý", "Đã thanh lý", "Ngừng sử dụng"),
}

# What an operator does to a device: the moves of ``inventory.fleet.lifecycle.MOVES`` and the
# three actions that are not status moves (renew, edit the holder, claim an unknown device).
DEVICE_ACTION: Labels = {
    "issue": ("Cấp cho người dùng", "Issue to a holder"),
    "lock": ("Đánh dấu bị khóa", "Mark locked"),
    "unlock": ("Khôi phục (mở khóa)", "Unlock"),
    "report_lost": ("Báo mất", "Report lost"),
    "revoke": ("Thu hồi", "Revoke"),
    "return_to_stock": ("Nhập lại kho", "Return to stock"),
    "retire": ("Thanh lý", "Retire"),
    "renew": ("Gia hạn chứng thư số", "Renew the certificate"),
    "edit_holder": ("Thay đổi thông tin người dùng", "Edit the holder's details"),
    "claim": ("Nhận thiết bị lạ vào sổ", "Claim an unknown device"),
    "attach_certificate": ("Gắn chứng thư số", "Put a certificate on it"),
}

CERTIFICATE_STATUS: Labels = {
    "active": ("Đang hiệu lực", "Active"),
    "superseded": ("Đã được thay thế", "Superseded"),
    "revoked": ("Đã thu hồi", "Revoked"),
}

HANDOVER_METHOD: Labels = {
    "in_person": ("Trực tiếp", "In person"),
    "cipher_org": ("Qua tổ chức cơ yếu", "Through a cipher organisation"),
    "postal": ("Qua dịch vụ bưu chính công ích", "By public postal service"),
}

UNLOCK_METHOD: Labels = {
    "so_pin_reset": ("Đặt lại mã PIN bằng SO PIN", "SO PIN reset"),
    "vendor_tool": ("Công cụ của hãng", "Vendor tool"),
    "ca_recovery": ("CA khôi phục", "CA recovery"),
    "reinitialised": ("Khởi tạo lại", "Re-initialised"),
    "seen_healthy": ("Đầu đọc thấy hoạt động bình thường", "Seen healthy by a reader"),
}

UNLOCK_SOURCE: Labels = {
    "poller": ("Đầu đọc phát hiện", "Seen by a reader"),
    "reported": ("Được báo", "Reported"),
}

# How an unlock case ended (``UnlockCase.outcome``).
UNLOCK_OUTCOME: Labels = {
    "unlocked": ("Đã mở khóa", "Unlocked"),
    "lost": ("Đã đóng: thiết bị bị mất", "Closed: device lost"),
    "revoked": ("Đã đóng: thiết bị đã thu hồi", "Closed: device revoked"),
}

REQUEST_KIND: Labels = {
    "new_issuance": ("Cấp mới", "New issuance"),
    "renewal": ("Gia hạn", "Renewal"),
    "change_info": ("Thay đổi nội dung thông tin", "Change of holder information"),
    "revocation": ("Thu hồi", "Revocation"),
    "recovery": ("Khôi phục thiết bị lưu khóa bí mật", "Recovery of the key-storage device"),
}

REQUEST_STATE: Labels = {
    "draft": ("Nháp", "Draft"),
    "submitted": ("Đã gửi", "Submitted"),
    "completed": ("Hoàn thành", "Completed"),
    "rejected": ("Bị từ chối", "Rejected"),
    "cancelled": ("Đã hủy", "Cancelled"),
}

# The steps of ``inventory.desk.requests.STEPS`` (and filing, which starts a request).
REQUEST_STEP: Labels = {
    "new": ("Lập hồ sơ", "File"),
    "submit": ("Gửi", "Submit"),
    "complete": ("Hoàn thành", "Complete"),
    "reject": ("Từ chối", "Reject"),
    "cancel": ("Hủy hồ sơ", "Cancel the request"),
}

# The documents of a dossier (``inventory.desk.requests.DOSSIER``), after the regulation's
# appendix forms. ``don_de_nghi`` is the request form itself: its full name depends on the kind
# of request (``REQUEST_FORM``); ``Vocabulary.document`` picks it.
DOCUMENT: Labels = {
    "don_de_nghi": ("Đơn đề nghị", "Request form"),
    "danh_sach_thue_bao": ("Danh sách thuê bao đề nghị", "List of subscribers"),
    "ban_sao_cccd": ("Bản sao CCCD/CMND của thuê bao", "Copy of the subscriber's ID card"),
    "cong_van": ("Công văn đề nghị của cơ quan, tổ chức", "Official letter of the agency"),
    "bien_ban_ban_giao": ("Biên bản bàn giao thiết bị lưu khóa bí mật",
                          "Device handover record"),
    "giay_to_thay_doi": ("Giấy tờ chứng minh nội dung thay đổi (quyết định bổ nhiệm, điều động…)",
                         "Proof of the change (appointment or transfer decision…)"),
    "ly_do_thu_hoi": ("Văn bản nêu lý do thu hồi", "Statement of the reason for revocation"),
}

REQUEST_FORM: Labels = {
    "new_issuance": ("Đơn đề nghị cấp chứng thư số", "Request form for a new certificate"),
    "renewal": ("Đơn đề nghị gia hạn chứng thư số", "Request form for a renewal"),
    "change_info": ("Đơn đề nghị thay đổi nội dung thông tin chứng thư số",
                    "Request form for a change of information"),
    "revocation": ("Đơn đề nghị thu hồi chứng thư số", "Request form for a revocation"),
    "recovery": ("Đơn đề nghị khôi phục thiết bị lưu khóa bí mật",
                 "Request form for a device recovery"),
}

ALERT_RULE: Labels = {
    "cert_expiring": ("Chứng thư số sắp hết hạn", "Certificate expiring"),
    "cert_expired": ("Chứng thư số đã hết hạn", "Certificate expired"),
    "device_locked": ("Thiết bị bị khóa", "Device locked"),
    "device_unseen": ("Thiết bị lâu không thấy", "Device not seen"),
    "request_pending": ("Hồ sơ chờ xử lý lâu", "Request pending"),
    "ca_mismatch": ("Chứng thư số không khớp với CA", "Certificate does not match the CA"),
}

# What ``ca check`` finds (``inventory.ca.kinds.KINDS``).
CA_MISMATCH: Labels = {
    "revoked_at_ca_in_use": ("CA đã thu hồi, thiết bị vẫn đang dùng",
                             "Revoked by the CA, device in use"),
    "revoked_here_valid_at_ca": ("Đã thu hồi, CA chưa thu hồi", "Revoked here, not by the CA"),
    "unknown_issuer": ("Tổ chức cấp không tin cậy", "Issuer not trusted"),
    "crl_stale": ("CRL quá hạn cập nhật", "CRL out of date"),
}

ALERT_STATE: Labels = {
    "sent": ("Đã gửi", "Sent"),
    "failed": ("Gửi lỗi", "Failed"),
    "acked": ("Đã xác nhận", "Acknowledged"),
    "snoozed": ("Tạm hoãn", "Snoozed"),
}

ALERT_RUN_OUTCOME: Labels = {
    "running": ("Đang chạy", "Running"),
    "nothing": ("Không có cảnh báo mới", "Nothing to send"),
    "sent": ("Đã gửi", "Sent"),
    "partial": ("Gửi được một phần", "Partly sent"),
    "failed": ("Gửi thất bại", "Failed"),
}

AGENCY_KIND: Labels = {
    "city": ("Thành phố", "City"),
    "department": ("Sở, ban, ngành", "Department"),
    "district": ("Quận, huyện", "District"),
    "ward": ("Phường, xã", "Ward"),
    "people_council": ("Hội đồng nhân dân", "People's Council"),
    "public_service_unit": ("Đơn vị sự nghiệp công lập", "Public service unit"),
    "other": ("Khác", "Other"),
}

ROLE: Labels = {
    "viewer": ("Người xem", "Viewer"),
    "operator": ("Người vận hành", "Operator"),
    "admin": ("Quản trị viên", "Administrator"),
    "poller": ("Trạm đọc thiết bị", "Poller station"),
}

STOCKTAKE_STATE: Labels = {
    "open": ("Đang kiểm kê", "Open"),
    "finished": ("Đã kết thúc", "Finished"),
}

# Every action the audit trail records (``Event.action``), as a history line names it.
EVENT: Labels = {
    "device.add": ("Nhập kho", "Added to stock"),
    "device.issue": ("Bàn giao", "Issued"),
    "device.lock": ("Bị khóa", "Locked"),
    "device.unlock": ("Mở khóa", "Unlocked"),
    "device.report_lost": ("Báo mất", "Reported lost"),
    "device.revoke": ("Thu hồi", "Revoked"),
    "device.return_to_stock": ("Trả về kho", "Returned to stock"),
    "device.retire": ("Thanh lý", "Retired"),
    "device.pin_state": ("Cập nhật số lần nhập PIN còn lại", "PIN tries left updated"),
    "certificate.attach": ("Gắn chứng thư số", "Certificate attached"),
    "certificate.renew": ("Gia hạn chứng thư số", "Certificate renewed"),
    "certificate.import": ("Nhập chứng thư số", "Certificate imported"),
    "device.edit": ("Sửa thông tin thiết bị", "Device details edited"),
    "certificate.seen": ("Đầu đọc thấy chứng thư số", "Certificate seen by a reader"),
    "holder.add": ("Thêm người dùng", "Holder added"),
    "holder.change": ("Thay đổi thông tin người dùng", "Holder details changed"),
    "agency.add": ("Thêm cơ quan", "Agency added"),
    "agency.rename": ("Đổi tên cơ quan", "Agency renamed"),
    "agency.merge": ("Sáp nhập cơ quan", "Agency merged"),
    "handover.received": ("Xác nhận đã nhận thiết bị", "Receipt confirmed"),
    "request.new": ("Lập hồ sơ đề nghị", "Request filed"),
    "request.dossier": ("Cập nhật thành phần hồ sơ", "Dossier updated"),
    "request.submit": ("Gửi hồ sơ", "Request submitted"),
    "request.complete": ("Hoàn thành hồ sơ", "Request completed"),
    "request.reject": ("Từ chối hồ sơ", "Request rejected"),
    "request.cancel": ("Hủy hồ sơ", "Request cancelled"),
    "unlock_case.open": ("Mở vụ việc thiết bị bị khóa", "Unlock case opened"),
    "unlock_case.brought": ("Thiết bị được mang đến", "Device brought in"),
    "unlock_case.close": ("Đóng vụ việc mở khóa", "Unlock case closed"),
    "unregistered.seen": ("Đầu đọc thấy thiết bị chưa có trong sổ", "Unregistered device seen"),
    "unregistered.claim": ("Nhận thiết bị lạ vào sổ", "Unregistered device claimed"),
    "stocktake.start": ("Bắt đầu kiểm kê", "Stocktake started"),
    "stocktake.finish": ("Kết thúc kiểm kê", "Stocktake finished"),
    "alert.ack": ("Xác nhận cảnh báo", "Alert acknowledged"),
    "alert.snooze": ("Tạm hoãn cảnh báo", "Alert snoozed"),
    "alert.run": ("Tác vụ cảnh báo đã chạy", "Alert job ran"),
    "operator.set": ("Cấp quyền người vận hành", "Operator role set"),
    "operator.disable": ("Vô hiệu hóa người vận hành", "Operator disabled"),
    "ca.trust_add": ("Thêm chứng thư CA tin cậy", "Trust anchor added"),
    "ca.trust_remove": ("Bỏ chứng thư CA tin cậy", "Trust anchor removed"),
    "ca.crl_import": ("Nhập danh sách thu hồi (CRL)", "CRL imported"),
}

# The heading a front end shows above an error, by error class (every class that has a
# ``title`` of its own); a class not listed takes its nearest listed base class's.
ERROR_TITLE: Labels = {
    "TokenfleetError": ("Có lỗi", "Error"),
    "ConfigurationError": ("Lỗi cấu hình", "Configuration error"),
    "DatabaseError": ("Lỗi cơ sở dữ liệu", "Database error"),
    "DatabaseUnavailableError": ("Không kết nối được cơ sở dữ liệu", "Database unreachable"),
    "SchemaTooNewError": ("Cơ sở dữ liệu mới hơn chương trình",
                          "Database is newer than this program"),
    "ConcurrentChangeError": ("Người khác vừa thay đổi", "Changed by someone else"),
    "NotFoundError": ("Không tìm thấy", "Not found"),
    "DuplicateError": ("Đã có trong sổ", "Already exists"),
    "ValidationError": ("Giá trị không hợp lệ", "Invalid value"),
    "PermissionDeniedError": ("Vai trò của bạn không được phép", "Not allowed for your role"),
    "MoveNotAllowedError": ("Thao tác không được phép", "Move not allowed"),
    "ImportFileError": ("Không nhập được tệp", "Import refused"),
    "AuditChainBrokenError": ("Nhật ký kiểm toán bị hỏng", "Audit trail broken"),
    "SealMismatchError": ("Nhật ký kiểm toán khác với dấu niêm phong",
                          "Audit trail differs from its seal"),
    "RegisterDiffersError": ("Sổ thiết bị khác với nhật ký kiểm toán",
                             "Register differs from its audit trail"),
    "AlertRunLockedError": ("Một lần chạy cảnh báo khác đang diễn ra",
                            "Another alert run is in progress"),
    "RegisterMissingError": ("Không có sổ đăng ký", "No register"),
    "NotARegisterError": ("Không phải sổ đăng ký tokenfleet", "Not a tokenfleet register"),
    "FileOutputError": ("Không tạo được tệp", "Cannot create output"),
    "StorageIOError": ("Lỗi đọc ghi", "I/O error"),
    "ReadOnlyRegisterError": ("Sổ đăng ký chỉ đọc", "Register is read-only"),
    "CaFetchError": ("Không liên lạc được với CA", "CA service unreachable"),
    "HardwareError": ("Lỗi đầu đọc", "Reader problem"),
    "PcscUnavailableError": ("Không có dịch vụ PC/SC", "PC/SC not available"),
    "CardRemovedError": ("Thẻ đã bị rút ra", "Card removed"),
    "CardStatusError": ("Thẻ từ chối lệnh", "Card refused a command"),
    "PinTryRefusedError": ("Không gửi lệnh thử mã PIN", "PIN attempt refused"),
    "Pkcs11ModuleError": ("Lỗi mô-đun PKCS#11", "PKCS#11 module problem"),
}

DOMAINS: dict[str, Labels] = {
    "device_kind": DEVICE_KIND,
    "device_status": DEVICE_STATUS,
    "device_action": DEVICE_ACTION,
    "certificate_status": CERTIFICATE_STATUS,
    "handover_method": HANDOVER_METHOD,
    "unlock_method": UNLOCK_METHOD,
    "unlock_source": UNLOCK_SOURCE,
    "unlock_outcome": UNLOCK_OUTCOME,
    "request_kind": REQUEST_KIND,
    "request_state": REQUEST_STATE,
    "request_step": REQUEST_STEP,
    "document": DOCUMENT,
    "request_form": REQUEST_FORM,
    "alert_rule": ALERT_RULE,
    "ca_mismatch": CA_MISMATCH,
    "alert_state": ALERT_STATE,
    "alert_run_outcome": ALERT_RUN_OUTCOME,
    "agency_kind": AGENCY_KIND,
    "role": ROLE,
    "stocktake_state": STOCKTAKE_STATE,
    "event": EVENT,
    "error_title": ERROR_TITLE,
}
"""Domain name → its labels; ``Vocabulary.term(domain, code)`` looks here."""
