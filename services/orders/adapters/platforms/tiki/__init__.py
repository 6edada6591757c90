"""Tiki: no push; the account's event queue is pulled (OAuth2 client credentials), then each
order's detail is fetched from Order V2."""

from __future__ import annotations

from typing import Any

import httpx

from services.orders.adapters.platforms.channel import Account, Channel
from services.orders.adapters.platforms.tiki.client import TikiClient
from services.orders.adapters.platforms.tiki.parse import parse_tiki_order
from services.orders.domain.model import CanonicalOrder


class Tiki(Channel):
    name = "tiki"
    intake = "poll"

    def parse_detail(self, detail: Any, account: str) -> CanonicalOrder:
        return parse_tiki_order(detail, account=account)

    def client(self, account: Account, http: httpx.AsyncClient, timeout_s: float) -> TikiClient:
        return TikiClient(account, http, timeout_s)


CHANNEL = Tiki()
