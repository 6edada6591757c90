"""The orders service's use cases. Each takes a connection inside a transaction, applies the
lifecycle (services/orders/domain/lifecycle.py) and returns the events to publish; the caller
writes them to the outbox in the same transaction (`enqueue_all`, or the shared consumer)."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import asyncpg
import structlog

from services.orders.adapters import postgres as db
from services.orders.adapters.intake import NewOrder, NewOrderWriter
from services.orders.domain import lifecycle
from services.orders.domain.lifecycle import Cancelled, Confirmed, Placed, Rejected, Result
from services.orders.domain.model import CanonicalOrder
from services.orders.domain.status import OrderStatus, can_transition
from services.orders.metrics import JOURNEY_SECONDS
from services.orders.settings import OrdersSettings, load
from shared.contracts.envelope import Envelope, Event
from shared.contracts.events import (
    Address,
    Buyer,
    CancelledLine,
    OrderCancelled,
    OrderConfirmed,
    OrderLine,
    OrderPlaced,
    OrderRejected,
    PickupScheduled,
    ShipmentEvent,
    StockLevelChanged,
    StockRejected,
    StockReserved,
)
from shared.messaging import outbox

log = structlog.get_logger(__name__)
SERVICE = "orders"


def reservation_timeout() -> timedelta:
    """How long the saga waits for the catalog before it cancels and releases."""
    return timedelta(seconds=_environment().reservation_timeout_s)


@functools.cache
def _environment() -> OrdersSettings:
    # Read once per process: every order written needs it, and building settings is too slow
    # to repeat per order.
    return load()


def retry_delay_s(attempts: int) -> float:
    """After `attempts` earlier attempts: 5 s, 10 s, 20 s ... capped at 10 minutes, so that an
    outage (a platform's API, the database) is waited out without hammering it."""
    return min(600.0, 5.0 * 2 ** min(attempts, 10))


@dataclass(frozen=True)
class Accepted:
    outcome: str  # created, duplicate_delivery, updated, stale, unchanged, cancelled, ...
    order_id: str
    events: list[Event] = field(default_factory=list)
    status: str | None = None
    hold_reason: str | None = None


def order_placed(order: CanonicalOrder) -> OrderPlaced:
    address = order.shipping_address
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
                quantity=line.active_quantity,
                unit_price=line.unit_price,
            )
            for line in order.lines
            if line.active_quantity > 0
        ],
        province=address.province if address else None,
        placed_at=order.placed_at,
        buyer=Buyer(name=order.buyer.name, phone=order.buyer.phone, email=order.buyer.email),
        shipping_address=Address(
            recipient=address.recipient,
            phone=address.phone,
            line1=address.line1,
            line2=address.line2,
            ward=address.ward,
            district=address.district,
            province=address.province,
            country=address.country,
            postal_code=address.postal_code,
        )
        if address
        else None,
    )


def events_for(result: Result) -> list[Event]:
    order, events = result.order, []
    for effect in result.effects:
        match effect:
            case Placed():
                events.append(order_placed(order))
            case Confirmed():
                events.append(OrderConfirmed(order_id=order.order_id))
            case Rejected(reason=reason):
                events.append(OrderRejected(order_id=order.order_id, reason=reason))
            case Cancelled(reason=reason, lines=lines, after_pickup=after):
                events.append(
                    OrderCancelled(
                        order_id=order.order_id,
                        reason=reason,
                        lines=[CancelledLine(sku=s, quantity=q) for s, q in lines],
                        after_pickup=after,
                    )
                )
    return events


async def enqueue_all(conn: asyncpg.Connection, events: Sequence[Event], order_id: str) -> None:
    """Outbox rows for events produced outside a consumer (webhooks, API, jobs)."""
    for event in events:
        env = Envelope.wrap(event, producer=SERVICE, correlation_id=order_id)
        await outbox.enqueue(conn, env, event)


def outbox_columns(events: Sequence[Event], order_id: str) -> list[list]:
    """What `enqueue_all` writes, as the parameters of a statement that writes it itself."""
    return outbox.columns(
        [(Envelope.wrap(e, producer=SERVICE, correlation_id=order_id), e) for e in events]
    )


