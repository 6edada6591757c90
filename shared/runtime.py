"""The service runtime: one process serves one service's consumers, outbox relay and HTTP API.

Starlette and FastStream share one lifespan: the database and the broker start before the HTTP
server accepts requests, and stop after it has drained.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from importlib.resources.abc import Traversable
from typing import Any

import asyncpg
import structlog
import uvicorn
from faststream.kafka import KafkaBroker
from starlette.applications import Starlette
from starlette.routing import BaseRoute

from shared.db.pool import create_pool, migrate
from shared.db.retention import check_inbox_retention, prune_forever
from shared.http import health_routes
from shared.logging import configure_logging
from shared.messaging.broker import build_broker, relay_publish
from shared.messaging.bus import MessageBus
from shared.messaging.consumer import Consumer, Subscription
from shared.messaging.lag import export_consumer_lag
from shared.messaging.outbox import OutboxRelay
from shared.settings import ServiceSettings

log = structlog.get_logger(__name__)


@dataclass
class Service:
    settings: ServiceSettings
    migrations: Traversable | None
    subscriptions: Sequence[Subscription] = ()
    routes: Callable[[Service], list[BaseRoute]] = lambda _: []
    run_relay: bool = True  # False where another process relays this database's outbox
    # Periodic jobs (expiry sweeps, wave cut-offs, reminders): each runs as a task from start()
    # to stop(), and is restarted if it crashes, so one bad pass never stops the job for good.
    background: Sequence[Callable[[Service], Awaitable[None]]] = ()
    job_restart_delay_s: float = 5.0
    bus: MessageBus[Any] | None = None  # what the routes hand their commands to (app.state.bus)
    freeze_gc_after_start: bool = False  # set by serve(): a process of its own (tune_gc)
    pool: asyncpg.Pool | None = None
    broker: KafkaBroker | None = None
    relay: OutboxRelay | None = None
    _housekeeping: asyncio.Task[None] | None = None
    _jobs: list[asyncio.Task[None]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.settings.service

    async def start(self) -> None:
        inbox_keep = timedelta(days=self.settings.inbox_keep_days)
        check_inbox_retention(inbox_keep)
        self.pool = await create_pool(self.settings.resolved_database_url(), max_size=10)
        async with self.pool.acquire() as conn:
            applied = await migrate(conn, self.name, self.migrations)
        if applied:
            log.info("db.migrated", applied=applied)
        self.broker = build_broker(self.settings)
        for sub in self.subscriptions:
            Consumer(self.broker, self.pool, self.settings, sub).register()
        await self.broker.start()
        if self.run_relay:
            self.relay = OutboxRelay(
                self.pool,
                self._publish,
                service=self.name,
                batch_size=self.settings.outbox_batch_size,
                poll_interval_s=self.settings.outbox_poll_interval_s,
            )
            await self.relay.start()
        self._housekeeping = asyncio.create_task(
            prune_forever(
                self.pool,
                outbox_keep=timedelta(days=self.settings.outbox_keep_days),
                inbox_keep=inbox_keep,
            ),
            name=f"prune-{self.name}",
        )
        self._jobs = [
            asyncio.create_task(self._supervise(job), name=f"{self.name}-{_job_name(job)}")
            for job in (*self.background, export_consumer_lag)  # every service exports its lag
        ]
        if self.freeze_gc_after_start:
            tune_gc()
        log.info("service.started", port=self.settings.resolved_http_port())

    async def _supervise(self, job: Callable[[Service], Awaitable[None]]) -> None:
        while True:
            try:
                await job(self)
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("background.crashed", job=_job_name(job))
                await asyncio.sleep(self.job_restart_delay_s)

    async def stop(self) -> None:
        tasks = [*self._jobs, *([self._housekeeping] if self._housekeeping else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._jobs = []
        if self.broker:
            await self.broker.stop()  # waits up to graceful_timeout for handlers in flight
        if self.relay:
            await self.relay.stop()
        if self.pool:
            await self.pool.close()
        log.info("service.stopped")

    async def _publish(
        self, topic: str, body: bytes, key: str, headers: dict[str, str]
    ) -> Awaitable[object]:
        """The relay's `Publish`: hands the record to the producer (acks=all, idempotent) and
        returns the future of the broker's acknowledgement, which the relay awaits."""
        assert self.broker is not None
        return await relay_publish(self.broker)(topic, body, key, headers)

    async def _check_db(self) -> None:
        assert self.pool is not None
        async with self.pool.acquire(timeout=2) as conn:
            await conn.fetchval("SELECT 1")

    async def _check_broker(self) -> None:
        assert self.broker is not None
        if not await self.broker.ping(timeout=2.0):
            raise ConnectionError("broker did not answer")

    def asgi(self) -> Starlette:
        @contextlib.asynccontextmanager
        async def lifespan(_: Starlette) -> AsyncIterator[None]:
            await self.start()
            try:
                yield
            finally:
                await self.stop()

        checks = {"database": self._check_db, "broker": self._check_broker}
        app = Starlette(
            # The service's own first: a webhook is matched without trying the probes' paths.
            routes=[*self.routes(self), *health_routes(checks)],
            lifespan=lifespan,
        )
        app.state.bus = self.bus
        return app


def tune_gc() -> None:
    """For a serving process, once started. Everything allocated so far (modules, schemas,
    phone metadata: most of the heap) is frozen out of the collector, so a full collection no
    longer walks it, and young collections run every 50,000 allocations instead of 700: at a
    thousand webhooks a second the defaults spent a fifth of the CPU collecting
    (bench/webhooks.py). Not for test processes, which start many services and would keep their
    garbage."""
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


def _job_name(job: Callable[..., object]) -> str:
    return getattr(job, "__name__", type(job).__name__)


def serve(service: Service) -> None:
    configure_logging(service.name, service.settings.log_level)
    service.freeze_gc_after_start = True
    config = uvicorn.Config(
        service.asgi(),
        host=service.settings.http_host,
        port=service.settings.resolved_http_port(),
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=int(service.settings.graceful_timeout_s),
    )
    uvicorn.Server(config).run()
