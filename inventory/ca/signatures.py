"""Check a CA's signature over bytes it signed (a CRL's or an OCSP answer's TBS part).

``cryptography`` does the cryptography; this only picks the verify call for the key's type, as
its documentation shows for certificates. RSA-PSS needs the padding the signed object names
(``signature_algorithm_parameters``); without it, only PKCS#1 v1.5 is assumed for RSA.
"""

from __future__ import annotations

from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, padding, rsa
from cryptography.x509.oid import SignatureAlgorithmOID

_PSS = SignatureAlgorithmOID.RSASSA_PSS


def signature_valid(key: Any, signature: bytes, data: bytes,
                    algorithm: hashes.HashAlgorithm | None, params: Any = None,
                    oid: Any = None) -> bool:
    """Whether ``key`` made ``signature`` over ``data``; never raises for a wrong signature."""
    try:
        if isinstance(key, rsa.RSAPublicKey):
            if algorithm is None:
                return False
            if params is None:
                if oid == _PSS:
                    return False
                params = padding.PKCS1v15()
            key.verify(signature, data, params, algorithm)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            if not isinstance(params, ec.ECDSA):
                if algorithm is None:
                    return False
                params = ec.ECDSA(algorithm)
            key.verify(signature, data, params)
        elif isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
            key.verify(signature, data)
        elif isinstance(key, dsa.DSAPublicKey):
            if algorithm is None:
                return False
            key.verify(signature, data, algorithm)
        else:
            return False
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True
