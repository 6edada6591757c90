"""WooCommerce REST API v3 (consumer key and secret as HTTP basic auth over TLS): find the
product by SKU and set its stock quantity."""

from __future__ import annotations

from typing import Any

import httpx

from services.orders.adapters.platforms.base import (
    DEFAULT_TIMEOUT_S,
    Http,
    PlatformError,
    api_base,
    require,
    send,
    with_retries,
)
from services.orders.adapters.platforms.channel import Account


class WooCommerceClient:
    def __init__(
        self, account: Account, http: httpx.AsyncClient, timeout_s: float = DEFAULT_TIMEOUT_S
    ) -> None:
        require(account, "app_key", "access_token")
        self.account, self._http = account, Http.of(http, timeout_s)
        self._base = api_base(account, f"https://{account.account}") + "/wp-json/wc/v3"
        self._auth = (account.get("app_key"), account.get("access_token"))

    async def fetch_order(self, external_id: str) -> dict[str, Any]:
        return await with_retries(
            lambda: send(self._http, "GET", f"{self._base}/orders/{external_id}", auth=self._auth)
        )

    async def update_stock(self, channel_sku: str, available: int) -> None:
        found = await with_retries(
            lambda: send(
                self._http,
                "GET",
                f"{self._base}/products",
                params={"sku": channel_sku},
                auth=self._auth,
            )
        )
        if not isinstance(found, list) or not found:
            raise PlatformError(f"woocommerce has no product with SKU {channel_sku}")
        body = {"manage_stock": True, "stock_quantity": available}
        await with_retries(
            lambda: send(
                self._http,
                "PUT",
                f"{self._base}/products/{found[0]['id']}",
                json=body,
                auth=self._auth,
            )
        )
