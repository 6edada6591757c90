"""What the soak reads back from the running system: whether it is quiet (nothing queued,
nothing unsent, no consumer behind), and everything the four services stored, straight from
their databases and the dead-letter topics."""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from shared.contracts.parts import ORDERS, PICKUPS, RESERVATIONS, SHIPMENTS, STOCK, TRACKING
from shared.contracts.topics import DLQ_PARTITIONS, TOPICS
from shared.db.pool import connect
from shared.messaging.lag import LagMonitor

SERVICES = ("orders", "catalog", "logistics", "notifications")
# Each service's consumer group (named after it) and the topics its bootstrap subscribes to.
GROUP_TOPICS = {
    "orders": (RESERVATIONS, PICKUPS, SHIPMENTS, STOCK),
    "catalog": (ORDERS, SHIPMENTS),
    "logistics": (RESERVATIONS, "logistics.planning.v1", ORDERS, TRACKING),
    "notifications": (PICKUPS, STOCK, ORDERS, SHIPMENTS),
}
BACKLOG = {
    "orders": {
        "queued pushes": "SELECT count(*) FROM webhook_queue WHERE rejected_reason IS NULL",
        "pending fetches": "SELECT count(*) FROM inbound_fetches WHERE state = 'pending'",
        "stock pushes": "SELECT count(*) FROM listing_stock"
        " WHERE pushed_version IS DISTINCT FROM version",
    },
    "catalog": {"stock events owed": "SELECT count(*) FROM stock_dirty"},
    "logistics": {},
    "notifications": {"SMS not sent": "SELECT count(*) FROM sms_messages"
                      " WHERE status IN ('QUEUED', 'SENDING', 'RETRYING')"},
}  # fmt: skip
UNSENT = "SELECT count(*) FROM outbox WHERE sent_at IS NULL"
# What the catalog alerts at when a product names no threshold of its own.
DEFAULT_LOW_STOCK = int(os.environ.get("CATALOG_LOW_STOCK_THRESHOLD", "5"))


async def backlog(env: dict[str, str], monitors: list[LagMonitor]) -> dict[str, int]:
    """Everything still to do, by what it is (empty: the system is quiet)."""
    left: dict[str, int] = {}
    for service in SERVICES:
        conn = await connect(env[f"{service.upper()}_DATABASE_URL"])
        try:
            checks = {"outbox unsent": UNSENT, **BACKLOG[service]}
            for what, sql in checks.items():
                if count := await conn.fetchval(sql):
                    left[f"{service}: {what}"] = count
        finally:
            await conn.close()
    for monitor in monitors:
        if lag := sum((await monitor.measure()).values()):
            left[f"{monitor.group}: consumer lag"] = lag
    return left


async def wait_quiet(
    env: dict[str, str], bootstrap: str, timeout: float, extra=lambda: {}
) -> tuple[bool, dict[str, int], float]:
    """Until three looks two seconds apart find nothing left: (quiet, what was left, seconds)."""
    started, calm = time.monotonic(), 0
    left: dict[str, int] = {}
    monitors = [LagMonitor(bootstrap, g, t, service="soak") for g, t in GROUP_TOPICS.items()]
    for monitor in monitors:
        await monitor.start()
    try:
        while time.monotonic() - started < timeout:
            left = await backlog(env, monitors) | extra()
            calm = 0 if left else calm + 1
            if calm >= 3:
                return True, {}, time.monotonic() - started
            await asyncio.sleep(2)
    finally:
        for monitor in monitors:
            await monitor.stop()
    return False, left, time.monotonic() - started


@dataclass
class Stored:
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    history: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    reservations: dict[str, dict[str, dict]] = field(default_factory=lambda: defaultdict(dict))
    reserve_rows: Counter = field(default_factory=Counter)  # (order, sku) -> RESERVE rows
    stock: dict[str, dict[str, int]] = field(default_factory=dict)
    thresholds: dict[str, int] = field(default_factory=dict)
    ledger: dict[str, dict[str, int]] = field(default_factory=dict)
    listings: list[dict[str, str]] = field(default_factory=list)
    shipments: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    sms: list[dict[str, Any]] = field(default_factory=list)
    dead_letters: list[str] = field(default_factory=list)


