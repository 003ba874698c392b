"""Just enough BER-TLV (ISO 7816-4 / NIST SP 800-73-4) to read PIV objects.

Kept free of any reader library so it can be tested on bytes alone.
"""

from __future__ import annotations

from collections.abc import Iterator


class TlvError(ValueError):
    """Malformed TLV: treated by the profiles like an unreadable object, never raised further."""


def _read_tag(data: bytes, pos: int) -> tuple[int, int]:
    if pos >= len(data):
        raise TlvError("truncated tag")
    tag = data[pos]
    pos += 1
    if tag & 0x1F == 0x1F:  # multi-byte tag: continue while b8 is set
        while True:
            if pos >= len(data):
                raise TlvError("truncated tag")
            b = data[pos]
            tag = (tag << 8) | b
            pos += 1
            if not b & 0x80:
                break
    return tag, pos


def _read_length(data: bytes, pos: int) -> tuple[int, int]:
    if pos >= len(data):
        raise TlvError("truncated length")
    first = data[pos]
    pos += 1
    if first < 0x80:
        return first, pos
    n = first & 0x7F
    if n == 0 or n > 3 or pos + n > len(data):
        raise TlvError("bad length")
    return int.from_bytes(data[pos : pos + n], "big"), pos + n


def iter_tlv(data: bytes) -> Iterator[tuple[int, bytes]]:
    """Yield (tag, value) of the top-level objects; skips 00/FF padding between them."""
    pos = 0
    while pos < len(data):
        if data[pos] in (0x00, 0xFF):
            pos += 1
            continue
        tag, pos = _read_tag(data, pos)
        length, pos = _read_length(data, pos)
        if pos + length > len(data):
            raise TlvError(f"value of tag {tag:X} truncated")
        yield tag, data[pos : pos + length]
        pos += length


def parse_tlv(data: bytes) -> dict[int, bytes]:
    """Top-level objects by tag (the first one wins on duplicates)."""
    out: dict[int, bytes] = {}
    for tag, value in iter_tlv(data):
        out.setdefault(tag, value)
    return out


def encode_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def encode_tlv(tag: int, value: bytes) -> bytes:
    tag_bytes = tag.to_bytes((tag.bit_length() + 7) // 8 or 1, "big")
    return tag_bytes + encode_length(len(value)) + value
