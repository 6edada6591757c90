"""PostgreSQL connections and the migration runner."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import asyncpg

SHARED_MIGRATIONS = resources.files("shared.db") / "migrations"
_MIGRATION_LOCK = 4242_0001  # pg_advisory_xact_lock key: one migrator at a time


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
    await conn.set_type_codec("json", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Released connections skip asyncpg's default reset (UNLISTEN *, RESET ALL, advisory
    unlock, CLOSE ALL), a round trip on every release: no code here leaves session state behind
    (no SET but SET LOCAL, transaction-scoped advisory locks only, no WITH HOLD cursors, and
    listeners remove themselves). asyncpg still rolls back a transaction left open."""


async def connect(url: str) -> asyncpg.Connection:
    """One connection with the same codecs as the pools (jsonb as Python objects)."""
    conn = await asyncpg.connect(url)
    await _init_connection(conn)
    return conn


async def create_pool(url: str, *, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        url,
        min_size=min_size,
        max_size=max_size,
        init=_init_connection,
        reset=_keep_session,
    )
    assert pool is not None
    return pool


async def ensure_database(server_url: str, database: str) -> bool:
    """Create `database` on the server if it is missing. Returns True when it was created."""
    from shared.settings import with_database

    conn = await asyncpg.connect(with_database(server_url, "postgres"))
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database)
        if exists:
            return False
        await conn.execute(f'CREATE DATABASE "{database}"')
        return True
    finally:
        await conn.close()


def _migration_files(directory: Path | resources.abc.Traversable) -> list[tuple[str, str]]:
    files = sorted(
        (f for f in directory.iterdir() if f.name.endswith(".sql")), key=lambda f: f.name
    )
    return [(f.name, f.read_text()) for f in files]


async def migrate(conn: asyncpg.Connection, service: str, directory) -> list[str]:
    """Apply the shared and the service's migrations not yet recorded. Returns what it applied."""
    applied: list[str] = []
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK)
        await conn.execute(
            """CREATE TABLE IF NOT EXISTS schema_migrations (
                   name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"""
        )
        done = {r["name"] for r in await conn.fetch("SELECT name FROM schema_migrations")}
        plan = [(f"shared/{n}", sql) for n, sql in _migration_files(SHARED_MIGRATIONS)]
        if directory is not None:
            plan += [(f"{service}/{n}", sql) for n, sql in _migration_files(directory)]
        for name, sql in plan:
            if name in done:
                continue
            await conn.execute(sql)
            await conn.execute("INSERT INTO schema_migrations (name) VALUES ($1)", name)
            applied.append(name)
    return applied
