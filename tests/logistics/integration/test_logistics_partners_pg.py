"""The partner side on the real broker and database: signed carrier updates over HTTP and on the
tracking topic (deduplicated, never regressing), outbound signed webhooks retried then
dead-lettered, and the shipping label."""

from __future__ import annotations

import asyncio
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from services.logistics.adapters.partner_signing import SIGNATURE_HEADER, sign
from shared.contracts.logistics import CarrierStatusReported
from shared.contracts.parts import PICKUPS, SHIPMENTS
from shared.contracts.topics import dead_letter_topic
from shared.messaging.admin import ensure_topics
from shared.messaging.dlq import list_dead_letters
from tests.logistics.integration.test_logistics_flow_pg import allocation, reserved, rows
from tests.shared.integration.harness import eventually

pytestmark = pytest.mark.integration
SECRETS = {"ghn": "ghn-secret", "ghtk": "ghtk-secret", "viettelpost": "vtp-secret",
           "acme": "acme-secret", "down": "down-secret"}


async def one_shipment(logistics) -> dict:
    await logistics.publish(reserved("o-p", allocation("PRD-A", 23.16, 105.41)))
    await logistics.wait_for(PICKUPS, "PickupScheduled")
    [row] = await rows(logistics, "SELECT * FROM shipments")
    return dict(row)


async def post(client, partner: str, body: dict, secret: str | None = None):
    raw = json.dumps(body).encode()
    headers = {SIGNATURE_HEADER: sign(secret or SECRETS.get(partner, "x"), raw)}
    return await client.post(f"/partners/{partner}/events", content=raw, headers=headers)


async def test_carrier_updates_are_signed_deduplicated_and_never_regress(start_logistics):
    logistics = await start_logistics(partner_secrets=SECRETS)
    shipment = await one_shipment(logistics)
    sid = shipment["shipment_id"]
    client = logistics.http()
    picked = {"OrderCode": "GHN5XK2P9Q", "ClientOrderCode": sid, "Status": "picked",
              "Time": "2026-11-29T10:15:00+07:00"}

    assert (await post(client, "ghn", picked, secret="forged")).status_code == 401
    assert (await post(client, "nobody", picked)).status_code == 404
    unknown = await post(client, "ghn", picked | {"ClientOrderCode": "no-such", "OrderCode": "Z"})
    assert unknown.status_code == 404 and unknown.json()["error"] == "unknown_shipment"
    odd = await post(client, "ghn", picked | {"Status": "teleported"})
    assert odd.status_code == 422

    first = await post(client, "ghn", picked)
    assert first.status_code == 200 and first.json()["outcome"] == "applied"
    again = await post(client, "ghn", picked)
    assert again.json()["outcome"] == "duplicate"
    older = await post(client, "ghn", picked | {"Status": "ready_to_pick",
                                                "Time": "2026-11-29T08:00:00+07:00"})
    assert older.json()["outcome"] == "stale"
    # Viettel Post's own format and codes, later in the day: at the origin office.
    vtp = {"DATA": {"ORDER_NUMBER": "GHN5XK2P9Q", "ORDER_REFERENCE": sid, "ORDER_STATUS": 200,
                    "ORDER_STATUSDATE": "29/11/2026 15:00:00"}}
    assert (await post(client, "viettelpost", vtp)).json()["outcome"] == "applied"

    events = await logistics.wait_for(SHIPMENTS, "ShipmentArrivedAtHub")
    [picked_up] = await logistics.wait_for(SHIPMENTS, "ShipmentPickedUp")
    assert picked_up.payload["carrier_status"] == "picked"
    assert picked_up.payload["tracking_number"] == "GHN5XK2P9Q"
    assert picked_up.payload["cod_amount"] == 900_000
    assert events[0].payload["carrier_status"] == "200"
    [row] = await rows(logistics, "SELECT * FROM shipments")
    assert row["status"] == "AT_HUB"
    assert await rows(logistics, "SELECT code FROM tracking_events WHERE NOT applied") != []


