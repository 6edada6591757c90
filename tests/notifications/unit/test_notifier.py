"""The notifier renders each message once, after the recipient's preferences and the sending
rules decided how, against an in-memory store of messages and preferences."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.notifications.adapters.postgres import NewMessage
from services.notifications.domain import templates as t
from services.notifications.domain.messages import (
    DigestOrder,
    ProducerAlertLine,
    RenderedSms,
    render_digest,
    render_sms,
)
from services.notifications.notifier import Notifier, OutgoingSms, Recipient, Source
from services.notifications.settings import NotificationSettings

PHONE = "+84912000101"
NOON = datetime(2026, 11, 30, 5, 0, tzinfo=UTC)  # 12:00 in Hanoi
NIGHT = datetime(2026, 11, 30, 16, 0, tzinfo=UTC)  # 23:00 in Hanoi
START = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)


class FakeMessages:
    """Messages and preferences in memory; a dedup key is recorded once."""

    def __init__(self, prefs: Mapping[str, Any] | None = None, ads_sent: int = 0) -> None:
        self.prefs = prefs
        self.ads_sent = ads_sent
        self.added: dict[str, NewMessage] = {}

    async def preferences(self, address: str) -> Mapping[str, Any] | None:
        return self.prefs

    async def ads_sent_last_24h(self, recipient: str) -> int:
        return self.ads_sent

    async def add(self, message: NewMessage) -> uuid.UUID | None:
        if message.dedup_key in self.added:
            return None
        self.added[message.dedup_key] = message
        return uuid.uuid4()

    @property
    def only(self) -> NewMessage:
        [message] = self.added.values()
        return message


class CountingRender:
    """render_sms, counting how often each message type is rendered."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __call__(self, message_type: str, **kwargs: Any) -> RenderedSms:
        self.calls.append(message_type)
        return render_sms(message_type, **kwargs)


def prefs(*, opted_out=False, language=None, diacritics=None) -> dict[str, Any]:
    return {"opted_out": opted_out, "language": language, "diacritics": diacritics}


def notifier(render: CountingRender, now: datetime = NOON) -> Notifier:
    settings = NotificationSettings(delivered_promo="Giam 10%", ad_sender="OVOP")
    return Notifier(settings, "dev", clock=lambda: now, render=render)


def new_order(phone: str = PHONE) -> OutgoingSms:
    return OutgoingSms(
        Source(uuid.uuid4(), "c", START),
        t.NEW_ORDER,
        Recipient(phone, "vi", False, "Asia/Ho_Chi_Minh"),
        budget=1,
        refs={"order_id": "o-1"},
        context={"ref": "#1001", "start": START, "end": START + timedelta(hours=2)},
        lines=(ProducerAlertLine("Mật ong bạc hà", 2),),
    )


def delivered(promo: str | None = "Giam 10%") -> OutgoingSms:
    return OutgoingSms(
        Source(uuid.uuid4(), "c", START),
        t.DELIVERED,
        Recipient(PHONE, "en", False, "Asia/Ho_Chi_Minh"),
        budget=2,
        refs={"order_id": "o-1"},
        context={"ref": "#77", "total": 450_000, "currency": "VND"},
        promo=promo,
    )


async def test_a_producer_alert_is_rendered_once_and_queued() -> None:
    render, messages = CountingRender(), FakeMessages()
    await notifier(render).sms(messages, new_order())
    assert render.calls == [t.NEW_ORDER]
    assert (messages.only.status, messages.only.provider) == ("QUEUED", "dev")
    assert messages.only.text.startswith("Don moi #1001: 2 Mat ong bac ha.")


async def test_a_recipients_own_settings_are_rendered_once() -> None:
    render, messages = CountingRender(), FakeMessages(prefs(language="en"))
    await notifier(render).sms(messages, new_order())
    assert render.calls == [t.NEW_ORDER]
    assert messages.only.language == "en" and messages.only.text.startswith("New order #1001")


async def test_an_allowed_promotion_is_rendered_once_as_advertising() -> None:
    render, messages = CountingRender(), FakeMessages()
    await notifier(render, NOON).sms(messages, delivered())
    assert render.calls == [t.DELIVERED]
    assert messages.only.category == "advertising"
    assert messages.only.text == (
        "[QC] Your order #77 was delivered. Thank you! Giam 10% Reply STOP to OVOP to opt out"
    )


@pytest.mark.parametrize("now, ads_sent", [(NIGHT, 0), (NOON, 3)])
async def test_a_promotion_not_allowed_leaves_the_care_message_rendered_once(now, ads_sent):
    render, messages = CountingRender(), FakeMessages(ads_sent=ads_sent)
    await notifier(render, now).sms(messages, delivered())
    assert render.calls == [t.DELIVERED]
    assert messages.only.category == "transactional"
    assert messages.only.text == "Your order #77 was delivered. Thank you!"


@pytest.mark.parametrize(
    "phone, stored, status",
    [("12345", None, "FAILED"), (PHONE, prefs(opted_out=True), "SUPPRESSED")],
)
async def test_a_message_never_sent_is_still_rendered_once_for_the_record(phone, stored, status):
    render, messages = CountingRender(), FakeMessages(stored)
    await notifier(render).sms(messages, new_order(phone))
    assert render.calls == [t.NEW_ORDER]
    assert messages.only.status == status and messages.only.text


async def test_a_digest_rendered_by_its_job_is_recorded_as_it_is() -> None:
    render, messages = CountingRender(), FakeMessages(prefs(language="en"))
    lines = (ProducerAlertLine("Mật ong", 1),)
    digest = render_digest(
        orders=[DigestOrder("#1001", lines), DigestOrder("#1002", lines)],
        pickup_start=START,
        pickup_end=START + timedelta(hours=2),
        language="vi",
    )
    out = OutgoingSms(
        Source(uuid.uuid4(), "c", START),
        t.NEW_ORDER,
        Recipient(PHONE, "vi", False, "Asia/Ho_Chi_Minh"),
        budget=1,
        refs={},
        rendered=digest,
    )
    await notifier(render).sms(messages, out)
    assert render.calls == []
    assert messages.only.text == digest.text and messages.only.language == "vi"


async def test_a_redelivered_event_records_its_message_once() -> None:
    render, messages = CountingRender(), FakeMessages()
    out = new_order()
    n = notifier(render)
    assert await n.sms(messages, out) is not None
    assert await n.sms(messages, out) is None
    assert len(messages.added) == 1
