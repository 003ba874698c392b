"""The kinds of mismatch between the register and the CA, by name (plain constants: the front ends
list them without importing the reconciliation and cryptography)."""

KINDS = ("revoked_at_ca_in_use", "revoked_here_valid_at_ca", "unknown_issuer", "crl_stale")
CERTIFICATE_KINDS = KINDS[:3]
"""The kinds a device's certificate can have (the fourth, ``crl_stale``, is the CA's list)."""
KIND_NUMBERS = {kind: number for number, kind in enumerate(KINDS, start=1)}
