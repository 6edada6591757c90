"""Group commit: concurrent requests share one statement.

Written one request per statement, PostgreSQL's per-statement and per-commit work (and a pool
connection held per request) cost more than the writes themselves. `GroupCommit` lets a request
queue its row and wait; a flush writes everything queued so far in a single statement (so a
single transaction), then answers every waiter. A lone request flushes at once, so a quiet system
waits for nothing; under load, with up to `flushers` statements in flight, each batch grows by
itself while the others are in the database.

Invariants:
- a waiter hears its result only after the statement that wrote its row committed;
- rows with one `key` never share a statement (the later waits for the next flush), so a
  statement never writes one aggregate twice;
- a flush that fails is retried one row at a time, so a bad row fails only its own request;
- a request cancelled while it waits cancels only its own future, never the flush: its row may
  still be written (a platform's retry of it is then a known delivery, not a lost one).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Generic, TypeVar

import asyncpg

Row = TypeVar("Row")
Result = TypeVar("Result")
# write(conn, rows) -> one result per row, in order: one statement, outside any transaction.
Write = Callable[[asyncpg.Connection, Sequence[Row]], Awaitable[Sequence[Result]]]


class GroupCommit(Generic[Row, Result]):
    def __init__(
        self,
        pool: Callable[[], asyncpg.Pool],
        write: Write,
        *,
        key: Callable[[Row], Hashable] | None = None,
        max_batch: int = 256,
        flushers: int = 2,
        name: str = "group-commit",
    ) -> None:
        self._pool, self._write, self._key = pool, write, key
        self._max_batch, self._flushers, self._name = max_batch, flushers, name
        self._queue: list[tuple[Row, asyncio.Future[Result]]] = []
        self._writing: dict[asyncio.Task[None], list[tuple[Row, asyncio.Future[Result]]]] = {}

    async def submit(self, row: Row) -> Result:
        """The row's result, once the statement that wrote it has committed."""
        done: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._queue.append((row, done))
        if len(self._writing) < self._flushers:
            task = asyncio.create_task(self._flush_all(), name=self._name)
            self._writing[task] = []
        return await done

    async def close(self) -> None:
        """Stop flushing; requests still waiting fail rather than hang."""
        writing = list(self._writing.items())
        for task, _ in writing:
            task.cancel()
        await asyncio.gather(*(task for task, _ in writing), return_exceptions=True)
        for _, done in (*(w for _, batch in writing for w in batch), *self._queue):
            if not done.done():
                done.set_exception(ConnectionError(f"{self._name} stopped"))
        self._queue = []
        self._writing.clear()  # a flusher cancelled before it ran never removed itself

    async def _flush_all(self) -> None:
        task = asyncio.current_task()
        assert task is not None
        try:
            while self._queue:
                self._writing[task] = batch = self._take_batch()
                await self._flush(batch)
        finally:  # at once, not in a done callback: a request queued next must start a flusher
            self._writing.pop(task, None)

    def _take_batch(self) -> list[tuple[Row, asyncio.Future[Result]]]:
        batch: list[tuple[Row, asyncio.Future[Result]]] = []
        later: list[tuple[Row, asyncio.Future[Result]]] = []
        keys: set[Hashable] = set()
        for item in self._queue:
            key = self._key(item[0]) if self._key else None
            if len(batch) < self._max_batch and (key is None or key not in keys):
                keys.add(key)
                batch.append(item)
            else:
                later.append(item)
        self._queue = later
        return batch

    async def _flush(self, batch: list[tuple[Row, asyncio.Future[Result]]]) -> None:
        try:
            async with self._pool().acquire() as conn:
                results = await self._write(conn, [row for row, _ in batch])
        except Exception as exc:
            if len(batch) > 1:  # find the row at fault: each alone, each its own outcome
                for item in batch:
                    await self._flush([item])
            elif not batch[0][1].done():
                batch[0][1].set_exception(exc)
            return
        for (_, done), result in zip(batch, results, strict=True):
            if not done.done():
                done.set_result(result)
