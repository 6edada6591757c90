"""The order simulator for `make run`: a Shopify shop selling the demo catalogue, and a
WooCommerce shop (every third order) selling it under the catalogue's own SKUs, both posting
signed webhooks to the orders service. Every few orders it redelivers one, as platforms do."""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import time
from dataclasses import dataclass
from importlib import resources
from urllib.parse import quote

import httpx

from services.orders.simulator import (
    build_shopify_order,
    build_woocommerce_order,
    shopify_webhook_request,
    woocommerce_webhook_request,
)


@dataclass(frozen=True)
class DemoItem:
    channel_sku: str
    price_vnd: int
    sku: str = ""


def demo_items(account: str) -> list[DemoItem]:
    """The demo shop's listings, Hà Giang mint honey first (it opens the demo journey)."""
    demo = resources.files("services.catalog.demo")
    prices = {
        p["sku"]: p["price"]
        for p in json.loads((demo / "products.json").read_text())
        if p["currency"] == "VND"
    }
    items = [
        DemoItem(row["channel_sku"], prices[row["sku"]], row["sku"])
        for row in json.loads((demo / "listings.json").read_text())
        if row["account"] == account and row["sku"] in prices
    ]
    return sorted(items, key=lambda i: "HONEY" not in i.channel_sku)


async def post_order(
    client: httpx.AsyncClient, url: str, secret: str, number: int, item: DemoItem, qty: int
) -> tuple[bytes, dict[str, str], httpx.Response]:
    payload = build_shopify_order(
        order_number=number, sku=item.channel_sku, quantity=qty, unit_price_vnd=item.price_vnd
    )
    body, headers = shopify_webhook_request(payload, secret)
    return body, headers, await client.post(url, content=body, headers=headers)


async def post_woocommerce_order(
    client: httpx.AsyncClient, url: str, secret: str, number: int, item: DemoItem, qty: int
) -> tuple[bytes, dict[str, str], httpx.Response]:
    payload = build_woocommerce_order(
        order_number=number, sku=item.sku, quantity=qty, unit_price_vnd=item.price_vnd
    )
    body, headers = woocommerce_webhook_request(payload, secret)
    return body, headers, await client.post(url, content=body, headers=headers)


async def simulate(
    orders_base_url: str,
    account: str,
    secret: str,
    *,
    interval_s: float = 5.0,
    count: int | None = None,
    redeliver_every: int = 4,
    echo=print,
    woo_account: str | None = None,
) -> None:
    url = f"{orders_base_url}/webhooks/shopify/{quote(account, safe='')}"
    woo_url = f"{orders_base_url}/webhooks/woocommerce/{quote(woo_account or '', safe='')}"
    items = demo_items(account)
    rng = random.Random()
    first_number = int(time.time()) % 1_000_000 * 10  # new order numbers on every run
    async with httpx.AsyncClient(timeout=10) as client:
        for n in itertools.islice(itertools.count(), count):
            item = items[0] if n == 0 else rng.choice(items)
            qty = 1 if n == 0 else rng.randint(1, 3)
            woo = bool(woo_account) and n % 3 == 2
            post, target = (post_woocommerce_order, woo_url) if woo else (post_order, url)
            what = (
                f"{'woocommerce ' if woo else ''}order #{first_number + n} {qty} x "
                f"{item.sku if woo else item.channel_sku}"
            )
            try:
                body, headers, resp = await post(
                    client, target, secret, first_number + n, item, qty
                )
                echo(f"simulator: {what} -> {resp.status_code} {_outcome(resp)}")
                if redeliver_every and n % redeliver_every == redeliver_every - 1:
                    again = await client.post(target, content=body, headers=headers)
                    echo(
                        f"simulator: redelivered #{first_number + n} -> {again.status_code} "
                        f"{_outcome(again)}"
                    )
            except httpx.TransportError as exc:  # the orders service is restarting: carry on
                task = asyncio.current_task()
                if task is not None and task.cancelling():  # no: the run is stopping
                    raise
                echo(f"simulator: {what} not sent, orders did not answer ({type(exc).__name__})")
            await asyncio.sleep(interval_s)


def _outcome(resp: httpx.Response) -> str:
    try:
        return str(resp.json().get("outcome", resp.text))
    except ValueError:  # not JSON, e.g. a proxy's or a starting server's error page
        return resp.text[:80]
