"""Group commit of new orders (`shared.db.group_commit` has the mechanics).

A new pushed order is four writes: its delivery, the order, its status history and its outbox
rows, all in one statement shared by the orders applied at the same time.

Invariants:
- a waiter hears "created" only after the statement that wrote its rows committed;
- an order already stored writes nothing (ON CONFLICT on the order is the gate for the other
  three inserts), and the waiter hears False: the caller takes the transactional path;
- one order id appears at most once per statement (a second push of it waits for the next
  flush), so a statement never inserts one order's delivery, history or events twice; two
  statements in flight with one order id serialise on its primary key, and the later writes
  nothing;
- a flush that fails is retried one row at a time, so a bad row fails only its own request.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from services.orders.domain.model import CanonicalOrder
from services.orders.domain.status import OrderStatus
from shared.db.group_commit import GroupCommit
from shared.messaging import outbox

_ORDER_COLUMNS = 14  # parameters $1..$14: one array per column of `NewOrder.order_row`
_HISTORY = _ORDER_COLUMNS + 1  # $15..$18: history rows, keyed by order id
_EVENTS = _HISTORY + 4  # $19..$25: outbox rows (`outbox.columns`), then their order ids

_INSERT = f"""
WITH x AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bytea[],
                         $6::text[], $7::text[], $8::text[], $9::text[], $10::timestamptz[],
                         $11::text[], $12::text[], $13::timestamptz[], $14::timestamptz[])
        WITH ORDINALITY AS x(channel, account, delivery_id, topic, raw_body, order_id,
                             external_id, status, channel_status, channel_updated_at, canonical,
                             hold_reason, placed_at, stock_deadline, n)
), o AS (
    INSERT INTO orders (order_id, channel, account, external_id, status, channel_status,
                        channel_updated_at, canonical, hold_reason, placed_at, stock_deadline)
    SELECT order_id, channel, account, external_id, status, channel_status, channel_updated_at,
           canonical::jsonb, hold_reason, placed_at, stock_deadline
    FROM x ORDER BY n
    ON CONFLICT DO NOTHING RETURNING order_id
), d AS (
    INSERT INTO webhook_deliveries (platform, account, delivery_id, topic, raw_body, order_id)
    SELECT x.channel, x.account, x.delivery_id, x.topic, x.raw_body, x.order_id
    FROM x JOIN o USING (order_id) ORDER BY x.n
    ON CONFLICT DO NOTHING
), h AS (
    INSERT INTO order_status_history (order_id, status, reason, source)
    SELECT y.order_id, y.status, y.reason, y.source
    FROM unnest(${_HISTORY}::text[], ${_HISTORY + 1}::text[], ${_HISTORY + 2}::text[],
                ${_HISTORY + 3}::text[]) WITH ORDINALITY AS y(order_id, status, reason, source, n)
    JOIN o USING (order_id) ORDER BY y.n
), ob AS ({outbox.insert_sql(_EVENTS, grouped_by="SELECT order_id FROM o")})
SELECT coalesce(array_agg(order_id), '{{}}') FROM o
"""


@dataclass(frozen=True)
class NewOrder:
    """A verified push of an order not stored yet, with what its creation writes."""

    delivery_id: str
    topic: str | None
    raw_body: bytes
    order: CanonicalOrder
    history: Sequence[tuple[OrderStatus, str | None]]
    source: str
    stock_deadline: datetime | None
    events: list[list[Any]]  # `outbox.columns` of its events

    def order_row(self) -> tuple:
        order = self.order
        return (
            order.channel,
            order.account,
            self.delivery_id,
            self.topic,
            self.raw_body,
            order.order_id,
            order.external_id,
            order.status.value,
            order.channel_status,
            order.updated_at,
            order.model_dump_json(),  # JSON text straight from pydantic, cast by the server
            order.hold_reason,
            order.placed_at,
            self.stock_deadline,
        )


def statement_args(rows: Sequence[NewOrder]) -> list[list[Any]]:
    """The parameters of `_INSERT` for `rows`: one array per column."""
    columns: list[list[Any]] = [[] for _ in range(_EVENTS + 6)]
    for row in rows:
        for column, value in zip(columns[:_ORDER_COLUMNS], row.order_row(), strict=True):
            column.append(value)
        for status, reason in row.history:
            columns[_HISTORY - 1].append(row.order.order_id)
            columns[_HISTORY].append(status.value)
            columns[_HISTORY + 1].append(reason)
            columns[_HISTORY + 2].append(row.source)
        for column, values in zip(columns[_EVENTS - 1 : _EVENTS + 5], row.events, strict=True):
            column.extend(values)
        columns[_EVENTS + 5].extend([row.order.order_id] * len(row.events[0]))
    return columns


async def insert_new_orders(conn: asyncpg.Connection, rows: Sequence[NewOrder]) -> set[str]:
    """One statement, outside any transaction: the ids of the orders it created."""
    return set(await conn.fetchval(_INSERT, *statement_args(rows)))


async def _created(conn: asyncpg.Connection, rows: Sequence[NewOrder]) -> list[bool]:
    created = await insert_new_orders(conn, rows)
    return [row.order.order_id in created for row in rows]


class NewOrderWriter(GroupCommit[NewOrder, bool]):
    """New orders, one statement shared by concurrent pushes (`shared.db.group_commit`); one
    order id at most once per statement."""

    def __init__(
        self, pool: Callable[[], asyncpg.Pool], max_batch: int = 256, flushers: int = 2
    ) -> None:
        super().__init__(
            pool,
            _created,
            key=lambda row: row.order.order_id,
            max_batch=max_batch,
            flushers=flushers,
            name="orders-new-order-writer",
        )

    async def create(self, row: NewOrder) -> bool:
        """True once the order and its rows are committed; False if the order exists already."""
        return await self.submit(row)
