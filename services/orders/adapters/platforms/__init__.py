"""The sales channels, one package each (shopify, woocommerce, shopee, lazada, tiktok_shop, tiki,
manual): how its pushes are verified and read, its order parser (`parse.py`), its API client and
signer (`client.py`: detail fetches and stock pushes). `registry.py` lists them."""

from __future__ import annotations

from services.orders.adapters.platforms.base import PlatformClient, PlatformError, Unsupported
from services.orders.adapters.platforms.registry import client_for

__all__ = ["PlatformClient", "PlatformError", "Unsupported", "client_for"]
