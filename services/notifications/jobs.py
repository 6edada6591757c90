"""Background jobs (run by shared.runtime.Service, restarted if they crash): the digest flush
and the pickup reminders. Each pass works in short transactions, so a crash leaves every held
alert or reminder either turned into its message or still waiting."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable

import asyncpg
import structlog

from services.notifications.adapters import postgres as db
from services.notifications.domain import templates as t
from services.notifications.domain.messages import DigestOrder, ProducerAlertLine, render_digest
from services.notifications.notifier import Notifier, OutgoingSms, Recipient, Source

log = structlog.get_logger(__name__)


def _shipment_refs(row: asyncpg.Record) -> dict[str, str | None]:
    return {k: row[k] for k in ("producer_id", "order_id", "shipment_id")}


def _lines(raw: str) -> tuple[ProducerAlertLine, ...]:
    return tuple(ProducerAlertLine(**line) for line in json.loads(raw))


async def flush_digest(conn: asyncpg.Connection, notifier: Notifier) -> int:
    """Turn one producer's held new-order alerts, whose window closed, into one SMS; in the
    caller's transaction, so the alerts are either all in that message or all still held."""
    rows = sorted(await db.take_due_digest(conn), key=lambda r: r["id"])
    if not rows:
        return 0
    first = rows[0]
    to = Recipient(first["recipient"], first["language"], first["diacritics"], first["tz"])
    budget = notifier.settings.producer_sms_budget
    sms = render_digest(
        orders=[DigestOrder(r["order_ref"], _lines(r["lines"])) for r in rows],
        pickup_start=min(r["window_start"] for r in rows),
        pickup_end=max(r["window_end"] for r in rows),
        language=to.language,
        diacritics=to.diacritics,
        tz=to.tz,
        segment_budget=budget,
    )
    source = Source(first["event_id"], first["correlation_id"], min(r["event_at"] for r in rows))
    out = OutgoingSms(source, t.NEW_ORDER, to, budget, _shipment_refs(first), rendered=sms)
    await notifier.sms(db.PostgresMessages(conn), out)
    log.info("sms.digest_flushed", orders=len(rows), producer_id=first["producer_id"])
    return len(rows)


async def send_due_reminders(conn: asyncpg.Connection, notifier: Notifier, limit: int = 50) -> int:
    """Pickup reminders whose time came, each recorded as a message in the caller's
    transaction (the reminder is marked sent in the same one)."""
    rows = await db.take_due_reminders(conn, limit)
    for r in rows:
        out = OutgoingSms(
            Source(r["source_event_id"], r["correlation_id"], r["remind_at"]),
            t.PICKUP_REMINDER,
            Recipient(r["recipient"], r["language"], r["diacritics"], r["tz"]),
            notifier.settings.producer_sms_budget,
            _shipment_refs(r),
            context={"ref": r["order_ref"], "start": r["window_start"], "end": r["window_end"]},
            lines=_lines(r["lines"]),
        )
        await notifier.sms(db.PostgresMessages(conn), out)
    return len(rows)


Pass = Callable[[asyncpg.Connection, Notifier], Awaitable[int]]


def _job(name: str, work: Pass, notifier: Notifier):
    async def job(service) -> None:
        while True:
            async with service.pool.acquire() as conn:
                while True:
                    async with conn.transaction():
                        if not await work(conn, notifier):
                            break
            await asyncio.sleep(notifier.settings.jobs_interval_s)

    job.__name__ = job.__qualname__ = name  # how a crash is logged
    return job


def digest_job(notifier: Notifier):
    return _job("flush_digests", flush_digest, notifier)


def reminder_job(notifier: Notifier):
    return _job("pickup_reminders", send_due_reminders, notifier)
