"""API clients of the sales platforms: fetch an order's detail after a thin push, and push stock
levels back. Each signs its calls the way its platform documents; `client_for` picks one."""

from __future__ import annotations

import httpx

from services.orders.adapters.platforms.base import PlatformClient, PlatformError, Unsupported
from services.orders.domain.channels.registry import Account


def client_for(account: Account, http: httpx.AsyncClient) -> PlatformClient:
    from services.orders.adapters.platforms import (
        lazada,
        shopee,
        shopify,
        tiki,
        tiktok,
        woocommerce,
    )

    clients = {
        "shopify": shopify.ShopifyClient,
        "shopee": shopee.ShopeeClient,
        "lazada": lazada.LazadaClient,
        "tiktok-shop": tiktok.TikTokClient,
        "tiki": tiki.TikiClient,
        "woocommerce": woocommerce.WooCommerceClient,
    }
    cls = clients.get(account.platform)
    if cls is None:
        raise Unsupported(f"no API client for {account.platform}")
    return cls(account, http)


__all__ = ["PlatformClient", "PlatformError", "Unsupported", "client_for"]
