"""TikTok Shop Open API (202309): `sign` = hex HMAC-SHA256(app secret, secret + path + sorted
query key+value (without sign and access_token) + body + secret); the token goes in the
`x-tts-access-token` header."""

from __future__ import annotations

import hashlib
import hmac
import json
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


def tiktok_sign(secret: str, path: str, params: dict[str, str], body: bytes = b"") -> str:
    pairs = "".join(f"{k}{params[k]}" for k in sorted(params) if k not in ("sign", "access_token"))
    message = (secret + path + pairs).encode() + body + secret.encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


class TikTokClient:
    def __init__(
        self, account: Account, http: httpx.AsyncClient, timeout_s: float = DEFAULT_TIMEOUT_S
    ) -> None:
        require(account, "app_key", "access_token")
        self.account, self._http = account, Http.of(http, timeout_s)
        self._base = api_base(account, "https://open-api.tiktokglobalshop.com")

    async def _call(self, method: str, path: str, params: dict[str, str], body=None) -> Any:
        query = {
            "app_key": self.account.get("app_key"),
            "timestamp": str(int(time.time())),
            "shop_cipher": self.account.get("shop_id"),
            **params,
        }
        raw = json.dumps(body, separators=(",", ":")).encode() if body is not None else b""
        query["sign"] = tiktok_sign(secret_of(self.account), path, query, raw)
        headers = {
            "x-tts-access-token": self.account.get("access_token"),
            "content-type": "application/json",
        }
        data = await send(
            self._http,
            method,
            self._base + path,
            params=query,
            headers=headers,
            content=raw or None,
        )
        if not isinstance(data, dict) or data.get("code") != 0:
            raise PlatformError(
                f"tiktok {path}: {data.get('code') if isinstance(data, dict) else data}"
                f" {data.get('message', '') if isinstance(data, dict) else ''}"
            )
        return data

    async def fetch_order(self, external_id: str) -> dict[str, Any]:
        return await with_retries(
            lambda: self._call("GET", "/order/202309/orders", {"ids": external_id})
        )

    async def update_stock(self, channel_sku: str, available: int) -> None:
        found = await with_retries(
            lambda: self._call(
                "POST",
                "/product/202312/products/search",
                {"page_size": "1"},
                {"seller_skus": [channel_sku]},
            )
        )
        products = (found.get("data") or {}).get("products") or []
        skus = [
            s for p in products for s in p.get("skus", []) if s.get("seller_sku") == channel_sku
        ]
        if not skus:
            raise PlatformError(f"tiktok has no product with seller SKU {channel_sku}")
        product_id, sku_id = products[0]["id"], skus[0]["id"]
        body = {"skus": [{"id": sku_id, "inventory": [{"quantity": available}]}]}
        await with_retries(
            lambda: self._call(
                "POST", f"/product/202309/products/{product_id}/inventory/update", {}, body
            )
        )
