"""Delivery-report callbacks and inbound keywords over HTTP: authenticated per provider, parts of
a long message aggregated, a timeline per message, and every bad request refused precisely."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from types import SimpleNamespace

import httpx
import pytest
from starlette.applications import Starlette

from services.notifications.adapters import postgres as db
from services.notifications.bootstrap import message_bus
from services.notifications.domain.reports import twilio_signature
from services.notifications.entrypoints.http import routes_for
from services.notifications.metrics import DELIVERY_REPORTS
from services.notifications.notifier import Notifier
from shared.metrics import REQUESTS_REJECTED
from tests.notifications.conftest import PHONE, fast_settings

pytestmark = pytest.mark.integration
BASE = "http://notifications.test"


@pytest.fixture
async def client(pool):
    settings = fast_settings(twilio_auth_token="tw-token")
    bus = message_bus(lambda: pool, Notifier(settings, "dev"))  # the service's bus on `pool`
    app = Starlette(routes=routes_for(settings)(SimpleNamespace(bus=bus)))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=BASE) as c:
        yield c


async def message(pool, *, provider="esms", segments=1, provider_id=None) -> uuid.UUID:
    async with pool.acquire() as conn, conn.transaction():
        message_id = await db.insert_message(
            conn,
            db.NewMessage(
                dedup_key=str(uuid.uuid4()),
                message_type="producer.new_order",
                channel="sms",
                recipient=PHONE,
                language="vi",
                text="x" * (160 * segments),
                encoding="GSM-7",
                segments=segments,
                provider=provider,
            ),
        )
        await db.record_status(conn, message_id, "ACCEPTED", "test", provider_id)
    return message_id


async def status(pool, message_id) -> tuple[str, list[str]]:
    async with pool.acquire() as conn:
        found = await db.message_details(conn, message_id)
    return found["status"], [h["status"] for h in found["timeline"]]


def signed(path: str, params: dict, token: str = "tw-token") -> dict:
    return {"X-Twilio-Signature": twilio_signature(token, BASE + path, params.items())}


async def test_a_signed_twilio_report_moves_the_status_and_keeps_the_timeline(client, pool):
    message_id = await message(pool, provider="twilio", provider_id="SM1")
    path = f"/callbacks/twilio/{message_id}"
    for state in ("sent", "delivered", "sent"):  # the late "sent" does not go backwards
        params = {"MessageSid": "SM1", "MessageStatus": state, "AccountSid": "AC123"}
        resp = await client.post(path, data=params, headers=signed(path, params))
        assert resp.status_code == 200
    assert await status(pool, message_id) == (
        "DELIVERED",
        ["QUEUED", "ACCEPTED", "SENT", "DELIVERED", "SENT"],
    )


@pytest.mark.parametrize("case", ["forged", "missing", "tampered"])
async def test_a_twilio_report_without_a_valid_signature_is_refused(client, pool, case):
    message_id = await message(pool, provider="twilio")
    path = f"/callbacks/twilio/{message_id}"
    params = {"MessageSid": "SM1", "MessageStatus": "delivered"}
    headers = {
        "forged": signed(path, params, token="not-the-token"),
        "missing": {},
        "tampered": signed(path, {**params, "MessageStatus": "failed"}),
    }[case]
    before = REQUESTS_REJECTED.labels("notifications", "twilio_report", "bad_signature")
    count = before._value.get()
    resp = await client.post(path, data=params, headers=headers)
    assert resp.status_code == 401
    assert resp.json() == {
        "error": "bad_signature",
        "detail": "X-Twilio-Signature missing or not valid",
    }
    assert await status(pool, message_id) == ("ACCEPTED", ["QUEUED", "ACCEPTED"])
    assert before._value.get() == count + 1


async def test_twilio_reports_that_are_malformed_or_unknown_get_400_and_404(client, pool):
    path = f"/callbacks/twilio/{uuid.uuid4()}"
    params = {"MessageSid": "SM1", "MessageStatus": "delivered"}
    assert (await client.post(path, data=params, headers=signed(path, params))).status_code == 404
    odd = {"MessageSid": "SM1", "MessageStatus": "teleported"}
    assert (await client.post(path, data=odd, headers=signed(path, odd))).status_code == 400


async def test_esms_reports_need_the_secret_token_in_the_url(client, pool):
    message_id = await message(pool)
    reports = DELIVERY_REPORTS.labels("esms", "DELIVERED")._value.get()
    ok = await client.get(f"/callbacks/esms/cb-token/{message_id}?SMSID=e1&SendStatus=5")
    assert ok.status_code == 200 and ok.json()["status"] == "DELIVERED"
    assert DELIVERY_REPORTS.labels("esms", "DELIVERED")._value.get() == reports + 1
    bad = await client.get(f"/callbacks/esms/guess/{message_id}?SMSID=e1&SendStatus=4")
    assert (bad.status_code, bad.json()["error"]) == (401, "bad_token")
    odd = await client.get(f"/callbacks/esms/cb-token/{message_id}?SendStatus=99")
    assert (odd.status_code, odd.json()["error"]) == (400, "malformed_report")
    unknown = await client.get(f"/callbacks/esms/cb-token/{uuid.uuid4()}?SendStatus=5")
    assert unknown.status_code == 404
    assert (await status(pool, message_id))[0] == "DELIVERED"


async def test_reports_of_a_long_messages_parts_are_aggregated(client, pool):
    message_id = await message(pool, segments=3)
    url = f"/callbacks/esms/cb-token/{message_id}?SendStatus=5&PartNo="
    for part in (1, 2):
        assert (await client.get(url + str(part))).json()["status"] == "SENT"
    assert (await client.get(url + "2")).json()["status"] == "SENT"  # a repeat counts once
    assert (await client.get(url + "3")).json()["status"] == "DELIVERED"
    async with pool.acquire() as conn:
        found = await db.message_details(conn, message_id)
    assert [p["status"] for p in found["parts"]] == ["DELIVERED"] * 3
    assert "part 3/3 DELIVERED" in found["timeline"][-1]["detail"]


async def test_one_undelivered_part_makes_the_message_undelivered(client, pool):
    message_id = await message(pool, segments=2)
    await client.get(f"/callbacks/esms/cb-token/{message_id}?SendStatus=5&PartNo=1")
    resp = await client.get(f"/callbacks/esms/cb-token/{message_id}?SendStatus=4&PartNo=2")
    assert resp.json()["status"] == "UNDELIVERED"


async def test_speedsms_reports_are_matched_by_tran_id(client, pool):
    message_id = await message(pool, provider="speedsms", provider_id="42")
    body = {"type": "report", "tranId": 42, "phone": "84912000101", "status": 0}
    resp = await client.post("/callbacks/speedsms/cb-token", json=body)
    assert resp.json()["status"] == "DELIVERED"
    assert (await client.post("/callbacks/speedsms/cb-token", content=b"{")).status_code == 400
    body["tranId"] = 43
    assert (await client.post("/callbacks/speedsms/cb-token", json=body)).status_code == 404
    assert (await client.post("/callbacks/speedsms/nope", json=body)).status_code == 401
    assert (await status(pool, message_id))[0] == "DELIVERED"


async def test_stop_and_huy_opt_out_and_start_opts_back_in(client, pool):
    async def opted_out() -> bool | None:
        async with pool.acquire() as conn:
            prefs = await db.preferences(conn, PHONE)
        return prefs and prefs["opted_out"]

    resp = await client.post("/inbound/sms/cb-token", json={"from": "0912000101", "text": "huy"})
    assert resp.json() == {"action": "opt_out"} and await opted_out()
    resp = await client.post("/inbound/sms/cb-token", data={"Phone": PHONE, "Message": "START"})
    assert resp.json() == {"action": "opt_in"} and not await opted_out()
    params = {"From": PHONE, "Body": "STOP", "To": "+15005550006"}
    resp = await client.post(
        "/inbound/twilio", data=params, headers=signed("/inbound/twilio", params)
    )
    assert resp.json() == {"action": "opt_out"} and await opted_out()
    assert (await client.post("/inbound/twilio", data=params)).status_code == 401
    assert (
        await client.post("/inbound/sms/guess", json={"from": PHONE, "text": "STOP"})
    ).status_code == 401
    hello = await client.post("/inbound/sms/cb-token", json={"from": PHONE, "text": "hello"})
    assert hello.json() == {"action": "ignored"}
    assert (await client.post("/inbound/sms/cb-token", json={"text": "STOP"})).status_code == 400


async def test_ovop_sms_show_prints_the_timeline(pool, notifications_db):
    message_id = await message(pool, provider="twilio", provider_id="SM9")
    async with pool.acquire() as conn, conn.transaction():
        await db.report_status(conn, message_id, "DELIVERED", "twilio delivered")
    env = {"NOTIFICATIONS_DATABASE_URL": notifications_db, "PATH": "/usr/bin:/bin"}
    run = [sys.executable, "-m", "services.cli", "sms"]
    shown = subprocess.run(
        [*run, "show", str(message_id)], env=env, capture_output=True, text=True, timeout=60
    )
    assert shown.returncode == 0, shown.stderr
    assert "status    DELIVERED" in shown.stdout and "+8491*****01" in shown.stdout
    assert [ln.split()[2] for ln in shown.stdout.splitlines() if ln.startswith("  20")] == [
        "QUEUED",
        "ACCEPTED",
        "DELIVERED",
    ]
    listed = subprocess.run(
        [*run, "list", "--json", "--status", "delivered"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert [m["message_id"] for m in json.loads(listed.stdout)] == [str(message_id)]
    missing = subprocess.run(
        [*run, "show", str(uuid.uuid4())], env=env, capture_output=True, text=True, timeout=60
    )
    assert missing.returncode == 1 and "no message" in missing.stderr
    prefs = subprocess.run(
        [*run, "prefs", "0912000101", "--language", "en", "--diacritics", "--opt-out"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert prefs.returncode == 0, prefs.stderr
    assert "language=en diacritics=True channel=- opted_out=True" in prefs.stdout
    async with pool.acquire() as conn:
        stored = await db.preferences(conn, PHONE)
    assert (stored["language"], stored["diacritics"], stored["opted_out"]) == ("en", True, True)
