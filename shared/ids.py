"""Name-based (version 5) UUIDs as text, without building `uuid.UUID` objects: the hot paths
derive one per webhook (the order id) and per event (the trace id). The results equal
`uuid.uuid5` (tests/shared/unit/test_ids.py)."""

from __future__ import annotations

import hashlib
import uuid


def uuid5_hex(namespace: uuid.UUID, name: str) -> str:
    """`uuid.uuid5(namespace, name).hex`."""
    digest = bytearray(hashlib.sha1(namespace.bytes + name.encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    return digest.hex()


def uuid5_str(namespace: uuid.UUID, name: str) -> str:
    """`str(uuid.uuid5(namespace, name))`: the hex with its four dashes."""
    h = uuid5_hex(namespace, name)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
