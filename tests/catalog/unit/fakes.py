"""In-memory fakes of the catalog's repositories and unit of work, to drive its use cases through
the bus without a database.

The fakes keep the stock rules of adapters/postgres.py by calling the same pure domain plans
(reservation, release, pickup). They leave out what only the database does: locks, the ledger,
and a cancellation that happened before a pickup heard of first (the PostgreSQL tests cover
those)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from services.catalog.adapters.repository import StockChange
from services.catalog.adapters.uow import CatalogUnitOfWork
from services.catalog.domain import (
    Decision,
    Held,
    LineProblem,
    LocalizedText,
    Problem,
    Producer,
    Product,
    Rejected,
    Reserved,
    StockLevel,
    adjustment_delta,
    plan_pickup,
    plan_release,
    plan_reservation,
)
from services.catalog.handlers import COMMAND_HANDLERS
from shared.messaging.bus import MessageBus
from tests.catalog.conftest import TEST_PRODUCER
from tests.shared.fake_uow import InMemoryUnitOfWork


@dataclass
class Reservation:
    quantity: int
    released: int = 0
    status: str = "RESERVED"
    picked_up: bool = False
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass
class Store:
    """What the catalog's database holds, in memory."""

    producers: dict[str, Producer] = field(default_factory=dict)
    products: dict[str, Product] = field(default_factory=dict)
    listings: dict[tuple[str, str, str], str] = field(default_factory=dict)
    levels: dict[str, StockLevel] = field(default_factory=dict)
    reservations: dict[str, dict[str, Reservation]] = field(default_factory=dict)
    changes: dict[str, int] = field(default_factory=dict)  # SKU -> moves not yet announced
    alerted: set[str] = field(default_factory=set)
    versions: dict[str, int] = field(default_factory=dict)

    def move(self, sku: str, on_hand: int, reserved: int) -> None:
        level = self.levels[sku]
        self.levels[sku] = StockLevel(
            on_hand=level.on_hand + on_hand, reserved=level.reserved + reserved
        )
        self.versions[sku] = self.versions.get(sku, 0) + 1
        self.changes[sku] = self.changes.get(sku, 0) + 1


class FakeCatalog:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def get_producer(self, producer_id: str) -> Producer | None:
        return self.store.producers.get(producer_id)

    async def get_products(self, skus: Iterable[str]) -> dict[str, Product]:
        return {s: self.store.products[s] for s in skus if s in self.store.products}

    async def get_producers_for_skus(self, skus: Iterable[str]) -> dict[str, Producer]:
        products = await self.get_products(skus)
        return {s: self.store.producers[p.producer_id] for s, p in products.items()}

    async def map_channel_skus(
        self, channel: str, account: str, channel_skus: Iterable[str]
    ) -> dict[str, str]:
        listed = ((cs, self.store.listings.get((channel, account, cs))) for cs in channel_skus)
        return {cs: sku for cs, sku in listed if sku}

    async def listings_for_skus(self, skus: Iterable[str]) -> dict[str, list[tuple[str, str, str]]]:
        wanted = set(skus)
        found: dict[str, list[tuple[str, str, str]]] = {}
        for key, sku in sorted(self.store.listings.items()):
            if sku in wanted:
                found.setdefault(sku, []).append(key)
        return found

    async def existing_producer_ids(self, ids: Iterable[str]) -> set[str]:
        return set(ids) & set(self.store.producers)

    async def existing_skus(self, skus: Iterable[str]) -> set[str]:
        return set(skus) & set(self.store.products)

    async def listed_skus(
        self, keys: Iterable[tuple[str, str, str]]
    ) -> dict[tuple[str, str, str], str]:
        return {k: self.store.listings[k] for k in keys if k in self.store.listings}

    async def upsert_producer(self, producer: Producer) -> None:
        self.store.producers[producer.producer_id] = producer

    async def upsert_product(self, product: Product, initial_stock: int) -> None:
        self.store.products[product.sku] = product
        if product.sku not in self.store.levels:
            self.store.levels[product.sku] = StockLevel(on_hand=0, reserved=0)
            if initial_stock:
                self.store.move(product.sku, initial_stock, 0)

    async def upsert_listing(self, channel: str, account: str, channel_sku: str, sku: str) -> None:
        self.store.listings[(channel, account, channel_sku)] = sku

    async def delete_listing(self, channel: str, account: str, channel_sku: str) -> bool:
        return self.store.listings.pop((channel, account, channel_sku), None) is not None


