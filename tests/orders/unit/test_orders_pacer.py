"""The apply job's pacer: during a burst of pushes it gives way to the webhook, for a bounded
time; with few pushes it never holds a pass back longer than one window."""

from __future__ import annotations

import asyncio
import time

from services.orders.webhook_queue import Pacer, QueueDepth


async def _burst(depth: QueueDepth, per_tick: int, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        depth.added(per_tick)
        await asyncio.sleep(0.001)


async def test_a_pass_waits_while_a_burst_lasts_and_starts_when_it_stops():
    depth = QueueDepth()
    pacer = Pacer(depth, burst_rate=1000, max_lag_s=5, window_s=0.02)
    burst = asyncio.create_task(_burst(depth, 50, 0.3))  # ~50,000 pushes/s for 0.3 s
    await asyncio.sleep(0.03)
    started = time.monotonic()
    await pacer.wait_turn()
    waited = time.monotonic() - started
    await burst
    assert 0.2 < waited < 1.5  # generous: sleeps overrun on a busy machine


async def test_past_its_max_lag_a_pass_takes_its_turn_even_during_a_burst():
    depth = QueueDepth()
    pacer = Pacer(depth, burst_rate=1000, max_lag_s=0.15, window_s=0.02)
    burst = asyncio.create_task(_burst(depth, 50, 1.0))
    await asyncio.sleep(0.03)
    started = time.monotonic()
    await pacer.wait_turn()
    waited = time.monotonic() - started
    await pacer.wait_turn()  # still behind: no more waiting until it has caught up
    again = time.monotonic() - started - waited
    burst.cancel()
    assert 0.1 < waited < 0.9 and again < 0.2


async def test_with_few_pushes_a_pass_waits_at_most_one_window():
    depth = QueueDepth()
    pacer = Pacer(depth, burst_rate=1000, max_lag_s=5, window_s=0.02)
    await asyncio.sleep(0.05)  # a quiet moment
    depth.added(3)
    started = time.monotonic()
    await pacer.wait_turn()
    assert time.monotonic() - started < 0.05  # the rate since the last look is low: at once
    pacer.caught_up()
    depth.added(3)
    started = time.monotonic()
    await pacer.wait_turn()  # right after a pass: one window to measure the rate
    assert time.monotonic() - started < 0.2
