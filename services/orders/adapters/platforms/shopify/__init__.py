"""Shopify: the whole order in each `orders/*` webhook (base64 HMAC of the raw body), the Admin
API for the order and for stock."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from services.orders.adapters.platforms.channel import Account, Channel, Headers, Push
from services.orders.adapters.platforms.shopify.client import ShopifyClient
from services.orders.adapters.platforms.shopify.parse import parse_shopify_order, read_external_id
from services.orders.domain.model import CanonicalOrder
from services.orders.domain.signatures import verify_hmac_sha256_base64


class Shopify(Channel):
    name = "shopify"
    intake = "full_push"
    headers = Headers(
        signature="x-shopify-hmac-sha256",
        topic="x-shopify-topic",
        delivery=("x-shopify-event-id", "x-shopify-webhook-id"),
    )

    def verify(self, account: Account, body: bytes, headers: Mapping[str, str]) -> bool:
        return verify_hmac_sha256_base64(body, self.signature(headers), list(account.secrets))

    def ignored_topic(self, headers: Mapping[str, str]) -> str | None:
        topic = self.topic(headers)
        return f"topic {topic}" if topic and not topic.startswith("orders/") else None

    def external_id(self, payload: Mapping[str, Any]) -> str:
        return read_external_id(payload)

    def read_push(
        self, account: Account, payload: Mapping[str, Any], headers: Mapping[str, str]
    ) -> Push:
        if ignored := self.ignored_topic(headers):
            return Push("ignored", "", note=ignored)
        order = parse_shopify_order(payload, account=account.account)
        delivery = self.delivery(headers) or f"order:{order.external_id}:{order.updated_at}"
        return Push("order", delivery, order.external_id, order, topic=self.topic(headers))

    def parse_detail(self, detail: Any, account: str) -> CanonicalOrder:
        return parse_shopify_order(detail, account=account)

    def client(self, account: Account, http: httpx.AsyncClient, timeout_s: float) -> ShopifyClient:
        return ShopifyClient(account, http, timeout_s)


CHANNEL = Shopify()
