"""Service.background: periodic jobs live from start() to stop() and survive a crash."""

import asyncio

from shared.runtime import Service
from tests.shared.integration.harness import settings_for


async def test_a_background_job_is_restarted_after_a_crash_and_cancelled_on_stop(
    kafka_bootstrap, make_database
):
    runs: list[str] = []
    cancelled = asyncio.Event()

    async def sweep(service: Service) -> None:
        runs.append(service.name)
        if len(runs) == 1:
            raise RuntimeError("first pass fails")
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    url = await make_database("jobs", None)
    settings = settings_for("jobs", kafka_bootstrap, url, http_port=1)
    service = Service(settings, None, background=[sweep], job_restart_delay_s=0.01)
    service.run_relay = False
    await service.start()
    try:
        for _ in range(200):
            if len(runs) >= 2:
                break
            await asyncio.sleep(0.01)
        assert runs == ["jobs", "jobs"]
    finally:
        await service.stop()
    assert cancelled.is_set()
