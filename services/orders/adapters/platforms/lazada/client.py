"""Lazada Open Platform: `sign` = uppercase hex HMAC-SHA256(app secret, api path + the sorted
parameters concatenated as key+value)."""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any
from xml.sax.saxutils import escape

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


def lazada_sign(secret: str, path: str, params: dict[str, str]) -> str:
    message = path + "".join(f"{k}{params[k]}" for k in sorted(params))
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest().upper()


class LazadaClient:
    def __init__(
        self, account: Account, http: httpx.AsyncClient, timeout_s: float = DEFAULT_TIMEOUT_S
    ) -> None:
        require(account, "app_key", "access_token")
        self.account, self._http = account, Http.of(http, timeout_s)
        self._base = api_base(account, "https://api.lazada.vn/rest")

    async def _call(self, method: str, path: str, params: dict[str, str]) -> Any:
        signed = {
            "app_key": self.account.get("app_key"),
            "timestamp": str(int(time.time() * 1000)),
            "sign_method": "sha256",
            "access_token": self.account.get("access_token"),
            **params,
        }
        signed["sign"] = lazada_sign(secret_of(self.account), path, signed)
        if method == "GET":
            data = await send(self._http, "GET", self._base + path, params=signed)
        else:
            data = await send(self._http, method, self._base + path, data=signed)
        if not isinstance(data, dict) or str(data.get("code")) != "0":
            raise PlatformError(
                f"lazada {path}: {data.get('code') if isinstance(data, dict) else data} "
                f"{data.get('message', '') if isinstance(data, dict) else ''}"
            )
        return data

    async def fetch_order(self, external_id: str) -> dict[str, Any]:
        order = await with_retries(
            lambda: self._call("GET", "/order/get", {"order_id": external_id})
        )
        items = await with_retries(
            lambda: self._call("GET", "/order/items/get", {"order_id": external_id})
        )
        return {"order": order, "items": items}

    async def update_stock(self, channel_sku: str, available: int) -> None:
        payload = (
            "<Request><Product><Skus><Sku>"
            f"<SellerSku>{escape(channel_sku)}</SellerSku>"
            f"<SellableQuantity>{available}</SellableQuantity>"
            "</Sku></Skus></Product></Request>"
        )
        await with_retries(
            lambda: self._call("POST", "/product/stock/sellable/update", {"payload": payload})
        )
