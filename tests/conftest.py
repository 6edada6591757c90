"""Fixtures for the real broker and database.

Where they come from, in order: the environment (`KAFKA_BOOTSTRAP_SERVERS`, `DATABASE_URL`: what
`make test` and CI set), then Docker through testcontainers, then servers started here
(shared.devstack). Every test gets its own databases, topics and consumer groups.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import asyncpg
import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from shared.db.pool import create_pool, ensure_database, migrate
from shared.settings import with_database

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def servers() -> Iterator[dict[str, str]]:
    given = {
        k: os.environ[k] for k in ("KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL") if k in os.environ
    }
    if len(given) == 2:
        yield given
        return
    from shared.devstack import DevStack

    with DevStack(ROOT / ".devstack" / "pytest", fresh=True) as stack:
        yield stack.start()


@pytest.fixture(scope="session")
def kafka_bootstrap(servers: dict[str, str]) -> str:
    return servers["KAFKA_BOOTSTRAP_SERVERS"]


@pytest.fixture(scope="session")
def database_server(servers: dict[str, str]) -> str:
    return servers["DATABASE_URL"]


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


@pytest.fixture
def make_database(database_server: str) -> Callable[[str], Awaitable[str]]:
    """Creates a fresh database with the shared and a service's migrations; returns its URL."""

    async def make(service: str, migrations=None) -> str:
        name = unique(f"t_{service}")
        await ensure_database(database_server, name)
        url = with_database(database_server, name)
        conn = await asyncpg.connect(url)
        try:
            await migrate(conn, service, migrations)
        finally:
            await conn.close()
        return url

    return make


@pytest.fixture
async def db_pool(make_database) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(await make_database("shared"), max_size=5)
    yield pool
    await pool.close()


@pytest.fixture
def make_topic(kafka_bootstrap: str) -> Callable[..., Awaitable[str]]:
    async def make(name: str | None = None, partitions: int = 3) -> str:
        topic = name or f"test.t{uuid.uuid4().hex[:10]}.v1"
        admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
        await admin.start()
        try:
            await admin.create_topics([NewTopic(topic, partitions, 1)])
        finally:
            await admin.close()
        return topic

    return make
