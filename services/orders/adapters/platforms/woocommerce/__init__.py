"""WooCommerce: the whole order in each `order.*` webhook (base64 HMAC keyed as WordPress decodes
the stored secret), an unsigned ping when a webhook is created, and the REST API for stock."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

import httpx

from services.orders.adapters.platforms.channel import Account, Channel, Headers, Push
from services.orders.adapters.platforms.woocommerce import parse
from services.orders.adapters.platforms.woocommerce.client import WooCommerceClient
from services.orders.domain.model import CanonicalOrder
from services.orders.domain.signatures import verify_hmac_sha256_base64

# WooCommerce keys its HMAC with wp_specialchars_decode($secret, ENT_QUOTES): one pass over the
# entities of & < > " ' (named, decimal, and hex for & " '). Nothing else is decoded, so a secret
# holding "&copy" or "&reg;" is signed as it stands.
_WORDPRESS_SPECIAL: Final = re.compile(
    r"&(?:(amp|lt|gt|quot)|#0*(38|60|62|34|39)|#[xX]0*(26|22|27));"
)
_NAMED: Final = {"amp": "&", "lt": "<", "gt": ">", "quot": '"'}


def wordpress_decoded(secret: str) -> str:
    """The key WooCommerce signs with, from the secret as its settings store it."""

    def char(m: re.Match[str]) -> str:
        named, decimal, hexadecimal = m.groups()
        return _NAMED[named] if named else chr(int(decimal) if decimal else int(hexadecimal, 16))

    return _WORDPRESS_SPECIAL.sub(char, secret)


def is_woocommerce_ping(body: bytes) -> bool:
    """The unsigned form body `webhook_id=N` WooCommerce sends when a webhook is created."""
    key, _, value = body.partition(b"=")
    return key == b"webhook_id" and value.isdigit() and len(body) < 64


class WooCommerce(Channel):
    name = "woocommerce"
    intake = "full_push"
    headers = Headers(
        signature="x-wc-webhook-signature",
        topic="x-wc-webhook-topic",
        delivery=("x-wc-webhook-delivery-id",),
    )

    def verify(self, account: Account, body: bytes, headers: Mapping[str, str]) -> bool:
        decoded = [wordpress_decoded(s) for s in account.secrets]
        return verify_hmac_sha256_base64(body, self.signature(headers), decoded)

    def is_ping(self, body: bytes) -> bool:
        return is_woocommerce_ping(body)

    def ignored_topic(self, headers: Mapping[str, str]) -> str | None:
        topic = self.topic(headers)
        return f"topic {topic}" if topic and not topic.startswith("order.") else None

    def external_id(self, payload: Mapping[str, Any]) -> str:
        return parse.read_external_id(payload)

    def read_push(
        self, account: Account, payload: Mapping[str, Any], headers: Mapping[str, str]
    ) -> Push:
        if ignored := self.ignored_topic(headers):
            return Push("ignored", "", note=ignored)
        if str(payload.get("status")) in parse.NOT_AN_ORDER:
            return Push("ignored", "", note=f"status {payload.get('status')}")
        order = parse.parse_woocommerce_order(payload, account=account.account)
        key = f"{order.external_id}:{order.updated_at.isoformat()}:{order.channel_status}"
        return Push("order", key, order.external_id, order, topic=self.topic(headers))

    def parse_detail(self, detail: Any, account: str) -> CanonicalOrder:
        return parse.parse_woocommerce_order(detail, account=account)

    def client(
        self, account: Account, http: httpx.AsyncClient, timeout_s: float
    ) -> WooCommerceClient:
        return WooCommerceClient(account, http, timeout_s)


CHANNEL = WooCommerce()
