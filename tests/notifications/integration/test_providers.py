"""Each provider against a real HTTP fake of its API: accepted, retryable (5xx, 429), permanent
(4xx, error codes), timeout (unknown without an idempotency key, a safe resend with one)."""

from __future__ import annotations

import uuid

import pytest

from services.notifications.adapters.providers import (
    EsmsProvider,
    SmsRequest,
    SpeedSmsProvider,
    TwilioProvider,
    send_with_retries,
)
from tests.notifications.fakes import (
    FakeProvider,
    esms_app,
    free_port,
    serving,
    speedsms_app,
    twilio_app,
)

TO = "+84912000101"


def request(text: str = "Don moi #1: 2 Mat ong") -> SmsRequest:
    return SmsRequest(uuid.uuid4(), TO, text)


def twilio(url: str, timeout_s: float = 2.0) -> TwilioProvider:
    return TwilioProvider(
        base_url=url,
        account_sid="AC123",
        auth_token="tw-token",
        sender="+15005550006",
        callback_base="https://ovop.example",
        timeout_s=timeout_s,
    )


def esms(url: str, timeout_s: float = 2.0) -> EsmsProvider:
    return EsmsProvider(
        base_url=url,
        api_key="es-key",
        secret_key="es-secret",
        brandname="OVOP",
        callback_base="https://ovop.example",
        callback_token="tok",
        timeout_s=timeout_s,
    )


def speedsms(url: str) -> SpeedSmsProvider:
    return SpeedSmsProvider(base_url=url, token="sp-token", sender="OVOP")


async def send(provider, req, attempts: int = 3, initial: float = 0.05):
    return await send_with_retries(
        provider, req, attempts=attempts, backoff_initial_s=initial, backoff_max_s=1.0
    )


async def test_twilio_accepts_with_form_fields_and_a_status_callback_naming_our_message():
    fake = FakeProvider()
    async with serving(twilio_app(fake)) as url:
        req = request()
        result = await send(twilio(url), req)
    assert result.outcome == "accepted" and result.provider_message_id.startswith("SM")
    [sent] = fake.delivered
    assert (sent["To"], sent["Body"], sent["From"]) == (TO, req.text, "+15005550006")
    assert sent["StatusCallback"] == f"https://ovop.example/callbacks/twilio/{req.message_id}"


async def test_twilio_5xx_and_429_are_retried_with_growing_jittered_backoff_then_accepted():
    fake = FakeProvider(script=[500, 429, 503])
    async with serving(twilio_app(fake)) as url:
        result = await send(twilio(url), request(), attempts=4, initial=0.1)
    assert result.outcome == "accepted"
    assert len(fake.requests) == 4 and len(fake.delivered) == 1
    gaps = [b - a for a, b in zip(fake.request_times, fake.request_times[1:], strict=False)]
    assert all(gap >= 0.1 for gap in gaps)  # exponential: 0.1, 0.2, 0.4 (+ up to 0.1 jitter)
    assert gaps[2] >= 0.4


async def test_twilio_invalid_number_is_permanent_and_not_retried():
    fake = FakeProvider(script=[400])
    async with serving(twilio_app(fake)) as url:
        result = await send(twilio(url), request())
    assert (result.outcome, result.reason) == ("permanent", "invalid_number")
    assert len(fake.requests) == 1 and fake.delivered == []


async def test_twilio_bad_credentials_are_permanent():
    fake = FakeProvider()
    async with serving(twilio_app(fake, token="other")) as url:
        result = await send(twilio(url), request())
    assert (result.outcome, result.reason) == ("permanent", "auth")


async def test_twilio_timeout_is_unknown_and_never_resent_without_an_idempotency_key():
    fake = FakeProvider(script=["slow"], slow_s=1.5)
    async with serving(twilio_app(fake)) as url:
        result = await send(twilio(url, timeout_s=0.3), request())
    assert (result.outcome, result.reason) == ("unknown", "timeout")
    assert len(fake.requests) == 1 and len(fake.delivered) == 1  # it did arrive


async def test_esms_timeout_is_resent_with_the_same_request_id_and_delivered_once():
    fake = FakeProvider(script=["slow"], slow_s=1.5)
    async with serving(esms_app(fake)) as url:
        req = request()
        result = await send(esms(url, timeout_s=0.3), req)
    assert result.outcome == "accepted"  # the resend got 124: accepted by the first attempt
    assert "duplicate RequestId" in result.detail
    assert [r["RequestId"] for r in fake.requests] == [str(req.message_id)] * 2
    assert len(fake.delivered) == 1
    [sent] = fake.delivered
    assert sent["Phone"] == "84912000101" and sent["SmsType"] == "2" and sent["IsUnicode"] == "0"
    assert sent["CallbackUrl"] == f"https://ovop.example/callbacks/esms/tok/{req.message_id}"


@pytest.mark.parametrize(
    ("code", "reason"),
    [("108", "invalid_number"), ("103", "balance"), ("104", "brandname"), ("146", "template")],
)
async def test_esms_error_codes_are_permanent_with_their_reason(code, reason):
    fake = FakeProvider(script=[code])
    async with serving(esms_app(fake)) as url:
        result = await send(esms(url), request())
    assert (result.outcome, result.reason) == ("permanent", reason)
    assert len(fake.requests) == 1


async def test_esms_5xx_is_retried_and_ucs2_is_flagged_unicode():
    fake = FakeProvider(script=[502])
    async with serving(esms_app(fake)) as url:
        req = SmsRequest(uuid.uuid4(), TO, "Đơn mới", unicode=True)
        result = await send(esms(url), req)
    assert result.outcome == "accepted" and len(fake.requests) == 2
    assert fake.delivered[0]["IsUnicode"] == "1"


async def test_speedsms_accepts_with_basic_auth_and_returns_its_tran_id():
    fake = FakeProvider()
    async with serving(speedsms_app(fake)) as url:
        result = await send(speedsms(url), request())
    assert result.outcome == "accepted" and result.provider_message_id == "1"
    assert fake.delivered[0]["to"] == ["84912000101"] and fake.delivered[0]["sender"] == "OVOP"


async def test_speedsms_invalid_phone_code_is_permanent():
    fake = FakeProvider(script=["105"])
    async with serving(speedsms_app(fake)) as url:
        result = await send(speedsms(url), request())
    assert (result.outcome, result.reason) == ("permanent", "invalid_number")


async def test_a_provider_that_does_not_answer_at_all_is_retryable():
    provider = twilio(f"http://127.0.0.1:{free_port()}")  # nothing listens there
    result = await send(provider, request(), attempts=2, initial=0.01)
    assert (result.outcome, result.reason) == ("retryable", "connection")
