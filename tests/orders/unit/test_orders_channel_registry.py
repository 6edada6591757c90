"""The channels as one registry of adapters: each platform registered once, and a channel the
service has never heard of (tests/orders/fake_channel.py) taken from a signed push to a
canonical order by the code the webhook, the apply job, the fetch job and the CLI call, with
nothing added but its class and its registration."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from services.orders.adapters.platforms.registry import (
    CHANNELS,
    Account,
    client_for,
    full_push_order_id,
    normalize,
    parse_detail,
    read_push,
    verify,
)
from services.orders.domain.errors import InvalidOrderPayload
from services.orders.domain.model import order_id_for
from shared.contracts.platforms import PLATFORMS
from tests.orders import fake_channel
from tests.orders.fake_channel import FakeShop, FakeThinShop, registered, signed

SECRET = "fake-secret"


def test_every_platform_of_the_contract_is_registered_once():
    assert sorted(CHANNELS.names) == sorted(PLATFORMS)
    with pytest.raises(ValueError, match="registered already"):
        CHANNELS.register(CHANNELS.get("shopify"))  # type: ignore[arg-type]


def test_only_the_channels_that_push_take_webhooks():
    assert {c.name for c in CHANNELS if c.pushes} == {
        "shopify",
        "woocommerce",
        "shopee",
        "lazada",
        "tiktok-shop",
    }
    assert CHANNELS.pushing("tiki") is None and CHANNELS.pushing("manual") is None


def test_a_registered_channel_turns_a_signed_full_push_into_its_canonical_order():
    account = Account("fakeshop", "village-shop", [SECRET])
    body, headers = signed(fake_channel.order(), SECRET)
    assert CHANNELS.pushing("fakeshop") is None  # unknown until registered
    with registered(FakeShop()):
        # The webhook: which channel, signed or not, the id it answers with.
        channel = CHANNELS.pushing("fakeshop")
        assert channel is not None and channel.intake == "full_push"
        assert verify(account, body, headers)
        assert not verify(Account("fakeshop", "village-shop", ["other"]), body, headers)
        assert channel.ignored_topic(headers) is None
        head = channel.push_head(body)
        assert head == {"ref": "F-1001"}  # the rest is the apply job's to read
        answered = full_push_order_id(channel, "village-shop", head)
        # The apply job: the queued push read into an order.
        push = read_push(account, fake_channel.order(), headers)
    assert push.kind == "order" and push.order is not None
    assert push.delivery_id == "d-F-1001" and push.topic == "order"
    order = push.order
    assert order.order_id == answered == order_id_for("fakeshop", "village-shop", "F-1001")
    assert (order.channel, order.account, order.total) == ("fakeshop", "village-shop", 90000)
    assert order.lines[0].channel_sku == "FK-HONEY" and order.payment.cod_amount == 90000
    assert CHANNELS.get("fakeshop") is None  # unregistered again


def test_a_registered_channel_ignores_a_push_about_something_else():
    account = Account("fakeshop", "village-shop", [SECRET])
    body, headers = signed(fake_channel.order(), SECRET, topic="product")
    with registered(FakeShop()):
        assert verify(account, body, headers)
        push = read_push(account, fake_channel.order(), headers)
    assert (push.kind, push.note) == ("ignored", "topic product")


async def test_a_registered_thin_channel_is_fetched_through_its_own_client_then_parsed():
    account = Account("fakethinshop", "village-shop", [SECRET])
    body, headers = signed({"ref": "F-2002"}, SECRET)
    details = {"F-2002": fake_channel.order("F-2002", quantity=3)}
    with registered(FakeThinShop(details)):
        assert CHANNELS.pushing("fakethinshop") is not None
        assert verify(account, body, headers)
        push = read_push(account, {"ref": "F-2002"}, headers)
        assert (push.kind, push.external_id) == ("fetch", "F-2002")
        # The fetch job: the account's client, then the channel's parser.
        async with httpx.AsyncClient() as http:
            client = client_for(account, http, timeout_s=0.5)
            order = parse_detail("fakethinshop", await client.fetch_order("F-2002"), "village-shop")
            await client.update_stock("FK-HONEY", 7)
    assert order.external_id == "F-2002" and order.total == 135000
    assert client.stock == {"FK-HONEY": 7}  # type: ignore[attr-defined]


def test_a_registered_channel_normalizes_for_the_cli_and_its_bad_payloads_are_payload_errors():
    now = datetime(2025, 8, 2, tzinfo=UTC)
    with registered(FakeShop()):
        order = normalize("fakeshop", fake_channel.order(), {}, None, "village-shop", now)
        assert order.external_id == "F-1001"
        with pytest.raises(InvalidOrderPayload, match="quantity"):
            parse_detail("fakeshop", fake_channel.order(quantity=0), "village-shop")
        with pytest.raises(InvalidOrderPayload, match="unusable payload"):
            parse_detail("fakeshop", ["not", "an", "object"], "village-shop")
    with pytest.raises(InvalidOrderPayload, match="no order parser for fakeshop"):
        parse_detail("fakeshop", fake_channel.order(), "village-shop")


def test_a_tiki_queue_event_is_read_as_a_push_naming_the_order_to_fetch():
    account = Account("tiki", "tk-shop", ["secret"])
    event = {
        "id": "ev-1",
        "type": "ORDER_STATUS_UPDATED",
        "created_at": "2025-08-01 08:00:01",
        "payload": {"order_code": "837145126"},
    }
    push = read_push(account, event, {})
    assert (push.kind, push.external_id, push.delivery_id) == ("fetch", "837145126", "ev-1")
    without_id = read_push(account, {k: v for k, v in event.items() if k != "id"}, {})
    assert without_id.delivery_id == "837145126:2025-08-01 08:00:01"
    for other in (
        {"id": "ev-2", "type": "PRODUCT_UPDATED", "payload": {"sku": "x"}},
        event | {"payload": {"order_code": ""}},
        event | {"payload": "837145126"},
    ):
        assert read_push(account, other, {}).kind == "ignored"
