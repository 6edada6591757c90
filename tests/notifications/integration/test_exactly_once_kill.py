"""Exactly once, even when the process dies at the worst moment: the service runs as a process,
kills itself (SIGKILL) right after the provider fake accepted a message and before the outcome
is recorded; the event is also delivered twice. After a restart the provider has received the
message exactly once: eSMS through its RequestId (the resend is answered "duplicate"), Twilio
(no idempotency key) by marking the message UNKNOWN until its delivery report settles it."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from services.notifications.bootstrap import MIGRATIONS
from services.notifications.domain.reports import twilio_signature
from shared.contracts.envelope import Envelope
from shared.contracts.events import (
    ORDERS,
    PICKUPS,
    SHIPMENTS,
    STOCK,
    Contact,
    Location,
    PickupScheduled,
    ReservedLine,
)
from shared.db.pool import connect
from tests.notifications.fakes import FakeProvider, esms_app, free_port, serving, twilio_app
from tests.shared.integration.harness import eventually, send

pytestmark = pytest.mark.integration

PHONE = "+84912000101"
WINDOW = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=3)
EVENT = PickupScheduled(
    shipment_id="s-kill",
    order_id="o-kill",
    order_ref="#9001",
    producer_id="PRD-HG-001",
    hub_id="HUB-HAGIANG",
    wave_id="w1",
    window_start=WINDOW,
    window_end=WINDOW + timedelta(hours=2),
    pickup_contact=Contact(name="HTX", phone=PHONE),
    location=Location(village="Pả Vi", province="Tuyên Quang", country="VN", lat=23.1, lon=105.4),
    lines=[ReservedLine(sku="HG-HONEY-500", name="Mật ong bạc hà", quantity=2, weight_g=750)],
    weight_g=1500,
)


def _env(kafka: str, url: str, topics: dict, provider: str, base: str, port: int) -> dict:
    return dict(os.environ) | {
        "KAFKA_BOOTSTRAP_SERVERS": kafka,
        "NOTIFICATIONS_DATABASE_URL": url,
        "NOTIFICATIONS_HTTP_PORT": str(port),
        "NOTIFICATIONS_SMS_PROVIDERS": provider,
        "NOTIFICATIONS_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "NOTIFICATIONS_CALLBACK_TOKEN": "cb-token",
        "NOTIFICATIONS_SEND_LEASE_S": "2",
        "NOTIFICATIONS_DISPATCH_POLL_S": "0.2",
        "NOTIFICATIONS_REMINDER_LEAD_S": "60",
        "NOTIFICATIONS_ESMS_BASE_URL": base,
        "NOTIFICATIONS_ESMS_API_KEY": "es-key",
        "NOTIFICATIONS_ESMS_SECRET_KEY": "es-secret",
        "NOTIFICATIONS_TWILIO_BASE_URL": base,
        "NOTIFICATIONS_TWILIO_ACCOUNT_SID": "AC123",
        "NOTIFICATIONS_TWILIO_AUTH_TOKEN": "tw-token",
        "NOTIFICATIONS_TWILIO_FROM": "+15005550006",
        "TEST_TOPICS": json.dumps(topics),
        "PYTHONUNBUFFERED": "1",
    }


async def _spawn(env: dict, log) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.notifications.kill_runner",
        env=env,
        stdout=log,
        stderr=asyncio.subprocess.STDOUT,
    )


async def _rows(url: str) -> list:
    conn = await connect(url)
    try:
        return await conn.fetch("SELECT * FROM sms_messages")
    finally:
        await conn.close()


@pytest.mark.parametrize("provider", ["esms", "twilio"])
async def test_a_kill_between_provider_accept_and_commit_sends_exactly_once(
    provider, kafka_bootstrap, make_database, make_topic, tmp_path
):
    url = await make_database("notifications", MIGRATIONS)
    topics = {t: await make_topic(partitions=1) for t in (PICKUPS, STOCK, ORDERS, SHIPMENTS)}
    fake = FakeProvider()
    app = esms_app(fake) if provider == "esms" else twilio_app(fake)
    port = free_port()
    log = open(tmp_path / "service.log", "wb")  # noqa: SIM115 - closed below
    async with serving(app) as base:
        env = _env(kafka_bootstrap, url, topics, provider, base, port)
        body = Envelope.wrap(EVENT, producer="test", correlation_id="o-kill").to_bytes()
        await send(kafka_bootstrap, topics[PICKUPS], [(EVENT.key(), body), (EVENT.key(), body)])

        first = await _spawn(env | {"KILL_AFTER_ACCEPT": "1"}, log)
        try:
            assert await asyncio.wait_for(first.wait(), 90) == -signal.SIGKILL
        finally:
            if first.returncode is None:
                first.kill()
        [row] = await _rows(url)
        assert row["status"] == "SENDING"  # the provider took it; we never recorded that
        assert len(fake.delivered) == 1

        second = await _spawn(env, log)
        try:
            expected = "ACCEPTED" if provider == "esms" else "UNKNOWN"

            async def settled() -> bool:
                return [r["status"] for r in await _rows(url)] == [expected]

            await eventually(settled, timeout=60)
            if provider == "twilio":  # the delivery report settles the unknown send
                sid = fake.delivered[0]["sid"]
                path = f"/callbacks/twilio/{row['message_id']}"
                params = {"MessageSid": sid, "MessageStatus": "delivered"}
                signature = twilio_signature(
                    "tw-token", f"http://127.0.0.1:{port}{path}", params.items()
                )
                async with httpx.AsyncClient() as client:
                    resp = await client.post(
                        f"http://127.0.0.1:{port}{path}",
                        data=params,
                        headers={"X-Twilio-Signature": signature},
                    )
                assert resp.status_code == 200 and resp.json()["status"] == "DELIVERED"
            await asyncio.sleep(1.5)  # time for any wrong resend to happen
        finally:
            second.send_signal(signal.SIGTERM)
            await asyncio.wait_for(second.wait(), 30)
            log.close()
    print((tmp_path / "service.log").read_text()[-3000:])
    assert len(fake.delivered) == 1, "the handset got the message exactly once"
    [row] = await _rows(url)
    assert row["dedup_key"].startswith(str(Envelope.model_validate_json(body).event_id))
    if provider == "esms":
        assert len(fake.requests) == 2  # the resend after the restart, answered "duplicate"
        assert {r["RequestId"] for r in fake.requests} == {str(row["message_id"])}
        assert row["provider_message_id"] == fake.delivered[0]["SMSID"]
    else:
        assert len(fake.requests) == 1  # never resent blindly
        assert row["status"] == "DELIVERED"
        assert row["provider_message_id"] == fake.delivered[0]["sid"]
