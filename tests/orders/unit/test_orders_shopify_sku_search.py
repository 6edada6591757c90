"""A stock push finds the Shopify variant by its SKU as the seller typed it: Shopify's search
syntax quotes a value and escapes `"` and `\\` only, so Vietnamese letters stay letters."""

from __future__ import annotations

import json

import httpx

from services.orders.adapters.platforms.registry import Account
from services.orders.adapters.platforms.shopify.client import ShopifyClient

ACCOUNT = Account(
    "shopify",
    "shop",
    ("secret",),
    {"access_token": "t", "location_id": "gid://shopify/Location/1", "api_base": "https://s.test"},
)


async def test_the_variant_search_carries_a_vietnamese_sku_as_itself() -> None:
    searched: list[str] = []

    def shopify(request: httpx.Request) -> httpx.Response:
        variables = json.loads(request.content)["variables"]
        if "q" in variables:
            searched.append(variables["q"])
            variant = {"sku": "x", "inventoryItem": {"id": "gid://shopify/InventoryItem/1"}}
            return httpx.Response(200, json={"data": {"productVariants": {"nodes": [variant]}}})
        return httpx.Response(200, json={"data": {"inventorySetQuantities": {"userErrors": []}}})

    async with httpx.AsyncClient(transport=httpx.MockTransport(shopify)) as http:
        await ShopifyClient(ACCOUNT, http).update_stock('Mật ong "500g"', 3)

    assert searched == ['sku:"Mật ong \\"500g\\""']
