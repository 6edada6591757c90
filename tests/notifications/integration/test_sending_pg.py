"""The sender and the rules on the real database, providers as real HTTP fakes: fallback chain,
retry rounds, invalid numbers, opt-out, Decree 91, digests, email over SMTP, unknown buyers."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
from aiosmtpd.controller import Controller

from services.notifications.adapters import postgres as db
from services.notifications.adapters.email import SmtpSender
from services.notifications.adapters.providers import DevProvider, EsmsProvider, TwilioProvider
from services.notifications.commands import FlushDigest
from services.notifications.dispatcher import Dispatcher
from services.notifications.metrics import (
    ACCEPT_LATENCY,
    FAILED,
    SEGMENTS,
    SEND_ATTEMPTS,
    SENT,
    SKIPPED,
    WAITING,
)
from services.notifications.notifier import Notifier, OutgoingSms, Recipient, Source
from shared.contracts.events import Buyer, OrderConfirmed, OrderLine, OrderPlaced
from shared.contracts.logistics import ShipmentDelivered
from shared.contracts.parts import Address
from tests.notifications.conftest import PHONE, OnBus, bus_on, envelope, fast_settings, pickup
from tests.notifications.fakes import FakeProvider, esms_app, free_port, serving, twilio_app

pytestmark = pytest.mark.integration


def twilio(url: str) -> TwilioProvider:
    return TwilioProvider(
        base_url=url,
        account_sid="AC123",
        auth_token="tw-token",
        sender="+15005550006",
        callback_base=None,
        timeout_s=1.0,
    )


def esms(url: str) -> EsmsProvider:
    return EsmsProvider(
        base_url=url,
        api_key="es-key",
        secret_key="es-secret",
        brandname="OVOP",
        callback_base=None,
        callback_token=None,
        timeout_s=1.0,
    )


def wired(providers, email=None, clock=None, **over) -> tuple[OnBus, Dispatcher]:
    n = fast_settings(**over)
    dispatcher = Dispatcher(n, providers, email)
    notifier = Notifier(n, providers[0].name, clock or (lambda: datetime.now(UTC)))
    return OnBus(notifier), dispatcher


async def handle(pool, handler, event) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await handler(conn, envelope(event), event)


async def rows(pool) -> list:
    async with pool.acquire() as conn:
        return await conn.fetch("SELECT * FROM sms_messages ORDER BY created_at")


async def timeline(pool, message_id) -> list[str]:
    async with pool.acquire() as conn:
        return [
            f"{r['status']}: {r['detail']}"
            for r in await conn.fetch(
                "SELECT * FROM sms_status_history WHERE message_id = $1 ORDER BY id", message_id
            )
        ]


def sample(metric, **labels) -> float:
    return metric.labels(**labels)._value.get()


def histogram_count(metric, **labels) -> float:
    [total] = [
        s.value for s in metric.labels(**labels).collect()[0].samples if s.name.endswith("_count")
    ]
    return total


async def test_a_provider_failing_with_5xx_falls_back_to_the_next_one(pool):
    down, up = FakeProvider(script=[500] * 10), FakeProvider()
    sent = sample(SENT, provider="twilio", channel="sms", message_type="producer.new_order")
    retried = sample(SEND_ATTEMPTS, provider="esms", outcome="retryable")
    latency = histogram_count(
        ACCEPT_LATENCY, provider="twilio", channel="sms", message_type="producer.new_order"
    )
    segments = histogram_count(SEGMENTS, message_type="producer.new_order", encoding="GSM-7")
    async with serving(esms_app(down)) as a, serving(twilio_app(up)) as b:
        h, dispatcher = wired([esms(a), twilio(b)])
        await handle(pool, h.pickup_scheduled, pickup(1))
        assert await dispatcher.pass_once(bus_on(pool)) == 1
    [row] = await rows(pool)
    assert (row["status"], row["provider"], row["provider_index"]) == ("ACCEPTED", "twilio", 1)
    assert len(down.requests) == 3 and down.delivered == []  # its retries, then the fallback
    assert len(up.delivered) == 1
    steps = await timeline(pool, row["message_id"])
    assert [s.split(":")[0] for s in steps] == ["QUEUED", "SENDING", "SENDING", "ACCEPTED"]
    assert "fallback to twilio: esms retryable" in steps[2]
    # Metrics: sent by provider, provider outcomes, event -> accepted latency, segments.
    assert (
        sample(SENT, provider="twilio", channel="sms", message_type="producer.new_order")
        == sent + 1
    )
    assert sample(SEND_ATTEMPTS, provider="esms", outcome="retryable") == retried + 1
    assert (
        histogram_count(
            ACCEPT_LATENCY, provider="twilio", channel="sms", message_type="producer.new_order"
        )
        == latency + 1
    )
    assert (
        histogram_count(SEGMENTS, message_type="producer.new_order", encoding="GSM-7")
        == segments + 1
    )


async def test_an_invalid_number_from_the_provider_fails_without_trying_the_next_one(pool):
    first, second = FakeProvider(script=["108"]), FakeProvider()
    async with serving(esms_app(first)) as a, serving(twilio_app(second)) as b:
        h, dispatcher = wired([esms(a), twilio(b)])
        await handle(pool, h.pickup_scheduled, pickup(1))
        await dispatcher.pass_once(bus_on(pool))
    [row] = await rows(pool)
    assert (row["status"], row["reason"]) == ("FAILED", "invalid_number")
    assert second.requests == []


async def test_when_every_provider_is_down_the_message_waits_for_another_round(pool):
    down = FakeProvider(script=[503] * 10)
    async with serving(twilio_app(down)) as a:
        h, dispatcher = wired([twilio(a)], round_delay_s=0.2)
        await handle(pool, h.pickup_scheduled, pickup(1))
        await dispatcher.pass_once(bus_on(pool))
        [row] = await rows(pool)
        assert (row["status"], row["rounds"]) == ("RETRYING", 1)
        await asyncio.sleep(0.3)
        down.script.clear()  # the provider is back
        assert await dispatcher.pass_once(bus_on(pool)) == 1
    [row] = await rows(pool)
    assert row["status"] == "ACCEPTED" and len(down.delivered) == 1


@pytest.mark.parametrize("phone", ["12345", "0912 34", "+84 1234"])
async def test_an_invalid_phone_fails_with_its_reason_and_no_provider_is_called(pool, phone):
    fake = FakeProvider()
    before = FAILED.labels("none", "sms", "invalid_phone")._value.get()
    async with serving(twilio_app(fake)) as a:
        h, dispatcher = wired([twilio(a)])
        await handle(pool, h.pickup_scheduled, pickup(1, phone=phone))
        assert await dispatcher.pass_once(bus_on(pool)) == 0
    [row] = await rows(pool)
    assert row["status"] == "FAILED" and row["reason"].startswith("invalid_phone")
    assert row["recipient"] == phone and fake.requests == []
    assert FAILED.labels("none", "sms", "invalid_phone")._value.get() == before + 1


async def test_a_legacy_eleven_digit_number_is_mapped_and_sent(pool):
    h, dispatcher = wired([DevProvider()])
    await handle(pool, h.pickup_scheduled, pickup(1, phone="01662 345 678"))  # Viettel 0166
    await dispatcher.pass_once(bus_on(pool))
    [row] = await rows(pool)
    assert (row["recipient"], row["status"]) == ("+84362345678", "ACCEPTED")


async def test_an_opted_out_number_gets_nothing_and_opting_in_restores_it(pool):
    h, dispatcher = wired([DevProvider()])
    async with pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO recipient_preferences (address, opted_out) VALUES ($1, true)", PHONE
        )
    await handle(pool, h.pickup_scheduled, pickup(1))
    async with pool.acquire() as conn:
        await conn.execute("UPDATE recipient_preferences SET opted_out = false")
    await handle(pool, h.pickup_scheduled, pickup(2))
    assert await dispatcher.pass_once(bus_on(pool)) == 1  # the opted-out one is never sent
    assert [(r["status"], r["reason"]) for r in await rows(pool)] == [
        ("SUPPRESSED", "opted_out"),
        ("ACCEPTED", None),
    ]


def placed(order_id: str, phone: str | None = "+84987654321", email: str | None = None):
    return OrderPlaced(
        order_id=order_id,
        channel="shopify",
        account="demo",
        external_id=order_id,
        order_ref="#77",
        currency="VND",
        total=450_000,
        lines=[OrderLine(name="Honey", quantity=1, unit_price=450_000)],
        placed_at=datetime.now(UTC),
        buyer=Buyer(phone=phone, email=email, language="en"),
        shipping_address=Address(country="VN"),
    )


def delivered(order_id: str) -> ShipmentDelivered:
    return ShipmentDelivered(
        shipment_id=f"s-{uuid.uuid4().hex[:6]}",
        order_id=order_id,
        producer_id="P",
        occurred_at=datetime.now(UTC),
    )


async def test_a_promotional_line_obeys_decree_91(pool):
    noon = datetime(2026, 11, 30, 5, 0, tzinfo=UTC)  # 12:00 in Hanoi
    h, _ = wired([DevProvider()], clock=lambda: noon, delivered_promo="Giam 10% don sau: OVOP10")
    await handle(pool, h.order_placed, placed("o-ad"))
    for _ in range(4):
        await handle(pool, h.shipment, delivered("o-ad"))
    found = await rows(pool)
    ads = [r for r in found if r["category"] == "advertising"]
    assert len(ads) == 3  # at most 3 per number in 24 h
    for ad in ads:
        assert ad["text"].startswith("[QC] Your order #77 was delivered. Thank you! Giam 10%")
        assert ad["text"].endswith("Reply STOP to OVOP to opt out")
    [plain] = [r for r in found if r["category"] == "transactional"]
    assert plain["text"] == "Your order #77 was delivered. Thank you!"  # the care part, alone


async def test_no_advertising_at_night_the_care_message_goes_alone(pool):
    night = datetime(2026, 11, 30, 16, 0, tzinfo=UTC)  # 23:00 in Hanoi
    h, _ = wired([DevProvider()], clock=lambda: night, delivered_promo="Giam 10%")
    await handle(pool, h.order_placed, placed("o-night"))
    await handle(pool, h.shipment, delivered("o-night"))
    [row] = await rows(pool)
    assert row["category"] == "transactional" and "[QC]" not in row["text"]


async def test_an_event_for_a_buyer_not_known_yet_waits_for_the_order_and_is_counted(pool):
    h, _ = wired([DevProvider()])
    before = WAITING.labels("OrderConfirmed")._value.get()
    await handle(pool, h.order_confirmed, OrderConfirmed(order_id="not-placed-yet"))
    assert await rows(pool) == []
    assert WAITING.labels("OrderConfirmed")._value.get() == before + 1
    async with pool.acquire() as conn:
        [waiting] = await conn.fetch("SELECT * FROM waiting_buyer_messages")
    assert (waiting["order_id"], waiting["message_type"]) == (
        "not-placed-yet",
        "buyer.order_confirmed",
    )


async def test_an_order_without_a_buyer_contact_lets_its_waiting_messages_go_as_skipped(pool):
    h, _ = wired([DevProvider()])
    before = SKIPPED.labels("OrderConfirmed", "no_channel")._value.get()
    await handle(pool, h.order_confirmed, OrderConfirmed(order_id="o-nobody"))
    await handle(pool, h.order_placed, placed("o-nobody", phone=None))
    assert await rows(pool) == []
    assert SKIPPED.labels("OrderConfirmed", "no_channel")._value.get() == before + 1
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM waiting_buyer_messages") == 0


class Inbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.messages.append(envelope)
        return "250 OK"


async def test_a_buyer_without_a_phone_gets_emails_over_smtp(pool):
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        email = SmtpSender("127.0.0.1", port, "OVOP <no-reply@ovop.test>")
        h, dispatcher = wired([DevProvider()], email=email, smtp_host="127.0.0.1")
        await handle(pool, h.order_placed, placed("o-mail", phone=None, email="lan@example.com"))
        await handle(pool, h.order_confirmed, OrderConfirmed(order_id="o-mail"))
        assert await dispatcher.pass_once(bus_on(pool)) == 1
    finally:
        controller.stop()
    [row] = await rows(pool)
    assert (row["channel"], row["status"], row["recipient"]) == (
        "email",
        "ACCEPTED",
        "lan@example.com",
    )
    [mail] = inbox.messages
    assert mail.rcpt_tos == ["lan@example.com"]
    body = mail.content.decode()
    assert "Subject: Order #77 confirmed" in body
    assert f"Message-ID: <{row['message_id']}@ovop.notifications>" in body
    assert "Your order #77 is confirmed. Total 450,000 VND. Thank you!" in body


async def test_an_unreachable_smtp_server_is_retried_later(pool):
    email = SmtpSender("127.0.0.1", free_port(), "no-reply@ovop.test", timeout_s=1.0)
    h, dispatcher = wired([DevProvider()], email=email, smtp_host="127.0.0.1")
    await handle(pool, h.order_placed, placed("o-down", phone=None, email="lan@example.com"))
    await handle(pool, h.order_confirmed, OrderConfirmed(order_id="o-down"))
    await dispatcher.pass_once(bus_on(pool))
    [row] = await rows(pool)
    assert row["status"] == "RETRYING"


async def test_several_new_orders_within_the_window_become_one_sms(pool):
    h, dispatcher = wired([DevProvider()], digest_window_s=0.3)
    for i in (1, 2, 3):
        await handle(pool, h.pickup_scheduled, pickup(i, lines=[("Mật ong bạc hà", i)]))
    await handle(pool, h.pickup_scheduled, pickup(9, phone="+84912000202"))
    assert await rows(pool) == []  # held for the window
    await asyncio.sleep(0.35)
    bus = OnBus(h.n, pool).bus  # the digest job's: one unit of work per pass
    while await bus.handle(FlushDigest()):
        pass
    assert await dispatcher.pass_once(bus_on(pool)) == 2
    found = await rows(pool)
    assert len(found) == 2
    digest = next(r for r in found if r["recipient"] == PHONE)
    assert digest["text"] == (
        "3 don moi: #1001 (1 Mat ong bac ha); #1002 (2 Mat ong bac ha); #1003 (3 Mat ong bac ha)."
        " Lay hang 08:00-10:00 30/11."
    )
    assert (digest["segments"], digest["status"]) == (1, "ACCEPTED")
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM pending_alerts") == 0


async def test_a_recipients_own_language_and_diacritics_win_over_the_events(pool):
    h, _ = wired([DevProvider()])
    async with pool.acquire() as conn:
        await db.set_preferences(conn, PHONE, language="en", diacritics=None)
    await handle(pool, h.pickup_scheduled, pickup(1))
    async with pool.acquire() as conn:
        await db.set_preferences(conn, PHONE, language="vi", diacritics=True)
    await handle(pool, h.pickup_scheduled, pickup(2))
    first, second = await rows(pool)
    assert first["text"].startswith("New order #1001: 2 Mat ong bac ha.")
    assert first["language"] == "en"
    assert second["text"].startswith("Đơn mới #1002") and second["encoding"] == "UCS-2"


async def test_a_timeout_without_idempotency_key_is_unknown_and_never_sent_elsewhere(pool):
    slow, spare = FakeProvider(script=["slow"], slow_s=2.0), FakeProvider()
    async with serving(twilio_app(slow)) as a, serving(esms_app(spare)) as b:
        h, dispatcher = wired([twilio(a), esms(b)])  # twilio's client timeout is 1 s
        await handle(pool, h.pickup_scheduled, pickup(1))
        await dispatcher.pass_once(bus_on(pool))
        assert await dispatcher.pass_once(bus_on(pool)) == 0  # nothing left to send
    [row] = await rows(pool)
    assert (row["status"], row["reason"], row["provider"]) == ("UNKNOWN", "unknown", "twilio")
    assert len(slow.requests) == 1 and spare.requests == []  # no blind resend, no fallback


async def test_a_message_type_without_a_template_is_a_permanent_error_for_the_dead_letters(pool):
    from shared.messaging.consumer import PermanentError

    h, _ = wired([DevProvider()])
    source = Source(uuid.uuid4(), "c", datetime.now(UTC))
    to = Recipient(PHONE, "vi", False, "Asia/Ho_Chi_Minh")
    out = OutgoingSms(source, "producer.teleport", to, budget=1, refs={})
    async with pool.acquire() as conn, conn.transaction():
        with pytest.raises(PermanentError, match="template producer.teleport"):
            await h.n.sms(db.PostgresMessages(conn), out)
    assert await rows(pool) == []


async def test_a_buyer_with_an_invalid_phone_gets_a_failed_message_with_its_reason(pool):
    fake = FakeProvider()
    async with serving(twilio_app(fake)) as a:
        h, dispatcher = wired([twilio(a)])
        await handle(pool, h.order_placed, placed("o-bad", phone="555-0100"))
        await handle(pool, h.order_confirmed, OrderConfirmed(order_id="o-bad"))
        assert await dispatcher.pass_once(bus_on(pool)) == 0
    [row] = await rows(pool)
    assert (row["status"], row["recipient"]) == ("FAILED", "555-0100")
    assert row["reason"].startswith("invalid_phone") and fake.requests == []
