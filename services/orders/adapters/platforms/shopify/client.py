"""Shopify Admin API (GraphQL, `X-Shopify-Access-Token`): the order by id, and the available
quantity of a SKU's inventory item at the shop's location."""

from __future__ import annotations

import json
from typing import Any

import httpx

from services.orders.adapters.platforms.base import (
    DEFAULT_TIMEOUT_S,
    Http,
    PlatformError,
    Transient,
    api_base,
    require,
    send,
    with_retries,
)
from services.orders.adapters.platforms.channel import Account

API_VERSION = "2025-07"
FIND_VARIANT = """query($q: String!) {
  productVariants(first: 1, query: $q) { nodes { sku inventoryItem { id } } }
}"""
SET_AVAILABLE = """mutation($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) { userErrors { field message } }
}"""


class ShopifyClient:
    def __init__(
        self, account: Account, http: httpx.AsyncClient, timeout_s: float = DEFAULT_TIMEOUT_S
    ) -> None:
        require(account, "access_token", "location_id")
        self.account, self._http = account, Http.of(http, timeout_s)
        self._base = api_base(account, f"https://{account.account}") + f"/admin/api/{API_VERSION}"
        self._headers = {"x-shopify-access-token": account.get("access_token")}

    async def _graphql(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        body = {"query": query, "variables": variables}
        data = await send(
            self._http, "POST", f"{self._base}/graphql.json", json=body, headers=self._headers
        )
        errors = data.get("errors") if isinstance(data, dict) else "not an object"
        if errors:
            throttled = "THROTTLED" in json.dumps(errors)
            raise (Transient if throttled else PlatformError)(f"shopify graphql: {errors}")
        return data.get("data") or {}

    async def fetch_order(self, external_id: str) -> dict[str, Any]:
        data = await with_retries(
            lambda: send(
                self._http, "GET", f"{self._base}/orders/{external_id}.json", headers=self._headers
            )
        )
        return data.get("order") or {}

    async def update_stock(self, channel_sku: str, available: int) -> None:
        # A quoted search value escapes only `"` and `\`: a Vietnamese letter must stay itself,
        # Shopify's search syntax has no \u escapes.
        sku = json.dumps(channel_sku, ensure_ascii=False)
        found = await with_retries(lambda: self._graphql(FIND_VARIANT, {"q": f"sku:{sku}"}))
        nodes = (found.get("productVariants") or {}).get("nodes") or []
        if not nodes:
            raise PlatformError(f"shopify has no variant with SKU {channel_sku}")
        change = {
            "inventoryItemId": nodes[0]["inventoryItem"]["id"],
            "locationId": self.account.get("location_id"),
            "quantity": available,
        }
        payload = {
            "name": "available",
            "reason": "correction",
            "ignoreCompareQuantity": True,
            "quantities": [change],
        }
        result = await with_retries(lambda: self._graphql(SET_AVAILABLE, {"input": payload}))
        errors = (result.get("inventorySetQuantities") or {}).get("userErrors")
        if errors:
            raise PlatformError(f"shopify inventorySetQuantities: {errors}")
