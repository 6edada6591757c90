"""An eighth sales channel that exists only in the tests: one class, registered with one line,
to show that a channel needs nothing else. It signs pushes with a hex HMAC of the body in its
own header, pushes whole orders (or, as `FakeThinShop`, a notice whose detail its API serves),
and its orders are a small JSON object."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import httpx

from services.orders.adapters.platforms.channel import Account, Channel, Headers, Push
from services.orders.adapters.platforms.common import ACTIVE, build, payment
from services.orders.adapters.platforms.payload import id_field, int_field, timestamp_field
from services.orders.adapters.platforms.registry import CHANNELS
from services.orders.domain.model import Buyer, CanonicalOrder, OrderLine
from services.orders.domain.signatures import verify_hmac_sha256_hex


class FakeShop(Channel):
    name = "fakeshop"
    intake = "full_push"
    headers = Headers(
        signature="x-fakeshop-signature", topic="x-fakeshop-topic", delivery=("x-fakeshop-id",)
    )
    push_id_field = "ref"

    def verify(self, account: Account, body: bytes, headers: Mapping[str, str]) -> bool:
        return verify_hmac_sha256_hex(body, self.signature(headers), list(account.secrets))

    def ignored_topic(self, headers: Mapping[str, str]) -> str | None:
        topic = self.topic(headers)
        return f"topic {topic}" if topic and topic != "order" else None

    def external_id(self, payload: Mapping[str, Any]) -> str:
        return id_field(payload.get("ref"), "ref")

    def read_push(
        self, account: Account, payload: Mapping[str, Any], headers: Mapping[str, str]
    ) -> Push:
        if ignored := self.ignored_topic(headers):
            return Push("ignored", "", note=ignored)
        order = self.parse_detail(payload, account.account)
        delivery = self.delivery(headers) or f"{order.external_id}:{order.updated_at}"
        return Push("order", delivery, order.external_id, order, topic=self.topic(headers))

    def parse_detail(self, detail: Any, account: str) -> CanonicalOrder:
        quantity = int_field(detail.get("quantity"), "quantity", minimum=1)
        price = int_field(detail.get("price"), "price")
        total = quantity * price
        return build(
            self.name,
            account,
            self.external_id(detail),
            status=ACTIVE,
            placed_at=timestamp_field(detail, "at"),
            updated_at=timestamp_field(detail, "at"),
            currency="VND",
            lines=[
                OrderLine(
                    channel_sku=detail.get("sku"), name="Honey", quantity=quantity, unit_price=price
                )
            ],
            subtotal=total,
            total=total,
            taxes_included=True,
            payment=payment(method="cod", cod=True, paid=False, total=total),
            buyer=Buyer(name="Lan"),
        )


class FakeThinShop(FakeShop):
    """The same shop, had it pushed only the order's reference."""

    name = "fakethinshop"
    intake = "thin_push"

    def __init__(self, details: dict[str, dict[str, Any]]) -> None:
        self.details = details  # what its API serves, by reference

    def read_push(
        self, account: Account, payload: Mapping[str, Any], headers: Mapping[str, str]
    ) -> Push:
        ref = self.external_id(payload)
        return Push("fetch", self.delivery(headers) or ref, ref)

    def client(self, account: Account, http: httpx.AsyncClient, timeout_s: float) -> FakeApi:
        return FakeApi(account, self.details)


class FakeApi:
    def __init__(self, account: Account, details: dict[str, dict[str, Any]]) -> None:
        self.account, self.details, self.stock = account, details, {}

    async def fetch_order(self, external_id: str) -> dict[str, Any]:
        return self.details[external_id]

    async def update_stock(self, channel_sku: str, available: int) -> None:
        self.stock[channel_sku] = available


def order(ref: str = "F-1001", quantity: int = 2, price: int = 45000) -> dict[str, Any]:
    at = "2025-08-01T08:00:00Z"
    return {"ref": ref, "sku": "FK-HONEY", "quantity": quantity, "price": price, "at": at}


def signed(payload: dict[str, Any], secret: str, topic: str = "order") -> tuple[bytes, dict]:
    body = json.dumps(payload).encode()
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    headers = {
        "content-type": "application/json",
        "x-fakeshop-signature": signature,
        "x-fakeshop-topic": topic,
        "x-fakeshop-id": f"d-{payload['ref']}",
    }
    return body, headers


@contextmanager
def registered(channel: Channel) -> Iterator[Channel]:
    """The channel in the service's registry for the duration: the one line a real channel adds
    to registry.py's CHANNELS."""
    CHANNELS.register(channel)
    try:
        yield channel
    finally:
        CHANNELS.unregister(channel.name)
