"""The CA layer: what the register holds of the certification authority, and how the register
compares with it.

    anchors     trust anchors (root and intermediate CA certificates the office trusts)
    chains      path validation of certificate files against the anchors (cryptography)
    crls        import a CA's revocation list, keep the newest per issuer
    reconcile   the four kinds of mismatch between the register and the CA
    ocsp        ask the CA's responder about one device's certificate
    net         HTTP with a deadline (CRL download, OCSP)

It sits beside ``inventory.desk`` above ``inventory.fleet``; the alert rules, the services, the
CLI, the TUI and the reports call it.
"""

from inventory.ca.anchors import (
    AnchorInfo,
    TrustChange,
    add_anchors,
    anchor_infos,
    read_anchor_file,
    remove_anchor,
)
from inventory.ca.crls import CrlImport, import_crl, read_source
from inventory.ca.ocsp import OcspAnswer
from inventory.ca.reconcile import KINDS, Mismatch, Reconciliation

__all__ = ["KINDS", "AnchorInfo", "CrlImport", "Mismatch", "OcspAnswer", "Reconciliation",
           "TrustChange", "add_anchors", "anchor_infos", "import_crl", "read_anchor_file",
           "read_source", "remove_anchor"]
