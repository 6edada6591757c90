"""The whole platform as processes: four services on the real broker and database."""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest

from services.platform.run import start_services, stop_services, wait_ready
from services.platform.serve import SERVICE_NAMES
from services.platform.setup import DEMO_SHOP, load_demo_data, prepare
from shared.db.pool import connect, ensure_database
from shared.settings import with_database
from tests.conftest import unique


@dataclass
class Platform:
    env: dict[str, str]
    shop_secret: str
    log_dir: Path

    async def ovop(self, *args: str) -> tuple[int, str]:
        """Run the operator CLI as a process against this platform."""
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "services.cli",
            *args,
            env=self.env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await proc.communicate()
        return proc.returncode or 0, out.decode()

    def url(self, service: str, path: str) -> str:
        return f"http://127.0.0.1:{self.env[f'{service.upper()}_HTTP_PORT']}{path}"

    async def db(self, service: str) -> asyncpg.Connection:
        return await connect(self.env[f"{service.upper()}_DATABASE_URL"])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
async def platform(kafka_bootstrap, database_server, tmp_path_factory) -> AsyncIterator[Platform]:
    env = dict(os.environ) | {
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "DATABASE_URL": database_server,
        "ADMIN_TOKEN": secrets.token_urlsafe(16),
        "PYTHONUNBUFFERED": "1",
        "LOG_LEVEL": "INFO",
    }
    for name in SERVICE_NAMES:
        db = unique(f"e2e_{name}")
        await ensure_database(database_server, db)
        env[f"{name.upper()}_DATABASE_URL"] = with_database(database_server, db)
        env[f"{name.upper()}_HTTP_PORT"] = str(_free_port())
    shop_secret = secrets.token_urlsafe(32)
    saved = dict(os.environ)
    os.environ.update(env)  # database_url_for reads the per-service URLs from the environment
    try:
        await prepare(kafka_bootstrap, database_server)
        await load_demo_data(database_server, shop_secret)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    log_dir = tmp_path_factory.mktemp("logs")
    procs = start_services(env, log_dir)
    try:
        await wait_ready(env, procs)
        yield Platform(env, shop_secret, log_dir)
    finally:
        stop_services(procs)
        for name in SERVICE_NAMES:
            print(f"--- {name} log tail ---\n" + (log_dir / f"{name}.log").read_text()[-3000:])


@pytest.fixture
def shop() -> str:
    return DEMO_SHOP
