"""Webhook signatures: HMAC-SHA256 over the raw body, base64 encoded (Shopify, WooCommerce)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Sequence

_SHA256_BYTES = hashlib.sha256().digest_size
# hmac.digest: the one-shot C path, kept for the webhook hot path (bench/webhooks.py).


def sign_hmac_sha256_base64(body: bytes, secret: str) -> str:
    """The header value a platform sends for `body` signed with `secret` (used by fakes)."""
    digest = hmac.digest(secret.encode("utf-8"), body, "sha256")
    return base64.b64encode(digest).decode("ascii")


def verify_hmac_sha256_base64(
    body: bytes, header_value: str | None, secrets: Sequence[str]
) -> bool:
    """Whether `header_value` is the base64 HMAC-SHA256 of the raw `body` under any of `secrets`.

    Several secrets are accepted at once so an account can rotate its secret without dropping
    webhooks. A missing, empty or garbled header is simply not valid: it returns False and never
    raises, because a forged request must not be able to provoke a 500. Empty secrets are skipped,
    since anyone can compute an HMAC under an empty key.
    """
    if isinstance(secrets, str):
        # A bare str is a Sequence[str] of characters: it would verify against each letter.
        raise TypeError("secrets must be a sequence of secrets, not a single str")
    if not header_value:
        return False
    try:
        received = base64.b64decode(header_value.strip(), validate=True)
    except (binascii.Error, ValueError):
        return False
    if len(received) != _SHA256_BYTES:
        return False
    valid = False
    # Check every secret rather than stopping at the first match, so timing does not reveal which
    # of the rotating secrets was used.
    for secret in secrets:
        if secret:
            expected = hmac.digest(secret.encode("utf-8"), body, "sha256")
            valid |= hmac.compare_digest(expected, received)
    return valid


def sign_hmac_sha256_hex(message: bytes, secret: str) -> str:
    """Lowercase hex HMAC-SHA256 (Shopee, Lazada and TikTok Shop pushes)."""
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def verify_hmac_sha256_hex(
    message: bytes, header_value: str | None, secrets: Sequence[str]
) -> bool:
    """Whether `header_value` is the hex HMAC-SHA256 of `message` under any of `secrets`
    (case-insensitive hex; constant-time compare; every secret checked)."""
    if isinstance(secrets, str):
        raise TypeError("secrets must be a sequence of secrets, not a single str")
    if not header_value:
        return False
    try:
        received = bytes.fromhex(header_value.strip())
    except ValueError:
        return False
    if len(received) != _SHA256_BYTES:
        return False
    valid = False
    for secret in secrets:
        if secret:
            expected = hmac.digest(secret.encode("utf-8"), message, "sha256")
            valid |= hmac.compare_digest(expected, received)
    return valid
