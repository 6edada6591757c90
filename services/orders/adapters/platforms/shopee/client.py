"""Shopee Open Platform v2: signed shop-level calls (`sign` = hex HMAC-SHA256(partner key,
partner_id + path + timestamp + access_token + shop_id))."""

from __future__ import annotations

import hashlib
import hmac
import time
from functools import partial
from typing import Any

import httpx

from services.orders.adapters.platforms.base import (
    DEFAULT_TIMEOUT_S,
    Http,
    PlatformError,
    Transient,
    api_base,
    require,
    secret_of,
    send,
    with_retries,
)
from services.orders.adapters.platforms.channel import Account

DETAIL_FIELDS = (
    "buyer_username,recipient_address,estimated_shipping_fee,actual_shipping_fee,pay_time,"
    "payment_method,total_amount,item_list,cod"
)
_TRANSIENT_ERRORS = {"error_server", "error_busy", "error_inner"}


def shopee_sign(partner_key: str, partner_id: str, path: str, ts: int, token: str, shop: str):
    message = f"{partner_id}{path}{ts}{token}{shop}".encode()
    return hmac.new(partner_key.encode(), message, hashlib.sha256).hexdigest()


class ShopeeClient:
    def __init__(
        self, account: Account, http: httpx.AsyncClient, timeout_s: float = DEFAULT_TIMEOUT_S
    ) -> None:
        require(account, "partner_id", "shop_id", "access_token")
        self.account, self._http = account, Http.of(http, timeout_s)
        self._base = api_base(account, "https://partner.shopeemobile.com")

    async def _call(self, method: str, path: str, params: dict[str, Any], body=None) -> Any:
        a = self.account
        ts = int(time.time())
        query = {
            "partner_id": a.get("partner_id"),
            "timestamp": ts,
            "access_token": a.get("access_token"),
            "shop_id": a.get("shop_id"),
            "sign": shopee_sign(
                secret_of(a), a.get("partner_id"), path, ts, a.get("access_token"), a.get("shop_id")
            ),
            **params,
        }
        data = await send(self._http, method, self._base + path, params=query, json=body)
        error = data.get("error") if isinstance(data, dict) else "not an object"
        if error:
            kind = Transient if error in _TRANSIENT_ERRORS else PlatformError
            raise kind(f"shopee {path}: {error} {data.get('message', '')}")
        return data

    async def fetch_order(self, external_id: str) -> dict[str, Any]:
        return await with_retries(
            lambda: self._call(
                "GET",
                "/api/v2/order/get_order_detail",
                {"order_sn_list": external_id, "response_optional_fields": DETAIL_FIELDS},
            )
        )

    async def orders_updated(self, since: int, until: int) -> list[tuple[str, str]]:
        """(order_sn, order_status) of every order updated in [since, until] (unix seconds; at
        most 15 days), all pages: what a lost push would have said."""
        found, cursor = [], ""
        for _ in range(1000):  # bounded: 100 orders a page
            params = {
                "time_range_field": "update_time",
                "time_from": since,
                "time_to": until,
                "page_size": 100,
                "cursor": cursor,
                "response_optional_fields": "order_status",
            }
            data = await with_retries(
                partial(self._call, "GET", "/api/v2/order/get_order_list", params)
            )
            page = data.get("response") or {}
            found += [
                (o["order_sn"], o.get("order_status", ""))
                for o in page.get("order_list") or []
                if isinstance(o, dict) and o.get("order_sn")
            ]
            if not page.get("more"):
                break
            cursor = page.get("next_cursor") or ""
        return found

    async def update_stock(self, channel_sku: str, available: int) -> None:
        found = await with_retries(
            lambda: self._call(
                "GET",
                "/api/v2/product/search_item",
                {"item_sku": channel_sku, "page_size": 1, "offset": 0},
            )
        )
        items = (found.get("response") or {}).get("item_id_list") or []
        if not items:
            raise PlatformError(f"shopee has no item with SKU {channel_sku}")
        body = {
            "item_id": items[0],
            "stock_list": [{"model_id": 0, "seller_stock": [{"stock": available}]}],
        }
        await with_retries(lambda: self._call("POST", "/api/v2/product/update_stock", {}, body))
