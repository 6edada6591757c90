"""The orders service's background jobs (run by shared.runtime.Service, restarted on crash):

- `apply_webhooks`: turn the queued full-order pushes into orders (webhook_queue.py).
- `fetch_details`: a thin push (Shopee, Lazada, TikTok Shop) or a Tiki event is persisted in
  `inbound_fetches` before it is acknowledged; this job fetches the order detail through the
  platform's API (retried with backoff inside an attempt; failed attempts rescheduled with a
  growing delay) and applies it. Nothing is lost when the platform's API is down.
- `poll_tiki`: Tiki has no push: pull each account's event queue, persist, then ack.
- `pull_shopee`: recover Shopee pushes that never arrived (orders updated in the last 3 days).
- `expire_reservations`: the reservation saga's timeout.
- `sync_stock`: push the latest stock figure of each listing to its platform (bursts coalesce:
  only the latest version is pushed).
- `watch_accounts`: drop a changed channel account from the webhook's cache (LISTEN).
- `sample_backlog`: the backlog gauges.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import structlog

from services.orders import handlers, webhook_queue
from services.orders.adapters import postgres as db
from services.orders.adapters.intake import NewOrderWriter
from services.orders.adapters.platforms import PlatformError, Unsupported, client_for
from services.orders.adapters.platforms.base import DEFAULT_TIMEOUT_S
from services.orders.adapters.platforms.registry import Account, parse_detail, read_push
from services.orders.adapters.platforms.shopee.client import ShopeeClient
from services.orders.adapters.platforms.tiki.client import TikiClient
from services.orders.domain.errors import OrderError
from services.orders.handlers import retry_delay_s
from services.orders.metrics import BACKLOG, DETAIL_FETCHES, STOCK_PUSHES
from services.orders.settings import OrdersSettings
from services.orders.state import State
from shared.runtime import Service

log = structlog.get_logger(__name__)
PerAccount = Callable[[asyncpg.Pool, httpx.AsyncClient, Account], Awaitable[int]]


def _platform_timeout_s(http: httpx.AsyncClient) -> float:
    """Each platform call gets the read timeout the jobs' client was made with (settings)."""
    return http.timeout.read or DEFAULT_TIMEOUT_S


async def fetch_once(pool: asyncpg.Pool, http: httpx.AsyncClient, limit: int = 20) -> int:
    async with pool.acquire() as conn, conn.transaction():
        due = await db.claim_fetches(conn, limit)
    for row in due:
        await _fetch_one(pool, http, row)
    return len(due)


async def _fetch_one(pool: asyncpg.Pool, http: httpx.AsyncClient, row: dict[str, Any]) -> None:
    platform, name = row["platform"], row["account"]
    structlog.contextvars.bind_contextvars(channel=platform, account=name)
    try:
        async with pool.acquire() as conn:
            account = await db.get_account(conn, platform, name)
        if account is None:
            raise PlatformError(f"no {platform} account {name!r}")
        client = client_for(account, http, _platform_timeout_s(http))
        detail = await client.fetch_order(row["external_id"])
        order = parse_detail(platform, detail, name)
    except (PlatformError, OrderError) as exc:
        delay = retry_delay_s(row["attempts"])
        DETAIL_FETCHES.labels(platform, type(exc).__name__).inc()
        log.warning(
            "fetch.failed", external_id=row["external_id"], error=str(exc), retry_in_s=delay
        )
        async with pool.acquire() as conn:
            await db.fetch_failed(conn, row["id"], f"{type(exc).__name__}: {exc}", delay)
        return
    async with pool.acquire() as conn, conn.transaction():
        accepted = await handlers.ingest(conn, order, source=f"{platform}:{row['delivery_id']}")
        await handlers.enqueue_all(conn, accepted.events, order.order_id)
        await db.fetch_done(conn, row["id"], order.order_id)
    DETAIL_FETCHES.labels(platform, "applied").inc()
    log.info("fetch.applied", order_id=order.order_id, outcome=accepted.outcome)


