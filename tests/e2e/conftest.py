"""The whole platform as processes: four services on the real broker and database."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest

from services.platform.isolated import isolated_env
from services.platform.run import start_services, stop_services, wait_ready
from services.platform.serve import SERVICE_NAMES
from services.platform.setup import DEMO_SHOP
from shared.db.pool import connect


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


@pytest.fixture(scope="module")
def service_env() -> dict[str, str]:
    """Settings a test module gives the services on top of the isolated environment."""
    return {}


@pytest.fixture(scope="module")
async def platform(
    kafka_bootstrap, database_server, tmp_path_factory, service_env
) -> AsyncIterator[Platform]:
    env, shop_secret = await isolated_env(kafka_bootstrap, database_server, prefix="e2e")
    env |= service_env
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