def _deadline(before: OrderStatus | None, kept: datetime | None, result: Result) -> datetime | None:
    if result.order.status is not OrderStatus.PENDING_STOCK:
        return None
    if before is OrderStatus.PENDING_STOCK and kept is not None:
        return kept
    return datetime.now(UTC) + reservation_timeout()


async def _save(
    conn: asyncpg.Connection,
    current: CanonicalOrder,
    kept_deadline: datetime | None,
    result: Result,
    source: str,
) -> Accepted:
    if result.changed:
        deadline = _deadline(current.status, kept_deadline, result)
        await db.update_order(conn, result.order, result.history, source, deadline)
    if result.history:
        log.info("order.changed", outcome=result.outcome, status=result.order.status)
    if not can_transition(current.status, result.order.status):
        # A fact arrived after one that happened later (a pickup before the reservation):
        # the status follows the facts, which the in-order saga would not have moved this way.
        log.info("order.late_fact", before=current.status, status=result.order.status)
    return Accepted(
        result.outcome,
        current.order_id,
        events_for(result),
        result.order.status,
        result.order.hold_reason,
    )


async def ingest(conn: asyncpg.Connection, incoming: CanonicalOrder, source: str) -> Accepted:
    """A view of an order from its channel: a new order, or an update ordered by the platform's
    update time (stale ones change nothing)."""
    structlog.contextvars.bind_contextvars(order_id=incoming.order_id)
    locked = await db.lock_order(conn, incoming.order_id)
    if locked is None:
        result = lifecycle.new_order(incoming)
        deadline = _deadline(None, None, result)
        if await db.insert_order(conn, result.order, result.history, source, deadline):
            return Accepted("created", incoming.order_id, events_for(result), result.order.status)
        locked = await db.lock_order(conn, incoming.order_id)  # a concurrent delivery won
        assert locked is not None
    current, deadline = locked
    return await _save(
        conn, current, deadline, lifecycle.apply_channel_update(current, incoming), source
    )


async def accept_known_order(
    conn: asyncpg.Connection,
    order: CanonicalOrder,
    *,
    delivery_id: str,
    topic: str | None,
    raw_body: bytes,
) -> Accepted:
    """A push about an order already stored: record the delivery and apply the update it
    carries; a redelivery changes nothing."""
    structlog.contextvars.bind_contextvars(order_id=order.order_id)
    if not await db.record_delivery(conn, order, delivery_id, topic, raw_body):
        return Accepted("duplicate_delivery", order.order_id)
    return await ingest(conn, order, source=f"{order.channel}:{delivery_id}")


async def accept_push(
    writer: NewOrderWriter,
    pool: asyncpg.Pool,
    order: CanonicalOrder,
    *,
    delivery_id: str,
    topic: str | None,
    raw_body: bytes,
) -> Accepted:
    """A verified push and its outbox rows, committed when it returns. A new order (nearly every
    push) goes through the group-commit writer, one statement shared with concurrent pushes; an
    order already stored (an update, a redelivery, a race lost) takes one explicit transaction."""
    source = f"{order.channel}:{delivery_id}"  # the caller has bound order_id to the logs
    fresh = lifecycle.new_order(order)
    events = events_for(fresh)
    new = NewOrder(
        delivery_id,
        topic,
        raw_body,
        fresh.order,
        fresh.history,
        source,
        _deadline(None, None, fresh),
        outbox_columns(events, order.order_id),
    )
    if await writer.create(new):
        return Accepted("created", order.order_id, events, fresh.order.status)
    async with pool.acquire() as conn, conn.transaction():
        accepted = await accept_known_order(
            conn, order, delivery_id=delivery_id, topic=topic, raw_body=raw_body
        )
        await enqueue_all(conn, accepted.events, order.order_id)
    return accepted


async def _locked(conn: asyncpg.Connection, order_id: str):
    structlog.contextvars.bind_contextvars(order_id=order_id)
    locked = await db.lock_order(conn, order_id)
    if locked is None:
        raise LookupError(f"order {order_id} is unknown")
    return locked


