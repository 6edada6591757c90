"""The catalog's repositories: what its handlers read and write, whatever holds it.

`CatalogRepository` holds producers, products and channel listings; `StockRepository` the
stock, its reservations and the changes waiting to be announced. The PostgreSQL ones run
adapters/postgres.py on the unit of work's connection (its rules are the source of truth: the
migrations' constraints); unit tests use in-memory fakes with the same methods.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import asyncpg

from services.catalog.adapters import postgres as db
from services.catalog.domain import Decision, Producer, Product, StockLevel


@dataclass(frozen=True)
class StockChange:
    """A SKU whose stock moved since it was last announced, with its figures now."""

    sku: str
    changes: int  # ledger rows folded into this announcement
    on_hand: int
    reserved: int
    available: int
    version: int
    producer_id: str
    low_stock_threshold: int | None  # the product's own, else the catalog's default applies
    alerted: bool  # its producer has been told it is low, and it has not recovered since


class CatalogRepository(Protocol):
    async def get_producer(self, producer_id: str) -> Producer | None: ...

    async def get_products(self, skus: Iterable[str]) -> dict[str, Product]: ...

    async def get_producers_for_skus(self, skus: Iterable[str]) -> dict[str, Producer]: ...

    async def map_channel_skus(
        self, channel: str, account: str, channel_skus: Iterable[str]
    ) -> dict[str, str]: ...

    async def listings_for_skus(
        self, skus: Iterable[str]
    ) -> dict[str, list[tuple[str, str, str]]]: ...

    async def existing_producer_ids(self, ids: Iterable[str]) -> set[str]: ...

    async def existing_skus(self, skus: Iterable[str]) -> set[str]: ...

    async def listed_skus(
        self, keys: Iterable[tuple[str, str, str]]
    ) -> dict[tuple[str, str, str], str]: ...

    async def upsert_producer(self, producer: Producer) -> None: ...

    async def upsert_product(self, product: Product, initial_stock: int) -> None: ...

    async def upsert_listing(
        self, channel: str, account: str, channel_sku: str, sku: str
    ) -> None: ...

    async def delete_listing(self, channel: str, account: str, channel_sku: str) -> bool: ...


class StockRepository(Protocol):
    async def reserve_for_order(
        self, order_id: str, lines: Sequence[tuple[str, int]]
    ) -> Decision: ...

    async def map_cancelled_skus(self, order_id: str, skus: Sequence[str]) -> dict[str, str]: ...

    async def release_for_order(
        self,
        order_id: str,
        lines: Sequence[tuple[str, int]] | None = None,
        *,
        reason: str = "RELEASE",
        cancelled_at: datetime | None = None,
        after_pickup: bool = False,
    ) -> list[tuple[str, int]]: ...

    async def confirm_for_pickup(
        self, order_id: str, producer_id: str, picked_up_at: datetime | None = None
    ) -> list[tuple[str, int]]: ...

    async def orders_held_since(self, older_than: timedelta, limit: int) -> list[str]: ...

    async def adjust_stock(
        self,
        sku: str,
        *,
        delta: int | None = None,
        on_hand: int | None = None,
        note: str | None = None,
    ) -> StockLevel | None: ...

    async def stock_detail(self, sku: str) -> dict[str, object] | None:
        """The SKU's figures and its latest ledger rows, for operators; None when unknown."""
        ...

    async def drain_stock_changes(self, limit: int) -> list[StockChange]: ...

    async def set_low_stock_alert(
        self, sku: str, alerted: bool, available: int = 0, threshold: int = 0
    ) -> None: ...


class PostgresCatalog:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def get_producer(self, producer_id: str) -> Producer | None:
        return await db.get_producer(self._conn, producer_id)

    async def get_products(self, skus: Iterable[str]) -> dict[str, Product]:
        return await db.get_products(self._conn, skus)

    async def get_producers_for_skus(self, skus: Iterable[str]) -> dict[str, Producer]:
        return await db.get_producers_for_skus(self._conn, skus)

    async def map_channel_skus(
        self, channel: str, account: str, channel_skus: Iterable[str]
    ) -> dict[str, str]:
        return await db.map_channel_skus(self._conn, channel, account, channel_skus)

    async def listings_for_skus(self, skus: Iterable[str]) -> dict[str, list[tuple[str, str, str]]]:
        return await db.listings_for_skus(self._conn, skus)

    async def existing_producer_ids(self, ids: Iterable[str]) -> set[str]:
        return await db.existing_producer_ids(self._conn, ids)

    async def existing_skus(self, skus: Iterable[str]) -> set[str]:
        return await db.existing_skus(self._conn, skus)

    async def listed_skus(
        self, keys: Iterable[tuple[str, str, str]]
    ) -> dict[tuple[str, str, str], str]:
        return await db.listed_skus(self._conn, keys)

    async def upsert_producer(self, producer: Producer) -> None:
        await db.upsert_producer(self._conn, producer)

    async def upsert_product(self, product: Product, initial_stock: int) -> None:
        await db.upsert_product(self._conn, product, initial_stock)

    async def upsert_listing(self, channel: str, account: str, channel_sku: str, sku: str) -> None:
        await db.upsert_listing(self._conn, channel, account, channel_sku, sku)

    async def delete_listing(self, channel: str, account: str, channel_sku: str) -> bool:
        return await db.delete_listing(self._conn, channel, account, channel_sku)


class PostgresStock:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def reserve_for_order(self, order_id: str, lines: Sequence[tuple[str, int]]) -> Decision:
        return await db.reserve_for_order(self._conn, order_id, lines)

    async def map_cancelled_skus(self, order_id: str, skus: Sequence[str]) -> dict[str, str]:
        return await db.map_cancelled_skus(self._conn, order_id, skus)

    async def release_for_order(
        self,
        order_id: str,
        lines: Sequence[tuple[str, int]] | None = None,
        *,
        reason: str = "RELEASE",
        cancelled_at: datetime | None = None,
        after_pickup: bool = False,
    ) -> list[tuple[str, int]]:
        return await db.release_for_order(
            self._conn,
            order_id,
            lines,
            reason=reason,
            cancelled_at=cancelled_at,
            after_pickup=after_pickup,
        )

    async def confirm_for_pickup(
        self, order_id: str, producer_id: str, picked_up_at: datetime | None = None
    ) -> list[tuple[str, int]]:
        return await db.confirm_for_pickup(self._conn, order_id, producer_id, picked_up_at)

    async def orders_held_since(self, older_than: timedelta, limit: int) -> list[str]:
        return await db.orders_held_since(self._conn, older_than, limit)

    async def adjust_stock(
        self,
        sku: str,
        *,
        delta: int | None = None,
        on_hand: int | None = None,
        note: str | None = None,
    ) -> StockLevel | None:
        return await db.adjust_stock(self._conn, sku, delta=delta, on_hand=on_hand, note=note)

    async def stock_detail(self, sku: str) -> dict[str, object] | None:
        return await db.stock_detail(self._conn, sku)

    async def drain_stock_changes(self, limit: int) -> list[StockChange]:
        rows = await db.drain_stock_changes(self._conn, limit)
        return [
            StockChange(**{f: row[f] for f in StockChange.__dataclass_fields__}) for row in rows
        ]

    async def set_low_stock_alert(
        self, sku: str, alerted: bool, available: int = 0, threshold: int = 0
    ) -> None:
        await db.set_low_stock_alert(self._conn, sku, alerted, available, threshold)