async def poll_tiki_once(pool: asyncpg.Pool, http: httpx.AsyncClient, account: Account) -> int:
    """Pull one batch of the account's queue, persist it, then ack (never ack before)."""
    client = TikiClient(account, http, _platform_timeout_s(http))
    ack_id, events = await client.pull_events()
    added = 0
    async with pool.acquire() as conn, conn.transaction():
        for event in events:
            push = read_push(account, event, {})
            if push.kind != "fetch" or push.external_id is None:
                log.info("tiki.event_ignored", type=event.get("type"))
                continue
            added += await db.add_fetch(
                conn, "tiki", account.account, push.external_id, push.delivery_id
            )
    if ack_id:
        await client.ack(ack_id)
    return added


SHOPEE_PULL_WINDOW = timedelta(days=3)  # how long Shopee keeps lost pushes pullable
PULL_OVERLAP = timedelta(minutes=10)


async def pull_shopee_once(
    pool: asyncpg.Pool, http: httpx.AsyncClient, account: Account, now: datetime | None = None
) -> int:
    """Recover lost Shopee pushes: list the orders updated since the last pull (at most 3 days
    back, with an overlap) and queue a detail fetch for each status not seen yet."""
    now = now or datetime.now(UTC)
    async with pool.acquire() as conn:
        since = await db.cursor(conn, "shopee", account.account)
    since = (
        max(since - PULL_OVERLAP, now - SHOPEE_PULL_WINDOW) if since else (now - SHOPEE_PULL_WINDOW)
    )
    found = await ShopeeClient(account, http, _platform_timeout_s(http)).orders_updated(
        int(since.timestamp()), int(now.timestamp())
    )
    added = 0
    async with pool.acquire() as conn, conn.transaction():
        for sn, status in found:
            added += await db.add_fetch(conn, "shopee", account.account, sn, f"pull:{sn}:{status}")
        await db.set_cursor(conn, "shopee", account.account, now)
    return added


async def push_stock_once(pool: asyncpg.Pool, http: httpx.AsyncClient, limit: int = 50) -> int:
    async with pool.acquire() as conn, conn.transaction():
        due = await db.claim_stock_pushes(conn, limit)
    for row in due:
        key = (row["channel"], row["account"], row["channel_sku"])
        try:
            async with pool.acquire() as conn:
                account = await db.get_account(conn, row["channel"], row["account"])
            if account is None:
                raise Unsupported(f"no {row['channel']} account {row['account']!r}")
            client = client_for(account, http, _platform_timeout_s(http))
            await client.update_stock(row["channel_sku"], row["available"])
        except Unsupported as exc:
            STOCK_PUSHES.labels(row["channel"], "unsupported").inc()
            async with pool.acquire() as conn:
                await db.stock_pushed(conn, *key, row["version"], note=str(exc))
            continue
        except PlatformError as exc:
            STOCK_PUSHES.labels(row["channel"], "failed").inc()
            log.warning("stock.push_failed", channel_sku=row["channel_sku"], error=str(exc))
            async with pool.acquire() as conn:
                await db.stock_push_failed(conn, *key, str(exc), retry_delay_s(row["attempts"]))
            continue
        STOCK_PUSHES.labels(row["channel"], "pushed").inc()
        async with pool.acquire() as conn:
            await db.stock_pushed(conn, *key, row["version"])
    return len(due)


BACKLOG_SQL = """SELECT
    (SELECT count(*) FROM webhook_queue WHERE rejected_reason IS NULL) AS queued_webhooks,
    (SELECT count(*) FROM webhook_queue WHERE rejected_reason IS NOT NULL) AS rejected_webhooks,
    (SELECT count(*) FROM inbound_fetches WHERE state = 'pending') AS pending_fetches,
    (SELECT count(*) FROM listing_stock WHERE pushed_version IS DISTINCT FROM version)
        AS stock_pushes,
    (SELECT count(*) FROM orders WHERE status = 'ON_HOLD') AS on_hold,
    (SELECT count(*) FROM orders WHERE status = 'PENDING_STOCK') AS pending_stock"""


async def sample_backlog_once(pool: asyncpg.Pool) -> dict[str, int]:
    async with pool.acquire() as conn:
        row = dict(await conn.fetchrow(BACKLOG_SQL))
    for kind, value in row.items():
        BACKLOG.labels(kind).set(value)
    return row


