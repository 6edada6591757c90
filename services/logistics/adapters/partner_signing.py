"""How logistics and its partners sign each other's webhooks: HMAC-SHA256 of the raw body with
the partner's secret, sent as `sha256=<hex>` in one header, both ways."""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-OVOP-Signature"


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
