"""The register's closed sets of values — device kinds and statuses, certificate and chain
states, handover methods, request kinds and states, agency kinds — as plain tuples.

No SQLAlchemy here: the models check their columns against these, and a front end can lay out
a screen from them before the register is open (``tokenfleet tui``'s first frame).
"""

from __future__ import annotations

DEVICE_KINDS = ("usb_token", "pki_sim")
DEVICE_STATUSES = ("in_stock", "issued", "locked", "lost", "revoked", "retired")
CERTIFICATE_STATUSES = ("active", "superseded", "revoked")
# What the CA layer found when it validated a certificate's path (``Certificate.chain``); None
# when the register holds no certificate file (a typed record): only its issuer name is known.
CHAIN_STATES = ("pending", "trusted", "untrusted")
HANDOVER_METHODS = ("in_person", "cipher_org", "postal")
REQUEST_KINDS = ("new_issuance", "renewal", "change_info", "revocation", "recovery")
REQUEST_STATES = ("draft", "submitted", "completed", "rejected", "cancelled")
AGENCY_KINDS = (
    "city",
    "department",
    "district",
    "ward",
    "people_council",
    "public_service_unit",
    "other",
)