async def read_stored(env: dict[str, str], bootstrap: str) -> Stored:
    out = Stored()
    conn = await connect(env["ORDERS_DATABASE_URL"])
    try:
        for r in await conn.fetch("SELECT order_id, status, hold_reason, canonical FROM orders"):
            out.orders[r["order_id"]] = dict(r)
        for r in await conn.fetch(
            "SELECT order_id, status, reason, source, changed_at FROM order_status_history"
            " ORDER BY id"
        ):
            out.history[r["order_id"]].append(dict(r))
        for r in await conn.fetch(
            "SELECT id, platform, account, rejected_reason FROM webhook_queue"
            " WHERE rejected_reason IS NOT NULL"
        ):
            out.dead_letters.append(
                f"orders webhook_queue #{r['id']} ({r['platform']}/{r['account']}): "
                f"{r['rejected_reason']}"
            )
        for r in await conn.fetch(
            "SELECT platform, external_id, attempts, last_error FROM inbound_fetches"
            " WHERE state = 'pending'"
        ):
            out.dead_letters.append(
                f"orders inbound_fetches {r['platform']} {r['external_id']} still pending after "
                f"{r['attempts']} attempts: {r['last_error']}"
            )
    finally:
        await conn.close()
    conn = await connect(env["CATALOG_DATABASE_URL"])
    try:
        for r in await conn.fetch("SELECT * FROM reservations"):
            out.reservations[r["order_id"]][r["sku"]] = dict(r)
        for r in await conn.fetch(
            "SELECT order_id, sku, count(*) AS n FROM stock_ledger WHERE reason = 'RESERVE'"
            " GROUP BY order_id, sku"
        ):
            out.reserve_rows[(r["order_id"], r["sku"])] = r["n"]
        for r in await conn.fetch("SELECT sku, on_hand, reserved, available FROM stock_items"):
            out.stock[r["sku"]] = dict(r)
        for r in await conn.fetch("SELECT sku, low_stock_threshold FROM products"):
            threshold = r["low_stock_threshold"]
            out.thresholds[r["sku"]] = DEFAULT_LOW_STOCK if threshold is None else threshold
        for r in await conn.fetch(
            """SELECT sku, sum(delta_on_hand) AS on_hand, sum(delta_reserved) AS reserved,
                      sum(delta_on_hand) FILTER (WHERE reason IN ('INITIAL', 'ADJUST')) AS stocked,
                      count(*) FILTER (WHERE reason = 'CONFIRM') AS confirms
               FROM stock_ledger GROUP BY sku"""
        ):
            out.ledger[r["sku"]] = {k: int(r[k] or 0) for k in ("on_hand", "reserved", "stocked")}
        out.listings = [dict(r) for r in await conn.fetch("SELECT * FROM channel_listings")]
    finally:
        await conn.close()
    conn = await connect(env["LOGISTICS_DATABASE_URL"])
    try:
        for r in await conn.fetch(
            "SELECT shipment_id, order_id, producer_id, status, hold_reason, lines FROM shipments"
        ):
            out.shipments[r["order_id"]].append(dict(r))
    finally:
        await conn.close()
    conn = await connect(env["NOTIFICATIONS_DATABASE_URL"])
    try:
        out.sms = [
            dict(r)
            for r in await conn.fetch(
                "SELECT message_type, recipient, order_id, producer_id, shipment_id, status,"
                " created_at, text FROM sms_messages"
            )
        ]
        for r in out.sms:
            if r["status"] in ("FAILED", "UNKNOWN"):
                out.dead_letters.append(
                    f"notifications {r['message_type']} to {r['recipient']} for order "
                    f"{r['order_id']}: {r['status']}"
                )
    finally:
        await conn.close()
    out.dead_letters += await kafka_dead_letters(bootstrap)
    return out


async def kafka_dead_letters(bootstrap: str) -> list[str]:
    """Every record on a `<topic>.dlq`, with the reason the consumer gave."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    found: list[str] = []
    try:
        parts = [TopicPartition(t.dlq, p) for t in TOPICS for p in range(DLQ_PARTITIONS)]
        ends = await consumer.end_offsets(parts)
        parts = [tp for tp in parts if ends[tp] > 0]
        if not parts:
            return []
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        remaining = {tp: ends[tp] for tp in parts}
        deadline = time.monotonic() + 30
        while any(remaining.values()) and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=1000)
            for tp, records in batch.items():
                for rec in records:
                    remaining[tp] = max(0, ends[tp] - rec.offset - 1)
                    headers = {k: v.decode(errors="replace") for k, v in rec.headers}
                    found.append(
                        f"{tp.topic}: {headers.get('consumer', '?')} "
                        f"{headers.get('error_type', '?')}: {headers.get('error_message', '?')}"
                        f" (key {rec.key!r})"
                    )
    finally:
        await consumer.stop()
    return found


async def stages(env: dict[str, str]) -> dict[str, list[float]]:
    """Where the time went, from the databases' own clocks: each event's wait from its outbox
    row to the broker's acknowledgement, then to each consumer's transaction; and a thin push's
    wait for its detail fetch."""
    sent: dict[Any, tuple[str, str, Any]] = {}
    seen: list[tuple[str, Any, Any]] = []
    out: dict[str, list[float]] = defaultdict(list)
    for service in SERVICES:
        conn = await connect(env[f"{service.upper()}_DATABASE_URL"])
        try:
            for r in await conn.fetch(
                "SELECT event_id, event_type, created_at, sent_at FROM outbox"
                " WHERE sent_at IS NOT NULL"
            ):
                sent[r["event_id"]] = (service, r["event_type"], r["sent_at"])
                wait = (r["sent_at"] - r["created_at"]).total_seconds()
                out[f"{service} {r['event_type']}: outbox -> broker"].append(wait)
            for r in await conn.fetch("SELECT event_id, processed_at FROM processed_messages"):
                seen.append((service, r["event_id"], r["processed_at"]))
            if service == "orders":
                for r in await conn.fetch(
                    "SELECT created_at, done_at FROM inbound_fetches WHERE state = 'done'"
                ):
                    out["orders: thin push -> detail applied"].append(
                        (r["done_at"] - r["created_at"]).total_seconds()
                    )
        finally:
            await conn.close()
    for consumer, event_id, at in seen:
        if event_id in sent:
            _, event_type, acked = sent[event_id]
            out[f"{event_type} -> {consumer}: broker -> consumed"].append(
                (at - acked).total_seconds()
            )
    return {k: v for k, v in out.items() if len(v) >= 20}