async def test_updates_on_the_tracking_topic_are_applied_once(start_logistics):
    logistics = await start_logistics(partner_secrets=SECRETS)
    sid = (await one_shipment(logistics))["shipment_id"]
    from datetime import UTC, datetime

    update = CarrierStatusReported(carrier="ghtk", code="5", occurred_at=datetime.now(UTC),
                                   shipment_id=sid, tracking_number="S1.A1.17373471")
    await logistics.publish(update)
    await logistics.publish(update)  # a carrier's retry: another message, the same update
    [delivered] = await logistics.wait_for(SHIPMENTS, "ShipmentDelivered")
    assert delivered.payload["carrier"] == "ghtk" and delivered.payload["carrier_status"] == "5"
    await asyncio.sleep(1.5)
    delivered_events = [e for e in await logistics.read(SHIPMENTS)
                        if e.event_type == "ShipmentDelivered"]
    assert len(delivered_events) == 1


class Receiver(BaseHTTPRequestHandler):
    received: list[tuple[str, dict, bytes]] = []
    fail_first = 0

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["content-length"]))
        Receiver.received.append((self.path, dict(self.headers), body))
        failing = self.path == "/down" or Receiver.fail_first > 0
        Receiver.fail_first -= 1 if self.path != "/down" else 0
        self.send_response(503 if failing else 204)
        self.end_headers()

    def log_message(self, *args):
        pass


async def test_partners_without_kafka_get_signed_webhooks_retried_then_dead_lettered(
    start_logistics,
):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    Receiver.received, Receiver.fail_first = [], 1
    try:
        logistics = await start_logistics(
            partner_secrets=SECRETS,
            partner_webhooks={"acme": f"{base}/acme", "down": f"{base}/down"},
            webhook_max_attempts=3,
            webhook_backoff_s=0.1,
        )
        await ensure_topics(logistics.bootstrap, [(dead_letter_topic(PICKUPS), 1, 86_400_000)])
        await one_shipment(logistics)

        async def acme_got_it() -> bool:
            sent = await rows(logistics, "SELECT * FROM partner_deliveries WHERE status = 'sent'")
            return [r["partner"] for r in sent] == ["acme"]

        await eventually(acme_got_it)
        attempts = [(h, b) for p, h, b in Receiver.received if p == "/acme"]
        assert len(attempts) >= 2  # the first answered 503 and was retried
        headers, body = attempts[-1]
        assert headers[SIGNATURE_HEADER] == sign(SECRETS["acme"], body)
        assert headers["X-OVOP-Event-Type"] == "PickupScheduled"

        async def dead_lettered() -> bool:
            return bool(await letters())

        async def letters():
            entries = await list_dead_letters(logistics.bootstrap, [dead_letter_topic(PICKUPS)])
            return [e for e in entries if e.headers.get("url") == f"{base}/down"]

        await eventually(dead_lettered, timeout=30)
        [letter] = await letters()
        assert letter.headers["error_type"] == "WebhookUndeliverable"
        assert letter.headers["partner"] == "down"
        assert sum(1 for p, _, _ in Receiver.received if p == "/down") == 3
        [dead] = await rows(logistics, "SELECT * FROM partner_deliveries WHERE status = 'dead'")
        assert dead["partner"] == "down"
    finally:
        server.shutdown()


async def test_the_label_is_an_a6_pdf_with_the_cod_amount_barcode_and_story_qr(start_logistics):
    logistics = await start_logistics(catalog_public_base_url="https://shop.example")
    sid = (await one_shipment(logistics))["shipment_id"]
    client = logistics.http()
    resp = await client.get(f"/shipments/{sid}/label.pdf")
    assert resp.status_code == 200 and resp.headers["content-type"] == "application/pdf"
    pdf = resp.content
    assert pdf.startswith(b"%PDF")
    assert b"/MediaBox [ 0 0 297.6378 419.5276 ]" in pdf  # A6 in points
    assert b"900.000 VND" in pdf and b"https://shop.example/p/HG-HONEY-500" in pdf
    assert b"Nguyen Van A" in pdf
    assert (await client.get("/shipments/nope/label.pdf")).status_code == 404
    client.headers.pop("Authorization")
    assert (await client.get(f"/shipments/{sid}/label.pdf")).status_code == 401
