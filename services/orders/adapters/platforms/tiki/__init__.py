"""Tiki: no push; the account's event queue is pulled (OAuth2 client credentials), each event is
read as a push would be, then the order's detail is fetched from Order V2."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from services.orders.adapters.platforms.channel import Account, Channel, Push
from services.orders.adapters.platforms.tiki.client import TikiClient
from services.orders.adapters.platforms.tiki.parse import ORDER_EVENTS, parse_tiki_order
from services.orders.domain.model import CanonicalOrder


class Tiki(Channel):
    name = "tiki"
    intake = "poll"

    def read_push(
        self, account: Account, payload: Mapping[str, Any], headers: Mapping[str, str]
    ) -> Push:
        """An event pulled from the account's queue."""
        body = payload.get("payload")
        code = body.get("order_code") if isinstance(body, Mapping) else None
        if payload.get("type") not in ORDER_EVENTS or not isinstance(code, str) or not code:
            return Push("ignored", "", note=f"type {payload.get('type')!r}")
        return Push("fetch", str(payload.get("id") or f"{code}:{payload.get('created_at')}"), code)

    def parse_detail(self, detail: Any, account: str) -> CanonicalOrder:
        return parse_tiki_order(detail, account=account)

    def client(self, account: Account, http: httpx.AsyncClient, timeout_s: float) -> TikiClient:
        return TikiClient(account, http, timeout_s)


CHANNEL = Tiki()
