"""A platform of its own on shared servers: fresh databases and free ports, the topics and the
demo data. The end-to-end tests and the benchmarks use it, so they never touch `make run`'s data."""

from __future__ import annotations

import os
import secrets
import socket
import uuid

from services.platform.serve import SERVICE_NAMES
from services.platform.setup import load_demo_data, prepare
from shared.db.pool import ensure_database
from shared.settings import with_database


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def isolated_env(bootstrap: str, server: str, *, prefix: str) -> tuple[dict[str, str], str]:
    """The environment to start the four services with, and the demo shop's webhook secret."""
    env = dict(os.environ) | {
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "DATABASE_URL": server,
        "ADMIN_TOKEN": secrets.token_urlsafe(16),
        "PYTHONUNBUFFERED": "1",
    }
    for name in SERVICE_NAMES:
        database = f"{prefix}_{name}_{uuid.uuid4().hex[:10]}"
        await ensure_database(server, database)
        env[f"{name.upper()}_DATABASE_URL"] = with_database(server, database)
        env[f"{name.upper()}_HTTP_PORT"] = str(free_port())
    shop_secret = secrets.token_urlsafe(32)
    saved = dict(os.environ)
    os.environ.update(env)  # database_url_for reads the per-service URLs from the environment
    try:
        await prepare(bootstrap, server)
        await load_demo_data(server, shop_secret)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return env, shop_secret
