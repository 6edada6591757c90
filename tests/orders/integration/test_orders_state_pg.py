"""Two orders services built in one process, as tests build them, keep their own runtime state:
one's full webhook queue refuses its own pushes, never the other's, and wakes its own job."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import httpx
import pytest

from services.orders.adapters import postgres as db
from services.orders.bootstrap import MIGRATIONS, OrdersService, build
from services.orders.settings import OrdersSettings
from services.orders.simulator import build_shopify_order, shopify_webhook_request
from tests.shared.integration.harness import settings_for

pytestmark = pytest.mark.integration
SHOP = "state-shop"


@asynccontextmanager
async def _running(service: OrdersService) -> AsyncIterator[httpx.AsyncClient]:
    service.subscriptions, service.background, service.run_relay = [], (), False
    await service.start()
    try:
        transport = httpx.ASGITransport(app=service.asgi())
        async with httpx.AsyncClient(transport=transport, base_url="http://orders") as http:
            yield http
    finally:
        await service.stop()


async def _push(http: httpx.AsyncClient, number: int) -> httpx.Response:
    payload = build_shopify_order(
        order_number=number, sku="SHOP-HG-HONEY-500", quantity=1, unit_price_vnd=450000
    )
    body, headers = shopify_webhook_request(payload, "sec", shop_domain=SHOP)
    return await http.post(f"/webhooks/shopify/{SHOP}", content=body, headers=headers)


async def test_one_service_full_queue_refuses_its_own_pushes_not_another_service_s(
    kafka_bootstrap, make_database
):
    url = await make_database("orders", MIGRATIONS)
    shared = settings_for("orders", kafka_bootstrap, url).model_dump()
    one, other = (build(OrdersSettings(**shared, webhook_queue_limit=1)) for _ in range(2))
    async with AsyncExitStack() as stack:
        http_one = await stack.enter_async_context(_running(one))
        http_other = await stack.enter_async_context(_running(other))
        async with one.pool.acquire() as conn:  # type: ignore[union-attr]
            await db.add_channel_account(conn, "shopify", SHOP, "sec", {})

        assert (await _push(http_one, 1)).json()["outcome"] == "queued"
        assert one.state.webhook_wake.is_set() and not other.state.webhook_wake.is_set()
        assert (await _push(http_one, 2)).status_code == 503  # its queue is at its limit
        queued = await _push(http_other, 2)
        assert queued.status_code == 200 and queued.json()["outcome"] == "queued"
        assert other.state.webhook_wake.is_set()
