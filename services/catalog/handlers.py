"""Catalog use cases: reserve an order's stock (all lines or none), release it on cancellation
or expiry, confirm it on pickup, and announce stock levels (coalesced) and low stock.

Consumer handlers take a connection inside the consumer's transaction and return the events to
publish; the periodic jobs (bootstrap) call the `*_pass` functions in a transaction of their
own and write the returned events to the outbox in it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping
from datetime import timedelta

import asyncpg
import structlog

from services.catalog import metrics
from services.catalog.adapters import postgres as db
from services.catalog.domain import LowStock, low_stock_transition
from services.catalog.domain.model import LocalizedText, Producer, Product
from services.catalog.domain.stock import Problem, Rejected
from shared.contracts.envelope import Envelope, Event
from shared.contracts.events import (
    ChannelListingRef,
    Contact,
    Location,
    LowStockDetected,
    OrderCancelled,
    OrderPlaced,
    ProducerAllocation,
    RejectedLine,
    ReservedLine,
    StockLevelChanged,
    StockRejected,
    StockReserved,
)
from shared.contracts.logistics import ShipmentPickedUp

log = structlog.get_logger(__name__)

_REASONS = {
    Problem.UNKNOWN_SKU: "unknown_sku",
    Problem.INSUFFICIENT_STOCK: "insufficient_stock",
    Problem.NON_POSITIVE_QUANTITY: "invalid_quantity",
}


async def reserve_stock(conn: asyncpg.Connection, env: Envelope, event: OrderPlaced):
    structlog.contextvars.bind_contextvars(order_id=event.order_id)
    channel_skus = [line.channel_sku for line in event.lines if line.channel_sku]
    listed = await db.map_channel_skus(conn, event.channel, event.account, channel_skus)
    # A line maps through the account's listing; a shop that uses our SKUs needs no listing.
    lines = [
        (listed.get(line.channel_sku or "") or line.sku or line.channel_sku or "", line.quantity)
        for line in event.lines
    ]
    channel_skus: dict[str, set[str]] = defaultdict(set)
    for (sku, _), line in zip(lines, event.lines, strict=True):
        if line.channel_sku and line.channel_sku != sku:
            channel_skus[sku].add(line.channel_sku)
    decision = await db.reserve_for_order(conn, event.order_id, lines)
    if isinstance(decision, Rejected):
        metrics.RESERVATIONS.labels("rejected").inc()
        log.info("stock.rejected", problems=[p.problem.value for p in decision.problems])
        return [rejection(event.order_id, decision)]
    metrics.RESERVATIONS.labels("replayed" if decision.replayed else "reserved").inc()
    skus = [sku for sku, _ in decision.lines]
    products = await db.get_products(conn, skus)
    producers = await db.get_producers_for_skus(conn, skus)
    return [
        StockReserved(
            order_id=event.order_id,
            order_ref=event.order_ref,
            allocations=allocations(decision.lines, products, producers, channel_skus),
            cod_amount=event.cod_amount,
            currency=event.currency,
            shipping_address=event.shipping_address,
        )
    ]


async def release_on_cancel(
    conn: asyncpg.Connection, env: Envelope, event: OrderCancelled
) -> list[Event]:
    """Gives the order's held units back: all of them, or the cancelled lines'.

    Units already picked up are not on the shelf any more (`after_pickup`: logistics turns the
    parcel into a return), so only what is still held is released; unless the pickup, heard of
    first, happened after this cancellation: then its cancelled units were never in the parcel
    (the outcome does not depend on which of the two topics is read first)."""
    structlog.contextvars.bind_contextvars(order_id=event.order_id)
    lines = None
    if event.lines:
        ours = await db.map_cancelled_skus(conn, event.order_id, [ln.sku for ln in event.lines])
        lines = [(ours.get(line.sku, line.sku), line.quantity) for line in event.lines]
    released = await db.release_for_order(
        conn, event.order_id, lines, cancelled_at=env.occurred_at, after_pickup=event.after_pickup
    )
    metrics.RELEASED_UNITS.labels("cancelled").inc(sum(q for _, q in released))
    log.info("stock.released", lines=released, partial=bool(event.lines))
    return []


async def confirm_on_pickup(
    conn: asyncpg.Connection, env: Envelope, event: ShipmentPickedUp
) -> list[Event]:
    """The producer's parcel left with the courier: its units leave on-hand stock for good,
    including units a cancellation released that happened after the pickup (its event came
    first on the other topic)."""
    structlog.contextvars.bind_contextvars(order_id=event.order_id, shipment_id=event.shipment_id)
    confirmed = await db.confirm_for_pickup(
        conn, event.order_id, event.producer_id, event.occurred_at
    )
    if confirmed:
        metrics.CONFIRMED_UNITS.inc(sum(q for _, q in confirmed))
        log.info("stock.confirmed", lines=confirmed, producer_id=event.producer_id)
    else:
        # A replay, or a reservation released (expired, or cancelled before the pickup).
        log.warning("stock.pickup_without_held_stock", producer_id=event.producer_id)
    return []


async def expire_pass(pool: asyncpg.Pool, ttl: timedelta, limit: int = 100) -> int:
    """Releases reservations held longer than `ttl`, one order per transaction; returns how many
    orders it released."""
    async with pool.acquire() as conn:
        order_ids = await db.orders_held_since(conn, ttl, limit)
    count = 0
    for order_id in order_ids:
        async with pool.acquire() as conn, conn.transaction():
            released = await db.release_for_order(conn, order_id, reason="EXPIRE")
        if released:
            count += 1
            metrics.RELEASED_UNITS.labels("expired").inc(sum(q for _, q in released))
            log.info("stock.expired", order_id=order_id, lines=released)
    return count


async def stock_events_pass(
    conn: asyncpg.Connection, default_threshold: int, limit: int = 500
) -> list[Event]:
    """One StockLevelChanged per SKU whose stock moved since the last pass (its latest figure),
    and a LowStockDetected when a SKU crossed to at or below its threshold."""
    changed = await db.drain_stock_changes(conn, limit)
    if not changed:
        return []
    skus = [r["sku"] for r in changed]
    listings = await db.listings_for_skus(conn, skus)
    producers = await db.get_producers_for_skus(conn, skus)
    products = await db.get_products(conn, skus)
    events: list[Event] = []
    for row in changed:
        sku = row["sku"]
        events.append(
            StockLevelChanged(
                sku=sku,
                producer_id=row["producer_id"],
                on_hand=row["on_hand"],
                reserved=row["reserved"],
                available=row["available"],
                version=row["version"],
                listings=[
                    ChannelListingRef(channel=c, account=a, channel_sku=cs)
                    for c, a, cs in listings.get(sku, [])
                ],
            )
        )
        metrics.STOCK_CHANGES_COALESCED.inc(row["changes"] - 1)
        threshold = row["low_stock_threshold"]
        threshold = default_threshold if threshold is None else threshold
        transition = low_stock_transition(row["available"], threshold, row["alerted"])
        if transition is LowStock.ALERT:
            producer = producers[sku]
            await db.set_low_stock_alert(conn, sku, True, row["available"], threshold)
            events.append(
                LowStockDetected(
                    sku=sku,
                    product_name=in_language(products[sku].names, producer.sms_language),
                    producer_id=producer.producer_id,
                    contact=_contact(producer),
                    available=row["available"],
                    threshold=threshold,
                )
            )
        elif transition is LowStock.CLEAR:
            await db.set_low_stock_alert(conn, sku, False)
    for event in events:
        metrics.STOCK_EVENTS.labels(event.event_type).inc()
    return events


def _contact(p: Producer) -> Contact:
    return Contact(**p.model_dump(include=set(Contact.model_fields)))


def rejection(order_id: str, decision: Rejected) -> StockRejected:
    lines = [
        RejectedLine(
            sku=p.sku or "",
            reason=_REASONS[p.problem],  # type: ignore[arg-type]
            requested=p.requested_total or p.quantity or 0,
            available=p.available or 0,
        )
        for p in decision.problems
        if p.problem in _REASONS
    ]
    reason = "; ".join(sorted({f"{line.reason}: {line.sku}" for line in lines})) or (
        decision.problems[0].problem.value.lower()
    )
    return StockRejected(order_id=order_id, reason=reason, lines=lines)


def in_language(text: LocalizedText, language: str) -> str:
    """The text in the producer's language, else English (every product has both vi and en)."""
    return text.in_language(language)


def allocations(
    reserved: tuple[tuple[str, int], ...],
    products: dict[str, Product],
    producers: dict[str, Producer],
    channel_skus: Mapping[str, Collection[str]] | None = None,
) -> list[ProducerAllocation]:
    """Group the reserved lines by producer: each producer prepares its own parcel."""
    by_producer: dict[str, list[ReservedLine]] = defaultdict(list)
    for sku, quantity in reserved:
        product, producer = products[sku], producers[sku]
        name = in_language(product.names, producer.sms_language)
        by_producer[producer.producer_id].append(
            ReservedLine(
                sku=sku,
                channel_skus=sorted((channel_skus or {}).get(sku, ())),
                name=name,
                quantity=quantity,
                weight_g=product.weight_g,
                volume_ml=product.volume_ml,
                perishable=product.perishable,
            )
        )
    result = []
    for producer_id, lines in sorted(by_producer.items()):
        p = next(p for p in producers.values() if p.producer_id == producer_id)
        result.append(
            ProducerAllocation(
                producer_id=producer_id,
                contact=_contact(p),
                location=Location(**p.model_dump(include=set(Location.model_fields))),
                lines=lines,
            )
        )
    return result
