"""The orders service's use cases. Each takes a connection inside a transaction and returns the
events to publish; the caller writes them to the outbox in the same transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal

import asyncpg
import structlog

from services.orders.adapters import postgres as db
from services.orders.domain.model import CanonicalOrder
from services.orders.domain.status import OrderStatus, can_transition
from shared.contracts.envelope import Envelope
from shared.contracts.events import (
    OrderConfirmed,
    OrderLine,
    OrderPlaced,
    OrderRejected,
    StockRejected,
    StockReserved,
)

log = structlog.get_logger(__name__)
SERVICE = "orders"


@dataclass(frozen=True)
class Accepted:
    outcome: Literal["created", "duplicate_delivery", "known_order"]
    order_id: str
    events: list[OrderPlaced]


def order_placed(order: CanonicalOrder) -> OrderPlaced:
    return OrderPlaced(
        order_id=order.order_id,
        channel=order.channel,
        account=order.account,
        external_id=order.external_id,
        order_ref=order.channel_order_name or order.external_id,
        currency=order.currency,
        total=order.total,
        cod_amount=order.payment.cod_amount,
        lines=[
            OrderLine(
                sku=line.sku,
                channel_sku=line.channel_sku,
                name=line.name,
                quantity=line.quantity,
                unit_price=line.unit_price,
            )
            for line in order.lines
        ],
        province=order.shipping_address.province if order.shipping_address else None,
        placed_at=order.placed_at,
    )


def event_id_for(order_id: str, event_type: str) -> uuid.UUID:
    """One event id per (order, event type): a racing second insert is dropped by the outbox."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"ovop:{order_id}:{event_type}")


async def accept_order(
    conn: asyncpg.Connection,
    order: CanonicalOrder,
    *,
    delivery_id: str,
    topic: str | None,
    raw_body: bytes,
) -> Accepted:
    """Store the raw delivery and the canonical order; a new order yields OrderPlaced."""
    if not await db.record_delivery(
        conn, order.channel, order.account, delivery_id, topic, raw_body
    ):
        return Accepted("duplicate_delivery", order.order_id, [])
    await db.link_delivery(conn, order.channel, order.account, delivery_id, order.order_id)
    if not await db.insert_order(conn, order, source=f"{order.channel}:{delivery_id}"):
        return Accepted("known_order", order.order_id, [])
    return Accepted("created", order.order_id, [order_placed(order)])


async def _move(
    conn: asyncpg.Connection, order_id: str, target: OrderStatus, reason: str | None, source: str
) -> bool:
    order = await db.lock_order(conn, order_id)
    if order is None:
        raise LookupError(f"order {order_id} is unknown")
    if order.status == target:
        return False
    if not can_transition(order.status, target):
        log.warning(
            "order.transition_refused", order_id=order_id, current=order.status, target=target
        )
        return False
    await db.save_status(conn, order.model_copy(update={"status": target}), reason, source)
    return True


async def on_stock_reserved(conn: asyncpg.Connection, env: Envelope, event: StockReserved):
    structlog.contextvars.bind_contextvars(order_id=event.order_id)
    if await _move(conn, event.order_id, OrderStatus.CONFIRMED, None, f"catalog:{env.event_id}"):
        return [OrderConfirmed(order_id=event.order_id)]
    return []


async def on_stock_rejected(conn: asyncpg.Connection, env: Envelope, event: StockRejected):
    structlog.contextvars.bind_contextvars(order_id=event.order_id)
    source = f"catalog:{env.event_id}"
    if await _move(conn, event.order_id, OrderStatus.REJECTED, event.reason, source):
        return [OrderRejected(order_id=event.order_id, reason=event.reason)]
    return []