async def _observe_journey(conn: asyncpg.Connection, before: CanonicalOrder, result: Result):
    """ovop_order_journey_seconds: the time since the order arrived (its row's creation), once
    when it is confirmed and once when it moves into PICKUP_SCHEDULED (a redelivery changes
    nothing); both at once when the pickup was scheduled before the reservation reached us."""
    stages = ["confirmed"] if any(isinstance(e, Confirmed) for e in result.effects) else []
    moved = before.status is not result.order.status
    if moved and result.order.status is OrderStatus.PICKUP_SCHEDULED:
        stages.append("pickup_scheduled")
    if not stages:
        return
    seconds = await conn.fetchval(
        "SELECT extract(epoch FROM clock_timestamp() - created_at) FROM orders WHERE order_id = $1",
        result.order.order_id,
    )
    if seconds is None:
        return
    for stage in stages:
        JOURNEY_SECONDS.labels(stage).observe(max(0.0, float(seconds)))


async def on_stock_reserved(conn: asyncpg.Connection, env: Envelope, event: StockReserved):
    current, deadline = await _locked(conn, event.order_id)
    units = lifecycle.units_from_allocations(
        (a.producer_id, [(ln.sku, ln.name, ln.quantity) for ln in a.lines])
        for a in event.allocations
    )
    mapped = {cs: ln.sku for a in event.allocations for ln in a.lines for cs in ln.channel_skus}
    result = lifecycle.on_reserved(current, units, mapped)
    accepted = await _save(conn, current, deadline, result, f"catalog:{env.event_id}")
    await _observe_journey(conn, current, result)
    return accepted.events


async def on_stock_rejected(conn: asyncpg.Connection, env: Envelope, event: StockRejected):
    current, deadline = await _locked(conn, event.order_id)
    unknown = [line.sku for line in event.lines if line.reason == "unknown_sku"]
    result = lifecycle.on_rejected(current, event.reason, unknown)
    return (await _save(conn, current, deadline, result, f"catalog:{env.event_id}")).events


async def on_pickup_scheduled(conn: asyncpg.Connection, env: Envelope, event: PickupScheduled):
    current, deadline = await _locked(conn, event.order_id)
    result = lifecycle.on_shipment(
        current,
        event.producer_id,
        event.shipment_id,
        "pickup_scheduled",
        env.occurred_at,
        "logistics",
    )
    accepted = await _save(conn, current, deadline, result, f"logistics:{env.event_id}")
    await _observe_journey(conn, current, result)
    return accepted.events


async def on_shipment_event(conn: asyncpg.Connection, env: Envelope, event: ShipmentEvent):
    current, deadline = await _locked(conn, event.order_id)
    result = lifecycle.on_shipment(
        current,
        event.producer_id,
        event.shipment_id,
        event.status,
        event.occurred_at,
        event.carrier or "logistics",
    )
    return (await _save(conn, current, deadline, result, f"logistics:{env.event_id}")).events


async def on_stock_level_changed(
    conn: asyncpg.Connection, env: Envelope, event: StockLevelChanged
) -> list[Event]:
    """Remember the latest figure per listing; the stock-sync job pushes it to the platform."""
    for listing in event.listings:
        if listing.channel == "manual":
            continue
        await db.set_listing_stock(
            conn,
            listing.channel,
            listing.account,
            listing.channel_sku,
            event.sku,
            event.available,
            event.version,
        )
    return []


async def cancel_order(
    conn: asyncpg.Connection,
    order_id: str,
    reason: str,
    lines: Mapping[str, int] | None,
    source: str,
) -> Accepted:
    current, deadline = await _locked(conn, order_id)
    return await _save(conn, current, deadline, lifecycle.cancel(current, reason, lines), source)


async def resolve_order(
    conn: asyncpg.Connection,
    order_id: str,
    sku_map: Mapping[str, str],
    address: Mapping[str, str | None],
    source: str,
    accept_amounts: bool = False,
) -> Accepted:
    current, deadline = await _locked(conn, order_id)
    result = lifecycle.resolve(current, sku_map, address, accept_amounts)
    return await _save(conn, current, deadline, result, source)


async def expire_reservations(conn: asyncpg.Connection) -> list[Accepted]:
    """The saga's timeout: PENDING_STOCK past its deadline is cancelled (and released)."""
    done = []
    for order_id in await db.overdue_reservations(conn):
        current, deadline = await _locked(conn, order_id)
        waited = f"{reservation_timeout().total_seconds():.0f}s"
        result = lifecycle.on_reservation_timeout(current, waited)
        accepted = await _save(conn, current, deadline, result, "orders:reservation-timeout")
        await enqueue_all(conn, accepted.events, order_id)
        done.append(accepted)
    return done
