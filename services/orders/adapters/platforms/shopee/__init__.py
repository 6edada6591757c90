"""Shopee: a thin push (code 3 names the order; hex HMAC of callback URL + "|" + body), then the
order's detail from Open Platform v2; a pull recovers pushes that never arrived."""

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
from services.orders.adapters.platforms.shopee.client import ShopeeClient
from services.orders.adapters.platforms.shopee.parse import ORDER_STATUS_PUSH, parse_shopee_order
from services.orders.domain.model import CanonicalOrder


class Shopee(Channel):
    name = "shopee"
    intake = "thin_push"
    headers = Headers(signature="authorization")

    def verify(self, account: Account, body: bytes, headers: Mapping[str, str]) -> bool:
        prefix = account.get("callback_url") + "|"
        return verify_prefixed_hex(prefix, account, body, self.signature(headers))

    def read_push(
        self, account: Account, payload: Mapping[str, Any], headers: Mapping[str, str]
    ) -> Push:
        if payload.get("code") != ORDER_STATUS_PUSH:
            return Push("ignored", "", note=f"push code {payload.get('code')!r}")
        data = object_field(payload, "data")
        sn = id_field(data.get("ordersn"), "data.ordersn")
        key = f"{sn}:{text(data.get('status'))}:{text(data.get('update_time'))}"
        return Push("fetch", key, sn)

    def parse_detail(self, detail: Any, account: str) -> CanonicalOrder:
        return parse_shopee_order(detail, account=account)

    def client(self, account: Account, http: httpx.AsyncClient, timeout_s: float) -> ShopeeClient:
        return ShopeeClient(account, http, timeout_s)


CHANNEL = Shopee()
