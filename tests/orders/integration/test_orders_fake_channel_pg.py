"""A channel the service has never heard of (tests/orders/fake_channel.py), registered with one
line, takes pushes at the real webhook: its own signature header is checked, its push is
queued and answered with the order id it becomes, and the queued push reads into that order.
(Publishing its OrderPlaced would also need its name in shared/contracts/platforms.py, which
the other services read.)"""

from __future__ import annotations

import json

import pytest

from services.orders.adapters import webhook_queue as queue
from services.orders.adapters.platforms.registry import read_push
from services.orders.adapters.postgres import get_account
from services.orders.domain.model import order_id_for
from tests.orders import fake_channel
from tests.orders.fake_channel import FakeShop, registered, signed
from tests.orders.integration.conftest import Orders

pytestmark = pytest.mark.integration

SECRET = "fake-secret"
URL = "/webhooks/fakeshop/village-shop"


async def test_a_registered_channel_is_verified_queued_and_read_into_its_order(orders: Orders):
    body, headers = signed(fake_channel.order(), SECRET)
    unknown = await orders.http.post(URL, content=body, headers=headers)
    assert (unknown.status_code, unknown.json()["error"]) == (404, "unknown_platform")

    with registered(FakeShop()):
        await orders.add_account("fakeshop", "village-shop", SECRET)
        forged, _ = signed(fake_channel.order(price=1), SECRET)
        refused = await orders.http.post(URL, content=forged, headers=headers)
        accepted = await orders.http.post(URL, content=body, headers=headers)
        async with orders.pool.acquire() as conn:
            account = await get_account(conn, "fakeshop", "village-shop")
            rows = await queue.claim(conn, 10, 60.0)
        assert account is not None and len(rows) == 1
        push = read_push(account, json.loads(rows[0].raw_body), rows[0].headers)

    assert (refused.status_code, refused.json()["error"]) == (401, "bad_signature")
    expected = order_id_for("fakeshop", "village-shop", "F-1001")
    assert accepted.status_code == 200
    assert accepted.json() == {"order_id": expected, "outcome": "queued"}
    assert push.order is not None and push.order.order_id == expected
    assert (push.delivery_id, push.topic, push.order.total) == ("d-F-1001", "order", 90000)
