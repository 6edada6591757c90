"""API clients of the sales platforms: fetch an order's detail after a thin push, and push stock
levels back. Each signs its calls the way its platform documents; `client_for` picks one."""

from __future__ import annotations

import httpx

from services.orders.adapters.platforms.base import PlatformClient, PlatformError, Unsupported
from services.orders.adapters.platforms.registry import Account


def client_for(account: Account, http: httpx.AsyncClient) -> PlatformClient:
    from services.orders.adapters.platforms.lazada import client as lazada
    from services.orders.adapters.platforms.shopee import client as shopee
    from services.orders.adapters.platforms.shopify import client as shopify
    from services.orders.adapters.platforms.tiki import client as tiki
    from services.orders.adapters.platforms.tiktok_shop import client as tiktok
    from services.orders.adapters.platforms.woocommerce import client as woocommerce

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
