"""`make run`'s own command on servers given by the environment: it starts none of its own,
shows the journey, and Ctrl-C leaves nothing behind."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

import psutil
import pytest

from services.platform.isolated import free_port
from services.platform.serve import SERVICE_NAMES
from shared.db.pool import ensure_database
from shared.settings import with_database
from tests.conftest import ROOT, unique

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


async def test_ovop_run_uses_the_given_servers_shows_an_sms_and_stops_cleanly_on_ctrl_c(
    kafka_bootstrap, database_server, tmp_path
):
    env = dict(os.environ) | {
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "OVOP_RUN_DIR": str(tmp_path),
    }
    env.pop("DATABASE_URL", None)  # one URL per service instead
    for name in SERVICE_NAMES:
        database = unique(f"run_{name}")
        await ensure_database(database_server, database)
        env[f"{name.upper()}_DATABASE_URL"] = with_database(database_server, database)
        env[f"{name.upper()}_HTTP_PORT"] = str(free_port())
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.cli",
        "run",
        "--interval",
        "0.5",
        env=env,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    seen: list[str] = []
    try:
        async with asyncio.timeout(120):
            while not any(line.startswith("SMS to producer ") for line in seen):
                line = (await proc.stdout.readline()).decode()
                assert line, "ovop run exited:\n" + "".join(seen)
                seen.append(line)
        children = psutil.Process(proc.pid).children(recursive=True)
        assert len(children) == 4, "the four services, and no Kafka or PostgreSQL of its own"
        proc.send_signal(signal.SIGINT)
        async with asyncio.timeout(60):
            await proc.wait()
    finally:
        if proc.returncode is None:
            proc.kill()
    output = "".join(seen)
    assert "(external)" in output and "-> 200 queued" in output
    assert "SMS to producer +8491*****" in output  # the producer's phone, masked
    assert proc.returncode == 0
    assert not [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]
