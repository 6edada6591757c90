"""Tiki Open API: OAuth2 client credentials (app key and secret) for a bearer token, the event
queue (pull, then ack), Order V2, and SKU stock updates."""

from __future__ import annotations

import time
from typing import Any

import httpx

from services.orders.adapters.platforms.base import (
    DEFAULT_TIMEOUT_S,
    Http,
    PlatformError,
    api_base,
    require,
    secret_of,
    send,
    with_retries,
)
from services.orders.adapters.platforms.channel import Account

_TOKENS: dict[tuple[str, str], tuple[str, float]] = {}  # (account, app_key) -> (token, expiry)


class TikiClient:
    def __init__(
        self, account: Account, http: httpx.AsyncClient, timeout_s: float = DEFAULT_TIMEOUT_S
    ) -> None:
        require(account, "app_key")
        self.account, self._http = account, Http.of(http, timeout_s)
        self._base = api_base(account, "https://api.tiki.vn")

    async def _token(self) -> str:
        key = (self.account.account, self.account.get("app_key"))
        cached = _TOKENS.get(key)
        if cached and cached[1] > time.monotonic():
            return cached[0]
        data = await with_retries(
            lambda: send(
                self._http,
                "POST",
                self._base + "/sc/oauth2/token",
                data={"grant_type": "client_credentials"},
                auth=(self.account.get("app_key"), secret_of(self.account)),
            )
        )
        token = data.get("access_token") if isinstance(data, dict) else None
        if not token:
            raise PlatformError("tiki: no access_token in the token response")
        _TOKENS[key] = (token, time.monotonic() + float(data.get("expires_in", 3600)) - 60)
        return token

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        async def once() -> Any:
            headers = {"authorization": f"Bearer {await self._token()}"}
            return await send(self._http, method, self._base + path, headers=headers, **kwargs)

        return await with_retries(once)

    def _queue(self) -> str:
        queue = self.account.get("queue")
        if not queue:
            raise PlatformError(f"tiki account {self.account.account} has no queue code")
        return queue

    async def pull_events(self) -> tuple[str | None, list[dict[str, Any]]]:
        data = await self._call(
            "POST", f"/integration/v1/queues/{self._queue()}/events/pull", json={}
        )
        return data.get("ack_id"), [e for e in data.get("events") or [] if isinstance(e, dict)]

    async def ack(self, ack_id: str) -> None:
        await self._call(
            "POST", f"/integration/v1/queues/{self._queue()}/events/ack", json={"ack_id": ack_id}
        )

    async def fetch_order(self, external_id: str) -> dict[str, Any]:
        return await self._call(
            "GET", f"/integration/v2/orders/{external_id}", params={"include": "items"}
        )

    async def update_stock(self, channel_sku: str, available: int) -> None:
        await self._call(
            "POST",
            "/integration/v2/products/updateSku",
            json={"original_sku": channel_sku, "quantity": available, "active": 1},
        )
