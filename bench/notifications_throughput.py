"""Producer alerts per second: PickupScheduled events consumed by the notifications service (real
handlers, `dev` provider) against a consumer that does nothing, through the same runtime (inbox
transaction, offsets committed after the work), broker and database, in the same run.

    .venv/bin/python -m shared.devstack exec --fresh --root .devstack/bench -- \
        .venv/bin/python bench/notifications_throughput.py [--events 2000] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import signal
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta

from _common import create_topics, producer, unique

from services.notifications import bootstrap
from services.notifications.adapters.providers import DevProvider
from services.notifications.settings import NotificationSettings
from shared.contracts.envelope import Envelope
from shared.contracts.events import Contact, Location, PickupScheduled, ReservedLine
from shared.db.pool import connect, ensure_database
from shared.logging import configure_logging
from shared.messaging.consumer import Subscription
from shared.runtime import Service
from shared.settings import ServiceSettings, with_database

NAMES = ["Mật ong bạc hà Mèo Vạc 500 g", "Hồng trà Shan tuyết hộp 100 g", "Nước mắm Phú Quốc"]


def events(n: int) -> list[tuple[bytes, bytes]]:
    start = datetime.now(UTC) + timedelta(days=1)
    out = []
    for i in range(n):
        e = PickupScheduled(
            shipment_id=str(uuid.uuid4()), order_id=str(uuid.uuid4()), order_ref=f"#{10000 + i}",
            producer_id=f"P{i % 50}", hub_id="HUB", wave_id="W", window_start=start,
            window_end=start + timedelta(hours=2),
            pickup_contact=Contact(name="HTX", phone=f"+849120{i % 50:05d}"),
            location=Location(village="V", province="P", country="VN", lat=1.0, lon=2.0),
            lines=[ReservedLine(sku=f"S{j}", name=NAMES[(i + j) % 3], quantity=1 + j,
                                weight_g=100) for j in range(1 + i % 3)],
            weight_g=300,
        )  # fmt: skip
        env = Envelope.wrap(e, producer="bench", correlation_id=e.order_id)
        out.append((e.key().encode(), env.to_bytes()))
    return out


async def noop(conn, env, event) -> list:
    return []


async def run_one(kind: str, bootstrap_servers: str, server: str, records) -> tuple[float, int]:
    """(events/s between the first and the last event handled, messages recorded)."""
    url = with_database(server, unique(f"bench_{kind}"))
    await ensure_database(server, url.rsplit("/", 1)[-1])
    topic = f"bench.{unique(kind)}.v1"
    await create_topics(bootstrap_servers, [topic])
    out = producer(bootstrap_servers)
    await out.start()
    try:
        for key, body in records:
            await out.send(topic, body, key=key)
        await out.flush()
    finally:
        await out.stop()
    settings = ServiceSettings(service="notifications", kafka_bootstrap_servers=bootstrap_servers,
                               own_database_url=url, http_port=1, log_level="WARNING")  # fmt: skip
    if kind == "noop":
        service = Service(settings=settings, migrations=None,
                          subscriptions=[Subscription(topic, {PickupScheduled: noop})])  # fmt: skip
    else:
        service = bootstrap.build(settings, notification_settings=NotificationSettings(),
                                  providers=[DevProvider()])  # fmt: skip
        [pickups] = [s for s in service.subscriptions if PickupScheduled in s.handlers]
        service.subscriptions = [dataclasses.replace(pickups, topic=topic)]
    service.run_relay = False
    await service.start()
    conn = await connect(url)
    try:
        deadline = time.monotonic() + 150
        while await conn.fetchval("SELECT count(*) FROM processed_messages") < len(records):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{kind}: not all events handled")
            await asyncio.sleep(0.2)
        spread = await conn.fetchval(
            "SELECT extract(epoch FROM max(processed_at) - min(processed_at)) FROM "
            "processed_messages"
        )
        recorded = 0
        while kind != "noop" and time.monotonic() < deadline:
            # The dispatcher sends after each commit: the last messages may still be on their way.
            recorded = await conn.fetchval(
                "SELECT count(*) FROM sms_messages WHERE status = 'ACCEPTED'"
            )
            if recorded >= len(records):
                break
            await asyncio.sleep(0.2)
    finally:
        await conn.close()
        await service.stop()
    return (len(records) - 1) / max(float(spread), 1e-6), recorded


async def main(n: int, rounds: int) -> None:
    bootstrap_servers, server = os.environ["KAFKA_BOOTSTRAP_SERVERS"], os.environ["DATABASE_URL"]
    configure_logging("notifications", "WARNING")  # as a service runs, without per-event lines
    rates: dict[str, list[float]] = {"noop": [], "dev": []}
    for r in range(rounds):
        for kind in ("noop", "dev")[:: 1 if r % 2 == 0 else -1]:
            rate, recorded = await run_one(kind, bootstrap_servers, server, events(n))
            if kind == "dev" and recorded != n:
                sys.exit(f"expected {n} alerts accepted, found {recorded}")
            rates[kind].append(rate)
    noop_rate = sum(rates["noop"]) / rounds
    dev_rate = sum(rates["dev"]) / rounds
    print(f"{n} PickupScheduled events per run, {rounds} interleaved rounds, 6 partitions")
    print(f"{'baseline: consumer that does nothing (inbox only)':<55} {noop_rate:8.0f} events/s")
    print(f"{'notifications: render + record + dev provider':<55} {dev_rate:8.0f} alerts/s  "
          f"x{dev_rate / noop_rate:.2f} of baseline")  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    signal.alarm(600)
    asyncio.run(main(args.events, args.rounds))
