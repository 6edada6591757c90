"""Catalog use cases: reserve an order's stock (all lines or none), release it on cancellation
or expiry, confirm it on pickup, and announce stock levels (coalesced) and low stock.

Each handler takes its command and the unit of work it runs in, changes state through the
unit of work's repositories and raises the events to publish on it: they reach the outbox when
the unit of work commits. The bus lists them (`COMMAND_HANDLERS`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping

import structlog

from services.catalog import imports, metrics
from services.catalog.adapters.uow import CatalogUnitOfWork
from services.catalog.commands import (
    AdjustStock,
    ConfirmPickup,
    ExpireReservation,
    FindOverdueReservations,
    ImportCatalog,
    PublishStockChanges,
    Refusal,
    ReleaseStock,
    RemoveListing,
    ReserveStock,
    SaveListing,
    SaveProducer,
    SaveProduct,
)
from services.catalog.domain import LowStock, StockLevel, low_stock_transition
from services.catalog.domain.model import LocalizedText, Producer, Product
from services.catalog.domain.stock import Problem, Rejected
from shared.contracts.envelope import Event
from shared.contracts.events import (
    ChannelListingRef,
    Contact,
    Location,
    LowStockDetected,
    ProducerAllocation,
    RejectedLine,
    ReservedLine,
    StockLevelChanged,
    StockRejected,
    StockReserved,
)

log = structlog.get_logger(__name__)

_REASONS = {
    Problem.UNKNOWN_SKU: "unknown_sku",
    Problem.INSUFFICIENT_STOCK: "insufficient_stock",
    Problem.NON_POSITIVE_QUANTITY: "invalid_quantity",
}


async def reserve_stock(cmd: ReserveStock, uow: CatalogUnitOfWork) -> None:
    order = cmd.order
    structlog.contextvars.bind_contextvars(order_id=order.order_id)
    channel_skus = [line.channel_sku for line in order.lines if line.channel_sku]
    listed = await uow.catalog.map_channel_skus(order.channel, order.account, channel_skus)
    # A line maps through the account's listing; a shop that uses our SKUs needs no listing.
    lines = [
        (listed.get(line.channel_sku or "") or line.sku or line.channel_sku or "", line.quantity)
        for line in order.lines
    ]
    reserved_for: dict[str, set[str]] = defaultdict(set)
    for (sku, _), line in zip(lines, order.lines, strict=True):
        if line.channel_sku and line.channel_sku != sku:
            reserved_for[sku].add(line.channel_sku)
    decision = await uow.stock.reserve_for_order(order.order_id, lines)
    if isinstance(decision, Rejected):
        metrics.RESERVATIONS.labels("rejected").inc()
        log.info("stock.rejected", problems=[p.problem.value for p in decision.problems])
        uow.raise_event(rejection(order.order_id, decision), correlation_id=order.order_id)
        return
    metrics.RESERVATIONS.labels("replayed" if decision.replayed else "reserved").inc()
    skus = [sku for sku, _ in decision.lines]
    products = await uow.catalog.get_products(skus)
    producers = await uow.catalog.get_producers_for_skus(skus)
    uow.raise_event(
        StockReserved(
            order_id=order.order_id,
            order_ref=order.order_ref,
            allocations=allocations(decision.lines, products, producers, reserved_for),
            cod_amount=order.cod_amount,
            currency=order.currency,
            shipping_address=order.shipping_address,
        ),
        correlation_id=order.order_id,
    )


async def release_stock(cmd: ReleaseStock, uow: CatalogUnitOfWork) -> None:
    """Gives the order's held units back: all of them, or the cancelled lines'.

    Units already picked up are not on the shelf any more (`after_pickup`: logistics turns the
    parcel into a return), so only what is still held is released; unless the pickup, heard of
    first, happened after this cancellation: then its cancelled units were never in the parcel
    (the outcome does not depend on which of the two topics is read first)."""
    structlog.contextvars.bind_contextvars(order_id=cmd.order_id)
    lines = None
    if cmd.lines:
        ours = await uow.stock.map_cancelled_skus(cmd.order_id, [sku for sku, _ in cmd.lines])
        lines = [(ours.get(sku, sku), quantity) for sku, quantity in cmd.lines]
    released = await uow.stock.release_for_order(
        cmd.order_id, lines, cancelled_at=cmd.cancelled_at, after_pickup=cmd.after_pickup
    )
    metrics.RELEASED_UNITS.labels("cancelled").inc(sum(q for _, q in released))
    log.info("stock.released", lines=released, partial=bool(cmd.lines))


async def confirm_pickup(cmd: ConfirmPickup, uow: CatalogUnitOfWork) -> None:
    """The producer's parcel left with the courier: its units leave on-hand stock for good,
    including units a cancellation released that happened after the pickup (its event came
    first on the other topic)."""
    structlog.contextvars.bind_contextvars(order_id=cmd.order_id, shipment_id=cmd.shipment_id)
    confirmed = await uow.stock.confirm_for_pickup(cmd.order_id, cmd.producer_id, cmd.picked_up_at)
    if confirmed:
        metrics.CONFIRMED_UNITS.inc(sum(q for _, q in confirmed))
        log.info("stock.confirmed", lines=confirmed, producer_id=cmd.producer_id)
    else:
        # A replay, or a reservation released (expired, or cancelled before the pickup).
        log.warning("stock.pickup_without_held_stock", producer_id=cmd.producer_id)


async def find_overdue_reservations(
    cmd: FindOverdueReservations, uow: CatalogUnitOfWork
) -> list[str]:
    return await uow.stock.orders_held_since(cmd.older_than, cmd.limit)


async def expire_reservation(cmd: ExpireReservation, uow: CatalogUnitOfWork) -> bool:
    """Answers whether anything was still held."""
    released = await uow.stock.release_for_order(cmd.order_id, reason="EXPIRE")
    if released:
        metrics.RELEASED_UNITS.labels("expired").inc(sum(q for _, q in released))
        log.info("stock.expired", order_id=cmd.order_id, lines=released)
    return bool(released)


async def save_producer(cmd: SaveProducer, uow: CatalogUnitOfWork) -> None:
    p = cmd.producer
    if cmd.create and await uow.catalog.existing_producer_ids([p.producer_id]):
        raise Refusal("duplicate", "producer_id", f"{p.producer_id} already exists")
    await uow.catalog.upsert_producer(p)


async def save_product(cmd: SaveProduct, uow: CatalogUnitOfWork) -> None:
    p = cmd.product
    exists = bool(await uow.catalog.existing_skus([p.sku]))
    if cmd.create and exists:
        raise Refusal("duplicate", "sku", f"{p.sku} already exists")
    if not await uow.catalog.existing_producer_ids([p.producer_id]):
        raise Refusal("unknown_producer", "producer_id", f"no producer {p.producer_id}")
    if exists and cmd.stock:
        raise Refusal("invalid", "stock", "only for a new SKU: adjust stock instead")
    await uow.catalog.upsert_product(p, cmd.stock)


async def save_listing(cmd: SaveListing, uow: CatalogUnitOfWork) -> bool:
    listing = cmd.listing
    if not await uow.catalog.existing_skus([listing.sku]):
        raise Refusal("unknown_sku", "sku", f"no product {listing.sku}")
    key = (listing.channel, listing.account, listing.channel_sku)
    current = (await uow.catalog.listed_skus([key])).get(key)
    if current is not None and current != listing.sku:
        raise Refusal("duplicate", "channel_sku", f"already maps to {current}")
    await uow.catalog.upsert_listing(*key, listing.sku)
    return current is None


async def remove_listing(cmd: RemoveListing, uow: CatalogUnitOfWork) -> None:
    if not await uow.catalog.delete_listing(cmd.channel, cmd.account, cmd.channel_sku):
        raise Refusal("not_found", "channel_sku", "no such listing")


async def adjust_stock(cmd: AdjustStock, uow: CatalogUnitOfWork) -> StockLevel | None:
    return await uow.stock.adjust_stock(
        cmd.sku, delta=cmd.delta, on_hand=cmd.on_hand, note=cmd.note
    )


async def publish_stock_changes(cmd: PublishStockChanges, uow: CatalogUnitOfWork) -> list[Event]:
    """One StockLevelChanged per SKU whose stock moved since the last pass (its latest figure),
    and a LowStockDetected when a SKU crossed to at or below its threshold. A crash before the
    commit leaves the SKUs marked, so nothing is lost."""
    changed = await uow.stock.drain_stock_changes(cmd.limit)
    if not changed:
        return []
    skus = [change.sku for change in changed]
    listings = await uow.catalog.listings_for_skus(skus)
    producers = await uow.catalog.get_producers_for_skus(skus)
    products = await uow.catalog.get_products(skus)
    events: list[Event] = []
    for change in changed:
        sku = change.sku
        events.append(
            StockLevelChanged(
                sku=sku,
                producer_id=change.producer_id,
                on_hand=change.on_hand,
                reserved=change.reserved,
                available=change.available,
                version=change.version,
                listings=[
                    ChannelListingRef(channel=c, account=a, channel_sku=cs)
                    for c, a, cs in listings.get(sku, [])
                ],
            )
        )
        metrics.STOCK_CHANGES_COALESCED.inc(change.changes - 1)
        threshold = change.low_stock_threshold
        threshold = cmd.low_stock_threshold if threshold is None else threshold
        transition = low_stock_transition(change.available, threshold, change.alerted)
        if transition is LowStock.ALERT:
            producer = producers[sku]
            await uow.stock.set_low_stock_alert(sku, True, change.available, threshold)
            events.append(
                LowStockDetected(
                    sku=sku,
                    product_name=in_language(products[sku].names, producer.sms_language),
                    producer_id=producer.producer_id,
                    contact=_contact(producer),
                    available=change.available,
                    threshold=threshold,
                )
            )
        elif transition is LowStock.CLEAR:
            await uow.stock.set_low_stock_alert(sku, False)
    for event in events:
        metrics.STOCK_EVENTS.labels(event.event_type).inc()
        uow.raise_event(event, correlation_id=f"stock:{event.key()}")
    return events


COMMAND_HANDLERS = {
    ReserveStock: reserve_stock,
    ReleaseStock: release_stock,
    ConfirmPickup: confirm_pickup,
    FindOverdueReservations: find_overdue_reservations,
    ExpireReservation: expire_reservation,
    SaveProducer: save_producer,
    SaveProduct: save_product,
    SaveListing: save_listing,
    RemoveListing: remove_listing,
    AdjustStock: adjust_stock,
    PublishStockChanges: publish_stock_changes,
    ImportCatalog: imports.import_catalog,
}


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
