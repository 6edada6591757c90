"""TikTok Shop: a thin webhook (type 1, order status change; hex HMAC of app key + body), then
Get Order Detail from the Open API."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from services.orders.adapters.platforms.channel import (
    Account,
    Channel,
    Headers,
    Push,
    verify_prefixed_hex,
)
from services.orders.adapters.platforms.payload import id_field, object_field, text
from services.orders.adapters.platforms.tiktok_shop.client import TikTokClient
from services.orders.adapters.platforms.tiktok_shop.parse import (
    ORDER_STATUS_CHANGE,
    WEBHOOK_STATUS,
    parse_tiktok_order,
)
from services.orders.domain.model import CanonicalOrder


class TikTokShop(Channel):
    name = "tiktok-shop"
    intake = "thin_push"
    headers = Headers(signature="authorization")

    def verify(self, account: Account, body: bytes, headers: Mapping[str, str]) -> bool:
        return verify_prefixed_hex(account.get("app_key"), account, body, self.signature(headers))

    def read_push(
        self, account: Account, payload: Mapping[str, Any], headers: Mapping[str, str]
    ) -> Push:
        if payload.get("type") != ORDER_STATUS_CHANGE:
            return Push("ignored", "", note=f"type {payload.get('type')!r}")
        data = object_field(payload, "data")
        order_id = id_field(data.get("order_id"), "data.order_id")
        notification = text(payload.get("tts_notification_id"))
        status = text(data.get("order_status")) or ""
        key = notification or f"{order_id}:{status}:{text(data.get('update_time'))}"
        return Push("fetch", key, order_id, note=WEBHOOK_STATUS.get(status, status))

    def parse_detail(self, detail: Any, account: str) -> CanonicalOrder:
        return parse_tiktok_order(detail, account=account)

    def client(self, account: Account, http: httpx.AsyncClient, timeout_s: float) -> TikTokClient:
        return TikTokClient(account, http, timeout_s)


CHANNEL = TikTokShop()