class FakeStock:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def reserve_for_order(self, order_id: str, lines: Sequence[tuple[str, int]]) -> Decision:
        existing = self.store.reservations.get(order_id)
        if existing:
            return _replay(existing)
        decision = plan_reservation(lines, self.store.levels, self.store.levels.keys())
        if isinstance(decision, Reserved):
            self.store.reservations[order_id] = {
                sku: Reservation(quantity) for sku, quantity in decision.lines
            }
            for sku, quantity in decision.lines:
                self.store.move(sku, 0, quantity)
        return decision

    async def map_cancelled_skus(self, order_id: str, skus: Sequence[str]) -> dict[str, str]:
        held = set(self.store.reservations.get(order_id, {}))
        return {
            channel_sku: sku
            for (_, _, channel_sku), sku in self.store.listings.items()
            if channel_sku in skus and channel_sku not in held and sku in held
        }

    async def release_for_order(
        self,
        order_id: str,
        lines: Sequence[tuple[str, int]] | None = None,
        *,
        reason: str = "RELEASE",
        cancelled_at: datetime | None = None,
        after_pickup: bool = False,
    ) -> list[tuple[str, int]]:
        rows = self.store.reservations.get(order_id, {})
        held = [
            Held(sku=sku, quantity=r.quantity, released=r.released)
            for sku, r in sorted(rows.items())
            if r.status == "RESERVED"
        ]
        plan = plan_release(held, lines)
        for sku, quantity in plan:
            row = rows[sku]
            row.released += quantity
            row.status = "RELEASED" if row.released == row.quantity else row.status
            self.store.move(sku, 0, -quantity)
        return list(plan)

    async def confirm_for_pickup(
        self, order_id: str, producer_id: str, picked_up_at: datetime | None = None
    ) -> list[tuple[str, int]]:
        rows = {
            sku: r
            for sku, r in sorted(self.store.reservations.get(order_id, {}).items())
            if self.store.products[sku].producer_id == producer_id
        }
        if not rows or any(r.picked_up for r in rows.values()):
            return []
        parcel = [
            (Held(sku=sku, quantity=r.quantity, released=r.released), r.status == "RESERVED")
            for sku, r in rows.items()
        ]
        plan = plan_pickup(parcel, {})
        for sku, units, held in plan:
            self.store.move(sku, -units, -held)
            rows[sku].status = "CONFIRMED"
        for r in rows.values():
            r.picked_up = True
        return [(sku, units) for sku, units, _ in plan]

    async def orders_held_since(self, older_than: timedelta, limit: int) -> list[str]:
        before = datetime.now(UTC) - older_than
        due = [
            order_id
            for order_id, rows in self.store.reservations.items()
            if any(r.status == "RESERVED" and r.created_at < before for r in rows.values())
        ]
        return sorted(due)[:limit]

    async def adjust_stock(
        self,
        sku: str,
        *,
        delta: int | None = None,
        on_hand: int | None = None,
        note: str | None = None,
    ) -> StockLevel | None:
        if sku not in self.store.levels:
            return None
        change = adjustment_delta(self.store.levels[sku], delta=delta, on_hand=on_hand)
        self.store.move(sku, change, 0)
        return self.store.levels[sku]

    async def stock_detail(self, sku: str) -> dict[str, object] | None:
        level = self.store.levels.get(sku)
        if level is None:
            return None
        figures = {"on_hand": level.on_hand, "reserved": level.reserved}
        version = self.store.versions.get(sku, 0)
        return {**figures, "available": level.available, "version": version, "ledger": []}

    async def drain_stock_changes(self, limit: int) -> list[StockChange]:
        taken = sorted(self.store.changes)[:limit]
        drained = []
        for sku in taken:
            level, product = self.store.levels[sku], self.store.products[sku]
            drained.append(
                StockChange(
                    sku=sku,
                    changes=self.store.changes.pop(sku),
                    on_hand=level.on_hand,
                    reserved=level.reserved,
                    available=level.available,
                    version=self.store.versions[sku],
                    producer_id=product.producer_id,
                    low_stock_threshold=product.low_stock_threshold,
                    alerted=sku in self.store.alerted,
                )
            )
        return drained

    async def set_low_stock_alert(
        self, sku: str, alerted: bool, available: int = 0, threshold: int = 0
    ) -> None:
        if alerted:
            self.store.alerted.add(sku)
        else:
            self.store.alerted.discard(sku)


def _replay(rows: dict[str, Reservation]) -> Decision:
    released = [(sku, r) for sku, r in sorted(rows.items()) if r.status == "RELEASED"]
    if released:
        problems = tuple(
            LineProblem(line=None, sku=sku, quantity=r.quantity, problem=Problem.ALREADY_RELEASED)
            for sku, r in released
        )
        return Rejected(problems=problems)
    return Reserved(
        lines=tuple((sku, r.quantity) for sku, r in sorted(rows.items())), replayed=True
    )


class FakeUnitOfWork(InMemoryUnitOfWork, CatalogUnitOfWork):
    """The fake outbox and inbox keep only what a commit wrote, as the database does; the
    repositories are not rolled back (a test that needs it uses the database)."""

    def __init__(self, store: Store | None = None) -> None:
        super().__init__("catalog")
        self.store = store or Store()
        self.catalog = FakeCatalog(self.store)
        self.stock = FakeStock(self.store)


def product(sku: str, producer_id: str = TEST_PRODUCER.producer_id) -> Product:
    names = LocalizedText(vi=f"Sản phẩm {sku}", en=f"Product {sku}")
    return Product(
        sku=sku, producer_id=producer_id, names=names, price=1, currency="VND", weight_g=100
    )


def fake_bus(uow: FakeUnitOfWork) -> MessageBus[CatalogUnitOfWork]:
    """The catalog's bus with its own handler list, every unit of work being `uow`."""
    return MessageBus(lambda: uow, commands=COMMAND_HANDLERS)
