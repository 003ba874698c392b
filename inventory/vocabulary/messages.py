"""Sentences the core says to a person — refusals above all — in both languages.

An error that names one of these (``error.key``, with its facts in ``error.facts``) is said in
the reader's language by ``Vocabulary.explain``; the CLI keeps the error's English text. In a
template ``{status:device_status}`` is a code shown as its label, ``{allowed:device_status+}`` a
list of them, ``{n:n}`` a number in the language's format.
"""

from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
    "move_not_allowed": (
        "Thiết bị {serial} đang ở trạng thái «{status:device_status}»: không thể "
        "{action:device_action} (chỉ được khi thiết bị ở trạng thái: {allowed:device_status+}).",
        "Device {serial} is {status:device_status}: cannot {action:device_action} "
        "(allowed from: {allowed:device_status+})."),
    "changed_by_someone_else": (
        "Thiết bị {serial} vừa được người khác thay đổi: hãy tải lại rồi làm lại.",
        "Device {serial} was changed by someone else: reload and try again."),
}
