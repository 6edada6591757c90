"""Catalog use cases: reserve an order's stock, all lines or none, and tell the journey."""

from __future__ import annotations

from collections import defaultdict

import asyncpg
import structlog

from services.catalog.adapters import postgres as db
from services.catalog.domain.model import LocalizedText, Producer, Product
from services.catalog.domain.stock import Problem, Rejected
from shared.contracts.envelope import Envelope
from shared.contracts.events import (
    Contact,
    Location,
    OrderPlaced,
    ProducerAllocation,
    RejectedLine,
    ReservedLine,
    StockRejected,
    StockReserved,
)

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
    decision = await db.reserve_for_order(conn, event.order_id, lines)
    if isinstance(decision, Rejected):
        return [rejection(event.order_id, decision)]
    skus = [sku for sku, _ in decision.lines]
    products = await db.get_products(conn, skus)
    producers = await db.get_producers_for_skus(conn, skus)
    return [
        StockReserved(
            order_id=event.order_id,
            order_ref=event.order_ref,
            allocations=allocations(decision.lines, products, producers),
        )
    ]


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
    extra = text.model_extra or {}
    return getattr(text, language, None) or extra.get(language) or text.en


def allocations(
    reserved: tuple[tuple[str, int], ...],
    products: dict[str, Product],
    producers: dict[str, Producer],
) -> list[ProducerAllocation]:
    """Group the reserved lines by producer: each producer prepares its own parcel."""
    by_producer: dict[str, list[ReservedLine]] = defaultdict(list)
    for sku, quantity in reserved:
        product, producer = products[sku], producers[sku]
        name = in_language(product.names, producer.sms_language)
        by_producer[producer.producer_id].append(
            ReservedLine(sku=sku, name=name, quantity=quantity, weight_g=product.weight_g)
        )
    result = []
    for producer_id, lines in sorted(by_producer.items()):
        p = next(p for p in producers.values() if p.producer_id == producer_id)
        result.append(
            ProducerAllocation(
                producer_id=producer_id,
                contact=Contact(**p.model_dump(include=set(Contact.model_fields))),
                location=Location(**p.model_dump(include=set(Location.model_fields))),
                lines=lines,
            )
        )
    return result
