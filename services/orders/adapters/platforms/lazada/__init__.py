"""Lazada: a thin push per order line (`message_type` 0; hex HMAC of app key + body), then the
order and its items from the Open Platform."""

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
from services.orders.adapters.platforms.lazada.client import LazadaClient
from services.orders.adapters.platforms.lazada.parse import parse_lazada_order
from services.orders.adapters.platforms.payload import id_field, object_field, text
from services.orders.domain.model import CanonicalOrder

_DELIVERY_FIELDS = ("trade_order_id", "trade_order_line_id", "order_status", "status_update_time")


class Lazada(Channel):
    name = "lazada"
    intake = "thin_push"
    headers = Headers(signature="authorization")

    def verify(self, account: Account, body: bytes, headers: Mapping[str, str]) -> bool:
        return verify_prefixed_hex(account.get("app_key"), account, body, self.signature(headers))

    def read_push(
        self, account: Account, payload: Mapping[str, Any], headers: Mapping[str, str]
    ) -> Push:
        if payload.get("message_type") != 0:
            return Push("ignored", "", note=f"message_type {payload.get('message_type')!r}")
        data = object_field(payload, "data")
        order_id = id_field(data.get("trade_order_id"), "data.trade_order_id")
        key = ":".join(text(data.get(k)) or "-" for k in _DELIVERY_FIELDS)
        return Push("fetch", key, order_id)

    def parse_detail(self, detail: Any, account: str) -> CanonicalOrder:
        return parse_lazada_order(detail, account=account)

    def client(self, account: Account, http: httpx.AsyncClient, timeout_s: float) -> LazadaClient:
        return LazadaClient(account, http, timeout_s)


CHANNEL = Lazada()
