"""SoftHSM2 tokens for the tests: fixed serials, on-token RSA keys, certificates with Vietnamese
subject names (UTF8String) issued by a throw-away test CA; every 4th one already expired.

``SOFTHSM2_CONF`` must be set before the first ``pkcs11.lib()`` of the process (SoftHSM reads
it in C_Initialize): :meth:`SoftHsmLab.activate` does that, call it first.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

SOFTHSM_LIB = "/usr/lib/softhsm/libsofthsm2.so"
SO_PIN, USER_PIN = "12345678", "123456"
HOLDERS = (
    ("Nguyễn Văn An", "Sở Thông tin và Truyền thông Đà Nẵng", "Đà Nẵng"),
    ("Trần Thị Bích Ngọc", "Sở Tài chính Thành phố Hồ Chí Minh", "Hồ Chí Minh"),
    ("Lê Hoàng Phúc", "Ủy ban nhân dân tỉnh Thừa Thiên Huế", "Thừa Thiên Huế"),
    ("Phạm Quốc Việt", "Bộ Khoa học và Công nghệ", "Hà Nội"),
)
# SoftHSM's file store: CKA_OS_TOKENFLAGS record = 8-byte type, 8-byte kind (2 = ulong), value
_FLAGS_TAG = (0x8000534B).to_bytes(8, "big") + (2).to_bytes(8, "big")


class TestCa:
    """A throw-away CA ("Ban Cơ yếu Chính phủ (TEST)") for lab certificates."""

    __test__ = False  # not a pytest class

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        now = dt.datetime.now(dt.UTC)
        self.name = x509.Name([
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Ban Cơ yếu Chính phủ (TEST)"),
            x509.NameAttribute(NameOID.COMMON_NAME, "CA phục vụ các cơ quan Nhà nước (TEST)"),
        ])
        self.cert = (
            x509.CertificateBuilder().subject_name(self.name).issuer_name(self.name)
            .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=3650))
            .not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .sign(self.key, hashes.SHA256())
        )

    def issue(self, public_key: rsa.RSAPublicKey, holder: str, org: str, province: str,
              cccd: str, expired: bool) -> x509.Certificate:
        now = dt.datetime.now(dt.UTC)
        if expired:
            nb, na = now - dt.timedelta(days=3 * 365), now - dt.timedelta(days=1)
        else:
            nb, na = now - dt.timedelta(days=30), now + dt.timedelta(days=2 * 365)
        subject = x509.Name([
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, province),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
            x509.NameAttribute(NameOID.COMMON_NAME, holder),
            x509.NameAttribute(NameOID.USER_ID, "CCCD:" + cccd),
        ])
        return (
            x509.CertificateBuilder().subject_name(subject).issuer_name(self.name)
            .public_key(public_key).serial_number(x509.random_serial_number())
            .not_valid_before(nb).not_valid_after(na)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(self.key, hashes.SHA256())
        )

    def quick_cert(self, index: int, expired: bool = False) -> bytes:
        """A DER certificate for an emulated card (software key, no token needed)."""
        holder, org, province = HOLDERS[(index - 1) % len(HOLDERS)]
        key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
        cert = self.issue(key.public_key(), holder, org, province, f"0480{index:08d}", expired)
        return cert.public_bytes(serialization.Encoding.DER)


@dataclass(frozen=True)
class TokenSpec:
    index: int
    label: str
    serial: str
    holder: str
    org: str
    expired: bool
    cert_der: bytes


def token_serial(index: int) -> str:
    return f"{0x5600 + index:016X}"  # 16 digits; SoftHSM derives the slot id from them


class SoftHsmLab:
    """Tokens in ``root`` (a tmp dir); one per test session."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.tokendir = root / "tokens"
        self.conf = root / "softhsm2.conf"

    def activate(self) -> None:
        """Write the config and export SOFTHSM2_CONF (before any pkcs11.lib() of the process)."""
        self.tokendir.mkdir(parents=True, exist_ok=True)
        self.conf.write_text(
            f"directories.tokendir = {self.tokendir}\nobjectstore.backend = file\n"
            "log.level = ERROR\nslots.removable = false\n"
        )
        os.environ["SOFTHSM2_CONF"] = str(self.conf)

    def _init_token(self, label: str, serial: str) -> None:
        subprocess.run(
            ["softhsm2-util", "--init-token", "--free", "--label", label,
             "--so-pin", SO_PIN, "--pin", USER_PIN],
            check=True, capture_output=True, env={**os.environ, "SOFTHSM2_CONF": str(self.conf)},
        )
        # softhsm2-util cannot choose the serial: patch the 16 ASCII bytes stored right after the
        # 32-byte label record (8-byte type, 8-byte kind, 8-byte length = 16, value)
        padded = label.encode().ljust(32)
        for path in self.tokendir.glob("*/token.object"):
            blob = path.read_bytes()
            if padded not in blob:
                continue
            pos = blob.index(padded) + 32
            if blob[pos + 16 : pos + 24] != (16).to_bytes(8, "big"):
                raise RuntimeError("unexpected SoftHSM token.object layout")
            path.write_bytes(blob[: pos + 24] + serial.encode() + blob[pos + 40 :])
            return
        raise RuntimeError(f"token.object for {label!r} not found")

    def create_tokens(self, count: int, ca: TestCa, bits: int = 2048,
                      expired_every: int = 4) -> list[TokenSpec]:
        """softhsm2-util for the tokens, then python-pkcs11 for keys and certificates.

        Must run before the process first loads libsofthsm2 (its token list is read then)."""
        import pkcs11
        from asn1crypto.core import Integer
        from pkcs11 import Attribute, CertificateType, KeyType, ObjectClass

        labels = []
        for i in range(1, count + 1):
            label, serial = f"VN-TOKEN-{i:02d}", token_serial(i)
            self._init_token(label, serial)
            labels.append((i, label, serial))
        lib = pkcs11.lib(SOFTHSM_LIB)
        lib.reinitialize()  # tokens made since a previous load become visible
        specs = []
        for i, label, serial in labels:
            holder, org, province = HOLDERS[(i - 1) % len(HOLDERS)]
            expired = expired_every > 0 and i % expired_every == 2
            key_id = bytes([0x01, i])
            with lib.get_token(token_label=label).open(rw=True, user_pin=USER_PIN) as s:
                pub, _priv = s.generate_keypair(KeyType.RSA, bits, id=key_id, label=holder,
                                                store=True)
                public_key = rsa.RSAPublicNumbers(
                    int.from_bytes(pub[Attribute.PUBLIC_EXPONENT], "big"),
                    int.from_bytes(pub[Attribute.MODULUS], "big"),
                ).public_key()
                cert = ca.issue(public_key, holder, org, province, f"0480{i:08d}", expired)
                der = cert.public_bytes(serialization.Encoding.DER)
                s.create_object({
                    Attribute.CLASS: ObjectClass.CERTIFICATE,
                    Attribute.CERTIFICATE_TYPE: CertificateType.X_509,
                    Attribute.TOKEN: True,
                    Attribute.PRIVATE: False,  # readable without C_Login
                    Attribute.LABEL: holder,
                    Attribute.ID: key_id,
                    Attribute.SUBJECT: cert.subject.public_bytes(),
                    Attribute.ISSUER: cert.issuer.public_bytes(),
                    Attribute.SERIAL_NUMBER: Integer(cert.serial_number).dump(),
                    Attribute.VALUE: der,
                })
            specs.append(TokenSpec(i, label, serial, holder, org, expired, der))
        return specs

    def set_flags(self, label: str, add: int = 0, clear: int = 0) -> None:
        """Patch the flags word SoftHSM reports in C_GetTokenInfo (it never locks by itself).
        The process must call ``lib.reinitialize()`` afterwards to see it."""
        padded = label.encode().ljust(32)
        for path in self.tokendir.glob("*/token.object"):
            blob = path.read_bytes()
            if padded not in blob:
                continue
            i = blob.index(_FLAGS_TAG) + len(_FLAGS_TAG)
            old = int.from_bytes(blob[i : i + 8], "big")
            new = (old | add) & ~clear
            path.write_bytes(blob[:i] + new.to_bytes(8, "big") + blob[i + 8 :])
            return
        raise RuntimeError(f"token {label!r} not found")
