"""Sends the soak's sales the way each platform does: signed pushes to the orders service (the
full order, or a thin notice whose detail the fake platform serves), Tiki's pulled event queue,
and the operator's manual orders through the admin API. Like the platforms, it retries a push
that got no answer or a 5xx, and it redelivers, reorders and cancels as the sale says."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Awaitable, Callable
from urllib.parse import quote

import httpx

from tests.orders.fakes import FakePlatforms
from tests.soak import payloads as p
from tests.soak.sales import Sale

RETRYABLE = {429, 500, 502, 503, 504}
PARTLY = 3  # the stage after created (0), updated (1) and cancelled (2): some units cancelled
_STATUSES = {  # platform -> the order's status when created, updated, cancelled
    "shopee": ("READY_TO_SHIP", "PROCESSED", "CANCELLED"),
    "lazada": ("pending", "ready_to_ship", "canceled"),
    "tiktok-shop": ("AWAITING_SHIPMENT", "AWAITING_COLLECTION", "CANCELLED"),
    "tiki": ("queueing", "processing", "canceled"),
}


class SoakPlatforms(FakePlatforms):
    """The fake platforms, with Tiki's queue redelivering a pulled batch nobody acked (as Tiki
    does once its visibility timeout ends): an orders process killed between its pull and its
    ack must not lose those events."""

    VISIBILITY_S = 10.0

    def __init__(self) -> None:
        super().__init__()
        self._pulled: dict[str, tuple[float, list]] = {}

    async def tiki_call(self, request):
        if request.url.path.endswith("/events/pull"):
            now = time.monotonic()
            for ack, (at, events) in list(self._pulled.items()):
                if ack in self.tiki_acked:
                    del self._pulled[ack]
                elif now - at > self.VISIBILITY_S:
                    del self._pulled[ack]
                    self.tiki_queue[:0] = events
        response = await super().tiki_call(request)
        unacked = getattr(self, "_unacked", None)
        if unacked and unacked[0] not in self._pulled and unacked[0] not in self.tiki_acked:
            self._pulled[unacked[0]] = (time.monotonic(), unacked[1])
        return response


class Driver:
    def __init__(
        self,
        env: dict[str, str],
        fakes: SoakPlatforms,
        shop_secrets: dict[str, str],
        callback_url: str,
        rng: random.Random,
        connections: int,
    ) -> None:
        self.orders = f"http://127.0.0.1:{env['ORDERS_HTTP_PORT']}"
        self.admin = {"authorization": f"Bearer {env['ADMIN_TOKEN']}"}
        self.fakes = fakes
        self.secrets = shop_secrets
        self.callback_url = callback_url
        self.rng = rng
        self.gate = asyncio.Semaphore(connections)
        self.client = httpx.AsyncClient(
            timeout=15, limits=httpx.Limits(max_connections=connections)
        )
        self.poller = httpx.AsyncClient(timeout=5)  # apart: never takes a push's connection
        self.later: set[asyncio.Task] = set()
        self.retries = 0
        self.accepted_at: list[float] = []

    async def close(self) -> None:
        await self.client.aclose()
        await self.poller.aclose()

    async def settle(self) -> None:
        """Wait for every delayed redelivery and cancellation."""
        while self.later:
            await asyncio.gather(*list(self.later))

    # --- sending -------------------------------------------------------------------------------

    async def send(
        self, sale: Sale, path: str, body: bytes, headers: dict[str, str], create: bool = False
    ) -> httpx.Response | None:
        """One push, retried like a platform retries: no answer, 429 or 5xx."""
        if sale.posted_at is None:
            sale.posted_at = time.time()
        delay = 0.2
        for _ in range(60):
            try:
                async with self.gate:
                    resp = await self.client.post(self.orders + path, content=body, headers=headers)
            except httpx.TransportError:
                resp = None
            if resp is not None and resp.status_code not in RETRYABLE:
                break
            self.retries += 1
            await asyncio.sleep(delay)
            delay = min(2.0, delay * 2)
        else:
            sale.refusals.append(f"{path}: no answer after 60 attempts")
            return None
        if resp.status_code >= 300:
            sale.refusals.append(f"{path}: {resp.status_code} {resp.text[:200]}")
        elif create:
            sale.accepted = True
            self.accepted_at.append(time.time())
        return resp

    def after(
        self, delay: float, step: Callable[[], Awaitable[object]], stored: Sale | None = None
    ) -> None:
        """Run `step` `delay` seconds from now (from when the orders service has `stored` the
        sale's order, when given: a change to an order it already holds)."""

        async def run() -> None:
            if stored is not None:
                await self.stored(stored)
            await asyncio.sleep(delay)
            await step()

        task = asyncio.create_task(run())
        self.later.add(task)
        task.add_done_callback(self.later.discard)

    async def stored(self, sale: Sale, timeout: float = 300.0) -> None:
        url = f"{self.orders}/orders/{sale.order_id}"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if (await self.poller.get(url, headers=self.admin)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.5)

    def _webhook(self, sale: Sale) -> str:
        return f"/webhooks/{sale.channel}/{quote(sale.account, safe='')}"

    # --- one sale --------------------------------------------------------------------------------

    async def play(self, sale: Sale) -> None:
        play = {
            "shopify": self._full,
            "woocommerce": self._full,
            "shopee": self._thin,
            "lazada": self._thin,
            "tiktok-shop": self._thin,
            "tiki": self._tiki,
            "manual": self._manual,
        }[sale.channel]
        await play(sale)

    async def _full(self, sale: Sale) -> None:
        secret = self.secrets[sale.channel]
        if sale.channel == "shopify":
            create = p.shopify_request(sale, secret, topic="orders/create")
            update = p.shopify_request(sale, secret, topic="orders/updated", after=p.UPDATED)
            cancel = p.shopify_request(
                sale, secret, topic="orders/cancelled", after=p.CANCELLED, cancelled=True
            )
        else:
            create = p.woocommerce_request(sale, secret, topic="order.created")
            update = p.woocommerce_request(sale, secret, topic="order.updated", after=p.UPDATED)
            cancel = p.woocommerce_request(
                sale, secret, topic="order.updated", after=p.CANCELLED, status="cancelled"
            )
        path = self._webhook(sale)
        if sale.cancel == "first":
            await self.send(sale, path, *cancel)
        if sale.update_first:
            await self.send(sale, path, *update)
        await self.send(sale, path, *create, create=True)
        if sale.duplicate:
            self.after(self.rng.uniform(0, 2), lambda: self.send(sale, path, *create))
        if sale.cancel == "mid":
            self.after(self.rng.uniform(0.3, 4), lambda: self.send(sale, path, *cancel))
        if sale.partial and sale.channel == "shopify":
            edit = p.shopify_request(
                sale, secret, topic="orders/updated", after=p.PARTLY_CANCELLED, partial=sale.partial
            )
            self.after(self.rng.uniform(0, 3), lambda: self.send(sale, path, *edit), sale)

    def _stage(self, sale: Sale, stage: int) -> tuple[str, int]:
        """The order's status on its platform at `stage`, and the platform's time for it."""
        statuses = _STATUSES[sale.channel]
        status = statuses[int(sale.update_first)] if stage == PARTLY else statuses[stage]
        at = p.base_time(sale) + (0, p.UPDATED, p.CANCELLED, p.PARTLY_CANCELLED)[stage]
        return status, at

    def _thin_pushes(self, sale: Sale, stage: int) -> list[tuple[bytes, dict[str, str]]]:
        """The platform's pushes announcing the order's `stage` (0 created, 1 updated, 2
        cancelled, 3 partly cancelled), its detail updated first."""
        status, at = self._stage(sale, stage)
        secret = self.fakes.secret(sale.channel)
        if sale.channel == "shopee":
            return [p.shopee_push(sale, status, at, secret, self.callback_url)]
        if sale.channel == "lazada" and stage == PARTLY:  # one push per item row cancelled
            rows = p.lazada_cancelled_rows(sale)
            return p.lazada_pushes(sale, "canceled", at, secret, rows)
        if sale.channel == "lazada":
            return p.lazada_pushes(sale, status, at, secret)
        hook = "CANCEL" if status == "CANCELLED" else status
        notification = str(7 * 10**18 + sale.n * 10 + stage)
        return [p.tiktok_push(sale, hook, at, notification, secret)]

    def _show(self, sale: Sale, stage: int) -> None:
        """What the platform's API answers about the order from now on."""
        status, at = self._stage(sale, stage)
        show = {
            "shopee": p.shopee_detail,
            "lazada": p.lazada_detail,
            "tiktok-shop": p.tiktok_detail,
            "tiki": p.tiki_detail,
        }[sale.channel]
        detail = show(sale, status, at, partial=True) if stage == PARTLY else show(sale, status, at)
        fake = {
            "shopee": self.fakes.shopee,
            "lazada": self.fakes.lazada,
            "tiktok-shop": self.fakes.tiktok,
            "tiki": self.fakes.tiki,
        }[sale.channel]
        fake.orders[sale.external_id] = detail

    async def _thin(self, sale: Sale) -> None:
        path = self._webhook(sale)
        first = 2 if sale.cancel == "first" else 1 if sale.update_first else 0
        self._show(sale, first)
        stages = [first, 0] if first else [0]
        for stage in stages:
            for i, push in enumerate(self._thin_pushes(sale, stage)):
                await self.send(sale, path, *push, create=stage == 0 and i == 0)
        if sale.duplicate:
            push = self._thin_pushes(sale, 0)[0]
            self.after(self.rng.uniform(0, 2), lambda: self.send(sale, path, *push))
        if sale.cancel == "mid":

            async def cancel() -> None:
                self._show(sale, 2)
                for push in self._thin_pushes(sale, 2):
                    await self.send(sale, path, *push)

            self.after(self.rng.uniform(0.3, 4), cancel)
        if sale.partial:

            async def partly() -> None:
                self._show(sale, PARTLY)
                for push in self._thin_pushes(sale, PARTLY):
                    await self.send(sale, path, *push)

            self.after(self.rng.uniform(0, 3), partly, sale)

    async def _tiki(self, sale: Sale) -> None:
        base = p.base_time(sale)
        created = p.tiki_event(sale, "ORDER_CREATED_SUCCESSFULLY", base)
        first = 2 if sale.cancel == "first" else 1 if sale.update_first else 0
        self._show(sale, first)
        if first:
            at = base + (0, p.UPDATED, p.CANCELLED)[first]
            self.fakes.tiki_queue.append(p.tiki_event(sale, "ORDER_STATUS_UPDATED", at))
        sale.posted_at = sale.posted_at or time.time()
        self.fakes.tiki_queue.append(created)
        sale.accepted = True
        self.accepted_at.append(time.time())
        if sale.duplicate:
            self.after(self.rng.uniform(0, 2), self._append(created))
        if sale.cancel == "mid":
            self.after(self.rng.uniform(0.3, 4), self._tiki_update(sale, 2))
        if sale.partial:
            self.after(self.rng.uniform(0, 3), self._tiki_update(sale, PARTLY), sale)

    def _tiki_update(self, sale: Sale, stage: int) -> Callable[[], Awaitable[None]]:
        async def update() -> None:
            self._show(sale, stage)
            at = self._stage(sale, stage)[1]
            self.fakes.tiki_queue.append(p.tiki_event(sale, "ORDER_STATUS_UPDATED", at))

        return update

    def _append(self, event: dict) -> Callable[[], Awaitable[None]]:
        async def append() -> None:
            self.fakes.tiki_queue.append(event)

        return append

    async def _manual(self, sale: Sale) -> None:
        body = json.dumps(p.manual_order(sale, state_total=sale.n % 2 == 0)).encode()
        headers = self.admin | {"content-type": "application/json"}
        await self.send(sale, "/orders", body, headers, create=True)
        if sale.duplicate:
            self.after(self.rng.uniform(0, 2), lambda: self.send(sale, "/orders", body, headers))
        if sale.cancel == "mid":
            path = f"/orders/{sale.order_id}/cancel"
            cancel = json.dumps({"reason": "khách gọi điện hủy đơn"}).encode()
            self.after(self.rng.uniform(0.3, 4), lambda: self.send(sale, path, cancel, headers))
        if sale.partial:
            index, units = sale.partial
            path = f"/orders/{sale.order_id}/cancel"
            lines = {sale.lines[index].product.sku: units}
            less = json.dumps({"reason": "khách bớt hàng", "lines": lines}).encode()
            self.after(self.rng.uniform(0, 3), lambda: self.send(sale, path, less, headers), sale)