@dataclass(frozen=True)
class Jobs:
    """The service's jobs, bound to its settings and to the state its webhook route shares."""

    settings: OrdersSettings
    state: State

    def all(self) -> tuple[Callable[[Service], Awaitable[None]], ...]:
        return (
            self.apply_webhooks,
            self.fetch_details,
            self.poll_tiki,
            self.pull_shopee,
            self.expire_reservations,
            self.sync_stock,
            self.watch_accounts,
            self.sample_backlog,
        )

    def _platform_http(self) -> httpx.AsyncClient:
        seconds = self.settings.platform_timeout_s
        return httpx.AsyncClient(timeout=httpx.Timeout(seconds, connect=min(seconds, 3.0)))

    async def apply_webhooks(self, service: Service) -> None:
        """Apply queued full-order pushes (services/orders/webhook_queue.py) as they arrive."""
        depth, wake = self.state.queue_depth, self.state.webhook_wake
        pacer = webhook_queue.Pacer(
            depth,
            burst_rate=self.settings.webhook_burst_rate,
            max_lag_s=self.settings.webhook_max_lag_s,
        )
        writer = NewOrderWriter(lambda: service.pool)
        try:
            while True:
                wake.clear()
                await pacer.wait_turn()
                if await webhook_queue.apply_once(_pool(service), writer, depth):
                    continue
                pacer.caught_up()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.settings.webhook_poll_s):
                        await wake.wait()
        finally:
            await writer.close()

    async def fetch_details(self, service: Service) -> None:
        wake = self.state.fetch_wake
        async with self._platform_http() as http:
            while True:
                wake.clear()
                if await fetch_once(_pool(service), http):
                    continue
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.settings.fetch_poll_s):
                        await wake.wait()

    async def poll_tiki(self, service: Service) -> None:
        await self._each_account_every(service, "tiki", self.settings.tiki_poll_s, poll_tiki_once)

    async def pull_shopee(self, service: Service) -> None:
        every = self.settings.shopee_pull_s
        await self._each_account_every(service, "shopee", every, pull_shopee_once)

    async def _each_account_every(
        self, service: Service, platform: str, every: float, once: PerAccount
    ) -> None:
        """Run `once(pool, http, account)` for each of the platform's accounts every `every`
        seconds; one account's platform error is logged and never stops the others. What `once`
        queues is fetched at once."""
        async with self._platform_http() as http:
            while True:
                async with _pool(service).acquire() as conn:
                    accounts = await db.accounts_of(conn, platform)
                for account in accounts:
                    try:
                        if await once(_pool(service), http, account):
                            self.state.fetch_wake.set()
                    except PlatformError as exc:
                        log.warning(
                            f"{platform}.pull_failed", account=account.account, error=str(exc)
                        )
                await asyncio.sleep(every)

    async def expire_reservations(self, service: Service) -> None:
        while True:
            async with _pool(service).acquire() as conn, conn.transaction():
                for accepted in await handlers.expire_reservations(conn):
                    log.warning("order.reservation_timed_out", order_id=accepted.order_id)
            await asyncio.sleep(self.settings.saga_sweep_s)

    async def sync_stock(self, service: Service) -> None:
        # The pause between passes is what coalesces a burst: every level that arrives meanwhile
        # overwrites the listing's pending figure, and one push carries the latest.
        async with self._platform_http() as http:
            while True:
                await push_stock_once(_pool(service), http)
                await asyncio.sleep(self.settings.stock_sync_s)

    async def watch_accounts(self, service: Service) -> None:
        """Drop a channel account from the webhook's cache as soon as it changes."""
        accounts = self.state.accounts

        def changed(_conn, _pid, _channel, payload: str) -> None:
            accounts.forget(payload)

        async with _pool(service).acquire() as conn:
            await conn.add_listener("channel_accounts", changed)
            accounts.forget()  # whatever was cached before we listened may be stale
            try:
                while True:
                    await asyncio.sleep(3600)
            finally:
                await conn.remove_listener("channel_accounts", changed)

    async def sample_backlog(self, service: Service) -> None:
        """Backlog gauges for alerts: a platform API down shows as pending fetches growing."""
        while True:
            row = await sample_backlog_once(_pool(service))
            self.state.queue_depth.sampled(row["queued_webhooks"])
            await asyncio.sleep(self.settings.backlog_sample_s)


def _pool(service: Service) -> asyncpg.Pool:
    assert service.pool is not None, "jobs run between the service's start and stop"
    return service.pool
